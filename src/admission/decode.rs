//! Decoding an AdmissionReview body into kube-core's `AdmissionRequest<DynamicObject>` in one
//! pass.
//!
//! Why not `serde_json::from_slice::<AdmissionReview<DynamicObject>>`: both types use
//! `#[serde(flatten)]` (`AdmissionReview.types`, `DynamicObject.types` and `DynamicObject.data`).
//! serde implements flatten by first buffering the whole map into an intermediate `Content` tree
//! and then deserialising each field from that buffer, so the object in a review was parsed
//! twice and copied three times: on the 10 KB Deployment review of the load benchmark the
//! derived decoders take 1.6× as long as this one (BENCHMARKS.md). Here the envelope has plain
//! fields and the object is read by a
//! visitor that sorts its keys as they stream by: `apiVersion`/`kind` into `TypeMeta`,
//! `metadata` into `ObjectMeta`, everything else straight into `data`. The result is the same
//! `AdmissionRequest<DynamicObject>` value the derived decoders produce (a test decodes every
//! golden fixture both ways and compares).
//!
//! Every annotation is decoded, `kubectl.kubernetes.io/last-applied-configuration` included,
//! although it is a third of the Deployment review's bytes and no rule reads that key: the
//! engine reads the annotation map as a whole (`rules::workload::only_claims_changed` compares
//! old and new maps; the takeover patch adds to an existing map but creates a missing one, so an
//! object whose only annotation it is would lose it), and a value that stood in for it would
//! have to compare equal exactly when the annotations do.
//!
//! Policy reviews go one step further ([`policy_request`]): the guardrails read only metadata
//! and `spec`, so `spec` is kept as raw JSON (located, not parsed) and decoded once, straight
//! into the typed spec, by the engine; other keys (`status`) are skipped.
//!
//! Workload reviews are served by [`workload_request`]: sonic-rs parses the whole review into its
//! arena-backed tree, the envelope and metadata are read from the tree with the same derives, and
//! the engine reads the object's body in place (`rules::json`); [`request`] is its fallback and
//! the reference the tests compare it with.

use std::{borrow::Cow, fmt, marker::PhantomData, sync::Arc};

use kube::core::{
    ApiResource, DynamicObject, DynamicResourceScope, ObjectMeta, Resource, TypeMeta,
    admission::AdmissionRequest,
};
use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, Visitor},
};
use serde_json::{Map, Value, value::RawValue};

use super::BadReview;
use crate::rules::{
    Admitted,
    json::{self, Json},
};

/// Decodes an `admission.k8s.io/v1` AdmissionReview and returns its request.
///
/// Accepts what `AdmissionReview<DynamicObject>` accepts (`apiVersion` and `kind` are required,
/// `request` may be absent: then [`BadReview::NoRequest`], unknown keys are ignored), provided
/// `apiVersion` and `kind` are `admission.k8s.io/v1` and `AdmissionReview`
/// ([`BadReview::NotAdmissionReviewV1`] otherwise).
pub fn request(body: &[u8]) -> Result<AdmissionRequest<DynamicObject>, BadReview> {
    let request = envelope::<Object<Map<String, Value>>>(body)?;
    Ok(into_dynamic(request))
}

