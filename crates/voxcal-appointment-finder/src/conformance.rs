//! Tests for custom [`CacheStore`] implementations (feature `conformance`).
//!
//! Every store, ours or yours, must pass [`run`]: it builds
//! [`SlotCache`]s over the store and checks what a cache promises on it —
//! tenant isolation, single flight across replicas, invalidation (also of a
//! fetch under way), TTLs, and the bypass of a failing store. Call it from
//! your store's tests with a factory: each call makes one instance, and
//! instances of one factory share state, as replicas of a service would
//! (clones of one in-memory map, or connections to one Redis).
//!
//! The `clock` is the cache's clock (its outage window) and should be the
//! store's too, if it reads one: the suite moves it to expire entries.
//! Stores that keep time elsewhere (Redis expires keys on server time) are
//! checked with short TTLs and bounded real waits; a failed assertion says
//! what it saw on both clocks. Every check uses fresh tenant ids, so runs
//! can share a store. The suite spawns Tokio tasks and uses Tokio's timer:
//! run it in a `#[tokio::test]` (a multi-thread runtime exercises more
//! interleavings).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use voxcal_appointment_finder::{conformance, FakeClock, MemoryCacheStore};
//!
//! let clock = FakeClock::new();
//! let store = MemoryCacheStore::new(clock.clone());
//! conformance::run(|| { let store = store.clone(); async move { store } }, &clock).await;
//! # });
//! ```
//!
//! The checks are public one by one too, for a store that documents a
//! deviation (say, no cross-replica lock) and runs only the others.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, NaiveDate};
use parking_lot::Mutex;
use voxcal_core::FakeClock;

use crate::cache::{
    CacheConfig, CacheKey, CacheStore, CacheStoreError, DaySlots, FetchLock, Generation, LockToken,
    SlotCache,
};
use crate::source::{AvailabilitySource, Slot, SourceError, TimeRange};
use crate::tenant::{EventTypeId, TenantId};

/// The day every check looks up (a Tuesday, in UTC).
fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 13).unwrap_or_default()
}

fn event_type() -> EventTypeId {
    EventTypeId::from(30_u64)
}

/// A tenant id no other run uses.
fn fresh_tenant(label: &str) -> TenantId {
    let id = format!("conf-{:012x}-{label}", voxcal_core::random_u64() >> 16);
    match TenantId::new(&id) {
        Ok(t) => t,
        Err(e) => panic!("tenant id {id:?}: {e}"),
    }
}

/// A source that counts its calls, answers a set number of slots per
/// tenant (fixed when the call starts), and can hold calls at a gate.
#[derive(Debug, Clone, Default)]
struct Counting {
    shared: Arc<CountingShared>,
}

#[derive(Debug)]
struct CountingShared {
    calls: AtomicUsize,
    slots: Mutex<HashMap<TenantId, usize>>,
    gated: AtomicBool,
    gate: tokio::sync::Semaphore,
}

impl Default for CountingShared {
    fn default() -> Self {
        CountingShared {
            calls: AtomicUsize::new(0),
            slots: Mutex::new(HashMap::new()),
            gated: AtomicBool::new(false),
            gate: tokio::sync::Semaphore::new(0),
        }
    }
}

impl Counting {
    fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// `tenant` has `n` free slots from now on.
    fn set(&self, tenant: &TenantId, n: usize) {
        self.shared.slots.lock().insert(tenant.clone(), n);
    }

    fn close_gate(&self) {
        self.shared.gated.store(true, Ordering::SeqCst);
    }

    fn open_gate(&self) {
        self.shared.gated.store(false, Ordering::SeqCst);
        self.shared.gate.add_permits(100_000);
    }

    /// Waits (real time, at most 10 s) until the source was called `n`
    /// times.
    async fn until_called(&self, n: usize) {
        let start = Instant::now();
        while self.calls() < n {
            assert!(
                start.elapsed() < StdDuration::from_secs(10),
                "the source saw {} calls after {:?}, expected {n}",
                self.calls(),
                start.elapsed()
            );
            tokio::time::sleep(StdDuration::from_millis(2)).await;
        }
    }
}

