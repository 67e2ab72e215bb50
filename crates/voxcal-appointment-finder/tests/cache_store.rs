//! Stores written outside the crate, against the public `CacheStore` trait:
//! a plain `Mutex<HashMap>` store and a wrapper that injects latency and
//! failures. Both pass the conformance suite; with failures switched on,
//! the cache still answers every lookup from the source.
#![cfg(feature = "conformance")]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono_tz::Europe::Berlin;
use common::*;
use voxcal_appointment_finder::{
    conformance, BoxCacheStore, CacheConfig, CacheKey, CacheStore, CacheStoreError, Clock,
    DaySlots, FakeClock, FetchLock, Generation, LockToken, SlotCache,
};

/// Everything in one `Mutex<HashMap>`s, time from a clock.
#[derive(Debug, Default)]
struct MapState {
    entries: HashMap<CacheKey, (DaySlots, Instant)>,
    /// Invalidations per key: the key's generation.
    invalidated: HashMap<CacheKey, u64>,
    locks: HashMap<CacheKey, (u64, Instant)>,
    next_token: u64,
}

#[derive(Debug, Clone)]
struct MapStore {
    clock: Arc<dyn Clock>,
    state: Arc<Mutex<MapState>>,
}

impl MapStore {
    fn new(clock: impl Clock) -> Self {
        MapStore {
            clock: Arc::new(clock),
            state: Arc::default(),
        }
    }

    fn state(&self) -> Result<MutexGuard<'_, MapState>, CacheStoreError> {
        self.state
            .lock()
            .map_err(|_| CacheStoreError::new("map store poisoned"))
    }
}

impl CacheStore for MapStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
        let now = self.clock.now();
        Ok(self
            .state()?
            .entries
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(slots, _)| slots.clone()))
    }

    fn generation(&self, key: &CacheKey) -> Generation {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Generation::new(state.invalidated.get(key).copied().unwrap_or(0))
    }

    async fn put(
        &self,
        key: &CacheKey,
        slots: DaySlots,
        ttl: Duration,
        since: Generation,
    ) -> Result<bool, CacheStoreError> {
        let until = self.clock.now() + ttl;
        let mut state = self.state()?;
        if state.invalidated.get(key).copied().unwrap_or(0) > since.get() {
            return Ok(false);
        }
        state.entries.insert(key.clone(), (slots, until));
        Ok(true)
    }

    async fn invalidate(&self, key: &CacheKey, _hold: Duration) -> Result<(), CacheStoreError> {
        let mut state = self.state()?;
        state.entries.remove(key);
        *state.invalidated.entry(key.clone()).or_default() += 1;
        Ok(())
    }

    async fn lock(&self, key: &CacheKey, ttl: Duration) -> Result<FetchLock, CacheStoreError> {
        let now = self.clock.now();
        let mut state = self.state()?;
        if state.locks.get(key).is_some_and(|(_, until)| *until > now) {
            return Ok(FetchLock::Busy);
        }
        state.next_token += 1;
        let token = state.next_token;
        state.locks.insert(key.clone(), (token, now + ttl));
        Ok(FetchLock::Acquired(LockToken::new(token)))
    }

    async fn unlock(&self, key: &CacheKey, token: LockToken) -> Result<(), CacheStoreError> {
        let mut state = self.state()?;
        if state.locks.get(key).is_some_and(|(t, _)| *t == token.get()) {
            state.locks.remove(key);
        }
        Ok(())
    }
    // `wait`: the trait's default (polls `get`).
}

/// Wraps a store: every call is delayed (yields and short sleeps, so calls
/// interleave), and while `fail_every` is non-zero every n-th call fails.
#[derive(Debug, Clone)]
struct Faulty<C> {
    inner: C,
    faults: Arc<Faults>,
}

#[derive(Debug, Default)]
struct Faults {
    calls: AtomicU64,
    fail_every: AtomicU64,
    failed: AtomicUsize,
    slow: AtomicBool,
}

impl<C: CacheStore> Faulty<C> {
    fn new(inner: C) -> Self {
        Faulty {
            inner,
            faults: Arc::default(),
        }
    }

    async fn fault(&self) -> Result<(), CacheStoreError> {
        let n = self.faults.calls.fetch_add(1, Ordering::SeqCst) + 1;
        for _ in 0..n % 3 {
            tokio::task::yield_now().await;
        }
        if self.faults.slow.load(Ordering::SeqCst) && n.is_multiple_of(4) {
            tokio::time::sleep(Duration::from_millis(1 + n % 3)).await;
        }
        let every = self.faults.fail_every.load(Ordering::SeqCst);
        if every > 0 && n.is_multiple_of(every) {
            self.faults.failed.fetch_add(1, Ordering::SeqCst);
            return Err(CacheStoreError::new("injected fault"));
        }
        Ok(())
    }
}

impl<C: CacheStore> CacheStore for Faulty<C> {
    async fn get(&self, key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
        self.fault().await?;
        self.inner.get(key).await
    }

    fn generation(&self, key: &CacheKey) -> Generation {
        self.inner.generation(key)
    }

    async fn put(
        &self,
        key: &CacheKey,
        slots: DaySlots,
        ttl: Duration,
        since: Generation,
    ) -> Result<bool, CacheStoreError> {
        self.fault().await?;
        self.inner.put(key, slots, ttl, since).await
    }

    async fn invalidate(&self, key: &CacheKey, hold: Duration) -> Result<(), CacheStoreError> {
        self.fault().await?;
        self.inner.invalidate(key, hold).await
    }

    async fn lock(&self, key: &CacheKey, ttl: Duration) -> Result<FetchLock, CacheStoreError> {
        self.fault().await?;
        self.inner.lock(key, ttl).await
    }

