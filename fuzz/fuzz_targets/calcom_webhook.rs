//! `voxcal_calcom_client::webhook` on arbitrary deliveries: the input is the raw
//! body for the decoder, and split at its first newline into a signature header
//! and a body for the signature check.
//!
//! Checked:
//! - no panic, including in the `Debug` output of decoded events and in errors'
//!   `Display` and user messages;
//! - a decoded event has a booking payload exactly for the booking triggers, the
//!   trigger's name round-trips, and the booking ends are real instants;
//! - the input's own signature verifies, and stops verifying when one bit of the
//!   body or of the signature flips;
//! - `no-secret-provided` never verifies against a configured secret, and an
//!   empty secret verifies nothing;
//! - a header/body pair verifies only when the header (trimmed) is exactly the
//!   body's signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voxcal_calcom_client::webhook::{self, TriggerEvent, WebhookEvent, WebhookHeaders};
use voxcal_calcom_client::{Lang, UserMessage};

const SECRET: &[u8] = b"whsec_fuzz";

fuzz_target!(|data: &[u8]| {
    match WebhookEvent::from_slice(data) {
        Ok(event) => {
            assert_eq!(event.booking().is_some(), event.trigger_event.is_booking());
            assert_eq!(
                TriggerEvent::from_wire(event.trigger_event.as_str()),
                event.trigger_event
            );
            if let Some(booking) = event.booking() {
                let _ = booking.end.signed_duration_since(booking.start);
            }
            let _ = format!("{event:?} {}", event.trigger_event);
        }
        Err(err) => speak(&err),
    }

    let signature = webhook::sign(SECRET, data);
    assert!(webhook::verify_signature(SECRET, data, &signature).is_ok());
    let seed = data.iter().fold(0usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(usize::from(*b))
    });
    if !data.is_empty() {
        let mut flipped = data.to_vec();
        let at = seed % data.len();
        flipped[at] ^= 1 << (seed % 8);
        assert!(webhook::verify_signature(SECRET, &flipped, &signature).is_err());
    }
    let mut bad = signature.clone().into_bytes();
    let at = seed % bad.len();
    bad[at] ^= 1 << (seed % 8);
    assert!(webhook::verify_signature(SECRET, data, &String::from_utf8_lossy(&bad)).is_err());
    assert!(webhook::verify_signature(SECRET, data, webhook::NO_SECRET_PROVIDED).is_err());
    assert!(webhook::verify_signature(b"", data, &webhook::sign(b"", data)).is_err());

    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let header = String::from_utf8_lossy(header);
    let verdict = webhook::verify_signature(SECRET, body, &header);
    let exact =
        header.trim_matches(|c: char| c.is_ascii_whitespace()) == webhook::sign(SECRET, body);
    assert_eq!(verdict.is_ok(), exact, "header {header:?}");
    if let Err(err) = &verdict {
        speak(err);
    }
    let headers = WebhookHeaders::new(Some(header.into_owned()), None);
    let _ = webhook::verify_and_decode(SECRET, &headers, body).map_err(|err| speak(&err));
});

fn speak(err: &webhook::WebhookError) {
    for lang in [Lang::De, Lang::En] {
        assert!(!err.user_message(lang).is_empty());
    }
    let _ = format!("{err} {err:?} {}", err.status());
}
