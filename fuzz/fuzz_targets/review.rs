//! Arbitrary bytes into `admission::review` for every webhook, against the embedded fleet and
//! the default config: it must answer `Ok` or `Err(BadReview)`, never panic; an `Ok` answer
//! must be an AdmissionReview JSON carrying the request's uid.
#![no_main]

use std::sync::LazyLock;

use karmada_takeover::{admission, config::Config, fleet, rules::Webhook};
use libfuzzer_sys::fuzz_target;

static FLEET: LazyLock<fleet::Fleet> = LazyLock::new(fleet::files::embedded);
static CONFIG: LazyLock<Config> = LazyLock::new(Config::default);

fuzz_target!(|data: &[u8]| {
    for webhook in Webhook::ALL {
        if let Ok(reviewed) = admission::review(webhook, data, &FLEET, &CONFIG) {
            let body: serde_json::Value = match serde_json::from_slice(&reviewed.body) {
                Ok(body) => body,
                Err(e) => panic!("response is not JSON: {e}"),
            };
            assert_eq!(
                body["response"]["uid"].as_str(),
                Some(reviewed.summary.uid.as_str())
            );
        }
    }
});
