//! [`CalcomError`]: what went wrong, in terms a caller (and a voice agent) can act on.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use voxcal_core::{Lang, UserMessage};

/// What kind of failure a [`CalcomError`] is.
///
/// The kind decides the sentence of [`CalcomError`]'s
/// [`user_message`](UserMessage::user_message) and whether the client retried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401: the API key or OAuth client credentials were rejected.
    Unauthorized,
    /// 403: the credentials are valid but may not do this.
    Forbidden,
    /// 404: the booking, reservation or event type does not exist.
    NotFound,
    /// 409: the request conflicts with the current state.
    Conflict,
    /// The requested slot is no longer free (Cal.com reports it as a 400 or 409).
    SlotTaken,
    /// 400/422: Cal.com rejected the request's fields; see [`CalcomError::field_errors`].
    Validation,
    /// 429 from Cal.com, or the client-side quota is used up
    /// ([`CalcomError::is_client_side`]).
    RateLimited {
        /// When trying again makes sense, if known.
        retry_after: Option<Duration>,
    },
    /// 498: the platform access token expired.
    TokenExpired,
    /// 5xx: Cal.com failed.
    Server,
    /// No complete response within the operation's timeout.
    Timeout,
    /// The connection failed (DNS, refused, reset, TLS).
    Network,
    /// The circuit breaker is open: Cal.com was failing, the call was not sent.
    CircuitOpen {
        /// When the breaker lets a trial call through.
        retry_after: Option<Duration>,
    },
    /// A success response did not have the documented shape.
    Decode,
    /// The request was rejected before sending (for example `metadata` limits).
    InvalidRequest,
    /// Any other HTTP status.
    UnexpectedStatus,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not found",
            Self::Conflict => "conflict",
            Self::SlotTaken => "slot taken",
            Self::Validation => "validation failed",
            Self::RateLimited { .. } => "rate limited",
            Self::TokenExpired => "token expired",
            Self::Server => "server error",
            Self::Timeout => "timed out",
            Self::Network => "network error",
            Self::CircuitOpen { .. } => "circuit open",
            Self::Decode => "unexpected response body",
            Self::InvalidRequest => "invalid request",
            Self::UnexpectedStatus => "unexpected status",
        };
        f.write_str(text)
    }
}

/// One rejected field, from Cal.com's validation details or the client's own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field path as Cal.com names it (`attendee.email`, `metadata`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The `error` object of Cal.com's error envelope
/// `{"status": "error", "error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ApiErrorBody {
    /// Cal.com's error code, e.g. `BadRequestException`.
    #[serde(default)]
    pub code: Option<String>,
    /// Cal.com's message (English, may repeat request values: do not log it raw).
    #[serde(default)]
    pub message: Option<String>,
    /// Free-form details (validation messages and the like).
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: Option<ApiErrorBody>,
    message: Option<serde_json::Value>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error from [`CalcomClient`](crate::CalcomClient).
///
/// Carries the [`ErrorKind`], the HTTP status, Cal.com's error code, message and
/// details, and the `X-Request-Id` to quote to Cal.com support. For the caller on the
/// phone use [`user_message`](UserMessage::user_message).
///
/// `Display` never contains Cal.com's free-text message (it may repeat an e-mail
/// address); it is available via [`api_error`](Self::api_error).
#[derive(Debug)]
pub struct CalcomError {
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    status: Option<StatusCode>,
    api: Option<ApiErrorBody>,
    request_id: Option<String>,
    field_errors: Vec<FieldError>,
    client_side: bool,
    connect_failure: bool,
    source: Option<BoxError>,
}

impl fmt::Display for CalcomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

impl std::error::Error for CalcomError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

const SLOT_TAKEN_MARKERS: &[&str] = &[
    "no_available_users_found",
    "already has booking",
    "already booked",
    "already reserved",
    "slot_not_available",
];

