//! `voxcal_log_sanitizer::Sanitizer::sanitize_json` on every input that parses as JSON.
//!
//! Checked, with blank markers and with pseudonyms:
//! - no panic;
//! - the document keeps its shape: objects keep their keys, arrays their
//!   length; a value may only be replaced whole by a string (a marker), and
//!   numbers, booleans and `null` are either kept or replaced by a string;
//! - sanitizing the result again changes nothing (idempotence);
//! - the text sanitizer run over the serialized result (an object or an
//!   array) keeps it valid JSON.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use voxcal_log_sanitizer::Sanitizer;
use serde_json::Value;

static PLAIN: LazyLock<Sanitizer> = LazyLock::new(Sanitizer::default);
static PSEUDONYMS: LazyLock<Sanitizer> =
    LazyLock::new(|| Sanitizer::builder().pseudonymize(b"fuzz key").build());

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for sanitizer in [&*PLAIN, &*PSEUDONYMS] {
        let out = sanitizer.sanitize_json_value(input.clone());
        same_shape(&input, &out);
        let again = sanitizer.sanitize_json_value(out.clone());
        assert_eq!(again, out, "sanitizing the output changed it");
        // A bare top-level scalar is just text to the text sanitizer.
        if out.is_object() || out.is_array() {
            let text = out.to_string();
            let line = sanitizer.sanitize(&text);
            if let Err(err) = serde_json::from_str::<Value>(&line) {
                panic!("text sanitizer broke sanitized JSON ({err}): {line:?}");
            }
        }
    }
});

/// Panics unless `after` is `before` with some values replaced by strings.
fn same_shape(before: &Value, after: &Value) {
    match (before, after) {
        (_, Value::String(_)) => {}
        (Value::Object(b), Value::Object(a)) => {
            assert!(
                b.keys().eq(a.keys()),
                "object keys changed: {before} -> {after}"
            );
            for (key, value) in b {
                same_shape(value, &a[key]);
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            assert_eq!(b.len(), a.len(), "array length changed");
            for (b, a) in b.iter().zip(a) {
                same_shape(b, a);
            }
        }
        (Value::Number(_) | Value::Bool(_) | Value::Null, _) => {
            assert_eq!(before, after, "a scalar changed into a non-string");
        }
        _ => panic!("value changed type: {before} -> {after}"),
    }
}