/// Decodes the AdmissionReview of a workload webhook: like [`request`], but the object's body is
/// read from sonic-rs's arena-backed tree of the whole review, which costs about a quarter of
/// serde_json's `Value` to build and free (`rules::json` says why the engine reads both).
///
/// sonic-rs parses the review once into its tree; the envelope and the object's metadata are then
/// read from the tree with the same serde derives as [`request`] (kubectl's last-applied
/// annotation, half of a Deployment review's bytes and dense with escapes, unescapes several times
/// faster in sonic-rs's own parser than through serde's string path). A review sonic-rs or the
/// derives refuse is decoded again by [`request`]'s path, so that a bad review is answered with
/// serde_json's message (the one the policy webhooks give too), and anything serde_json accepts
/// that sonic-rs does not is still served.
///
/// sonic-rs parses nested lists and objects by recursion with no nesting limit of its own, so a
/// deeply nested body would overflow the stack. A body with more than [`SONIC_MAX_OPENINGS`]
/// `{` and `[` bytes (counted anywhere, strings included: a bound on its nesting, found in a
/// fraction of a microsecond) goes to serde_json, which refuses nesting deeper than 128.
pub fn workload_request(body: &[u8]) -> Result<AdmissionRequest<WorkloadObject>, BadReview> {
    let text = std::str::from_utf8(body).map_err(BadReview::Utf8)?;
    if openings(body) <= SONIC_MAX_OPENINGS
        && let Some(request) = sonic_request(text)
    {
        return request;
    }
    Ok(map_objects(
        envelope::<Object<Map<String, Value>>>(body)?,
        |o, _| Object {
            types: o.types,
            metadata: o.metadata,
            rest: Body::Value(Value::Object(o.rest)),
        },
    ))
}

/// The review read from sonic-rs's tree; `None` when sonic-rs or the derives refuse it.
fn sonic_request(text: &str) -> Option<Result<AdmissionRequest<WorkloadObject>, BadReview>> {
    let document: sonic_rs::Value = sonic_rs::from_str(text).ok()?;
    let envelope: Envelope<Object<Keys>> = sonic_rs::from_value(&document).ok()?;
    let document = Arc::new(document);
    Some(checked(envelope).map(|request| {
        map_objects(request, |o, key| Object {
            types: o.types,
            metadata: o.metadata,
            rest: Body::Tree {
                document: Arc::clone(&document),
                key,
            },
        })
    }))
}

/// The keys of an object besides `apiVersion`, `kind` and `metadata`, for the sonic-rs path, which
/// reads their values from the tree. A repeated key is refused, which sends the review to
/// serde_json: the tree would answer with the key's first value, serde_json's map keeps the last.
#[derive(Debug, Default)]
struct Keys(Vec<String>);

impl Rest for Keys {
    fn take<'de, A: MapAccess<'de>>(&mut self, key: String, map: &mut A) -> Result<(), A::Error> {
        if self.0.contains(&key) {
            return Err(de::Error::custom(format_args!("repeated key {key:?}")));
        }
        map.next_value::<IgnoredAny>()?;
        self.0.push(key);
        Ok(())
    }
}

/// The most `{` and `[` bytes a body may hold for sonic-rs to read it: its nesting is at most
/// that deep, and sonic-rs's few hundred bytes of stack a level (measured: about 250 in release
/// builds, 400 in debug ones, where Cargo.toml optimises it too) then stay far inside the 2 MiB of
/// a tokio worker. A 10 KB Deployment with
/// kubectl's last-applied annotation holds about 210.
pub const SONIC_MAX_OPENINGS: usize = 512;

/// How many `{` and `[` bytes `body` holds. Counted 255 bytes at a time into a `u8`, which the
/// compiler turns into vector instructions (a tenth of a plain count's time).
fn openings(body: &[u8]) -> usize {
    body.chunks(255)
        .map(|chunk| usize::from(chunk.iter().fold(0u8, |n, &b| n + u8::from(b | 0x20 == b'{'))))
        .sum()
}

/// A workload object as [`workload_request`] decodes it.
pub type WorkloadObject = Object<Body>;

/// The body of a workload object: in sonic-rs's tree of the whole review, or serde_json's when
/// sonic-rs refused the review and serde_json did not.
#[derive(Debug, Clone)]
pub enum Body {
    /// The object at `request.<key>` of the review's tree (`object` or `oldObject`). Read by key,
    /// it also holds `apiVersion`, `kind` and `metadata`, which no rule reads from a body.
    Tree {
        /// The whole review, shared by the object and the old object.
        document: Arc<sonic_rs::Value>,
        /// `object` or `oldObject`.
        key: &'static str,
    },
    /// What serde_json decoded.
    Value(Value),
}

impl Body {
    /// The body as the engine reads it.
    pub fn json(&self) -> Json<'_> {
        match self {
            Body::Tree { document, key } => Json::Sonic(document)
                .get("request")
                .and_then(|request| request.get(key))
                // The envelope was read from this tree, so the object is there.
                .unwrap_or(Json::Serde(&json::NULL)),
            Body::Value(value) => Json::Serde(value),
        }
    }
}

