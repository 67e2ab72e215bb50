//! Cal.com webhooks: the `X-Cal-Signature-256` check and typed booking events.
//!
//! Cal.com posts `{"triggerEvent": "BOOKING_CREATED", "createdAt": "…", "payload": {…}}`
//! to a subscriber URL, with two headers:
//!
//! - [`SIGNATURE_HEADER`] (`X-Cal-Signature-256`): the lowercase hex HMAC-SHA256 of
//!   the raw body under the webhook's secret, or the literal [`NO_SECRET_PROVIDED`]
//!   when the webhook has no secret. That literal never verifies: a receiver that
//!   has a secret configured rejects it ([`WebhookErrorKind::NoSecretProvided`]).
//! - [`VERSION_HEADER`] (`X-Cal-Webhook-Version`, e.g. `2021-10-20`): the payload
//!   version, read into [`WebhookHeaders::version`] when present.
//!
//! Verify the **raw** bytes first ([`verify_signature`], constant time), then decode
//! them ([`WebhookEvent::from_slice`]); [`verify_and_decode`] does both.
//!
//! ```
//! use voxcal_calcom_client::webhook::{self, TriggerEvent, WebhookHeaders, WebhookPayload};
//!
//! let secret = b"whsec_tenant_1";
//! let body = br#"{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-12-01T08:00:00.000Z",
//!   "payload":{"uid":"bk_1","eventTypeId":42,"startTime":"2026-12-01T09:00:00Z",
//!   "endTime":"2026-12-01T09:30:00Z","attendees":[{"name":"Max","email":"max@example.com",
//!   "timeZone":"Europe/Berlin","language":{"locale":"de"}}]}}"#;
//! let signature = webhook::sign(secret, body); // what Cal.com puts in the header
//!
//! webhook::verify_signature(secret, body, &signature).unwrap();
//! let event = webhook::WebhookEvent::from_slice(body).unwrap();
//! assert_eq!(event.trigger_event, TriggerEvent::BookingCreated);
//! let booking = event.booking().unwrap();
//! assert_eq!((booking.uid.as_str(), booking.event_type_id), ("bk_1", Some(42)));
//! assert_eq!(booking.attendees[0].language.as_deref(), Some("de"));
//!
//! // One flipped byte, and nothing verifies.
//! let mut tampered = body.to_vec();
//! tampered[20] ^= 1;
//! assert!(webhook::verify_signature(secret, &tampered, &signature).is_err());
//! assert!(webhook::verify_signature(secret, body, webhook::NO_SECRET_PROVIDED).is_err());
//! ```

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::{Deserialize, Deserializer};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use voxcal_core::{Lang, UserMessage};

use crate::models::lenient;
use crate::models::{redacted_opt, BookingStatus, Redacted};

/// The signature header (`X-Cal-Signature-256`; header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-cal-signature-256";
/// The payload version header (`X-Cal-Webhook-Version`).
pub const VERSION_HEADER: &str = "x-cal-webhook-version";
/// What Cal.com sends as the signature when the webhook has no secret.
pub const NO_SECRET_PROVIDED: &str = "no-secret-provided";

type HmacSha256 = Hmac<Sha256>;

/// The signature Cal.com sends for `raw_body` under `secret`: lowercase hex
/// HMAC-SHA256. For tests and for replaying a delivery to a receiver.
pub fn sign(secret: impl AsRef<[u8]>, raw_body: &[u8]) -> String {
    hex::encode(mac(secret.as_ref(), raw_body))
}

fn mac(secret: &[u8], raw_body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable_key_length(),
    };
    mac.update(raw_body);
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_key_length() -> ! {
    unreachable!("HMAC accepts keys of every length")
}