impl AvailabilitySource for Counting {
    async fn free_slots(
        &self,
        tenant: &TenantId,
        _event_type: &EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<Slot>, SourceError> {
        self.shared.calls.fetch_add(1, Ordering::SeqCst);
        // The answer is what the calendar said when the call started.
        let n = self.shared.slots.lock().get(tenant).copied().unwrap_or(0);
        if self.shared.gated.load(Ordering::SeqCst) {
            // Never closed: the semaphore lives as long as the source.
            let _permit = self.shared.gate.acquire().await;
        }
        Ok(slots(range, n))
    }
}

/// `n` half-hour slots from 09:00 of `range`'s day.
fn slots(range: TimeRange, n: usize) -> Vec<Slot> {
    (0..n)
        .map(|i| {
            let start = range.start
                + Duration::hours(9)
                + Duration::minutes(30 * i64::try_from(i).unwrap_or(0));
            Slot {
                start,
                end: start + Duration::minutes(30),
            }
        })
        .collect()
}

fn cache<C: CacheStore>(
    source: &Counting,
    store: C,
    clock: &FakeClock,
    config: CacheConfig,
) -> SlotCache<Counting, C> {
    SlotCache::new(source.clone(), store)
        .with_config(config)
        .with_clock(clock.clone())
}

async fn lookup<C: CacheStore>(cache: &SlotCache<Counting, C>, tenant: &TenantId) -> DaySlots {
    match cache
        .day_slots(tenant, &event_type(), day(), chrono_tz::UTC)
        .await
    {
        Ok(slots) => slots,
        Err(e) => panic!("lookup for {tenant} failed: {e}"),
    }
}

/// Runs every check below on stores made by `factory`.
pub async fn run<C, F, Fut>(factory: F, clock: &FakeClock)
where
    C: CacheStore,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    tenant_isolation(&factory, clock).await;
    single_flight(&factory, clock).await;
    invalidation(&factory, clock).await;
    invalidation_during_a_fetch(&factory, clock).await;
    ttl(&factory, clock).await;
    outage_bypass(&factory, clock).await;
}

/// Two tenants with the same event type id and day never see each other's
/// slots, on one replica or across two, and invalidating one leaves the
/// other cached.
pub async fn tenant_isolation<C, F, Fut>(factory: F, clock: &FakeClock)
where
    C: CacheStore,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    let source = Counting::default();
    let (a, b) = (fresh_tenant("a"), fresh_tenant("b"));
    source.set(&a, 3);
    source.set(&b, 1);
    let one = cache(&source, factory().await, clock, CacheConfig::default());
    let two = cache(&source, factory().await, clock, CacheConfig::default());
    assert_eq!(lookup(&one, &a).await.len(), 3, "tenant a on replica one");
    assert_eq!(lookup(&two, &b).await.len(), 1, "tenant b on replica two");
    assert_eq!(source.calls(), 2);
    assert_eq!(
        lookup(&two, &a).await.len(),
        3,
        "tenant a from the cache on replica two"
    );
    assert_eq!(
        lookup(&one, &b).await.len(),
        1,
        "tenant b from the cache on replica one"
    );
    assert_eq!(
        source.calls(),
        2,
        "both answers came from the store, each its tenant's"
    );
    one.invalidate(&b, &event_type(), day()).await;
    assert_eq!(lookup(&two, &a).await.len(), 3);
    assert_eq!(source.calls(), 2, "invalidating b left a cached");
    assert_eq!(lookup(&two, &b).await.len(), 1);
    assert_eq!(source.calls(), 3, "b was fetched again");
}

