//! Test checks shared by [`super::meta`] and [`super::selector`]: a compact type of ours stands
//! in for one of kube's on the wire, so both must write the same bytes and fail on the same input
//! in the same way.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// `ours` and `kube` serialise to the same bytes, in JSON and in YAML.
pub(super) fn assert_same_bytes(ours: &impl Serialize, kube: &impl Serialize) {
    assert_eq!(
        serde_json::to_string(ours).unwrap(),
        serde_json::to_string(kube).unwrap()
    );
    assert_eq!(
        crate::yaml::to_string(ours).unwrap(),
        crate::yaml::to_string(kube).unwrap()
    );
}

/// Decoding `input` as `Ours` fails with the same path and message as decoding it as `Kube`.
pub(super) fn assert_fails_alike<Ours: DeserializeOwned, Kube: DeserializeOwned>(input: &Value) {
    let path_and_message = |r: Result<(), serde_path_to_error::Error<serde_json::Error>>| {
        let e = r.unwrap_err();
        (e.path().to_string(), e.inner().to_string())
    };
    let kube = path_and_message(serde_path_to_error::deserialize::<_, Kube>(input).map(drop));
    let ours = path_and_message(serde_path_to_error::deserialize::<_, Ours>(input).map(drop));
    assert_eq!(ours, kube);
}
