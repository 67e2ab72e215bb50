//! GDPR-grade redaction of log text, JSON bodies and HTTP headers, fast enough
//! to sit on every log line.
//!
//! A [`Sanitizer`] finds e-mail addresses (IDN and `%40`-encoded too, and
//! spoken: `anna punkt weber ät web punkt de`), German and international
//! phone numbers (also spoken digit by digit in call transcripts), IBANs
//! (mod-97 checked), payment cards (Luhn checked), secrets (`Bearer …`, JWTs,
//! Stripe/Cal.com/AWS/GitHub/Slack/Google/Retell keys, private keys, values of
//! secret-named keys), names (by key and after `Herr`/`Frau`/`Dr.`/`Kunde:`/
//! `Kunde`), dates of birth next to a label, IPv4/IPv6 addresses, German tax
//! ids and social insurance numbers (check digits verified) and postal
//! addresses (street with house number, postcode with city) — in **one pass**
//! over the text. It wakes up only at trigger bytes and word starts and runs
//! small anchored matchers there; timestamps, durations, versions, ids,
//! amounts and appointment dates stay untouched. A line that was redacted is
//! scanned once more (and again until nothing changes), so the output is a
//! fixpoint: sanitizing it again never changes it.
//!
//! ```
//! use voxcal_log_sanitizer::Sanitizer;
//!
//! let s = Sanitizer::default();
//! let line = "2025-10-01 11:03:23 INFO booking eventTypeId=2026713 took 577ms \
//!             attendeeEmail=max%40gmx.de phone=\"+49 (0)30 1234 5678\" \
//!             Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";
//! assert_eq!(
//!     s.sanitize(line),
//!     "2025-10-01 11:03:23 INFO booking eventTypeId=2026713 took 577ms \
//!      attendeeEmail=[EMAIL_REDACTED] phone=\"[PHONE_REDACTED]\" \
//!      Authorization: Bearer [REDACTED]"
//! );
//! assert_eq!(
//!     s.sanitize("Rückruf an Herr Max Müller, IBAN DE89 3704 0044 0532 0130 00"),
//!     "Rückruf an Herr [NAME_REDACTED], IBAN [IBAN_REDACTED]"
//! );
//! assert_eq!(
//!     s.sanitize("Kunde Max Mustermann, Hauptstraße 12, 10115 Berlin, Steuer-ID 86095174282"),
//!     "Kunde [NAME_REDACTED], [ADDRESS_REDACTED], Steuer-ID [TAX_ID_REDACTED]"
//! );
//! assert_eq!(
//!     s.sanitize("meine Nummer ist null eins sechs null, vier fünf sechs sieben acht neun"),
//!     "meine Nummer ist [PHONE_REDACTED]"
//! );
//! // A time said in words is not a phone number.
//! assert_eq!(s.sanitize("Termin um neun Uhr"), "Termin um neun Uhr");
//! ```
//!
//! # Markers and pseudonyms
//!
//! Redacted values become `[EMAIL_REDACTED]`, `[PHONE_REDACTED]`,
//! `[IBAN_REDACTED]`, `[CARD_REDACTED]`, `[NAME_REDACTED]`, `[DOB_REDACTED]`,
//! `[IP_REDACTED]`, `[TAX_ID_REDACTED]`, `[SV_NUMBER_REDACTED]`,
//! `[ADDRESS_REDACTED]`, and `[REDACTED]` for secrets (see [`Kind::marker`]). With [`SanitizerBuilder::pseudonymize`] they become
//! keyed HMAC tags such as `[EMAIL:3f9a1c2e]`, stable for the same value and
//! key. Output of the sanitizer passes through it unchanged (idempotent).
//!
//! # JSON and headers
//!
//! [`Sanitizer::sanitize_json`] walks a `serde_json::Value` and replaces the
//! values of sensitive keys whole, [`Sanitizer::sanitize_headers`] redacts
//! credentials in an `http::HeaderMap`. JSON embedded in a log line is handled
//! by [`Sanitizer::sanitize`] itself and stays valid JSON:
//!
//! ```
//! let s = voxcal_log_sanitizer::Sanitizer::default();
//! let body = r#"{"args":{"name":"Max Müller","phone":491701234567,"address":{"city":"Berlin"}}}"#;
//! let clean = s.sanitize(body);
//! assert_eq!(
//!     clean,
//!     r#"{"args":{"name":"[NAME_REDACTED]","phone":"[PHONE_REDACTED]","address":"[ADDRESS_REDACTED]"}}"#
//! );
//! assert!(serde_json::from_str::<serde_json::Value>(&clean).is_ok());
//! ```
//!
//! # tracing
//!
//! With the `tracing` feature, [`SanitizingMakeWriter`] wraps the writer of
//! any `tracing_subscriber::fmt` layer (plain or JSON), so nothing personal
//! leaves the process:
//!
//! ```
//! # #[cfg(feature = "tracing")] {
//! use voxcal_log_sanitizer::{Sanitizer, SanitizingMakeWriter};
//!
//! tracing_subscriber::fmt()
//!     .json()
//!     .with_writer(SanitizingMakeWriter::new(Sanitizer::default(), std::io::stdout))
//!     .try_init()
//!     .ok();
//! tracing::info!(email = "max@gmx.de", "booking confirmed");
//! // {"timestamp":"…","level":"INFO","fields":{"message":"booking confirmed","email":"[EMAIL_REDACTED]"},…}
//! # }
//! ```
//!
//! # Command line
//!
//! `cargo run --release -p voxcal-log-sanitizer --example sanitize < in.log > out.log`
//! sanitizes stdin to stdout line by line (`--pseudonymize KEY`,
//! `--disable KIND`).
//!
//! # Errors
//!
//! The one error, [`ParseKindError`] (a string that names no [`Kind`]),
//! implements the family's [`UserMessage`] (re-exported from `voxcal_core`
//! with [`Lang`]): German by default, English on request.
//!
//! # Features
//!
//! - `tracing` (off by default): [`SanitizingMakeWriter`].
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod detect;
mod headers;
mod json;
mod keys;
mod kind;
mod sanitizer;
mod scan;
#[cfg(feature = "tracing")]
mod writer;

pub use kind::{Kind, ParseKindError};
pub use sanitizer::{Sanitizer, SanitizerBuilder};
pub use voxcal_core::{Lang, UserMessage};
#[cfg(feature = "tracing")]
pub use writer::{SanitizingMakeWriter, SanitizingWriter};
