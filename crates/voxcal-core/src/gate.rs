//! Skip a failing backend for a while instead of waiting on it for every call.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A failure older than this many retry windows no longer belongs to the
/// current outage.
const QUIET_WINDOWS: u32 = 5;

/// Which shards of a backend failed lately, so calls for them skip the
/// backend for a retry window instead of each waiting for its timeout.
///
/// A store asks [`skips`](Self::skips) before a call and reports the result
/// with [`record_failure`](Self::record_failure) or
/// [`record_success`](Self::record_success). A shard is whatever part of
/// the backend fails on its own: for Redis the key slot
/// (`RedisConnection::slot` with the `redis` feature: on a Cluster only the
/// failing node's keys skip; a standalone server is slot 0); a backend that
/// fails as a whole uses one shard.
///
/// The gate logs through `tracing`: one warning when an outage starts (the
/// first failure after a quiet stretch of a few windows) and one info line
/// when it ends. Stores log nothing more about it; the `bool`s returned say
/// which call started or ended an outage, for metrics.
///
/// ```
/// use std::time::{Duration, Instant};
/// use voxcal_core::OutageGate;
///
/// let gate = OutageGate::new("slot cache", Duration::from_secs(1));
/// let t0 = Instant::now();
/// assert!(!gate.skips(7, t0));
/// assert!(gate.record_failure(7, t0, &"connection refused"), "an outage starts");
/// assert!(gate.skips(7, t0 + Duration::from_millis(999)));
/// assert!(!gate.skips(8, t0), "other slots are still asked");
/// assert!(!gate.skips(7, t0 + Duration::from_secs(1)), "tried again after the window");
/// assert!(gate.record_success(7, t0 + Duration::from_secs(1)), "the outage ends");
/// ```
pub struct OutageGate {
    name: &'static str,
    retry_after: Duration,
    /// Whether `slots` holds anything: the healthy path reads only this.
    any: AtomicBool,
    /// Failed shards, each with the instant until which it is skipped.
    slots: Mutex<HashMap<u16, Instant>>,
}

impl OutageGate {
    /// A gate for the backend of `name` (a short label such as `"rate limiter"`,
    /// logged as the `backend` field) that skips a failed slot for
    /// `retry_after`.
    pub fn new(name: &'static str, retry_after: Duration) -> Self {
        OutageGate {
            name,
            retry_after,
            any: AtomicBool::new(false),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// How long a failed slot is skipped.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Whether calls for `slot` skip Redis at `now`.
    #[inline]
    pub fn skips(&self, slot: u16, now: Instant) -> bool {
        self.any.load(Ordering::Acquire) && self.lock().get(&slot).is_some_and(|&until| now < until)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u16, Instant>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether any slot failed and has not answered since.
    pub fn is_down(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Records that Redis failed for `slot` at `now` (it is skipped until
    /// `now + retry_after`). Returns `true`, and logs the warning, when this
    /// failure starts an outage: no other failure within the last few
    /// windows.
    pub fn record_failure(&self, slot: u16, now: Instant, error: &dyn fmt::Display) -> bool {
        let quiet = self.retry_after.saturating_mul(QUIET_WINDOWS);
        let first = {
            let mut slots = self.lock();
            slots.retain(|_, until| still_within(*until, quiet, now));
            let first = slots.is_empty();
            slots.insert(slot, now.checked_add(self.retry_after).unwrap_or(now));
            self.any.store(true, Ordering::Release);
            first
        };
        if first {
            tracing::warn!(
                backend = self.name,
                error = %error,
                retry_after_ms = u64::try_from(self.retry_after.as_millis()).unwrap_or(u64::MAX),
                "backend unreachable; the failing shards skip it until it answers again"
            );
        }
        first
    }

    /// Records an answer for `slot` at `now`. Returns `true`, and logs the
    /// recovery, when it ends the outage: a slot that had failed answers
    /// and no other slot failed within the last window, or any answer once
    /// the last failure is a few windows old (its slots may simply not have
    /// been asked again).
    #[inline]
    pub fn record_success(&self, slot: u16, now: Instant) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        {
            let mut slots = self.lock();
            let horizon = if slots.remove(&slot).is_some() {
                Duration::ZERO
            } else {
                self.retry_after.saturating_mul(QUIET_WINDOWS)
            };
            slots.retain(|_, until| still_within(*until, horizon, now));
            if !slots.is_empty() {
                return false;
            }
            self.any.store(false, Ordering::Release);
        }
        tracing::info!(backend = self.name, "backend answers again; outage over");
        true
    }
}

/// Whether `now` is before `until + margin` (an overflow counts as "yes").
fn still_within(until: Instant, margin: Duration, now: Instant) -> bool {
    until.checked_add(margin).is_none_or(|end| end > now)
}

impl fmt::Debug for OutageGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutageGate")
            .field("name", &self.name)
            .field("retry_after", &self.retry_after)
            .field("down", &self.is_down())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::OutageGate;

    #[test]
    fn an_outage_is_one_warning_and_one_recovery() {
        let g = OutageGate::new("test", Duration::from_secs(1));
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let e = &"refused";
        assert!(!g.skips(7, at(0)));
        assert!(
            g.record_failure(7, at(0), e),
            "the first failure starts the outage"
        );
        assert!(g.skips(7, at(999)) && !g.skips(7, at(1_000)) && !g.skips(8, at(10)));
        // Other slots answering do not end it; more failures do not restart it.
        assert!(!g.record_success(8, at(500)));
        assert!(!g.record_failure(9, at(1_500), e));
        assert!(!g.record_failure(7, at(2_000), e));
        assert!(!g.record_success(8, at(2_100)));
        // A failed slot answering ends it once no other failed in the window.
        assert!(
            !g.record_success(7, at(2_200)),
            "slot 9 failed within the window"
        );
        assert!(g.record_success(9, at(2_600)));
        assert!(!g.skips(9, at(2_600)) && !g.is_down());
        // A failure after a quiet stretch is a new outage.
        assert!(g.record_failure(3, at(3_000), e));
        // Never asked again: any answer a few windows later ends it.
        assert!(!g.record_success(4, at(8_000)));
        assert!(g.record_success(4, at(9_000)));
        assert!(g.record_failure(3, at(20_000), e));
        assert!(
            !g.record_failure(5, at(25_000), e),
            "within the quiet stretch"
        );
        assert!(g.record_failure(5, at(31_000), e), "after it");
    }
}
