//! What a refused request gets back, and the `RateLimit` header fields.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Response, StatusCode};
use voxcal_core::{Lang, UserMessage};

use crate::decision::Decision;
use crate::store::StoreError;

/// The `RateLimit-Policy` field name (draft-ietf-httpapi-ratelimit-headers).
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// The `RateLimit` field name (draft-ietf-httpapi-ratelimit-headers).
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Why the layer answered instead of the inner service.
///
/// Its [`UserMessage`] is the sentence [`JsonRejection`] puts in its
/// `message` field (German by default):
///
/// ```
/// use voxcal_call_rate_limiter::{Lang, Rejection, UserMessage};
///
/// let too_large = Rejection::PayloadTooLarge { limit: 1024 };
/// assert_eq!(too_large.user_message(Lang::De), "Die Anfrage ist zu groß.");
/// assert_eq!(too_large.user_message(Lang::En), "The request is too large.");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Rejection<'a> {
    /// A limit or the cooldown refused the request (429).
    RateLimited(&'a Decision),
    /// No usable call id and the layer is set to reject such requests (400).
    MissingCallId,
    /// The body is larger than the layer buffers (413).
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read (400).
    BodyUnreadable,
    /// The store could not decide and the outage policy fails closed (503).
    Unavailable(&'a StoreError),
}

impl Rejection<'_> {
    /// The owned kind of this rejection.
    pub fn kind(&self) -> RejectionKind {
        match self {
            Rejection::RateLimited(_) => RejectionKind::RateLimited,
            Rejection::MissingCallId => RejectionKind::MissingCallId,
            Rejection::PayloadTooLarge { .. } => RejectionKind::PayloadTooLarge,
            Rejection::BodyUnreadable => RejectionKind::BodyUnreadable,
            Rejection::Unavailable(_) => RejectionKind::Unavailable,
        }
    }
}

impl UserMessage for Rejection<'_> {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        let en = matches!(lang, Lang::En);
        match self {
            Rejection::RateLimited(decision) => {
                rate_limited_message(lang, decision.retry_after).into()
            }
            Rejection::MissingCallId if en => {
                "The request carries no valid call id (call.call_id).".into()
            }
            Rejection::MissingCallId => {
                "Die Anfrage enthält keine gültige Anruf-ID (call.call_id).".into()
            }
            Rejection::PayloadTooLarge { .. } if en => "The request is too large.".into(),
            Rejection::PayloadTooLarge { .. } => "Die Anfrage ist zu groß.".into(),
            Rejection::BodyUnreadable if en => "The request body could not be read.".into(),
            Rejection::BodyUnreadable => "Die Anfrage konnte nicht gelesen werden.".into(),
            Rejection::Unavailable(error) => error.user_message(lang),
        }
    }
}

/// The kind of a [`Rejection`]; the layer puts it in the response's
/// extensions so the application can log why it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// See [`Rejection::RateLimited`].
    RateLimited,
    /// See [`Rejection::MissingCallId`].
    MissingCallId,
    /// See [`Rejection::PayloadTooLarge`].
    PayloadTooLarge,
    /// See [`Rejection::BodyUnreadable`].
    BodyUnreadable,
    /// See [`Rejection::Unavailable`].
    Unavailable,
}

/// Builds the response for a [`Rejection`].
///
/// Implemented by [`JsonRejection`] (the default) and by any
/// `Fn(Rejection<'_>) -> http::Response<B>` closure. The layer adds the
/// `RateLimit` fields and `Retry-After` to whatever this returns.
pub trait OnRejection<B>: Clone + Send + Sync + 'static {
    /// The response for `rejection`.
    fn response(&self, rejection: Rejection<'_>) -> Response<B>;
}

impl<B, F> OnRejection<B> for F
where
    F: Fn(Rejection<'_>) -> Response<B> + Clone + Send + Sync + 'static,
{
    fn response(&self, rejection: Rejection<'_>) -> Response<B> {
        self(rejection)
    }
}

/// JSON bodies in the Retell function-response shape, with a sentence the
/// agent can say (German by default).
///
/// A 429 looks like
/// `{"success":false,"status":"rate_limited","error_code":"call_rate_limit_exceeded",
/// "limits_exceeded":["per_function (10/10)"],"message":"…"}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonRejection {
    lang: Lang,
}

