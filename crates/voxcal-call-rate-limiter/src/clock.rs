//! Time sources: the real clock and a fake one that tests move by hand.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A source of "now" in milliseconds.
///
/// The origin is arbitrary but fixed, and time never goes backwards. Every
/// limiter decision asks its clock once, so tests can drive windows and
/// cooldowns with a [`FakeClock`] instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since this clock's origin.
    fn now_millis(&self) -> u64;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now_millis(&self) -> u64 {
        (**self).now_millis()
    }
}

/// The monotonic system clock (`Instant`), counted from the first use in this
/// process. The default clock of [`MemoryStore`](crate::MemoryStore).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        let origin = *ORIGIN.get_or_init(Instant::now);
        u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock that stands still until [`advance`](FakeClock::advance)d.
///
/// Clones share one time, so a test keeps a clone and moves the clock of the
/// store it handed the other one to.
///
/// ```
/// use voxcal_call_rate_limiter::{Clock, FakeClock};
/// use std::time::Duration;
///
/// let clock = FakeClock::new();
/// let store_side = clock.clone();
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(store_side.now_millis(), 61_000);
/// ```
#[derive(Clone, Default)]
pub struct FakeClock {
    now: Arc<AtomicU64>,
}

impl FakeClock {
    /// A fake clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fake clock starting at `millis`.
    pub fn starting_at(millis: u64) -> Self {
        FakeClock {
            now: Arc::new(AtomicU64::new(millis)),
        }
    }

    /// Moves time forward by `by` (whole milliseconds) for every clone.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_millis(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for FakeClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeClock")
            .field("now_millis", &self.now_millis())
            .finish()
    }
}
