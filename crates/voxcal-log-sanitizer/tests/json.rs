//! JSON: the `Value` API is key-aware and recursive, and JSON text that goes
//! through `sanitize` stays valid JSON with the same shape.

use proptest::prelude::*;
use serde_json::{json, Value};
use voxcal_log_sanitizer::{Kind, Sanitizer};

#[test]
fn sensitive_keys_are_redacted_whole_even_when_nested() {
    let s = Sanitizer::default();
    let v = s.sanitize_json_value(json!({
        "attendees": [
            {"name": "Max Müller", "email": "max@gmx.de", "timeZone": "Europe/Berlin"},
            {"name": "Anna Schmidt", "phone_numbers": ["+49 30 1234567"]}
        ],
        "metadata": {"password": {"old": "a", "new": "b"}, "api_key": ["k1", "k2"]},
        "customer": {"address": ["Hauptstr. 5", "10115 Berlin"], "plz": 10115},
        "payment": {"iban": "DE89370400440532013000", "card_number": 4111111111111111_u64},
        "dob": null,
        "consent": true,
        "function_name": "book_appointment",
        "name": "check_availability"
    }));
    assert_eq!(
        v,
        json!({
            "attendees": [
                {"name": "[NAME_REDACTED]", "email": "[EMAIL_REDACTED]", "timeZone": "Europe/Berlin"},
                {"name": "[NAME_REDACTED]", "phone_numbers": ["[PHONE_REDACTED]"]}
            ],
            "metadata": {"password": "[REDACTED]", "api_key": "[REDACTED]"},
            "customer": {"address": "[ADDRESS_REDACTED]", "plz": "[ADDRESS_REDACTED]"},
            "payment": {"iban": "[IBAN_REDACTED]", "card_number": "[CARD_REDACTED]"},
            "dob": null,
            "consent": true,
            "function_name": "book_appointment",
            "name": "check_availability"
        })
    );
}

#[test]
fn json_respects_disabled_kinds_and_pseudonyms() {
    let s = Sanitizer::builder()
        .disable(Kind::Name)
        .pseudonymize("k")
        .build();
    let v = s.sanitize_json_value(json!({"name": "Max", "email": "max@gmx.de", "token": "t"}));
    assert_eq!(v["name"], "Max");
    assert!(v["email"].as_str().unwrap().starts_with("[EMAIL:"));
    assert_eq!(v["token"], "[REDACTED]");
    let again = s.sanitize_json_value(json!({"email": "MAX@gmx.de"}));
    assert_eq!(again["email"], v["email"]);
}

#[test]
fn json_text_in_a_log_line() {
    let s = Sanitizer::default();
    let line = r#"body={"call":{"from_number":"+4917612345678","metadata":{"x":1}},"args":{"email":"max@gmx.de","password":{"a":[1,"}"]},"n":[1,2]}} status=200"#;
    let out = s.sanitize(line);
    assert_eq!(
        out,
        r#"body={"call":{"from_number":"[PHONE_REDACTED]","metadata":{"x":1}},"args":{"email":"[EMAIL_REDACTED]","password":"[REDACTED]","n":[1,2]}} status=200"#
    );
    // JSON escaped inside a JSON string (a body logged as a string field).
    let nested = r#"{"body":"{\"email\":\"max@gmx.de\",\"phone\":4930123456,\"ok\":true}"}"#;
    let out = s.sanitize(nested);
    assert_eq!(
        out,
        r#"{"body":"{\"email\":\"[EMAIL_REDACTED]\",\"phone\":\"[PHONE_REDACTED]\",\"ok\":true}"}"#
    );
    let inner: Value = serde_json::from_str(&out).unwrap();
    let inner: Value = serde_json::from_str(inner["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["phone"], "[PHONE_REDACTED]");
}

const KEYS: &[&str] = &[
    "email",
    "name",
    "customer_name",
    "phone",
    "password",
    "address",
    "iban",
    "notes",
    "date",
    "eventTypeId",
    "function_name",
    "args",
    "call",
    "metadata",
    "token",
    "dob",
    "ip",
    "x",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        proptest::string::string_regex(
            "([a-zA-Z0-9 äß€\"\\\\/:=@.+()-]|max@gmx\\.de|\\+49 30 1234567|Herr Max Müller|DE89 3704 0044 0532 0130 00|password=x|\u{1}|\n){0,12}"
        )
        .unwrap()
        .prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                |kv| { Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()) }
            ),
        ]
    })
}

/// Logged bodies are objects; a bare top-level number that is a valid card
/// number is indistinguishable from a card number in free text.
fn document() -> impl Strategy<Value = Value> {
    proptest::collection::vec((proptest::sample::select(KEYS), value()), 0..6)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

fn shape(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(shape).collect::<Vec<_>>().join(",")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{k}:{}", shape(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        _ => "_".to_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_text_stays_valid_json(v in document(), pretty in any::<bool>()) {
        let s = Sanitizer::default();
        let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
        let out = s.sanitize(&text);
        let back: Result<Value, _> = serde_json::from_str(&out);
        prop_assert!(back.is_ok(), "invalid JSON after sanitize:\n{}\n->\n{}", text, out);
        let back = back.unwrap();
        // Keys survive; a redacted subtree collapses into one string.
        if let (Value::Object(a), Value::Object(b)) = (&v, &back) {
            prop_assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        }
    }

    #[test]
    fn value_api_keeps_keys_and_never_panics(v in value()) {
        let s = Sanitizer::default();
        let out = s.sanitize_json_value(v.clone());
        let twice = s.sanitize_json_value(out.clone());
        prop_assert_eq!(&out, &twice);
        if let (Value::Object(a), Value::Object(b)) = (&v, &out) {
            prop_assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        }
        let _ = shape(&out);
    }
}
