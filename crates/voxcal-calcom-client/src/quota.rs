//! Client-side quota: a token bucket per credential, so a busy tenant backs off
//! before Cal.com locks its key.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A request quota: at most `requests` per `period`, refilled continuously.
///
/// Cal.com allows 120 requests per minute per API key;
/// [`Quota::calcom_default`] stays a little below that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    requests: u32,
    period: Duration,
}

impl Quota {
    /// `requests` per `period`. Zero requests or a zero period is raised to 1 / 1 ns.
    pub fn new(requests: u32, period: Duration) -> Self {
        Self {
            requests: requests.max(1),
            period: period.max(Duration::from_nanos(1)),
        }
    }

    /// `requests` per minute.
    pub fn per_minute(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(60))
    }

    /// 110 requests per minute: headroom under Cal.com's 120.
    pub fn calcom_default() -> Self {
        Self::per_minute(110)
    }

    /// Requests allowed per period.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// The bucket state of one credential.
#[derive(Debug)]
pub(crate) struct QuotaState {
    quota: Quota,
    bucket: Mutex<Option<(f64, Instant)>>,
}

impl QuotaState {
    pub(crate) fn new(quota: Quota) -> Self {
        Self {
            quota,
            bucket: Mutex::new(None),
        }
    }

    pub(crate) fn quota(&self) -> Quota {
        self.quota
    }

    /// Takes one token, or says how long until one is available.
    pub(crate) fn try_acquire(&self, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.quota.requests);
        let per_token = self.quota.period.as_secs_f64() / capacity;
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, last) = bucket.unwrap_or((capacity, now));
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let tokens = (tokens + elapsed / per_token).min(capacity);
        if tokens >= 1.0 {
            *bucket = Some((tokens - 1.0, now));
            Ok(())
        } else {
            *bucket = Some((tokens, now));
            Err(Duration::from_secs_f64((1.0 - tokens) * per_token))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_admits_capacity_then_refills() {
        let state = QuotaState::new(Quota::new(3, Duration::from_secs(3)));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(state.try_acquire(start).is_ok());
        }
        let wait = state.try_acquire(start).unwrap_err();
        assert_eq!(wait.as_millis(), 1000);
        assert!(state
            .try_acquire(start + Duration::from_millis(999))
            .is_err());
        assert!(state.try_acquire(start + Duration::from_secs(1)).is_ok());
        assert!(state.try_acquire(start + Duration::from_secs(1)).is_err());
        // A long pause refills only up to capacity.
        let later = start + Duration::from_secs(600);
        for _ in 0..3 {
            assert!(state.try_acquire(later).is_ok());
        }
        assert!(state.try_acquire(later).is_err());
    }
}