/// 24 concurrent misses of one key on 3 replicas make exactly one source
/// call; everyone gets its answer (23 hits, 1 miss in the counters).
pub async fn single_flight<C, F, Fut>(factory: F, clock: &FakeClock)
where
    C: CacheStore,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    const REPLICAS: usize = 3;
    const TASKS: usize = 24;
    let source = Counting::default();
    let tenant = fresh_tenant("flight");
    source.set(&tenant, 4);
    let config = CacheConfig {
        lock_ttl: Duration::seconds(30),
        lock_wait: Duration::seconds(20),
        ..CacheConfig::default()
    };
    let mut caches = Vec::with_capacity(REPLICAS);
    for _ in 0..REPLICAS {
        caches.push(Arc::new(cache(
            &source,
            factory().await,
            clock,
            config.clone(),
        )));
    }
    source.close_gate();
    let mut tasks = Vec::with_capacity(TASKS);
    for i in 0..TASKS {
        let cache = Arc::clone(&caches[i % REPLICAS]);
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .day_slots(&tenant, &event_type(), day(), chrono_tz::UTC)
                .await
        }));
    }
    source.until_called(1).await;
    // Let the others reach their replica's flight or the store's lock.
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    source.open_gate();
    let mut answers = Vec::with_capacity(TASKS);
    for task in tasks {
        match task.await {
            Ok(Ok(slots)) => answers.push(slots),
            Ok(Err(e)) => panic!("a concurrent lookup failed: {e}"),
            Err(e) => panic!("a concurrent lookup panicked: {e}"),
        }
    }
    assert_eq!(
        source.calls(),
        1,
        "{TASKS} concurrent misses on {REPLICAS} replicas make one source call"
    );
    assert!(
        answers.iter().all(|a| a.len() == 4 && **a == *answers[0]),
        "every lookup got the one answer"
    );
    let (hits, misses) = caches.iter().fold((0, 0), |(h, m), c| {
        let s = c.stats();
        (h + s.hits, m + s.misses)
    });
    assert_eq!(
        (hits, misses),
        (TASKS as u64 - 1, 1),
        "the waiting lookups count as hits"
    );
}

/// An invalidated day is fetched again (on another replica too), and once
/// the invalidation's hold has passed, answers are stored again.
pub async fn invalidation<C, F, Fut>(factory: F, clock: &FakeClock)
where
    C: CacheStore,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    let source = Counting::default();
    let tenant = fresh_tenant("inv");
    source.set(&tenant, 5);
    let config = CacheConfig {
        ttl: Duration::hours(1),
        lock_ttl: Duration::milliseconds(300),
        ..CacheConfig::default()
    };
    let one = cache(&source, factory().await, clock, config.clone());
    let two = cache(&source, factory().await, clock, config.clone());
    assert_eq!(lookup(&one, &tenant).await.len(), 5);
    assert_eq!(lookup(&two, &tenant).await.len(), 5);
    assert_eq!(source.calls(), 1, "cached");
    // A booking: one slot fewer, and replica two invalidates.
    source.set(&tenant, 4);
    two.invalidate(&tenant, &event_type(), day()).await;
    assert_eq!(
        lookup(&one, &tenant).await.len(),
        4,
        "replica one fetched the invalidated day again"
    );
    assert_eq!(source.calls(), 2);
    // Stored again: at once (a store counting generations) or once the
    // hold has passed (a marker on the store's own time).
    let hold = config.lock_ttl.to_std().unwrap_or_default();
    let (start, mut advanced) = (Instant::now(), StdDuration::ZERO);
    loop {
        let before = source.calls();
        lookup(&one, &tenant).await;
        lookup(&two, &tenant).await;
        let fetched = source.calls() - before;
        if fetched == 0 {
            break;
        }
        assert!(
            start.elapsed() < hold * 10 && advanced < hold * 10,
            "answers after the invalidation still not stored after {:?} real, {advanced:?} \
             on the clock (hold {hold:?}); the last round fetched {fetched} times",
            start.elapsed()
        );
        clock.advance(hold / 10);
        advanced += hold / 10;
        tokio::time::sleep(hold / 10).await;
    }
}

