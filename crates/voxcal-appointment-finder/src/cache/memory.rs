//! The in-process store of the slot cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::Notify;
use voxcal_core::Clock;

use super::store::{CacheStore, CacheStoreError, FetchLock, Generation, LockToken};
use super::{CacheKey, DaySlots};

/// Default of [`MemoryCacheStore::with_max_entries`].
const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// The slot cache in process memory, expiring by a [`Clock`]'s monotonic
/// [`now`](Clock::now) (a [`FakeClock`](voxcal_core::FakeClock) in tests).
///
/// Bounded: at most [`with_max_entries`](Self::with_max_entries) entries
/// (default 10 000); when full, expired entries go first, then those closest
/// to expiry. Clones share the entries and locks, like replicas of one
/// cache in one process.
///
/// An invalidation counts up a generation: a fetch that started before it
/// never stores its answer, and one that started after it stores at once.
///
/// ```
/// use voxcal_appointment_finder::{FakeClock, InMemoryCalendar, MemoryCacheStore, SlotCache};
///
/// let clock = FakeClock::new();
/// let store = MemoryCacheStore::new(clock.clone()).with_max_entries(1_000);
/// let cache = SlotCache::new(InMemoryCalendar::new(clock.clone()), store).with_clock(clock);
/// # drop(cache);
/// ```
#[derive(Clone)]
pub struct MemoryCacheStore {
    shared: Arc<Shared>,
}

struct Shared {
    clock: Arc<dyn Clock>,
    max_entries: AtomicUsize,
    epoch: AtomicU64,
    next_token: AtomicU64,
    entries: Mutex<HashMap<CacheKey, Entry>>,
    locks: Mutex<HashMap<CacheKey, Held>>,
}

#[derive(Debug)]
struct Entry {
    /// `None` for an invalidation marker.
    slots: Option<DaySlots>,
    expires: Instant,
    /// The epoch of the last invalidation of this key.
    invalidated: u64,
}

#[derive(Debug)]
struct Held {
    token: u64,
    expires: Instant,
    released: Arc<Notify>,
}

