//! `voxcal_call_rate_limiter::RetellExtractor` on arbitrary request bodies, plus
//! `is_placeholder_call_id` and `strip_version_suffix` on the body as text.
//!
//! Checked:
//! - no panic;
//! - an extracted call id is trimmed and never a placeholder;
//! - an extracted function name is non-empty and carries no `_vN` suffix
//!   that the body's `name` had (it equals `strip_version_suffix(name)`);
//! - with a usable `X-Retell-Call-Id` header a key is always found;
//! - `strip_version_suffix` returns a part of its trimmed input;
//! - `RetellEnvelope::parse` accepts exactly the bodies `Value` accepts, its
//!   `args` is the `Value`'s `args`, and its call id (with the header) is
//!   the extractor's.
#![no_main]

use voxcal_call_rate_limiter::{
    is_placeholder_call_id, strip_version_suffix, KeyExtractor, RetellEnvelope, RetellExtractor,
    CALL_ID_HEADER,
};
use http::request::Parts;
use libfuzzer_sys::fuzz_target;

const HEADER_ID: &str = "call_from_header_7f3a";

fn parts(path: &str, header: Option<&str>) -> Parts {
    let mut request = http::Request::post(path);
    if let Some(id) = header {
        request = request.header(CALL_ID_HEADER, id);
    }
    request.body(()).expect("a valid request").into_parts().0
}

fuzz_target!(|body: &[u8]| {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let body_name = json
        .as_ref()
        .and_then(|j| j.get("name"))
        .and_then(serde_json::Value::as_str);

    for (path, header) in [
        ("/api/retell/check_availability_v2", None),
        ("/", Some(HEADER_ID)),
    ] {
        let key = RetellExtractor.extract(&parts(path, header), body);
        if header.is_some() {
            assert!(key.is_some(), "header id present but no key");
        }
        let Some(key) = key else { continue };
        let id = key.call_id();
        assert_eq!(id, id.trim(), "call id not trimmed");
        assert!(!is_placeholder_call_id(id), "placeholder call id {id:?}");
        if let Some(function) = key.function() {
            assert!(!function.is_empty(), "empty function name");
            if let Some(name) = body_name.filter(|n| !strip_version_suffix(n).is_empty()) {
                assert_eq!(function, strip_version_suffix(name));
            }
        }
    }

    let envelope = RetellEnvelope::parse(body);
    assert_eq!(envelope.is_some(), json.is_some(), "accepted differently from Value");
    if let (Some(envelope), Some(json)) = (&envelope, &json) {
        assert_eq!(envelope.args.as_ref(), json.get("args"), "args differ");
        let key = RetellExtractor.extract(&parts("/", Some(HEADER_ID)), body);
        assert_eq!(
            envelope.call_id(Some(HEADER_ID)),
            key.as_ref().map(|k| k.call_id()),
            "call id differs from the extractor's"
        );
    }

    if let Ok(text) = std::str::from_utf8(body) {
        let _ = is_placeholder_call_id(text);
        let stripped = strip_version_suffix(text);
        assert!(text.trim().starts_with(stripped), "not a prefix");
    }
});
