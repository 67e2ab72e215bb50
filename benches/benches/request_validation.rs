//! `request-validation`: a typical `collect_appointment` argument object
//! validated end to end (target ≤ 20 µs), beside two baselines measured in the
//! same run: parsing the same object with `serde_json` alone, and the naive
//! original approach (length checks plus a regex tag strip, no dates, times,
//! e-mail or phone rules).
//!
//! `cargo bench -p benches --features request-validation --bench request_validation`

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use regex::Regex;
use serde_json::Value;
use voxcal_request_validation::{AppointmentRequest, ValidationContext};

/// What the agent sends after a typical call: spoken date and time, a spoken
/// e-mail address, a phone number with spaces.
const ARGS: &str = r#"{
    "datum": "nächsten Dienstag",
    "uhrzeit": "halb drei",
    "name": "Max Müller-Lüdenscheidt",
    "dienstleistung": "Herrenhaarschnitt mit Bartpflege",
    "email": "max punkt mueller at gmx punkt de",
    "telefonnummer": "0171 1234567",
    "mitarbeiter": "Frau Schmidt",
    "notiz": "Kommt mit dem Fahrrad, bitte 5 Minuten Puffer einplanen.",
    "bestaetigung": "ja",
    "duration": 45,
    "call_id": "call_8f3a2c1d9e4b47a6b1c0"
}"#;

/// The original FormRequest: `strip_tags` (here the regex it is usually
/// replaced with) and a length check per field.
fn naive(args: &Value, tags: &Regex) -> usize {
    const LIMITS: &[(&str, usize)] = &[
        ("datum", 30),
        ("uhrzeit", 20),
        ("name", 150),
        ("dienstleistung", 250),
        ("email", 254),
        ("telefonnummer", 40),
        ("mitarbeiter", 150),
        ("notiz", 1000),
        ("call_id", 100),
    ];
    let mut ok = 0;
    for (field, max) in LIMITS {
        if let Some(s) = args.get(*field).and_then(Value::as_str) {
            let stripped = tags.replace_all(s, "");
            if stripped.trim().chars().count() <= *max {
                ok += 1;
            }
        }
    }
    ok
}

fn bench(c: &mut Criterion) {
    let ctx = ValidationContext::new(
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(),
        chrono_tz::Europe::Berlin,
    );
    let args: Value = serde_json::from_str(ARGS).unwrap();
    // Sanity: the object is valid, so the bench measures the success path.
    let parsed = AppointmentRequest::parse(&args, &ctx).unwrap();
    assert_eq!(parsed.email.as_deref(), Some("max.mueller@gmx.de"));
    let tags = Regex::new("<[^>]*>").unwrap();

    let mut group = c.benchmark_group("request_validation");
    group.bench_function("validate_collect_appointment", |b| {
        b.iter(|| AppointmentRequest::parse(black_box(&args), black_box(&ctx)))
    });
    // The same object without the phone number: how much of the time is the
    // `phonenumber` crate's parse and validity check.
    let mut without_phone = args.clone();
    without_phone
        .as_object_mut()
        .unwrap()
        .remove("telefonnummer");
    group.bench_function("validate_collect_appointment_without_phone", |b| {
        b.iter(|| AppointmentRequest::parse(black_box(&without_phone), black_box(&ctx)))
    });
    group.bench_function("json_text_then_validate", |b| {
        b.iter(|| {
            let v: Value = serde_json::from_str(black_box(ARGS)).unwrap();
            AppointmentRequest::parse(&v, &ctx).is_ok()
        })
    });
    group.bench_function("baseline_serde_json_parse", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(ARGS)).unwrap())
    });
    group.bench_function("baseline_naive_length_and_regex_strip", |b| {
        b.iter(|| naive(black_box(&args), &tags))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