/// Checks `header` (the value of [`SIGNATURE_HEADER`]) against the HMAC-SHA256 of
/// `raw_body` under `secret`, in constant time.
///
/// The header must be exactly 64 lowercase hex digits (surrounding whitespace is
/// ignored). An empty `secret` verifies nothing.
///
/// # Errors
/// [`WebhookErrorKind::SecretNotConfigured`] for an empty secret;
/// [`WebhookErrorKind::NoSecretProvided`] when the header is [`NO_SECRET_PROVIDED`];
/// [`WebhookErrorKind::MalformedSignature`] when it is not 64 lowercase hex digits;
/// [`WebhookErrorKind::InvalidSignature`] when it does not match.
pub fn verify_signature(
    secret: impl AsRef<[u8]>,
    raw_body: &[u8],
    header: &str,
) -> Result<(), WebhookError> {
    let secret = secret.as_ref();
    if secret.is_empty() {
        return Err(WebhookError::new(WebhookErrorKind::SecretNotConfigured));
    }
    let header = header.trim_matches(|c: char| c.is_ascii_whitespace());
    if header == NO_SECRET_PROVIDED {
        return Err(WebhookError::new(WebhookErrorKind::NoSecretProvided));
    }
    let mut given = [0u8; 32];
    let lowercase_hex = header.len() == 64
        && header
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !lowercase_hex || hex::decode_to_slice(header, &mut given).is_err() {
        return Err(WebhookError::new(WebhookErrorKind::MalformedSignature));
    }
    let expected = mac(secret, raw_body);
    if bool::from(expected.ct_eq(&given)) {
        Ok(())
    } else {
        Err(WebhookError::new(WebhookErrorKind::InvalidSignature))
    }
}

/// The Cal.com headers of one delivery.
///
/// ```
/// use reqwest::header::{HeaderMap, HeaderValue};
/// use voxcal_calcom_client::webhook::WebhookHeaders;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("X-Cal-Webhook-Version", HeaderValue::from_static("2021-10-20"));
/// let cal = WebhookHeaders::from_headers(&headers);
/// assert_eq!(cal.version.as_deref(), Some("2021-10-20"));
/// assert!(cal.signature.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookHeaders {
    /// [`SIGNATURE_HEADER`], if present (bytes that are not UTF-8 are replaced, so
    /// such a value is present and fails verification).
    pub signature: Option<String>,
    /// [`VERSION_HEADER`], if present.
    pub version: Option<String>,
}

impl WebhookHeaders {
    /// Headers with these values (for a delivery whose headers are not an
    /// `http::HeaderMap`, and for tests).
    pub fn new(signature: Option<String>, version: Option<String>) -> Self {
        Self { signature, version }
    }

    /// Reads both headers (the first value of each) from a request's headers; the
    /// type is `http::HeaderMap`, as axum and hyper hand it out.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let read = |name: &str| {
            headers
                .get(name)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        };
        Self {
            signature: read(SIGNATURE_HEADER),
            version: read(VERSION_HEADER),
        }
    }

    /// [`verify_signature`] with the signature header.
    ///
    /// # Errors
    /// [`WebhookErrorKind::MissingSignature`] without one; otherwise as
    /// [`verify_signature`].
    pub fn verify(&self, secret: impl AsRef<[u8]>, raw_body: &[u8]) -> Result<(), WebhookError> {
        match &self.signature {
            Some(signature) => verify_signature(secret, raw_body, signature),
            None => Err(WebhookError::new(WebhookErrorKind::MissingSignature)),
        }
    }
}

/// Verifies a delivery's signature, then decodes its body.
///
/// # Errors
/// As [`WebhookHeaders::verify`], then as [`WebhookEvent::from_slice`].
pub fn verify_and_decode(
    secret: impl AsRef<[u8]>,
    headers: &WebhookHeaders,
    raw_body: &[u8],
) -> Result<WebhookEvent, WebhookError> {
    headers.verify(secret, raw_body)?;
    WebhookEvent::from_slice(raw_body)
}

/// What happened (`triggerEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TriggerEvent {
    /// `BOOKING_CREATED`.
    BookingCreated,
    /// `BOOKING_RESCHEDULED` (the payload is the new booking; `reschedule_uid` the old one).
    BookingRescheduled,
    /// `BOOKING_CANCELLED`.
    BookingCancelled,
    /// `BOOKING_REQUESTED`: waits for the organizer's confirmation.
    BookingRequested,
    /// `BOOKING_REJECTED`: the organizer declined a requested booking.
    BookingRejected,
    /// `BOOKING_PAYMENT_INITIATED`.
    BookingPaymentInitiated,
    /// `BOOKING_PAID`.
    BookingPaid,
    /// Any other trigger (`MEETING_ENDED`, `FORM_SUBMITTED`, a future one), as sent.
    Other(String),
}