    async fn unlock(&self, key: &CacheKey, token: LockToken) -> Result<(), CacheStoreError> {
        self.fault().await?;
        self.inner.unlock(key, token).await
    }

    async fn wait(
        &self,
        key: &CacheKey,
        budget: Duration,
    ) -> Result<Option<DaySlots>, CacheStoreError> {
        self.fault().await?;
        self.inner.wait(key, budget).await
    }

    fn shard(&self, key: &CacheKey) -> u16 {
        self.inner.shard(key)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mutex_hashmap_store_passes_the_conformance_suite() {
    let clock = FakeClock::new();
    let store = MapStore::new(clock.clone());
    conformance::run(
        || {
            let store = store.clone();
            async move { store }
        },
        &clock,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_interleaving_wrapper_passes_the_conformance_suite() {
    let clock = FakeClock::new();
    let store = Faulty::new(MapStore::new(clock.clone()));
    store.faults.slow.store(true, Ordering::SeqCst);
    conformance::run(
        || {
            let store = store.clone();
            async move { store }
        },
        &clock,
    )
    .await;
    assert!(store.faults.calls.load(Ordering::SeqCst) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_boxed_wrapped_memory_store_passes_the_conformance_suite() {
    let clock = FakeClock::new();
    let store = BoxCacheStore::new(Faulty::new(
        voxcal_appointment_finder::MemoryCacheStore::new(clock.clone()),
    ));
    conformance::run(
        || {
            let store = store.clone();
            async move { store }
        },
        &clock,
    )
    .await;
}

/// With every third store call failing, every lookup still gets the
/// source's answer, never an error; failures close the store for the retry
/// window on the cache's clock, and with the faults gone it caches again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_never_reach_the_caller() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    let store = Faulty::new(MapStore::new(clock.clone()));
    let config = CacheConfig::default();
    let window = config.store_retry_after.to_std().unwrap();
    let cache = SlotCache::new(probe.clone(), store.clone())
        .with_config(config)
        .with_clock(clock.clone());
    store.faults.fail_every.store(3, Ordering::SeqCst);
    for round in 0..40 {
        let day = date(2026, 10, 12) + chrono::Duration::days(round % 5);
        let slots = cache
            .day_slots(t.id(), &consult(), day, Berlin)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let expected = uncached_len(&probe.inner, t.id(), day).await;
        assert_eq!(slots.len(), expected, "round {round}, {day}");
        clock.advance(window / 3);
    }
    let failed = store.faults.failed.load(Ordering::SeqCst);
    assert!(failed > 0, "faults were injected ({failed})");
    let stats = cache.stats();
    assert_eq!(stats.hits + stats.misses, 40, "{stats:?}");
    assert!(stats.misses > 5, "the faults showed as misses: {stats:?}");
    assert_eq!(stats.source_errors, 0);

    // Faults off, past the window: cached again.
    store.faults.fail_every.store(0, Ordering::SeqCst);
    clock.advance(window);
    let day = date(2026, 10, 13);
    cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    let calls = probe.calls();
    cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), calls, "cached again without faults");
}

/// How many free slots the calendar has on `day` (Berlin), asked directly.
async fn uncached_len(
    calendar: &voxcal_appointment_finder::InMemoryCalendar,
    tenant: &voxcal_appointment_finder::TenantId,
    day: chrono::NaiveDate,
) -> usize {
    SlotCache::disabled(calendar.clone())
        .day_slots(tenant, &consult(), day, Berlin)
        .await
        .unwrap_or_else(|e| panic!("{day}: {e}"))
        .len()
}

/// A broken store, to show the suite fails: `lock` never says `Busy`, or
/// `put` ignores invalidations.
#[derive(Debug, Clone)]
struct Broken {
    inner: MapStore,
    no_lock: bool,
    stale_put: bool,
}

impl CacheStore for Broken {
    async fn get(&self, key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
        self.inner.get(key).await
    }

    fn generation(&self, key: &CacheKey) -> Generation {
        if self.stale_put {
            Generation::new(u64::MAX)
        } else {
            self.inner.generation(key)
        }
    }

    async fn put(
        &self,
        key: &CacheKey,
        slots: DaySlots,
        ttl: Duration,
        since: Generation,
    ) -> Result<bool, CacheStoreError> {
        self.inner.put(key, slots, ttl, since).await
    }

    async fn invalidate(&self, key: &CacheKey, hold: Duration) -> Result<(), CacheStoreError> {
        self.inner.invalidate(key, hold).await
    }

    async fn lock(&self, key: &CacheKey, ttl: Duration) -> Result<FetchLock, CacheStoreError> {
        if self.no_lock {
            return Ok(FetchLock::Acquired(LockToken::new(0)));
        }
        self.inner.lock(key, ttl).await
    }

    async fn unlock(&self, key: &CacheKey, token: LockToken) -> Result<(), CacheStoreError> {
        self.inner.unlock(key, token).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[should_panic(expected = "make one source call")]
async fn the_suite_catches_a_store_without_a_shared_lock() {
    let clock = FakeClock::new();
    let store = Broken {
        inner: MapStore::new(clock.clone()),
        no_lock: true,
        stale_put: false,
    };
    conformance::single_flight(
        || {
            let store = store.clone();
            async move { store }
        },
        &clock,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[should_panic(expected = "the older answer was not stored")]
async fn the_suite_catches_a_store_that_stores_answers_older_than_an_invalidation() {
    let clock = FakeClock::new();
    let store = Broken {
        inner: MapStore::new(clock.clone()),
        no_lock: false,
        stale_put: true,
    };
    conformance::invalidation_during_a_fetch(
        || {
            let store = store.clone();
            async move { store }
        },
        &clock,
    )
    .await;
}