impl fmt::Debug for MemoryCacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCacheStore")
            .field("entries", &self.shared.entries.lock().len())
            .field(
                "max_entries",
                &self.shared.max_entries.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

/// `now + ttl` (one too long for an `Instant` is a year).
fn expiry(now: Instant, ttl: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    now.checked_add(ttl)
        .or_else(|| now.checked_add(YEAR))
        .unwrap_or(now)
}

impl MemoryCacheStore {
    /// An empty store reading the time from `clock`.
    pub fn new(clock: impl Clock) -> Self {
        MemoryCacheStore {
            shared: Arc::new(Shared {
                clock: Arc::new(clock),
                max_entries: AtomicUsize::new(DEFAULT_MAX_ENTRIES),
                epoch: AtomicU64::new(0),
                next_token: AtomicU64::new(0),
                entries: Mutex::new(HashMap::new()),
                locks: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Keeps at most `max` entries (at least one); for every clone.
    pub fn with_max_entries(self, max: usize) -> Self {
        self.shared.max_entries.store(max.max(1), Ordering::Relaxed);
        self
    }

    /// How many entries (and invalidation markers) the store holds now.
    pub fn len(&self) -> usize {
        self.shared.entries.lock().len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self, key: &CacheKey, now: Instant) -> Option<DaySlots> {
        self.shared
            .entries
            .lock()
            .get(key)
            .filter(|e| e.expires > now)
            .and_then(|e| e.slots.clone())
    }

    fn store(&self, key: &CacheKey, slots: DaySlots, ttl: Duration, since: Generation) -> bool {
        let now = self.shared.clock.now();
        let max = self.shared.max_entries.load(Ordering::Relaxed).max(1);
        let mut entries = self.shared.entries.lock();
        // An expired marker still counts until it is evicted.
        if entries
            .get(key)
            .is_some_and(|e| e.invalidated > since.get())
        {
            return false;
        }
        if entries.len() >= max && !entries.contains_key(key) {
            entries.retain(|_, e| e.expires > now);
            while entries.len() >= max {
                let soonest = entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires)
                    .map(|(k, _)| k.clone());
                match soonest {
                    Some(k) => entries.remove(&k),
                    None => break,
                };
            }
        }
        entries.insert(
            key.clone(),
            Entry {
                slots: Some(slots),
                expires: expiry(now, ttl),
                invalidated: 0,
            },
        );
        true
    }

    /// The lock of `key` if it is held at `now`.
    fn held(&self, key: &CacheKey, now: Instant) -> Option<Arc<Notify>> {
        self.shared
            .locks
            .lock()
            .get(key)
            .filter(|h| h.expires > now)
            .map(|h| Arc::clone(&h.released))
    }
}

impl CacheStore for MemoryCacheStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
        Ok(self.read(key, self.shared.clock.now()))
    }

    /// The store's invalidation count (one for all keys).
    fn generation(&self, _key: &CacheKey) -> Generation {
        Generation::new(self.shared.epoch.load(Ordering::SeqCst))
    }

    async fn put(
        &self,
        key: &CacheKey,
        slots: DaySlots,
        ttl: Duration,
        since: Generation,
    ) -> Result<bool, CacheStoreError> {
        Ok(self.store(key, slots, ttl, since))
    }

    /// Leaves a marker living at least `hold`; until it is evicted, fetches
    /// older than the invalidation do not store.
    async fn invalidate(&self, key: &CacheKey, hold: Duration) -> Result<(), CacheStoreError> {
        let epoch = self.shared.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let expires = expiry(self.shared.clock.now(), hold);
        self.shared.entries.lock().insert(
            key.clone(),
            Entry {
                slots: None,
                expires,
                invalidated: epoch,
            },
        );
        Ok(())
    }

    async fn lock(&self, key: &CacheKey, ttl: Duration) -> Result<FetchLock, CacheStoreError> {
        let now = self.shared.clock.now();
        let max = self.shared.max_entries.load(Ordering::Relaxed).max(1);
        let mut locks = self.shared.locks.lock();
        if locks.get(key).is_some_and(|h| h.expires > now) {
            return Ok(FetchLock::Busy);
        }
        if locks.len() >= max {
            // Locks of cancelled fetches expire; drop them.
            locks.retain(|_, h| h.expires > now);
        }
        let token = self.shared.next_token.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(old) = locks.insert(
            key.clone(),
            Held {
                token,
                expires: expiry(now, ttl),
                released: Arc::new(Notify::new()),
            },
        ) {
            old.released.notify_waiters();
        }
        Ok(FetchLock::Acquired(LockToken::new(token)))
    }

    async fn unlock(&self, key: &CacheKey, token: LockToken) -> Result<(), CacheStoreError> {
        let mut locks = self.shared.locks.lock();
        if locks.get(key).is_some_and(|h| h.token == token.get()) {
            if let Some(held) = locks.remove(key) {
                held.released.notify_waiters();
            }
        }
        Ok(())
    }

    /// Wakes when the holder unlocks (no polling).
    async fn wait(
        &self,
        key: &CacheKey,
        budget: Duration,
    ) -> Result<Option<DaySlots>, CacheStoreError> {
        let deadline = tokio::time::Instant::now() + budget;
        loop {
            let now = self.shared.clock.now();
            if let Some(hit) = self.read(key, now) {
                return Ok(Some(hit));
            }
            let Some(released) = self.held(key, now) else {
                return Ok(None);
            };
            let notified = released.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            // Unlocked between the two looks: read again.
            let still = self
                .held(key, self.shared.clock.now())
                .is_some_and(|h| Arc::ptr_eq(&h, &released));
            if !still {
                continue;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(self.read(key, self.shared.clock.now()));
            }
        }
    }
}