impl TriggerEvent {
    /// The trigger for Cal.com's name.
    pub fn from_wire(name: &str) -> Self {
        match name {
            "BOOKING_CREATED" => Self::BookingCreated,
            "BOOKING_RESCHEDULED" => Self::BookingRescheduled,
            "BOOKING_CANCELLED" => Self::BookingCancelled,
            "BOOKING_REQUESTED" => Self::BookingRequested,
            "BOOKING_REJECTED" => Self::BookingRejected,
            "BOOKING_PAYMENT_INITIATED" => Self::BookingPaymentInitiated,
            "BOOKING_PAID" => Self::BookingPaid,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Cal.com's name (`BOOKING_CREATED`, …).
    pub fn as_str(&self) -> &str {
        match self {
            Self::BookingCreated => "BOOKING_CREATED",
            Self::BookingRescheduled => "BOOKING_RESCHEDULED",
            Self::BookingCancelled => "BOOKING_CANCELLED",
            Self::BookingRequested => "BOOKING_REQUESTED",
            Self::BookingRejected => "BOOKING_REJECTED",
            Self::BookingPaymentInitiated => "BOOKING_PAYMENT_INITIATED",
            Self::BookingPaid => "BOOKING_PAID",
            Self::Other(name) => name,
        }
    }

    /// True for the triggers whose payload is a booking ([`BookingPayload`]).
    pub fn is_booking(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

impl fmt::Display for TriggerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One webhook delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// `triggerEvent`.
    pub trigger_event: TriggerEvent,
    /// `createdAt`: when Cal.com produced the event.
    pub created_at: DateTime<Utc>,
    /// `payload`: a booking for the booking triggers, as sent for the others.
    pub payload: WebhookPayload,
}

/// A [`WebhookEvent`]'s payload.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookPayload {
    /// The booking of a booking trigger.
    Booking(Box<BookingPayload>),
    /// The payload of any other trigger, as sent. `Debug` shows only its keys.
    Other(serde_json::Value),
}

impl fmt::Debug for WebhookPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Booking(booking) => f.debug_tuple("Booking").field(booking).finish(),
            Self::Other(value) => {
                let keys: Vec<&str> = value
                    .as_object()
                    .map(|map| map.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                f.debug_struct("Other").field("keys", &keys).finish()
            }
        }
    }
}

impl WebhookEvent {
    /// Decodes a delivery body (verify it first: [`verify_signature`]).
    ///
    /// Strict about `triggerEvent`, `createdAt` (an RFC 3339 instant), and for the
    /// booking triggers the booking's `uid`, `startTime` and `endTime` (instants)
    /// and ids (whole numbers); tolerant about everything else: unknown fields
    /// are ignored, `null` counts as missing, lengths may be strings, an unknown
    /// trigger keeps its name and payload.
    ///
    /// # Errors
    /// [`WebhookErrorKind::Decode`] when the body does not have that shape.
    pub fn from_slice(raw_body: &[u8]) -> Result<Self, WebhookError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            trigger_event: String,
            created_at: DateTime<Utc>,
            #[serde(default)]
            payload: serde_json::Value,
        }
        let wire: Wire = serde_json::from_slice(raw_body).map_err(WebhookError::decode)?;
        let trigger_event = TriggerEvent::from_wire(&wire.trigger_event);
        let payload = if trigger_event.is_booking() {
            let booking: BookingPayload =
                serde_json::from_value(wire.payload).map_err(WebhookError::decode)?;
            WebhookPayload::Booking(Box::new(booking))
        } else {
            WebhookPayload::Other(wire.payload)
        };
        Ok(Self {
            trigger_event,
            created_at: wire.created_at,
            payload,
        })
    }

    /// The booking, for the booking triggers.
    pub fn booking(&self) -> Option<&BookingPayload> {
        match &self.payload {
            WebhookPayload::Booking(booking) => Some(booking),
            WebhookPayload::Other(_) => None,
        }
    }
}