impl CalcomError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self::from_inner(Inner {
            kind,
            status: None,
            api: None,
            request_id: None,
            field_errors: Vec::new(),
            client_side: false,
            connect_failure: false,
            source: None,
        })
    }

    fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Box::new(inner),
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.inner.request_id = request_id;
        self
    }

    pub(crate) fn invalid_request(field: &str, message: impl Into<String>) -> Self {
        let mut err = Self::new(ErrorKind::InvalidRequest);
        err.inner.client_side = true;
        err.inner.field_errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
        err
    }

    pub(crate) fn quota_exhausted(retry_after: Duration) -> Self {
        let mut err = Self::new(ErrorKind::RateLimited {
            retry_after: Some(retry_after),
        });
        err.inner.client_side = true;
        err
    }

    pub(crate) fn decode(source: impl Into<BoxError>, status: StatusCode) -> Self {
        let mut err = Self::new(ErrorKind::Decode).with_source(source);
        err.inner.status = Some(status);
        err
    }

    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Network
        };
        let connect_failure = err.is_connect();
        // The URL may carry attendee filters: keep it out of the error.
        let mut out = Self::new(kind).with_source(err.without_url());
        out.inner.connect_failure = connect_failure;
        out
    }

    /// Builds the error for a non-success response.
    pub(crate) fn from_response(
        status: StatusCode,
        request_id: Option<String>,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Self {
        let (api, fallback_message) = match serde_json::from_slice::<ErrorEnvelope>(body) {
            Ok(envelope) => (envelope.error, envelope.message),
            Err(_) => (None, None),
        };
        let api = api.or_else(|| {
            fallback_message.map(|message| ApiErrorBody {
                code: None,
                message: message.as_str().map(str::to_owned),
                details: Some(message),
            })
        });
        let field_errors = api.as_ref().map(field_errors_of).unwrap_or_default();
        let slot_taken = api.as_ref().is_some_and(mentions_slot_taken);
        let kind = match status.as_u16() {
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            400 | 409 | 422 if slot_taken => ErrorKind::SlotTaken,
            409 => ErrorKind::Conflict,
            400 | 422 => ErrorKind::Validation,
            429 => ErrorKind::RateLimited { retry_after },
            498 => ErrorKind::TokenExpired,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::UnexpectedStatus,
        };
        Self::from_inner(Inner {
            kind,
            status: Some(status),
            api,
            request_id,
            field_errors,
            client_side: false,
            connect_failure: false,
            source: None,
        })
    }

    #[cfg_attr(not(feature = "breaker"), allow(dead_code))]
    pub(crate) fn circuit_open(retry_after: Option<Duration>) -> Self {
        let mut err = Self::new(ErrorKind::CircuitOpen { retry_after });
        err.inner.client_side = true;
        err
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The HTTP status Cal.com answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// Cal.com's error object, if the response carried one.
    pub fn api_error(&self) -> Option<&ApiErrorBody> {
        self.inner.api.as_ref()
    }

    /// Cal.com's error code (`error.code`), if any.
    pub fn code(&self) -> Option<&str> {
        self.inner.api.as_ref().and_then(|api| api.code.as_deref())
    }

    /// The `X-Request-Id` of the failed response, for Cal.com support.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The rejected fields, for [`ErrorKind::Validation`] and [`ErrorKind::InvalidRequest`].
    pub fn field_errors(&self) -> &[FieldError] {
        &self.inner.field_errors
    }

    /// True when the client produced this error without a response from Cal.com
    /// (client-side quota, open breaker, request checks).
    pub fn is_client_side(&self) -> bool {
        self.inner.client_side
    }

    /// When trying again makes sense, for rate limits and an open breaker.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.inner.kind {
            ErrorKind::RateLimited { retry_after } | ErrorKind::CircuitOpen { retry_after } => {
                retry_after
            }
            _ => None,
        }
    }

    /// True for failures that say nothing about the request itself: Cal.com was
    /// down, slow, unreachable, or limiting us. A circuit breaker counts these.
    pub fn is_outage(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Network
        )
    }

    /// True when the connection could not be established, so the request never
    /// reached Cal.com and repeating it is safe whatever it does.
    pub fn is_connect_failure(&self) -> bool {
        self.inner.connect_failure
    }

    /// True when Cal.com may or may not have carried out the request: a timeout, a
    /// 5xx, or a connection lost after sending.
    pub fn is_ambiguous_outcome(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Timeout | ErrorKind::Server => true,
            ErrorKind::Network => !self.inner.connect_failure,
            _ => false,
        }
    }

    fn summary(&self) -> String {
        let mut text = format!("Cal.com request failed: {}", self.inner.kind);
        if let Some(status) = self.inner.status {
            text.push_str(&format!(" (HTTP {})", status.as_u16()));
        }
        if let Some(code) = self.code() {
            text.push_str(&format!(", code {code}"));
        }
        if let Some(retry_after) = self.retry_after() {
            text.push_str(&format!(", retry after {}s", retry_after.as_secs_f32()));
        }
        if !self.inner.field_errors.is_empty() {
            let fields: Vec<&str> = self
                .inner
                .field_errors
                .iter()
                .map(|e| e.field.as_str())
                .collect();
            text.push_str(&format!(", fields: {}", fields.join(", ")));
        }
        if let Some(id) = &self.inner.request_id {
            text.push_str(&format!(", request id {id}"));
        }
        text
    }
}

/// A sentence a voice agent can say to the caller, chosen by
/// [`kind`](CalcomError::kind). It never repeats Cal.com's own message.
///
/// ```
/// use voxcal_calcom_client::{CalcomError, Lang, UserMessage};
/// fn speak(err: &CalcomError) -> String {
///     err.user_message(Lang::De).into_owned()
/// }
/// ```
impl UserMessage for CalcomError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        Cow::Borrowed(match lang {
            Lang::En => english(&self.inner.kind),
            _ => german(&self.inner.kind),
        })
    }
}