/// An object of a review as the engine reads it.
pub trait ReviewedObject {
    /// Its metadata and body.
    fn admitted(&self) -> Admitted<'_>;
}

impl ReviewedObject for DynamicObject {
    fn admitted(&self) -> Admitted<'_> {
        self.into()
    }
}

impl ReviewedObject for WorkloadObject {
    fn admitted(&self) -> Admitted<'_> {
        Admitted {
            metadata: &self.metadata,
            body: self.rest.json(),
        }
    }
}

/// Decodes an AdmissionReview of a PropagationPolicy or ClusterPropagationPolicy (or of anything
/// sent to a policy webhook): like [`request`], but the object keeps only its type, metadata and
/// raw `spec`.
pub fn policy_request(body: &[u8]) -> Result<AdmissionRequest<PolicyObject>, BadReview> {
    envelope::<PolicyObject>(body)
}

/// A policy object as [`policy_request`] decodes it: `rest` is `spec`, undecoded (`None` when
/// the object has none).
pub type PolicyObject = Object<Option<Box<RawValue>>>;

impl PolicyObject {
    /// The object's `spec` as raw JSON.
    pub fn spec(&self) -> Option<&RawValue> {
        self.rest.as_deref()
    }
}

/// Decodes the envelope and returns the request, with the envelope's type information.
fn envelope<T>(body: &[u8]) -> Result<AdmissionRequest<T>, BadReview>
where
    T: Resource + for<'de> Deserialize<'de>,
{
    // Validating the UTF-8 of the whole body once and decoding from `str` is cheaper than
    // serde_json's per-string validation of a byte slice (a tenth of the decode time).
    let body = std::str::from_utf8(body).map_err(BadReview::Utf8)?;
    checked(serde_json::from_str(body)?)
}

/// The request of a decoded envelope, if it is an `admission.k8s.io/v1` AdmissionReview with a
/// request.
fn checked<T: Resource>(envelope: Envelope<T>) -> Result<AdmissionRequest<T>, BadReview> {
    if envelope.api_version != API_VERSION || envelope.kind != KIND {
        return Err(BadReview::NotAdmissionReviewV1 {
            api_version: envelope.api_version,
            kind: envelope.kind,
        });
    }
    let mut request = envelope.request.ok_or(BadReview::NoRequest)?;
    request.types = TypeMeta {
        api_version: envelope.api_version,
        kind: envelope.kind,
    };
    Ok(request)
}

/// The only review type served.
const API_VERSION: &str = "admission.k8s.io/v1";
/// The only review kind served.
const KIND: &str = "AdmissionReview";

/// The review's envelope, without flatten.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "T: Deserialize<'de>")]
struct Envelope<T: Resource> {
    api_version: String,
    kind: String,
    #[serde(default)]
    request: Option<AdmissionRequest<T>>,
}

fn into_dynamic(r: AdmissionRequest<Object<Map<String, Value>>>) -> AdmissionRequest<DynamicObject> {
    map_objects(r, |o, _| DynamicObject {
        types: o.types,
        metadata: o.metadata,
        data: Value::Object(o.rest),
    })
}