/// A fetch under way when its day is invalidated does not store its
/// (older) answer: the next lookup, on either replica, asks again and gets
/// the newer answer.
pub async fn invalidation_during_a_fetch<C, F, Fut>(factory: F, clock: &FakeClock)
where
    C: CacheStore,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    let source = Counting::default();
    let tenant = fresh_tenant("race");
    source.set(&tenant, 5);
    let config = CacheConfig {
        ttl: Duration::hours(1),
        lock_ttl: Duration::seconds(5),
        ..CacheConfig::default()
    };
    let one = Arc::new(cache(&source, factory().await, clock, config.clone()));
    let two = cache(&source, factory().await, clock, config);
    source.close_gate();
    let inflight = {
        let (one, tenant) = (Arc::clone(&one), tenant.clone());
        tokio::spawn(async move {
            one.day_slots(&tenant, &event_type(), day(), chrono_tz::UTC)
                .await
        })
    };
    source.until_called(1).await;
    // Replica one's fetch has its answer (5 slots); a booking lands and
    // replica two invalidates the day.
    source.set(&tenant, 4);
    two.invalidate(&tenant, &event_type(), day()).await;
    source.open_gate();
    match inflight.await {
        Ok(Ok(slots)) => assert_eq!(slots.len(), 5, "the fetch answers what it saw"),
        Ok(Err(e)) => panic!("the fetch under way failed: {e}"),
        Err(e) => panic!("the fetch under way panicked: {e}"),
    }
    assert_eq!(
        lookup(&two, &tenant).await.len(),
        4,
        "the older answer was not stored"
    );
    assert_eq!(source.calls(), 2, "replica two asked again");
    assert_eq!(
        lookup(&one, &tenant).await.len(),
        4,
        "replica one sees the newer answer (stored or asked again)"
    );
}

/// Days with slots expire after `ttl`, empty days after `empty_ttl`, on the
/// clock the store reads (the suite's fake clock, or the store's own time:
/// the TTLs are short enough for a bounded real wait).
pub async fn ttl<C, F, Fut>(factory: F, clock: &FakeClock)
where
    C: CacheStore,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    const TTL: StdDuration = StdDuration::from_millis(1_500);
    const EMPTY_TTL: StdDuration = StdDuration::from_millis(250);
    let source = Counting::default();
    let (full, empty) = (fresh_tenant("full"), fresh_tenant("empty"));
    source.set(&full, 2);
    source.set(&empty, 0);
    let config = CacheConfig {
        ttl: Duration::milliseconds(1_500),
        empty_ttl: Duration::milliseconds(250),
        ..CacheConfig::default()
    };
    let cache = cache(&source, factory().await, clock, config);
    let start = Instant::now();
    let mut advanced = StdDuration::ZERO;
    assert_eq!(lookup(&cache, &full).await.len(), 2);
    assert!(lookup(&cache, &empty).await.is_empty());
    assert_eq!(lookup(&cache, &full).await.len(), 2);
    assert!(lookup(&cache, &empty).await.is_empty());
    assert_eq!(
        source.calls(),
        2,
        "both days cached right after their fetch ({:?} real)",
        start.elapsed()
    );
    let (mut full_gone, mut empty_gone) = (false, false);
    while !full_gone {
        let step = StdDuration::from_millis(50);
        clock.advance(step);
        advanced += step;
        tokio::time::sleep(StdDuration::from_millis(5)).await;
        let real = start.elapsed();
        let before = source.calls();
        if !empty_gone {
            lookup(&cache, &empty).await;
            if source.calls() > before {
                empty_gone = true;
                assert!(
                    advanced >= EMPTY_TTL || real >= EMPTY_TTL,
                    "the empty day expired early: {advanced:?} on the clock, {real:?} real"
                );
            }
        }
        let before = source.calls();
        lookup(&cache, &full).await;
        if source.calls() > before {
            full_gone = true;
            assert!(
                advanced >= TTL || real >= TTL,
                "the day with slots expired early: {advanced:?} on the clock, {real:?} real"
            );
            assert!(
                empty_gone,
                "the empty day outlived the day with slots ({advanced:?} on the clock, {real:?} real)"
            );
        }
        assert!(
            advanced < TTL * 4 || real < TTL * 4,
            "no expiry seen after {advanced:?} on the clock and {real:?} real \
             (empty day expired: {empty_gone})"
        );
    }
}