fn german(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::TokenExpired => {
            "Terminbuchungssystem: Authentifizierungsfehler. Bitte kontaktieren Sie den Support."
        }
        ErrorKind::NotFound => "Terminbuchungssystem: Angeforderte Ressource nicht gefunden.",
        ErrorKind::RateLimited { .. } => {
            "Terminbuchungssystem: Zu viele Anfragen. Bitte versuchen Sie es in wenigen Minuten erneut."
        }
        ErrorKind::Server | ErrorKind::CircuitOpen { .. } => {
            "Terminbuchungssystem ist momentan nicht verfügbar. Bitte versuchen Sie es später erneut."
        }
        ErrorKind::Timeout => {
            "Terminbuchungssystem antwortet nicht rechtzeitig. Bitte versuchen Sie es später erneut."
        }
        ErrorKind::Network => {
            "Terminbuchungssystem ist nicht erreichbar. Bitte versuchen Sie es später erneut."
        }
        ErrorKind::SlotTaken | ErrorKind::Conflict => {
            "Terminbuchungssystem: Der gewünschte Termin ist leider nicht mehr frei. Bitte wählen Sie einen anderen Termin."
        }
        ErrorKind::Validation | ErrorKind::InvalidRequest => {
            "Terminbuchungssystem: Die Angaben sind unvollständig oder ungültig. Bitte prüfen Sie Ihre Eingaben."
        }
        ErrorKind::Decode | ErrorKind::UnexpectedStatus => {
            "Terminbuchungssystem: Unerwarteter Fehler. Bitte versuchen Sie es später erneut."
        }
    }
}

fn english(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::TokenExpired => {
            "Booking system: authentication error. Please contact support."
        }
        ErrorKind::NotFound => "Booking system: the requested item was not found.",
        ErrorKind::RateLimited { .. } => {
            "Booking system: too many requests. Please try again in a few minutes."
        }
        ErrorKind::Server | ErrorKind::CircuitOpen { .. } => {
            "The booking system is currently unavailable. Please try again later."
        }
        ErrorKind::Timeout => {
            "The booking system is not responding in time. Please try again later."
        }
        ErrorKind::Network => "The booking system cannot be reached. Please try again later.",
        ErrorKind::SlotTaken | ErrorKind::Conflict => {
            "Booking system: that time is no longer available. Please choose another time."
        }
        ErrorKind::Validation | ErrorKind::InvalidRequest => {
            "Booking system: some details are missing or invalid. Please check your input."
        }
        ErrorKind::Decode | ErrorKind::UnexpectedStatus => {
            "Booking system: unexpected error. Please try again later."
        }
    }
}

fn mentions_slot_taken(api: &ApiErrorBody) -> bool {
    let mut haystack = api.message.clone().unwrap_or_default();
    if let Some(details) = &api.details {
        haystack.push(' ');
        haystack.push_str(&details.to_string());
    }
    let haystack = haystack.to_ascii_lowercase();
    SLOT_TAKEN_MARKERS
        .iter()
        .any(|marker| haystack.contains(marker))
}