/// Moves every field across; only the object type changes.
fn map_objects<A: Resource, B: Resource>(
    r: AdmissionRequest<A>,
    f: impl Fn(A, &'static str) -> B,
) -> AdmissionRequest<B> {
    AdmissionRequest {
        types: r.types,
        uid: r.uid,
        kind: r.kind,
        resource: r.resource,
        sub_resource: r.sub_resource,
        request_kind: r.request_kind,
        request_resource: r.request_resource,
        request_sub_resource: r.request_sub_resource,
        name: r.name,
        namespace: r.namespace,
        operation: r.operation,
        user_info: r.user_info,
        object: r.object.map(|o| f(o, "object")),
        old_object: r.old_object.map(|o| f(o, "oldObject")),
        dry_run: r.dry_run,
        options: r.options,
    }
}

/// What an object's keys other than `apiVersion`, `kind` and `metadata` are decoded into.
pub trait Rest: Default {
    /// Consumes the value of `key`.
    fn take<'de, A: MapAccess<'de>>(&mut self, key: String, map: &mut A) -> Result<(), A::Error>;
}

/// Every other key, as `DynamicObject::data`.
impl Rest for Map<String, Value> {
    fn take<'de, A: MapAccess<'de>>(&mut self, key: String, map: &mut A) -> Result<(), A::Error> {
        let value = map.next_value()?;
        self.insert(key, value);
        Ok(())
    }
}

/// `spec` as raw JSON; every other key skipped.
impl Rest for Option<Box<RawValue>> {
    fn take<'de, A: MapAccess<'de>>(&mut self, key: String, map: &mut A) -> Result<(), A::Error> {
        if key == "spec" {
            // A repeated key: the last one wins, as in `DynamicObject::data`.
            *self = Some(map.next_value()?);
            Ok(())
        } else {
            map.next_value::<IgnoredAny>().map(drop)
        }
    }
}

/// An object decoded in one pass: its type, its metadata, and the rest as `R` decodes it.
/// `AdmissionRequest<T>` needs `T: Resource`, so this delegates to `DynamicObject`'s
/// implementation.
#[derive(Debug, Clone)]
pub struct Object<R> {
    /// `apiVersion` and `kind`, when both are present.
    pub types: Option<TypeMeta>,
    /// The object's metadata (default when absent).
    pub metadata: ObjectMeta,
    /// Every other key, as `R` decodes it.
    pub rest: R,
}

impl<R> Resource for Object<R> {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::kind(dt)
    }
    fn group(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::group(dt)
    }
    fn version(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::version(dt)
    }
    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl<'de, R: Rest> Deserialize<'de> for Object<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

struct ObjectVisitor<R>(PhantomData<R>);

impl<'de, R: Rest> Visitor<'de> for ObjectVisitor<R> {
    type Value = Object<R>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<R>, A::Error> {
        let mut api_version: Option<String> = None;
        let mut kind: Option<String> = None;
        let mut metadata: Option<ObjectMeta> = None;
        let mut rest = R::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" => set_once(&mut api_version, "apiVersion", map.next_value()?)?,
                "kind" => set_once(&mut kind, "kind", map.next_value()?)?,
                "metadata" => set_once(&mut metadata, "metadata", map.next_value()?)?,
                _ => rest.take(key, &mut map)?,
            }
        }
        // As with the derived decoder (`#[serde(flatten)] types: Option<TypeMeta>`): type
        // information only when both keys are there; a lone one is dropped, as serde's flatten
        // drops it (the API server always sends both).
        let types = match (api_version, kind) {
            (Some(api_version), Some(kind)) => Some(TypeMeta { api_version, kind }),
            _ => None,
        };
        Ok(Object {
            types,
            metadata: metadata.unwrap_or_default(),
            rest,
        })
    }
}

