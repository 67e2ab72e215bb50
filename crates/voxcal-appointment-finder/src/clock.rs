//! Injected wall clock.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;

/// Where the finder, the calendar and the memory cache read the time.
///
/// Production code uses [`SystemClock`]; tests use [`FakeClock`] and
/// [`advance`](FakeClock::advance) it instead of sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to. Clones share the same time.
///
/// ```
/// use voxcal_appointment_finder::{Clock, FakeClock};
/// use chrono::{Duration, TimeZone, Utc};
/// let clock = FakeClock::new(Utc.with_ymd_and_hms(2026, 10, 12, 8, 0, 0).unwrap());
/// let shared = clock.clone();
/// clock.advance(Duration::minutes(5));
/// assert_eq!(shared.now(), Utc.with_ymd_and_hms(2026, 10, 12, 8, 5, 0).unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct FakeClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl FakeClock {
    /// A fake clock standing at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        FakeClock {
            now: Arc::new(Mutex::new(now)),
        }
    }

    /// Moves the clock forward (or back, for a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock();
        *now += by;
    }

    /// Sets the clock to `now`.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock() = now;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}
