//! Retry policy: exponential back-off with jitter, `Retry-After` and
//! `X-RateLimit-Reset-Default`.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How often and how patiently the client retries.
///
/// Only requests that are safe to repeat are retried: `GET` and `DELETE` on 5xx, 429
/// and connection errors; any request on connection errors (nothing was sent).
/// Booking creation has its own path, see
/// [`CalcomClient::create_booking`](crate::CalcomClient::create_booking).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Back-off before the first retry; doubles each retry.
    pub base_delay: Duration,
    /// Upper bound of one back-off step.
    pub max_delay: Duration,
    /// Randomise each back-off step within `[delay / 2, delay]`.
    pub jitter: bool,
    /// The longest `Retry-After` the client waits for; a longer one is returned to
    /// the caller as [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited).
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            jitter: true,
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryConfig {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The un-jittered back-off before retry number `retry` (0-based).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(16));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// A small SplitMix64 generator for jitter, seeded from [`voxcal_core::random_u64`].
#[derive(Debug)]
pub(crate) struct Jitter {
    state: Mutex<u64>,
}

impl Jitter {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(voxcal_core::random_u64()),
        }
    }

    fn next(&self) -> u64 {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A duration uniformly within `[delay / 2, delay]`.
    pub(crate) fn apply(&self, delay: Duration) -> Duration {
        let half = delay / 2;
        let span = u64::try_from((delay - half).as_nanos()).unwrap_or(u64::MAX);
        if span == 0 {
            return delay;
        }
        half + Duration::from_nanos(self.next() % (span + 1))
    }
}

/// How long Cal.com asks us to wait: `Retry-After` (seconds or HTTP date), else
/// Cal.com's `X-RateLimit-Reset-Default` / `X-RateLimit-Reset` (seconds until the
/// window resets).
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    if let Some(value) = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()) {
        if let Some(wait) = parse_retry_after(value, now) {
            return Some(wait);
        }
    }
    ["x-ratelimit-reset-default", "x-ratelimit-reset"]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .find_map(parse_seconds)
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date (RFC 9110).
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Some(wait) = parse_seconds(value) {
        return Some(wait);
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

fn parse_seconds(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let seconds: f64 = value.parse().ok()?;
    if !seconds.is_finite() || seconds > 86_400.0 * 365.0 {
        return None;
    }
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderValue;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn retry_after_forms() {
        let cases: &[(&str, Option<Duration>)] = &[
            ("7", Some(Duration::from_secs(7))),
            (" 0 ", Some(Duration::ZERO)),
            ("1.5", Some(Duration::from_millis(1500))),
            (
                "Tue, 01 Dec 2026 10:00:30 GMT",
                Some(Duration::from_secs(30)),
            ),
            ("Tue, 01 Dec 2026 09:00:00 GMT", Some(Duration::ZERO)),
            ("-3", None),
            ("soon", None),
            ("", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now()), *expected, "{value:?}");
        }
    }

    #[test]
    fn rate_limit_reset_header_is_the_fallback() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset-default", HeaderValue::from_static("12"));
        assert_eq!(retry_after(&headers, now()), Some(Duration::from_secs(12)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers, now()), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&HeaderMap::new(), now()), None);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let policy = RetryConfig {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            ..RetryConfig::default()
        };
        let steps: Vec<u128> = (0..5).map(|n| policy.backoff(n).as_millis()).collect();
        assert_eq!(steps, [100, 200, 400, 500, 500]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(500));
    }

    proptest! {
        #[test]
        fn jitter_stays_within_half_and_full(ms in 0u64..100_000) {
            let jitter = Jitter::new();
            let delay = Duration::from_millis(ms);
            let jittered = jitter.apply(delay);
            prop_assert!(jittered <= delay);
            prop_assert!(jittered >= delay / 2);
        }

        #[test]
        fn integer_seconds_round_trip(secs in 0u64..10_000_000) {
            prop_assert_eq!(parse_retry_after(&secs.to_string(), now()), Some(Duration::from_secs(secs)));
        }

        #[test]
        fn arbitrary_header_text_never_panics(text in "\\PC{0,40}") {
            let _ = parse_retry_after(&text, now());
        }
    }
}
