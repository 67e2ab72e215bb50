//! One injectable clock for the family: monotonic and wall-clock time from
//! the same source.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};

/// A boxed sleep, as returned by [`Clock::sleep`] (feature `tokio`).
#[cfg(feature = "tokio")]
pub type Sleep = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Where every crate of the family reads the time.
///
/// [`now`](Clock::now) is monotonic (windows, timeouts, back-off);
/// [`now_utc`](Clock::now_utc) is the wall clock (calendars, `Retry-After`
/// dates, a caller's "morgen"). Production code uses [`SystemClock`]; tests
/// hand every component clones of one [`FakeClock`] and
/// [`advance`](FakeClock::advance) it instead of sleeping.
///
/// ```
/// use std::sync::Arc;
/// use voxcal_core::{Clock, SystemClock};
///
/// fn stamp(clock: &dyn Clock) -> i64 {
///     clock.now_utc().timestamp()
/// }
/// let clock: Arc<dyn Clock> = Arc::new(SystemClock);
/// assert!(stamp(&*clock) > 1_700_000_000);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic now: never goes backwards.
    fn now(&self) -> Instant;

    /// Wall-clock now, in UTC.
    fn now_utc(&self) -> DateTime<Utc>;

    /// Waits for `duration` on this clock (feature `tokio`).
    ///
    /// The default waits on Tokio's timer; [`FakeClock`] advances itself by
    /// `duration`, records it and returns at once.
    #[cfg(feature = "tokio")]
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    #[inline]
    fn now(&self) -> Instant {
        (**self).now()
    }

    #[inline]
    fn now_utc(&self) -> DateTime<Utc> {
        (**self).now_utc()
    }

    #[cfg(feature = "tokio")]
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
}

/// The operating system's clocks: [`Instant::now`] and [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn now_utc(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from(SystemTime::now())
    }
}

/// A clock that only moves when told to.
///
/// Clones share one time: a test keeps a clone and moves the clock of every
/// component it handed the others to. [`advance`](Self::advance) moves the
/// monotonic and the wall reading together; with the `tokio` feature,
/// [`Clock::sleep`] advances the clock by the requested time, records it
/// ([`sleeps`](Self::sleeps)) and returns at once.
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use voxcal_core::{Clock, FakeClock};
///
/// let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 8, 0, 0).unwrap());
/// let component = clock.clone();
/// let start = component.now();
/// clock.advance(Duration::from_secs(5 * 60));
/// assert_eq!(component.now() - start, Duration::from_secs(300));
/// assert_eq!(component.now_utc(), Utc.with_ymd_and_hms(2026, 10, 12, 8, 5, 0).unwrap());
/// ```
#[derive(Clone)]
pub struct FakeClock {
    shared: Arc<Shared>,
}

struct Shared {
    base: Instant,
    base_utc: DateTime<Utc>,
    /// Nanoseconds the monotonic reading has moved (never decreases).
    mono_nanos: AtomicU64,
    /// Nanoseconds the wall reading stands from `base_utc + mono_nanos`:
    /// zero until [`FakeClock::set`] goes back. Kept apart so
    /// [`FakeClock::advance`] moves both readings with one atomic add.
    wall_offset_nanos: AtomicI64,
    sleeps: Mutex<Vec<Duration>>,
}

impl FakeClock {
    /// A fake clock whose wall reading starts at 2026-01-01T00:00:00Z.
    pub fn new() -> Self {
        Self::at(DateTime::from_timestamp(1_767_225_600, 0).unwrap_or(DateTime::UNIX_EPOCH))
    }