/// Reads field errors out of Cal.com's details: class-validator style messages
/// (`"attendee.email must be an email"`), either as `details.message` (array or string)
/// or `details.errors[].{property|field, message|constraints}`.
fn field_errors_of(api: &ApiErrorBody) -> Vec<FieldError> {
    let Some(details) = &api.details else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push_message = |message: &str| {
        let field = message.split_whitespace().next().unwrap_or_default();
        if !field.is_empty() {
            out.push(FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            });
        }
    };
    match details.get("message") {
        Some(serde_json::Value::Array(messages)) => {
            messages
                .iter()
                .filter_map(serde_json::Value::as_str)
                .for_each(&mut push_message);
        }
        Some(serde_json::Value::String(message))
            if details.get("errors").is_none()
                && (message.contains(" must ") || message.contains(" should ")) =>
        {
            push_message(message);
        }
        _ => {}
    }
    if let Some(serde_json::Value::Array(errors)) = details.get("errors") {
        for entry in errors {
            let field = entry
                .get("property")
                .or_else(|| entry.get("field"))
                .and_then(serde_json::Value::as_str);
            let message = entry
                .get("message")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    entry.get("constraints").and_then(|c| {
                        c.as_object().map(|map| {
                            map.values()
                                .filter_map(serde_json::Value::as_str)
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                    })
                });
            if let Some(field) = field {
                out.push(FieldError {
                    field: field.to_owned(),
                    message: message.unwrap_or_default(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(status: u16, body: &str) -> CalcomError {
        CalcomError::from_response(
            StatusCode::from_u16(status).unwrap(),
            Some("req-1".to_owned()),
            Some(Duration::from_secs(7)),
            body.as_bytes(),
        )
    }

    #[test]
    fn status_table_maps_to_kinds() {
        let plain = r#"{"status":"error","error":{"code":"X","message":"m"}}"#;
        let cases: &[(u16, ErrorKind)] = &[
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Forbidden),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (400, ErrorKind::Validation),
            (422, ErrorKind::Validation),
            (
                429,
                ErrorKind::RateLimited {
                    retry_after: Some(Duration::from_secs(7)),
                },
            ),
            (498, ErrorKind::TokenExpired),
            (500, ErrorKind::Server),
            (503, ErrorKind::Server),
            (410, ErrorKind::UnexpectedStatus),
        ];
        for (status, kind) in cases {
            let err = from(*status, plain);
            assert_eq!(err.kind(), kind, "status {status}");
            assert_eq!(err.status().unwrap().as_u16(), *status);
            assert_eq!(err.code(), Some("X"));
            assert_eq!(err.request_id(), Some("req-1"));
        }
    }

    #[test]
    fn slot_taken_is_recognised_from_the_message() {
        let body = r#"{"status":"error","error":{"code":"BadRequestException","message":"no_available_users_found_error"}}"#;
        assert_eq!(from(400, body).kind(), &ErrorKind::SlotTaken);
        let body = r#"{"status":"error","error":{"code":"ConflictException","message":"User either already has booking at this time or is not available"}}"#;
        assert_eq!(from(409, body).kind(), &ErrorKind::SlotTaken);
    }

    #[test]
    fn validation_details_become_field_errors() {
        let body = r#"{"status":"error","error":{"code":"BadRequestException","message":"Bad Request","details":{"message":["attendee.email must be an email","start must be a valid ISO 8601 date string"],"error":"Bad Request","statusCode":400}}}"#;
        let err = from(400, body);
        assert_eq!(err.kind(), &ErrorKind::Validation);
        let fields: Vec<&str> = err
            .field_errors()
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        assert_eq!(fields, ["attendee.email", "start"]);
        let body = r#"{"status":"error","error":{"code":"X","details":{"errors":[{"property":"timeZone","constraints":{"isTimeZone":"timeZone must be a valid IANA time zone"}}]}}}"#;
        let err = from(422, body);
        assert_eq!(err.field_errors()[0].field, "timeZone");
        assert!(err.field_errors()[0].message.contains("IANA"));
    }

    #[test]
    fn non_json_error_bodies_still_classify() {
        let err = from(502, "<html>Bad gateway</html>");
        assert_eq!(err.kind(), &ErrorKind::Server);
        assert!(err.api_error().is_none());
        assert!(err.is_outage());
    }

    #[test]
    fn german_messages_match_the_issue() {
        let plain = r#"{"status":"error","error":{"code":"X"}}"#;
        assert_eq!(
            from(401, plain).user_message(Lang::De),
            "Terminbuchungssystem: Authentifizierungsfehler. Bitte kontaktieren Sie den Support."
        );
        assert_eq!(
            from(403, plain).user_message(Lang::De),
            from(401, plain).user_message(Lang::De)
        );
        assert_eq!(
            from(404, plain).user_message(Lang::De),
            "Terminbuchungssystem: Angeforderte Ressource nicht gefunden."
        );
        assert_eq!(
            from(429, plain).user_message(Lang::De),
            "Terminbuchungssystem: Zu viele Anfragen. Bitte versuchen Sie es in wenigen Minuten erneut."
        );
        let unavailable =
            "Terminbuchungssystem ist momentan nicht verfügbar. Bitte versuchen Sie es später erneut.";
        assert_eq!(from(500, plain).user_message(Lang::De), unavailable);
        assert_eq!(
            CalcomError::circuit_open(None).user_message(Lang::De),
            unavailable
        );
        assert!(CalcomError::new(ErrorKind::Network)
            .user_message(Lang::De)
            .starts_with("Terminbuchungssystem ist nicht erreichbar."));
        // Rate limiting must never tell the caller to check their connection.
        assert!(!from(429, plain).user_message(Lang::De).contains("Internet"));
        assert_eq!(
            from(429, plain).user_message(Lang::En),
            "Booking system: too many requests. Please try again in a few minutes."
        );
    }

    #[test]
    fn display_leaves_out_the_free_text_message() {
        let body = r#"{"status":"error","error":{"code":"BadRequestException","message":"max@example.com is invalid"}}"#;
        let text = from(400, body).to_string();
        assert!(text.contains("HTTP 400"));
        assert!(text.contains("BadRequestException"));
        assert!(text.contains("req-1"));
        assert!(!text.contains("max@example.com"));
    }
}
