//! Property tests: no panics (bytes and text), idempotence, generated PII never
//! survives inside random log text, and PII-free text comes back unchanged.

use std::borrow::Cow;

use proptest::prelude::*;
use voxcal_log_sanitizer::Sanitizer;

/// Text dense in the bytes that wake the scanner up.
fn tricky_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "([a-zA-Z0-9 ]|[@%+()=:\"'\\\\\\[\\]{}.,;/_&-]|ä|ß|€|\n|eyJ|Herr |Frau |Dr\\. |geb\\. |Bearer |00|\\+49|DE89|::|%40|password=|name: |\"email\":|\\[REDACTED\\]|-----BEGIN PRIVATE KEY-----|://u:|Kunde: |Kunde |Anrufer |Hauptstraße |Berliner Str\\. |Am Markt |An der |10115 Berlin|, |ät |at |punkt |unterstrich |null |vier |zwo |doppel |plus |einundzwanzig |65170839J003|65 170839 J 00 3|86095174282|86 095 174 282|steuer_id=|svnr: |address=){0,80}",
    )
    .expect("valid regex")
}

/// Tokens that are not personal data, whatever order they come in.
const SAFE: &[&str] = &[
    "INFO",
    "WARN",
    "ERROR",
    "booking",
    "confirmed",
    "slot",
    "taken",
    "2025-10-01",
    "11:03:23",
    "11:03:23.456",
    "1727773403",
    "577ms",
    "7.0.15",
    "eventTypeId=2026713",
    "49,99",
    "EUR",
    "01.10.2025",
    "status=200",
    "took",
    "3ms",
    "GET",
    "/api/retell/book_appointment",
    "function_name=check_availability",
    "call_id=call_9f8e7d",
    "retries=3",
    "tenant=praxis-7",
    "Termin",
    "am",
    "um",
    "14:00",
    "Uhr",
    "author=Goethe",
    "token_count=42",
    "ok",
    "true",
    "duration_ms=1500",
    "v2",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    "(3",
    "attempts)",
    "x=1;",
    "[INFO]",
    "1.2.3",
    "127.0.0.1:8080",
    "port=6379",
    "-",
    "|",
    "99%",
    "+1",
    "2x",
];

fn safe_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(SAFE), 0..30).prop_map(|w| w.join(" "))
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|d| d.iter().map(|x| char::from(b'0' + x)).collect())
}

fn email() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9]{0,8}([._+-][a-z0-9]{1,6})?",
        "[a-z][a-z0-9-]{0,10}[a-z0-9]",
        prop_oneof![
            Just("de"),
            Just("com"),
            Just("org"),
            Just("info"),
            Just("co.uk")
        ],
        any::<bool>(),
    )
        .prop_map(|(local, domain, tld, upper)| {
            let e = format!("{local}@{domain}.{tld}");
            if upper {
                e.to_uppercase()
            } else {
                e
            }
        })
}

fn iban() -> impl Strategy<Value = String> {
    (digits(18), any::<bool>()).prop_map(|(bban, grouped)| {
        let mut rem = 0u32;
        for c in bban.bytes().chain(*b"131400") {
            rem = (rem * 10 + u32::from(c - b'0')) % 97;
        }
        let compact = format!("DE{:02}{bban}", 98 - rem);
        if grouped {
            compact
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            compact
        }
    })
}

fn card() -> impl Strategy<Value = String> {
    (digits(14), prop_oneof![Just(""), Just(" "), Just("-")]).prop_map(|(body, sep)| {
        let mut d: Vec<u8> = std::iter::once(4)
            .chain(body.bytes().map(|c| c - b'0'))
            .collect();
        // Luhn check digit.
        let sum: u32 = d
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &x)| {
                let v = u32::from(x) * if i % 2 == 0 { 2 } else { 1 };
                if v > 9 {
                    v - 9
                } else {
                    v
                }
            })
            .sum();
        d.push(((10 - sum % 10) % 10) as u8);
        let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
        s.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(sep)
    })
}

fn phone() -> impl Strategy<Value = String> {
    (digits(7), 0usize..7, 1u8..10).prop_map(|(sub, form, a)| match form {
        0 => format!("+49 30 {sub}"),
        1 => format!("+49 (0)3{a} {sub}"),
        2 => format!("0049 17{a} {sub}"),
        3 => format!("030/{sub}"),
        4 => format!("017{a}-{sub}"),
        5 => format!("(0{a}1) {sub}"),
        _ => format!("+4917{a}{sub}"),
    })
}

fn pii() -> impl Strategy<Value = (String, &'static str)> {
    prop_oneof![
        email().prop_map(|v| (v, "[EMAIL_REDACTED]")),
        iban().prop_map(|v| (v, "[IBAN_REDACTED]")),
        card().prop_map(|v| (v, "[CARD_REDACTED]")),
        phone().prop_map(|v| (v, "[PHONE_REDACTED]")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let s = Sanitizer::default();
        let out = s.sanitize_bytes(&bytes);
        let lossy = String::from_utf8_lossy(&bytes);
        if !lossy.contains('\n') {
            prop_assert!(!out.contains('\n'));
        }
    }

    #[test]
    fn never_panics_and_is_idempotent(text in tricky_text()) {
        let s = Sanitizer::default();
        let once = s.sanitize(&text).into_owned();
        let twice = s.sanitize(&once);
        prop_assert_eq!(&once, &twice);
        if !text.contains('\n') {
            prop_assert!(!once.contains('\n'));
        }
        let p = Sanitizer::builder().pseudonymize("k").build();
        let once = p.sanitize(&text).into_owned();
        prop_assert_eq!(&once, &p.sanitize(&once));
    }

    #[test]
    fn generated_pii_never_survives(
        before in safe_text(),
        after in safe_text(),
        (value, marker) in pii(),
    ) {
        let s = Sanitizer::default();
        let line = format!("{before} {value} {after}");
        let out = s.sanitize(&line);
        prop_assert!(!out.contains(&value), "{} survived in {}", value, out);
        prop_assert!(out.contains(marker), "no {} in {}", marker, out);
        prop_assert!(out.starts_with(&before), "prefix changed: {}", out);
        prop_assert!(out.ends_with(&after), "suffix changed: {}", out);
    }

    #[test]
    fn pii_free_text_is_unchanged(text in safe_text()) {
        let s = Sanitizer::default();
        let out = s.sanitize(&text);
        prop_assert!(matches!(out, Cow::Borrowed(_)), "changed: {}", out);
    }
}