/// The booking in a booking trigger's payload. `Debug` redacts title, location,
/// reasons and metadata (they may carry personal data).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BookingPayload {
    /// The booking's uid (for `BOOKING_RESCHEDULED`, the new booking's).
    pub uid: String,
    /// The booking's numeric id.
    #[serde(default)]
    pub booking_id: Option<u64>,
    /// The event type id (`null` for some dynamic bookings).
    #[serde(default)]
    pub event_type_id: Option<u64>,
    /// Start (`startTime`).
    #[serde(rename = "startTime")]
    pub start: DateTime<Utc>,
    /// End (`endTime`).
    #[serde(rename = "endTime")]
    pub end: DateTime<Utc>,
    /// Attendees.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub attendees: Vec<WebhookPerson>,
    /// The organizer.
    #[serde(default)]
    pub organizer: Option<WebhookPerson>,
    /// State (`ACCEPTED`, `PENDING`, …; unknown values are [`BookingStatus::Unknown`]).
    #[serde(default)]
    pub status: Option<BookingStatus>,
    /// Title.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub title: Option<String>,
    /// Length in minutes.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub length: Option<u32>,
    /// Location (URL, address or phone).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub location: Option<String>,
    /// Why it was cancelled (`BOOKING_CANCELLED`).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub cancellation_reason: Option<String>,
    /// Why it was rejected (`BOOKING_REJECTED`).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub rejection_reason: Option<String>,
    /// For `BOOKING_RESCHEDULED`: the uid of the booking this one replaced.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub reschedule_uid: Option<String>,
    /// Metadata.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for BookingPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookingPayload")
            .field("uid", &self.uid)
            .field("booking_id", &self.booking_id)
            .field("event_type_id", &self.event_type_id)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("status", &self.status)
            .field("attendees", &self.attendees)
            .field("organizer", &self.organizer)
            .field("reschedule_uid", &self.reschedule_uid)
            .finish_non_exhaustive()
    }
}

/// An attendee or the organizer of a webhook booking. `Debug` redacts name,
/// e-mail and phone number.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookPerson {
    /// User id (organizers only).
    #[serde(default)]
    pub id: Option<u64>,
    /// Name.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub name: String,
    /// E-mail.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub email: String,
    /// IANA time zone.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub time_zone: Option<String>,
    /// Language code: Cal.com sends `{"locale": "de"}`; a plain `"de"` is read too.
    #[serde(default, deserialize_with = "locale")]
    pub language: Option<String>,
    /// Phone number.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub phone_number: Option<String>,
}

impl fmt::Debug for WebhookPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookPerson")
            .field("id", &self.id)
            .field("name", &Redacted)
            .field("email", &Redacted)
            .field("time_zone", &self.time_zone)
            .field("language", &self.language)
            .field("phone_number", &redacted_opt(&self.phone_number))
            .finish()
    }
}

fn locale<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(code) => Some(code),
        serde_json::Value::Object(map) => map
            .get("locale")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        _ => None,
    })
}

/// What kind of failure a [`WebhookError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookErrorKind {
    /// The request had no [`SIGNATURE_HEADER`].
    MissingSignature,
    /// The signature is not 64 lowercase hex digits.
    MalformedSignature,
    /// The signature does not match the body under the secret.
    InvalidSignature,
    /// Cal.com signed with no secret ([`NO_SECRET_PROVIDED`]) while we have one.
    NoSecretProvided,
    /// Our secret is empty: nothing can be verified.
    SecretNotConfigured,
    /// The body is not a webhook event of the documented shape.
    Decode,
}

impl WebhookErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing X-Cal-Signature-256 header",
            Self::MalformedSignature => "X-Cal-Signature-256 is not 64 lowercase hex digits",
            Self::InvalidSignature => "X-Cal-Signature-256 does not match the body",
            Self::NoSecretProvided => "Cal.com sent no-secret-provided, but a secret is configured",
            Self::SecretNotConfigured => "no webhook secret is configured",
            Self::Decode => "body is not a Cal.com webhook event",
        }
    }
}

impl fmt::Display for WebhookErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// An error of the webhook check or decoding. `Display` never repeats body content
/// (for a decoding error it names the position and the category only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookError {
    kind: WebhookErrorKind,
    /// Line, column and category of a decoding error.
    at: Option<(usize, usize, &'static str)>,
}

impl WebhookError {
    fn new(kind: WebhookErrorKind) -> Self {
        Self { kind, at: None }
    }