fn set_once<T, E: de::Error>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use kube::core::admission::AdmissionReview;

    use super::*;

    /// The derived decoders, for comparison.
    fn reference(body: &[u8]) -> Result<AdmissionRequest<DynamicObject>, String> {
        let review: AdmissionReview<DynamicObject> =
            serde_json::from_slice(body).map_err(|e| e.to_string())?;
        review.try_into().map_err(|_| "no request".to_string())
    }

    /// Compares through JSON: `AdmissionRequest` has no `PartialEq`, its serialisation covers
    /// every field but `types`, which is compared on its own.
    fn same(a: &AdmissionRequest<DynamicObject>, b: &AdmissionRequest<DynamicObject>) -> bool {
        a.types == b.types
            && serde_json::to_value(a).unwrap() == serde_json::to_value(b).unwrap()
            && a.object.as_ref().map(|o| &o.types) == b.object.as_ref().map(|o| &o.types)
            && a.old_object.as_ref().map(|o| &o.types) == b.old_object.as_ref().map(|o| &o.types)
    }

    fn bodies() -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for dir in ["tests/fixtures/reviews", "scripts/loadbench"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "json") {
                    out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
        out
    }

    #[test]
    fn decodes_every_checked_in_review_like_the_derived_decoder() {
        let bodies = bodies();
        assert!(bodies.len() >= 2, "no review fixtures found");
        let mut requests = 0;
        for (name, body) in bodies {
            let Ok(expected) = reference(&body) else { continue };
            let got = request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(same(&got, &expected), "{name}: decoded differently");
            requests += 1;
        }
        assert!(requests >= 2, "no fixture had a request");
    }

    /// The body of a workload request as a serde_json `Value` without the type and metadata (which
    /// sonic-rs's tree of the object holds too), for comparing with `DynamicObject::data`.
    fn body_value(o: &WorkloadObject) -> Value {
        let mut value = o.rest.json().to_value();
        if let Some(fields) = value.as_object_mut() {
            for key in ["apiVersion", "kind", "metadata"] {
                fields.remove(key);
            }
        }
        value
    }

    #[test]
    fn workload_requests_decode_like_the_derived_decoder_with_sonic_bodies() {
        let mut requests = 0;
        for (name, body) in bodies() {
            let Ok(expected) = reference(&body) else { continue };
            let got = workload_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            // Every field of the request alike (the envelope is read from sonic-rs's tree).
            let as_dynamic = map_objects(got.clone(), |o, _| DynamicObject {
                types: o.types.clone(),
                metadata: o.metadata.clone(),
                data: body_value(&o),
            });
            assert!(same(&as_dynamic, &expected), "{name}: decoded differently");
            for (got, expected) in [
                (&got.object, &expected.object),
                (&got.old_object, &expected.old_object),
            ] {
                assert_eq!(got.is_some(), expected.is_some(), "{name}");
                let (Some(got), Some(expected)) = (got, expected) else {
                    continue;
                };
                assert!(matches!(got.rest, Body::Tree { .. }), "{name}: read by sonic-rs");
                assert_eq!(got.types, expected.types, "{name}");
                assert_eq!(got.metadata, expected.metadata, "{name}");
                assert_eq!(body_value(got), expected.data, "{name}");
                requests += 1;
            }
        }
        assert!(requests >= 10, "too few fixtures with an object: {requests}");
    }

    #[test]
    fn workload_requests_refuse_with_serde_json_messages() {
        for (name, body) in [
            ("not JSON", "{".to_owned()),
            ("trailing text", r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"} x"#.to_owned()),
            ("number out of range", r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 1e400}}"#.to_owned()),
            ("lone surrogate", r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview\ud800"}"#.to_owned()),
            ("too deep", format!(
                r#"{{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {{"uid": "u", "kind": {{"group": "", "version": "v1", "kind": "ConfigMap"}}, "resource": {{"group": "", "version": "v1", "resource": "configmaps"}}, "operation": "CREATE", "userInfo": {{}}, "object": {{"data": {}{}}}}}}}"#,
                "[".repeat(SONIC_MAX_OPENINGS),
                "]".repeat(SONIC_MAX_OPENINGS)
            )),
        ] {
            let expected = request(body.as_bytes()).expect_err(name).to_string();
            let got = workload_request(body.as_bytes()).expect_err(name).to_string();
            assert_eq!(got, expected, "{name}");
        }
        assert!(matches!(workload_request(b"\"\xff\""), Err(BadReview::Utf8(_))));
        let no_request = r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#;
        assert!(matches!(
            workload_request(no_request.as_bytes()),
            Err(BadReview::NoRequest)
        ));
    }

    #[test]
    fn openings_count_every_brace_and_bracket() {
        assert_eq!(openings(b""), 0);
        assert_eq!(
            openings(br#"{"a": [1, {"b": "[{"}], "c": "}]"}"#),
            5,
            "strings included"
        );
        let long = "{[x".repeat(1000);
        assert_eq!(openings(long.as_bytes()), 2000, "across chunks");
    }

    /// A review nested as deep as sonic-rs is given (more would go to serde_json) is read and
    /// decided on a thread with half a tokio worker's stack.
    #[test]
    fn the_deepest_review_sonic_reads_fits_half_a_worker_stack() {
        let depth = SONIC_MAX_OPENINGS - 10; // the envelope's own braces
        let body = format!(
            r#"{{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {{"uid": "u", "kind": {{"group": "apps", "version": "v1", "kind": "Deployment"}}, "resource": {{"group": "apps", "version": "v1", "resource": "deployments"}}, "operation": "CREATE", "userInfo": {{}}, "object": {{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {{"name": "deep", "namespace": "shop"}}, "spec": {{"template": {{"spec": {{"containers": {}"x"{}}}}}}}}}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert_eq!(openings(body.as_bytes()), SONIC_MAX_OPENINGS);
        let decided = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let request = workload_request(body.as_bytes()).expect("read by sonic-rs");
                assert!(matches!(request.object.as_ref().unwrap().rest, Body::Tree { .. }));
                let fleet = crate::fleet::files::embedded();
                let config = crate::config::Config::default();
                for webhook in [
                    crate::rules::Webhook::MutateWorkload,
                    crate::rules::Webhook::ValidateWorkload,
                ] {
                    let decision = super::super::decide_request(webhook, &request, &fleet, &config);
                    super::super::render(&request, decision).expect("rendered");
                }
            })
            .unwrap()
            .join();
        assert!(decided.is_ok());
    }

    #[test]
    fn a_repeated_body_key_reads_as_its_last_value() {
        let text = r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "operation": "CREATE", "userInfo": {},
            "object": {"metadata": {"name": "a"}, "data": {"k": "1"}, "data": {"k": "2"}}}}"#;
        let got = workload_request(text.as_bytes()).unwrap();
        let expected = reference(text.as_bytes()).unwrap();
        assert_eq!(
            body_value(got.object.as_ref().unwrap()),
            expected.object.unwrap().data
        );
    }

    #[test]
    fn policy_requests_keep_metadata_and_the_exact_spec() {
        let mut policies = 0;
        for (name, body) in bodies() {
            let Ok(expected) = reference(&body) else { continue };
            let got = policy_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.uid, expected.uid, "{name}");
            assert_eq!(got.types, expected.types, "{name}");
            assert_eq!(got.operation, expected.operation, "{name}");
            for (got, expected) in [
                (&got.object, &expected.object),
                (&got.old_object, &expected.old_object),
            ] {
                assert_eq!(got.is_some(), expected.is_some(), "{name}");
                let (Some(got), Some(expected)) = (got, expected) else {
                    continue;
                };
                assert_eq!(got.types, expected.types, "{name}");
                assert_eq!(got.metadata, expected.metadata, "{name}");
                let spec: Option<serde_json::Value> =
                    got.spec().map(|raw| serde_json::from_str(raw.get()).unwrap());
                assert_eq!(spec.as_ref(), expected.data.get("spec"), "{name}");
                policies += usize::from(
                    expected
                        .types
                        .as_ref()
                        .is_some_and(|t| t.kind.ends_with("PropagationPolicy")),
                );
            }
        }
        assert!(policies >= 2, "no policy fixture found");
    }

    #[test]
    fn policy_request_skips_other_keys_and_takes_the_last_spec() {
        let body = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u", "kind": {"group": "policy.karmada.io", "version": "v1alpha1", "kind": "PropagationPolicy"},
            "resource": {"group": "policy.karmada.io", "version": "v1alpha1", "resource": "propagationpolicies"},
            "operation": "CREATE", "userInfo": {},
            "object": {"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
                "metadata": {"name": "p"}, "status": {"anything": [1, 2]}}}});
        let mut text = serde_json::to_string(&body).unwrap();
        let got = policy_request(text.as_bytes()).unwrap();
        assert!(got.object.unwrap().spec().is_none(), "no spec: none");
        text = text.replace(
            r#""status""#,
            r#""spec":{"priority":1},"spec":{"priority":2},"status""#,
        );
        let got = policy_request(text.as_bytes()).unwrap();
        assert_eq!(got.object.unwrap().spec().unwrap().get(), r#"{"priority":2}"#);
    }

    #[test]
    fn edge_cases_match_the_derived_decoder() {
        let cases: &[(&str, serde_json::Value)] = &[
            (
                "object without type information",
                serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                    "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                    "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                    "operation": "CREATE", "userInfo": {},
                    "object": {"metadata": {"name": "a"}, "data": {"k": "v"}}}}),
            ),
            (
                "object with only apiVersion",
                serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                    "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                    "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                    "operation": "CREATE", "userInfo": {},
                    "object": {"apiVersion": "v1", "data": {}}}}),
            ),
            (
                "DELETE: no object, an oldObject without metadata",
                serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                    "request": {"uid": "u", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                    "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
                    "operation": "DELETE", "userInfo": {"username": "x"}, "object": null,
                    "oldObject": {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}}, "dryRun": true}}),
            ),
        ];
        for (name, review) in cases {
            let body = serde_json::to_vec(review).unwrap();
            let expected = reference(&body).unwrap_or_else(|e| panic!("{name}: reference: {e}"));
            let got = request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(same(&got, &expected), "{name}: decoded differently");
        }
    }

    #[test]
    fn rejects_what_the_derived_decoder_rejects() {
        let cases: &[(&str, &str)] = &[
            ("not JSON", "{"),
            ("an array", "[]"),
            ("no apiVersion", r#"{"kind": "AdmissionReview", "request": null}"#),
            (
                "object is a string",
                r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                "operation": "CREATE", "userInfo": {}, "object": "x"}}"#,
            ),
            (
                "metadata is a number",
                r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                "operation": "CREATE", "userInfo": {}, "object": {"metadata": 1}}}"#,
            ),
            (
                "duplicate metadata",
                r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                "operation": "CREATE", "userInfo": {}, "object": {"metadata": {}, "metadata": {}}}}"#,
            ),
        ];
        for (name, body) in cases {
            assert!(
                reference(body.as_bytes()).is_err(),
                "{name}: the reference accepts it"
            );
            assert!(
                matches!(request(body.as_bytes()), Err(BadReview::Json(_))),
                "{name}: accepted"
            );
            assert!(
                matches!(policy_request(body.as_bytes()), Err(BadReview::Json(_))),
                "{name}: accepted as a policy review"
            );
        }
        let no_request = r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#;
        assert!(matches!(
            request(no_request.as_bytes()),
            Err(BadReview::NoRequest)
        ));
        assert!(matches!(
            policy_request(no_request.as_bytes()),
            Err(BadReview::NoRequest)
        ));
        assert!(matches!(request(b"\"\xff\""), Err(BadReview::Utf8(_))));
    }

    #[test]
    fn only_admission_k8s_io_v1_admission_reviews_are_accepted() {
        let review = |api_version: &str, kind: &str| {
            serde_json::json!({"apiVersion": api_version, "kind": kind,
                "request": {"uid": "u", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                "operation": "CREATE", "userInfo": {}, "object": {"metadata": {"name": "a"}}}})
            .to_string()
        };
        assert!(request(review("admission.k8s.io/v1", "AdmissionReview").as_bytes()).is_ok());
        let long = "v".repeat(10_000);
        for (api_version, kind) in [
            ("bogus/v9", "Foo"),
            ("admission.k8s.io/v1beta1", "AdmissionReview"),
            ("admission.k8s.io/v1", "Foo"),
            ("", ""),
            (long.as_str(), "AdmissionReview"),
        ] {
            let body = review(api_version, kind);
            for error in [
                request(body.as_bytes()).err(),
                policy_request(body.as_bytes()).err(),
            ] {
                let Some(error @ BadReview::NotAdmissionReviewV1 { .. }) = error else {
                    panic!("{api_version} {kind}: accepted or {error:?}");
                };
                let message = error.to_string();
                assert!(
                    message.contains("only admission.k8s.io/v1 AdmissionReview is served")
                        && message.len() < 400,
                    "{message}"
                );
            }
        }
    }
}