    /// A fake clock whose wall reading starts at `start`.
    pub fn at(start: DateTime<Utc>) -> Self {
        FakeClock {
            shared: Arc::new(Shared {
                base: Instant::now(),
                base_utc: start,
                mono_nanos: AtomicU64::new(0),
                wall_offset_nanos: AtomicI64::new(0),
                sleeps: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Moves both readings forward by `by`, for every clone.
    #[inline]
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.shared.mono_nanos.fetch_add(nanos, Ordering::SeqCst);
    }

    /// Sets the wall reading to `to`.
    ///
    /// Forward, the monotonic reading moves by the same amount (as with
    /// [`advance`](Self::advance)); backward (a test that starts over on an
    /// earlier day), only the wall reading goes back, because monotonic
    /// time never does.
    pub fn set(&self, to: DateTime<Utc>) {
        let now = self.now_utc();
        if let Ok(forward) = (to - now).to_std() {
            self.advance(forward);
        } else {
            let target = (to - self.shared.base_utc)
                .num_nanoseconds()
                .unwrap_or(i64::MIN);
            let mono =
                i64::try_from(self.shared.mono_nanos.load(Ordering::SeqCst)).unwrap_or(i64::MAX);
            self.shared
                .wall_offset_nanos
                .store(target.saturating_sub(mono), Ordering::SeqCst);
        }
    }

    /// How far the monotonic reading has moved since the clock was made.
    #[inline]
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos())
    }

    /// [`elapsed`](Self::elapsed) in nanoseconds: one atomic load, for code
    /// that reads the clock on every request and counts in integers.
    ///
    /// ```
    /// use std::time::Duration;
    /// use voxcal_core::FakeClock;
    ///
    /// let clock = FakeClock::new();
    /// clock.advance(Duration::from_millis(3));
    /// assert_eq!(clock.elapsed_nanos(), 3_000_000);
    /// ```
    #[inline]
    pub fn elapsed_nanos(&self) -> u64 {
        self.shared.mono_nanos.load(Ordering::SeqCst)
    }

    /// Every duration slept through this clock so far, in order (always
    /// empty without the `tokio` feature).
    pub fn sleeps(&self) -> Vec<Duration> {
        self.shared
            .sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FakeClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeClock")
            .field("now_utc", &self.now_utc())
            .field("elapsed", &self.elapsed())
            .finish()
    }
}

impl Clock for FakeClock {
    #[inline]
    fn now(&self) -> Instant {
        self.shared.base + self.elapsed()
    }

    fn now_utc(&self) -> DateTime<Utc> {
        let mono = i64::try_from(self.shared.mono_nanos.load(Ordering::SeqCst)).unwrap_or(i64::MAX);
        let offset = self.shared.wall_offset_nanos.load(Ordering::SeqCst);
        self.shared.base_utc + chrono::Duration::nanoseconds(mono.saturating_add(offset))
    }

    #[cfg(feature = "tokio")]
    fn sleep(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        self.shared
            .sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(duration);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};

    use super::{Clock, FakeClock, SystemClock};

    #[test]
    fn clones_share_time_and_advance_moves_both_readings() {
        let clock = FakeClock::new();
        let other = clock.clone();
        let (mono, wall) = (clock.now(), clock.now_utc());
        assert_eq!(wall, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        other.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now() - mono, Duration::from_millis(1_500));
        assert_eq!((clock.now_utc() - wall).num_milliseconds(), 1_500);
        assert_eq!(clock.elapsed(), Duration::from_millis(1_500));
    }

    #[test]
    fn set_forward_moves_both_and_set_back_moves_the_wall_only() {
        let start = Utc.with_ymd_and_hms(2026, 10, 12, 8, 0, 0).unwrap();
        let clock = FakeClock::at(start);
        let mono = clock.now();
        clock.set(start + chrono::Duration::hours(2));
        assert_eq!(clock.now() - mono, Duration::from_secs(7_200));
        assert_eq!(clock.now_utc(), start + chrono::Duration::hours(2));
        let earlier = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        clock.set(earlier);
        assert_eq!(clock.now_utc(), earlier);
        assert_eq!(
            clock.now() - mono,
            Duration::from_secs(7_200),
            "monotonic never goes back"
        );
        clock.advance(Duration::from_secs(60));
        assert_eq!(clock.now_utc(), earlier + chrono::Duration::minutes(1));
    }

    #[test]
    fn the_system_clock_reads_the_system() {
        let before = std::time::SystemTime::now();
        let read = SystemClock.now_utc();
        let after = std::time::SystemTime::now();
        assert!(chrono::DateTime::<Utc>::from(before) <= read);
        assert!(read <= chrono::DateTime::<Utc>::from(after));
        let a = SystemClock.now();
        assert!(SystemClock.now() >= a);
    }

    #[cfg(feature = "tokio")]
    #[tokio::test]
    async fn a_fake_sleep_advances_records_and_returns_at_once() {
        let clock = FakeClock::new();
        let start = clock.now();
        clock.sleep(Duration::from_secs(3)).await;
        std::sync::Arc::new(clock.clone())
            .sleep(Duration::from_millis(250))
            .await;
        assert_eq!(clock.now() - start, Duration::from_millis(3_250));
        assert_eq!(
            clock.sleeps(),
            [Duration::from_secs(3), Duration::from_millis(250)]
        );
    }
}