/// A store that fails: lookups are answered by the source without an
/// error, the store is not asked again within
/// [`store_retry_after`](CacheConfig::store_retry_after) on the cache's
/// clock, and after it the cache works again.
pub async fn outage_bypass<C, F, Fut>(factory: F, clock: &FakeClock)
where
    C: CacheStore,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    let source = Counting::default();
    let tenant = fresh_tenant("outage");
    source.set(&tenant, 3);
    let config = CacheConfig {
        ttl: Duration::hours(1),
        store_retry_after: Duration::seconds(5),
        ..CacheConfig::default()
    };
    let window = StdDuration::from_secs(5);
    let store = Failing::new(factory().await);
    let switch = store.clone_switch();
    let cache = cache(&source, store, clock, config);
    assert_eq!(lookup(&cache, &tenant).await.len(), 3);
    assert_eq!(lookup(&cache, &tenant).await.len(), 3);
    assert_eq!(source.calls(), 1, "cached while the store works");

    switch.failing.store(true, Ordering::SeqCst);
    let asked = switch.asked.load(Ordering::SeqCst);
    assert_eq!(
        lookup(&cache, &tenant).await.len(),
        3,
        "answered from the source"
    );
    assert_eq!(source.calls(), 2, "a failing store is a miss");
    assert_eq!(
        switch.asked.load(Ordering::SeqCst),
        asked + 1,
        "one failed call, then the store is skipped for the rest of the lookup"
    );
    for round in 3..=5 {
        assert_eq!(lookup(&cache, &tenant).await.len(), 3);
        assert_eq!(source.calls(), round, "every lookup asks the source");
    }
    assert_eq!(
        switch.asked.load(Ordering::SeqCst),
        asked + 1,
        "within the retry window the store is not asked"
    );
    let stats = cache.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.source_errors),
        (1, 5, 0),
        "the outage shows as misses, not as errors"
    );

    // It recovers, but the window has not passed on the cache's clock.
    switch.failing.store(false, Ordering::SeqCst);
    clock.advance(window - StdDuration::from_millis(1));
    lookup(&cache, &tenant).await;
    assert_eq!(
        source.calls(),
        6,
        "still skipped just before the window ends"
    );
    clock.advance(StdDuration::from_millis(1));
    lookup(&cache, &tenant).await;
    assert!(
        switch.asked.load(Ordering::SeqCst) > asked + 1,
        "asked again once the window has passed"
    );
    let calls = source.calls();
    lookup(&cache, &tenant).await;
    lookup(&cache, &tenant).await;
    assert_eq!(source.calls(), calls, "cached again");
}

/// Fails every call while switched on; counts the calls that reach it.
#[derive(Debug)]
struct Failing<C> {
    inner: C,
    switch: Arc<Switch>,
}

#[derive(Debug, Default)]
struct Switch {
    failing: AtomicBool,
    asked: AtomicUsize,
}

impl<C: CacheStore> Failing<C> {
    fn new(inner: C) -> Self {
        Failing {
            inner,
            switch: Arc::default(),
        }
    }

    fn clone_switch(&self) -> Arc<Switch> {
        Arc::clone(&self.switch)
    }

    fn check(&self) -> Result<(), CacheStoreError> {
        self.switch.asked.fetch_add(1, Ordering::SeqCst);
        if self.switch.failing.load(Ordering::SeqCst) {
            Err(CacheStoreError::new("injected failure"))
        } else {
            Ok(())
        }
    }
}

impl<C: CacheStore> CacheStore for Failing<C> {
    async fn get(&self, key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
        self.check()?;
        self.inner.get(key).await
    }

    fn generation(&self, key: &CacheKey) -> Generation {
        self.inner.generation(key)
    }

    async fn put(
        &self,
        key: &CacheKey,
        slots: DaySlots,
        ttl: StdDuration,
        since: Generation,
    ) -> Result<bool, CacheStoreError> {
        self.check()?;
        self.inner.put(key, slots, ttl, since).await
    }

    async fn invalidate(&self, key: &CacheKey, hold: StdDuration) -> Result<(), CacheStoreError> {
        self.check()?;
        self.inner.invalidate(key, hold).await
    }

    async fn lock(&self, key: &CacheKey, ttl: StdDuration) -> Result<FetchLock, CacheStoreError> {
        self.check()?;
        self.inner.lock(key, ttl).await
    }

    async fn unlock(&self, key: &CacheKey, token: LockToken) -> Result<(), CacheStoreError> {
        self.check()?;
        self.inner.unlock(key, token).await
    }

    async fn wait(
        &self,
        key: &CacheKey,
        budget: StdDuration,
    ) -> Result<Option<DaySlots>, CacheStoreError> {
        self.check()?;
        self.inner.wait(key, budget).await
    }

    fn shard(&self, key: &CacheKey) -> u16 {
        self.inner.shard(key)
    }
}