impl JsonRejection {
    /// Messages in `lang`.
    pub fn new(lang: Lang) -> Self {
        JsonRejection { lang }
    }
}

impl<B: From<Bytes>> OnRejection<B> for JsonRejection {
    fn response(&self, rejection: Rejection<'_>) -> Response<B> {
        let message = rejection.user_message(self.lang);
        let (status, body) = match &rejection {
            Rejection::RateLimited(decision) => (
                StatusCode::TOO_MANY_REQUESTS,
                serde_json::json!({
                    "success": false,
                    "status": "rate_limited",
                    "error_code": "call_rate_limit_exceeded",
                    "limits_exceeded": decision.limits_exceeded(),
                    "message": message,
                }),
            ),
            Rejection::MissingCallId => (
                StatusCode::BAD_REQUEST,
                error_json("bad_request", "missing_call_id", &message),
            ),
            Rejection::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                error_json("payload_too_large", "payload_too_large", &message),
            ),
            Rejection::BodyUnreadable => (
                StatusCode::BAD_REQUEST,
                error_json("bad_request", "body_unreadable", &message),
            ),
            Rejection::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                error_json("unavailable", "rate_limiter_unavailable", &message),
            ),
        };
        let mut response = Response::new(B::from(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

fn error_json(status: &str, code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "success": false,
        "status": status,
        "error_code": code,
        "message": message,
    })
}

/// The sentence for a rate-limited request, naming roughly when to retry.
pub(crate) fn rate_limited_message(lang: Lang, retry_after: Option<Duration>) -> String {
    let secs = retry_after.map_or(60, |d| seconds_ceil(d).max(1));
    match lang {
        Lang::En => {
            let wait = if secs < 90 {
                format!("about {secs} seconds")
            } else {
                format!("about {} minutes", secs.div_ceil(60))
            };
            format!("I have made too many requests at once. Please bear with me for {wait}, then I will try again.")
        }
        _ => {
            let wait = if secs < 90 {
                format!("etwa {secs} Sekunden")
            } else {
                format!("etwa {} Minuten", secs.div_ceil(60))
            };
            format!(
                "Ich habe gerade zu viele Anfragen auf einmal gestellt. Bitte haben Sie {wait} Geduld, dann versuche ich es noch einmal."
            )
        }
    }
}

pub(crate) fn seconds_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Appends the decimal digits of `n`.
fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // A single decimal digit: the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (n % 10) as u8;
        digits[at] = b'0' + digit;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// Writes `RateLimit-Policy` and `RateLimit` for every limit of the
/// decision, and `Retry-After` when it was refused.
///
/// Both lists are written into one buffer each and handed to the header
/// without another copy (this runs on every response).
pub(crate) fn write_headers(decision: &Decision, headers: &mut HeaderMap) {
    if !decision.limits.is_empty() {
        let capacity = decision.limits.len() * 40;
        let mut policy = String::with_capacity(capacity);
        let mut current = String::with_capacity(capacity);
        for (i, l) in decision.limits.iter().enumerate() {
            if i > 0 {
                policy.push_str(", ");
                current.push_str(", ");
            }
            policy.push('"');
            policy.push_str(l.name.as_str());
            policy.push_str("\";q=");
            push_u64(&mut policy, u64::from(l.quota));
            if let Some(w) = l.window {
                policy.push_str(";w=");
                push_u64(&mut policy, seconds_ceil(w));
            }
            current.push('"');
            current.push_str(l.name.as_str());
            current.push_str("\";r=");
            push_u64(&mut current, u64::from(l.remaining));
            current.push_str(";t=");
            push_u64(&mut current, seconds_ceil(l.reset));
        }
        if let Ok(v) = HeaderValue::try_from(policy) {
            headers.insert(RATELIMIT_POLICY, v);
        }
        if let Ok(v) = HeaderValue::try_from(current) {
            headers.insert(RATELIMIT, v);
        }
    }
    if let Some(retry) = decision.retry_after.filter(|_| !decision.admitted) {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds_ceil(retry).max(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        for n in [0, 7, 10, 99, 100, 4_294_967_295, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