    fn decode(err: serde_json::Error) -> Self {
        let category = match err.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        Self {
            kind: WebhookErrorKind::Decode,
            at: Some((err.line(), err.column(), category)),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> WebhookErrorKind {
        self.kind
    }

    /// The status a receiver should answer with: 401 for signature failures, 400
    /// for a body that does not decode, 500 when no secret is configured.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            WebhookErrorKind::SecretNotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
            WebhookErrorKind::Decode => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cal.com webhook rejected: {}", self.kind)?;
        if let Some((line, column, category)) = self.at {
            write!(f, " ({category} error at line {line}, column {column})")?;
        }
        Ok(())
    }
}

impl std::error::Error for WebhookError {}

/// A sentence for whoever operates the receiver; webhook failures never reach a
/// caller on the phone, but every error of the family speaks.
impl UserMessage for WebhookError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        let signature = matches!(
            self.kind,
            WebhookErrorKind::MissingSignature
                | WebhookErrorKind::MalformedSignature
                | WebhookErrorKind::InvalidSignature
                | WebhookErrorKind::NoSecretProvided
        );
        Cow::Borrowed(match (lang, self.kind) {
            (Lang::En, WebhookErrorKind::SecretNotConfigured) => {
                "Booking system: notifications are not set up. Please contact support."
            }
            (Lang::En, WebhookErrorKind::Decode) => {
                "Booking system: a notification could not be read."
            }
            (Lang::En, _) if signature => {
                "Booking system: a notification could not be verified and was ignored."
            }
            (_, WebhookErrorKind::SecretNotConfigured) => {
                "Terminbuchungssystem: Benachrichtigungen sind nicht eingerichtet. Bitte kontaktieren Sie den Support."
            }
            (_, WebhookErrorKind::Decode) => {
                "Terminbuchungssystem: Eine Benachrichtigung konnte nicht gelesen werden."
            }
            _ => {
                "Terminbuchungssystem: Eine Benachrichtigung konnte nicht bestätigt werden und wurde ignoriert."
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"whsec_test";

    #[test]
    fn known_vector() {
        // HMAC-SHA256 of "The quick brown fox jumps over the lazy dog" under "key".
        assert_eq!(
            sign("key", b"The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let body = b"{}";
        verify_signature(SECRET, body, &sign(SECRET, body)).unwrap();
        verify_signature(SECRET, body, &format!("  {}\t", sign(SECRET, body))).unwrap();
    }

    #[test]
    fn each_rejection_has_its_kind() {
        let body = b"{}";
        let good = sign(SECRET, body);
        let kind = |secret: &[u8], header: &str| {
            verify_signature(secret, body, header).unwrap_err().kind()
        };
        assert_eq!(kind(b"", &good), WebhookErrorKind::SecretNotConfigured);
        assert_eq!(
            kind(b"", NO_SECRET_PROVIDED),
            WebhookErrorKind::SecretNotConfigured
        );
        assert_eq!(
            kind(SECRET, NO_SECRET_PROVIDED),
            WebhookErrorKind::NoSecretProvided
        );
        assert_eq!(
            kind(SECRET, &good.to_uppercase()),
            WebhookErrorKind::MalformedSignature
        );
        assert_eq!(
            kind(SECRET, &format!("sha256={good}")),
            WebhookErrorKind::MalformedSignature
        );
        assert_eq!(
            kind(SECRET, &good[..63]),
            WebhookErrorKind::MalformedSignature
        );
        assert_eq!(kind(SECRET, ""), WebhookErrorKind::MalformedSignature);
        assert_eq!(kind(b"other", &good), WebhookErrorKind::InvalidSignature);
        assert_eq!(
            WebhookHeaders::default()
                .verify(SECRET, body)
                .unwrap_err()
                .kind(),
            WebhookErrorKind::MissingSignature
        );
        // "no-secret-provided" never verifies, whatever the secret (even one whose
        // HMAC someone might try to line up with it: it is not hex).
        for secret in [&b"x"[..], b"no-secret-provided", SECRET] {
            assert!(verify_signature(secret, body, NO_SECRET_PROVIDED).is_err());
        }
    }

    #[test]
    fn errors_speak_german_and_map_to_statuses() {
        for (kind, status) in [
            (WebhookErrorKind::MissingSignature, 401),
            (WebhookErrorKind::MalformedSignature, 401),
            (WebhookErrorKind::InvalidSignature, 401),
            (WebhookErrorKind::NoSecretProvided, 401),
            (WebhookErrorKind::SecretNotConfigured, 500),
            (WebhookErrorKind::Decode, 400),
        ] {
            let err = WebhookError::new(kind);
            assert_eq!(err.status().as_u16(), status);
            assert!(err
                .user_message(Lang::De)
                .starts_with("Terminbuchungssystem:"));
            assert!(err.user_message(Lang::En).starts_with("Booking system:"));
        }
    }

    #[test]
    fn decode_errors_do_not_repeat_the_body() {
        let body = br#"{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-12-01T08:00:00Z","payload":{"uid":"u","startTime":"max@example.com","endTime":"x"}}"#;
        let err = WebhookEvent::from_slice(body).unwrap_err();
        assert_eq!(err.kind(), WebhookErrorKind::Decode);
        assert!(!err.to_string().contains("max@"), "{err}");
    }

    #[test]
    fn headers_are_read_case_insensitively_and_lossily() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "X-Cal-Signature-256",
            reqwest::header::HeaderValue::from_static("ab"),
        );
        headers.insert(
            "x-cal-webhook-version",
            reqwest::header::HeaderValue::from_bytes(b"2021-10-20\xff").unwrap(),
        );
        let read = WebhookHeaders::from_headers(&headers);
        assert_eq!(read.signature.as_deref(), Some("ab"));
        assert_eq!(read.version.as_deref(), Some("2021-10-20\u{fffd}"));
        assert_eq!(
            WebhookHeaders::from_headers(&HeaderMap::new()),
            WebhookHeaders::default()
        );
    }

    proptest! {
        /// Random bodies never panic the decoder, and whatever it accepts is a
        /// booking exactly for the booking triggers.
        #[test]
        fn random_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(event) = WebhookEvent::from_slice(&body) {
                prop_assert_eq!(event.booking().is_some(), event.trigger_event.is_booking());
                let _ = format!("{event:?}");
            }
            let _ = verify_signature(SECRET, &body, &String::from_utf8_lossy(&body));
        }

        /// Random header values never panic and never verify a body they were
        /// not made for.
        #[test]
        fn random_headers_never_verify(header in ".{0,80}", hexish in "[0-9a-f]{64}", body in ".{0,64}") {
            prop_assume!(hexish != sign(SECRET, body.as_bytes()));
            prop_assert!(verify_signature(SECRET, body.as_bytes(), &header).is_err()
                || header.trim() == sign(SECRET, body.as_bytes()));
            prop_assert!(verify_signature(SECRET, body.as_bytes(), &hexish).is_err());
            let mut headers = HeaderMap::new();
            if let Ok(value) = reqwest::header::HeaderValue::from_str(&header) {
                headers.insert(SIGNATURE_HEADER, value.clone());
                headers.insert(VERSION_HEADER, value);
            }
            let _ = WebhookHeaders::from_headers(&headers).verify(SECRET, body.as_bytes());
        }

        /// Flipping any bit of any byte of the body or of the signature makes
        /// verification fail.
        #[test]
        fn a_flipped_byte_never_verifies(
            body in proptest::collection::vec(any::<u8>(), 1..256),
            secret in proptest::collection::vec(any::<u8>(), 1..64),
            index in any::<prop::sample::Index>(),
            bit in 0u8..8,
            in_signature in any::<bool>(),
        ) {
            let signature = sign(&secret, &body);
            prop_assert!(verify_signature(&secret, &body, &signature).is_ok());
            if in_signature {
                let mut bytes = signature.into_bytes();
                let at = index.index(bytes.len());
                bytes[at] ^= 1 << bit;
                let tampered = String::from_utf8_lossy(&bytes).into_owned();
                prop_assert!(verify_signature(&secret, &body, &tampered).is_err());
            } else {
                let mut tampered = body.clone();
                let at = index.index(tampered.len());
                tampered[at] ^= 1 << bit;
                prop_assert!(verify_signature(&secret, &tampered, &signature).is_err());
            }
        }
    }
}
