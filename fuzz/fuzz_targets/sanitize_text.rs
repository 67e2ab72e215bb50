//! `voxcal_log_sanitizer::Sanitizer::sanitize_bytes` on arbitrary bytes.
//!
//! Checked on every input, with blank markers and with pseudonyms:
//! - no panic;
//! - the output sanitizes to itself (documented idempotence);
//! - a line stays one line (never more `\n` than in the input);
//! - when the input is a JSON object or array, the output is valid JSON;
//! - an e-mail address of a simple shape (`[a-z][a-z0-9]*@[a-z]+.de`, built
//!   from the input's first bytes), put on a line of its own between the rest
//!   of the input, never appears in the output.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use voxcal_log_sanitizer::Sanitizer;

static PLAIN: LazyLock<Sanitizer> = LazyLock::new(Sanitizer::default);
static PSEUDONYMS: LazyLock<Sanitizer> =
    LazyLock::new(|| Sanitizer::builder().pseudonymize(b"fuzz key").build());

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for sanitizer in [&*PLAIN, &*PSEUDONYMS] {
        check(sanitizer, &text);
        check_embedded_email(sanitizer, data);
    }
});

fn check(sanitizer: &Sanitizer, text: &str) {
    let out = sanitizer.sanitize(text);
    let again = sanitizer.sanitize(&out);
    assert_eq!(again, out, "sanitizing the output changed it");
    // A redacted value may swallow line breaks (an unterminated quoted value
    // runs to the end of the text), but no line is ever split.
    assert!(
        out.matches('\n').count() <= text.matches('\n').count(),
        "a line was split"
    );
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<serde_json::Value>(text).is_ok()
    {
        if let Err(err) = serde_json::from_str::<serde_json::Value>(&out) {
            panic!("valid JSON in, invalid JSON out ({err}): {out:?}");
        }
    }
}

/// Builds `local@domain.de` (1–6 letters and digits, 2–4 letters) from the
/// first 12 bytes (`None` when there are fewer) and returns it with the rest.
fn simple_email(data: &[u8]) -> Option<(String, &[u8])> {
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const LOCAL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let (head, rest) = data.split_at_checked(12)?;
    let local_len = 1 + usize::from(head[0] % 6);
    let domain_len = 2 + usize::from(head[1] % 3);
    let mut email = String::new();
    email.push(char::from(LOWER[usize::from(head[2]) % LOWER.len()]));
    for &b in &head[3..2 + local_len] {
        email.push(char::from(LOCAL[usize::from(b) % LOCAL.len()]));
    }
    email.push('@');
    for &b in &head[8..8 + domain_len] {
        email.push(char::from(LOWER[usize::from(b) % LOWER.len()]));
    }
    email.push_str(".de");
    Some((email, rest))
}

fn check_embedded_email(sanitizer: &Sanitizer, data: &[u8]) {
    let Some((email, rest)) = simple_email(data) else {
        return;
    };
    let rest = String::from_utf8_lossy(rest);
    let (before, after) = rest.split_at(rest.floor_char_boundary(rest.len() / 2));
    if before.contains(&email) || after.contains(&email) {
        return;
    }
    let text = format!("{before}\ncontact {email} today\n{after}");
    let out = sanitizer.sanitize(&text);
    assert!(!out.contains(&email), "{email} leaked: {out:?}");
}
