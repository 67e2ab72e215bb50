//! Inputs the fuzz targets in `fuzz/` found (see `fuzz/README.md`), kept as
//! regression tests.

use serde_json::Value;
use voxcal_log_sanitizer::Sanitizer;

fn both() -> [Sanitizer; 2] {
    [
        Sanitizer::default(),
        Sanitizer::builder().pseudonymize(b"fuzz key").build(),
    ]
}

/// A key and separator inside a JSON string (`"phone="`, a value ending in
/// `name:`) took the string's closing quote for the start of a quoted value,
/// and the redaction broke the JSON.
#[test]
fn separator_at_the_end_of_a_json_string_keeps_json_valid() {
    for s in both() {
        for line in [
            r#"[{"phone=":""}]"#,
            r#"{"phone=":"x","n":1}"#,
            r#"{"a":"phone=","b":"Max"}"#,
            r#"{"note":"Rückruf name:" , "ok":true}"#,
            r#"{"a":"name:'","b":1}"#,
        ] {
            let out = s.sanitize(line);
            assert_eq!(out, line, "nothing personal in {line}");
            serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        }
    }
    // A single-quoted value inside a JSON string ends with that string.
    for s in both() {
        let line = r#"{"a":"name:'Max Müller","n":"call 0171-1234567"}"#;
        let out = s.sanitize(line);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert!(
            !out.contains("Max Müller") && !out.contains("1234567"),
            "{out}"
        );
        assert!(
            v["a"].as_str().is_some_and(|a| a.starts_with("name:'[")),
            "{out}"
        );
    }
    // An unbalanced quote earlier on a plain log line still lets the value
    // be found.
    assert_eq!(
        Sanitizer::default().sanitize(r#"5" display, name="Max Müller" ok"#),
        r#"5" display, name="[NAME_REDACTED]" ok"#
    );
}

/// An escaped JSON string value (`\"a@b.`) cut off by the end of the string
/// that holds it was redacted up to the end of the text, outer quote and
/// braces included; after an escaped key (`\"pin\":`) the quote closing the
/// outer string was taken for the start of a value.
#[test]
fn escaped_value_ends_with_its_enclosing_string() {
    let line = r#"{"message":"body={\"email\":\"a@b.","level":"INFO"}"#;
    for s in both() {
        let out = s.sanitize(line);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(v["level"], "INFO");
        assert!(!out.contains("a@b."), "{out}");
        let line = r#"{"":"\"pin\":"}"#;
        assert_eq!(s.sanitize(line), line);
        // An escaped array value whose string runs into the end of the outer one.
        let line = r#"{"\"mail\":[\"":""}"#;
        let out = s.sanitize(line);
        serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    }
}

/// More than 128 bytes of non-ASCII letters before `@` (here U+FFFD from
/// invalid UTF-8): the local part's byte cap cut a character in two and the
/// redaction panicked on a non-char boundary. The domain had the same cap.
#[test]
fn long_non_ascii_runs_around_at_do_not_split_characters() {
    let fuzzed: &[u8] = b"\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xb1\xcb\xcb\xcb\xcb\xcb\xcb\xcb\xcb\xcb\xcb\xcbE\xcb\xcb\xcb\xcb\xcb\xcbE\xcb\xcb\xcbf277@a.\xcbE";
    let long_local = format!("{}@gmx.de ok", "ü".repeat(70));
    let long_domain = format!("max@gmx.{} ok", "ü".repeat(130));
    for s in both() {
        let out = s.sanitize_bytes(fuzzed);
        assert!(!out.contains("f277@"), "{out}");
        assert_eq!(s.sanitize(&out), out);
        let out = s.sanitize(&long_local);
        assert!(!out.contains("@gmx.de"), "{out}");
        let out = s.sanitize(&long_domain);
        assert!(!out.contains("max@"), "{out}");
    }
}

/// Found by the `generated_pii_never_survives` property: a card followed by
/// a date whose year makes a later group start look like a card too.
#[test]
fn a_card_followed_by_a_date_keeps_the_date() {
    let s = voxcal_log_sanitizer::Sanitizer::default();
    let out = s.sanitize(" 4609 2221 0000 0006 2025-10-01");
    assert_eq!(out, " [CARD_REDACTED] 2025-10-01");
    // A card that really starts a group later still wins.
    let out = s.sanitize("port=6379 4823 8930 4916 0000");
    assert!(!out.contains("4916"), "{out}");
}

/// Inputs where a second pass changed the first pass's output (found by the
/// `never_panics_and_is_idempotent` property at 20 000 cases and by the
/// fuzz targets): a value that is already a marker must not open a new key
/// behind it in the second pass, and a marker next to the rest of the text
/// must not leave a new token for it.
#[test]
fn sanitizing_twice_changes_nothing_more() {
    let s = voxcal_log_sanitizer::Sanitizer::default();
    for text in [
        "\"email\":-----BEGIN PRIVATE KEY-----\"://u:",
        "0\"address\":{}address\":c",
        // The first scan leaves `[REDACTED]::89bc`, and `::89bc` then reads
        // as an IPv6 address: `sanitize` scans a changed text again.
        r#"{"":{"":"r cal_live_ab45pasw::89bc"},"awsd":"03"}"#,
    ] {
        let once = s.sanitize(text).into_owned();
        assert_ne!(once, text, "something is redacted in {text:?}");
        assert_eq!(s.sanitize(&once), once, "second pass of {text:?}");
    }
}

/// Found by the fleet test: a `tracing` target whose last segment is a
/// secret-looking word (`booking_service::signature:`) is not a key.
#[test]
fn a_tracing_target_is_not_a_key() {
    let s = voxcal_log_sanitizer::Sanitizer::default();
    let line = "WARN booking_service::signature: signature refused tenant=demo";
    assert_eq!(s.sanitize(line), line);
    // A real key after the target still is one.
    let out = s.sanitize("INFO app::auth: signature: abc123def token=xyz789");
    assert!(
        !out.contains("abc123def") && !out.contains("xyz789"),
        "{out}"
    );
}

/// Found by the `sanitize_text` fuzz target in CI: a JSON value after a line
/// break was left in place (and a marker put before it, breaking the JSON).
#[test]
fn a_json_value_after_a_line_break_is_redacted() {
    let s = voxcal_log_sanitizer::Sanitizer::default();
    for text in [
        "{\"args\":{\"name\":\r\"Erika Musb568,Malive1e2f\"}}",
        "{\"args\":{\"name\":\n  \"Erika Mustermann\"}}",
    ] {
        let out = s.sanitize(text);
        assert!(!out.contains("Erika"), "{out}");
        serde_json::from_str::<serde_json::Value>(&out).expect("still JSON");
        assert_eq!(out.matches('\n').count(), text.matches('\n').count());
    }
}

/// `\b::24` inside a JSON string read as the IPv6 address `b::24`: the
/// redaction took the `b` of the escape `\b` and left `\[`, no JSON.
#[test]
fn an_escape_letter_does_not_start_an_ipv6_address() {
    for s in both() {
        let value: Value =
            serde_json::from_str(r#"{"me\"email\"::24)l\b::24)5":{"dbo":"`0902.1dob"}}"#)
                .expect("the fuzzer's input is JSON");
        let out = s.sanitize_json_value(value);
        let text = out.to_string();
        let line = s.sanitize(&text);
        serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}
