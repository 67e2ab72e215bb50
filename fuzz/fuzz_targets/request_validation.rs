//! The `request-validation` parsers on arbitrary text: `parse_date`,
//! `parse_time`, `normalize_email`, `normalize_phone`, `clean_text`,
//! `clean_text_max`, and `AppointmentRequest::parse` on the input as a JSON
//! `args` object (when it is JSON) and with the text in every field.
//!
//! Checked:
//! - no panic;
//! - a parsed date is never before today, for three "now"s (an ordinary day,
//!   New Year's Eve late evening in UTC, a leap day);
//! - cleaned text is non-empty, has no control characters, and cleans to
//!   itself (documented as stable); `clean_text_max` respects its limit;
//! - a normalized e-mail address has exactly one `@`, at most 254 bytes, no
//!   spaces, and normalizes to itself;
//! - a normalized phone number is E.164 (`+` and 2 to 15 digits) and
//!   normalizes to itself;
//! - a parsed request has a date from today on and a duration of 15–480
//!   minutes; a rejected one carries at least one error, and its messages
//!   and JSON form can be built.
#![no_main]

use std::sync::LazyLock;

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use voxcal_request_validation::{
    clean_text, clean_text_max, normalize_email, normalize_phone, parse_date, parse_time,
    AppointmentRequest, Lang, UserMessage, ValidationContext, MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
};
use serde_json::{json, Value};

static CONTEXTS: LazyLock<[ValidationContext; 3]> = LazyLock::new(|| {
    let at = |y, mo, d, h, mi| Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
    [
        ValidationContext::new(at(2026, 11, 27, 9, 0), chrono_tz::Europe::Berlin),
        ValidationContext::new(at(2026, 12, 31, 23, 30), chrono_tz::Europe::Berlin),
        ValidationContext::new(at(2028, 2, 29, 12, 0), chrono_tz::America::New_York),
    ]
});

/// Longest text the limited cleaner is asked to keep.
const MAX_CHARS: usize = 40;

fuzz_target!(|data: &[u8]| {
    if let Ok(args) = serde_json::from_slice::<Value>(data) {
        for ctx in CONTEXTS.iter() {
            check_request(&args, ctx);
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for ctx in CONTEXTS.iter() {
        if let Ok(date) = parse_date(text, ctx) {
            assert!(date >= ctx.today(), "{date} is before {}", ctx.today());
        }
    }
    let _ = parse_time(text);
    check_text(text);
    check_email(text);
    check_phone(text);
    let args = json!({
        "datum": text, "uhrzeit": text, "name": text, "email": text,
        "telefonnummer": text, "notiz": text, "call_id": text,
    });
    check_request(&args, &CONTEXTS[0]);
});

fn check_text(text: &str) {
    if let Ok(clean) = clean_text(text) {
        assert!(!clean.is_empty(), "clean text is empty");
        assert!(
            !clean.chars().any(char::is_control),
            "control character left in {clean:?}"
        );
        assert_eq!(
            clean_text(&clean).as_deref(),
            Ok(clean.as_str()),
            "not stable"
        );
    }
    if let Ok(clean) = clean_text_max(text, MAX_CHARS) {
        assert!(clean.chars().count() <= MAX_CHARS, "too long: {clean:?}");
    }
}

fn check_email(text: &str) {
    if let Ok(email) = normalize_email(text) {
        assert_eq!(email.matches('@').count(), 1, "not one @: {email:?}");
        assert!(email.len() <= 254, "too long: {email:?}");
        assert!(!email.contains(' '), "space in {email:?}");
        assert_eq!(
            normalize_email(&email).as_deref(),
            Ok(email.as_str()),
            "not stable"
        );
    }
}

fn check_phone(text: &str) {
    if let Ok(phone) = normalize_phone(text) {
        let digits = phone
            .strip_prefix('+')
            .unwrap_or_else(|| panic!("no +: {phone:?}"));
        assert!(
            (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
            "not E.164: {phone:?}"
        );
        assert_eq!(
            normalize_phone(&phone).as_deref(),
            Ok(phone.as_str()),
            "not stable"
        );
    }
}

fn check_request(args: &Value, ctx: &ValidationContext) {
    match AppointmentRequest::parse(args, ctx) {
        Ok(request) => {
            assert!(request.date >= ctx.today(), "date in the past");
            assert!(
                (MIN_DURATION_MINUTES..=MAX_DURATION_MINUTES).contains(&request.duration_minutes),
                "duration out of range"
            );
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "rejected without an error");
            for lang in [Lang::De, Lang::En] {
                assert!(!errors.user_message(lang).is_empty(), "empty message");
                let _ = errors.to_json(lang);
            }
        }
    }
}
