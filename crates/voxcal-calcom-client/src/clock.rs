//! The injected clock: monotonic time, wall time and sleeping, so tests never wait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// A boxed sleep future, as returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Time as the client sees it: quotas and `Retry-After` dates read it, retry back-off
/// sleeps through it.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock now (for `Retry-After` given as an HTTP date).
    fn now_utc(&self) -> DateTime<Utc>;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: `Instant::now`, `Utc::now`, `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn now_utc(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when told to, for tests.
///
/// Clones share the same time. [`sleep`](Clock::sleep) returns at once after
/// advancing the clock by the requested duration and recording it, so retry
/// back-off can be asserted without waiting.
///
/// ```
/// use std::time::Duration;
/// use voxcal_calcom_client::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(3));
/// assert_eq!(clock.now() - before, Duration::from_secs(3));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    base: Instant,
    base_utc: DateTime<Utc>,
    offset: Duration,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock starting now (wall time 2026-01-01T00:00:00Z).
    pub fn new() -> Self {
        Self::starting_at(
            DateTime::from_timestamp(1_767_225_600, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        )
    }

    /// A clock whose wall time starts at `start`.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            state: Arc::new(Mutex::new(ManualState {
                base: Instant::now(),
                base_utc: start,
                offset: Duration::ZERO,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        self.lock().offset += by;
    }

    /// Every duration passed to [`Clock::sleep`] so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ManualState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let state = self.lock();
        state.base + state.offset
    }

    fn now_utc(&self) -> DateTime<Utc> {
        let state = self.lock();
        let offset = chrono::Duration::from_std(state.offset).unwrap_or(chrono::Duration::MAX);
        state.base_utc + offset
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        {
            let mut state = self.lock();
            state.offset += duration;
            state.sleeps.push(duration);
        }
        Box::pin(std::future::ready(()))
    }
}
