//! `SlotCache`: per-day free slots in front of an [`AvailabilitySource`],
//! kept in a [`CacheStore`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use parking_lot::Mutex;
use voxcal_core::{Clock, SystemClock};

use crate::hours::resolve_local;
use crate::source::{AvailabilitySource, Slot, SourceError, SourceErrorKind, TimeRange};
use crate::tenant::{EventTypeId, TenantId};

mod memory;
#[cfg(feature = "redis")]
mod redis_backend;
mod store;

pub use memory::MemoryCacheStore;
#[cfg(feature = "redis")]
pub use redis_backend::RedisCacheStore;
pub use store::{BoxCacheStore, CacheStore, CacheStoreError, FetchLock, Generation, LockToken};
use voxcal_core::OutageGate;

/// The free slots of one local day, shared between callers
/// (`Arc::from(vec)` makes one).
pub type DaySlots = Arc<[Slot]>;

/// Cache settings (the store's own settings, such as a key prefix or a
/// size bound, are on the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// How long a day with free slots stays cached (default 60 s).
    pub ttl: Duration,
    /// How long a day without free slots stays cached (default 15 s).
    pub empty_ttl: Duration,
    /// How long the fetch lock that makes one source call for all replicas
    /// lives (default 2 s); also how long an invalidation at least keeps
    /// fetches that were already under way from storing their answers.
    pub lock_ttl: Duration,
    /// How long a lookup waits for the lock holder's answer before it asks
    /// the source itself (default 1.5 s).
    pub lock_wait: Duration,
    /// After a failed store call, the store is skipped for this long (every
    /// lookup of that shard a miss), so an outage costs one failure per
    /// window, not one per lookup (default 1 s). On a Redis Cluster only the
    /// failing key slot (the tenant's) is skipped.
    pub store_retry_after: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            ttl: Duration::seconds(60),
            empty_ttl: Duration::seconds(15),
            lock_ttl: Duration::seconds(2),
            lock_wait: Duration::milliseconds(1500),
            store_retry_after: Duration::seconds(1),
        }
    }
}

/// A config duration for the store (a negative one is zero).
fn std_duration(d: Duration) -> std::time::Duration {
    d.to_std().unwrap_or_default()
}

/// One cache entry's identity: tenant, event type and local day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    tenant: TenantId,
    event_type: EventTypeId,
    day: NaiveDate,
}

impl CacheKey {
    /// The key of `day` of `event_type` of `tenant`.
    pub fn new(tenant: &TenantId, event_type: &EventTypeId, day: NaiveDate) -> Self {
        CacheKey {
            tenant: tenant.clone(),
            event_type: event_type.clone(),
            day,
        }
    }

    /// The tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The event type.
    pub fn event_type(&self) -> &EventTypeId {
        &self.event_type
    }

    /// The local day.
    pub fn day(&self) -> NaiveDate {
        self.day
    }

    /// The Redis key: `{prefix}:{<tenant>}:{event type}:{day}`; the tenant
    /// is the Cluster hash tag.
    ///
    /// ```
    /// use voxcal_appointment_finder::{CacheKey, EventTypeId, TenantId};
    /// use chrono::NaiveDate;
    /// let key = CacheKey::new(
    ///     &TenantId::new("acme").unwrap(),
    ///     &EventTypeId::from(42_u64),
    ///     NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
    /// );
    /// assert_eq!(key.redis_key("slots"), "slots:{acme}:42:2026-10-14");
    /// ```
    pub fn redis_key(&self, prefix: &str) -> String {
        format!(
            "{prefix}:{{{}}}:{}:{}",
            self.tenant,
            self.event_type,
            self.day.format("%Y-%m-%d")
        )
    }
}

/// Free slots per tenant, event type and local day, kept for a short time
/// in a [`CacheStore`]: in process memory ([`MemoryCacheStore`]), in Redis
/// (`RedisCacheStore`, feature `redis`) or in a store of your own.
///
/// - Keys always carry the tenant: tenant A never receives tenant B's
///   slots, even for identical event type ids.
/// - Days with slots live [`ttl`](CacheConfig::ttl) (60 s), empty days
///   [`empty_ttl`](CacheConfig::empty_ttl) (15 s).
/// - Concurrent misses of one key make one source call (single flight): in
///   the process through a per-key lock, across replicas through the
///   store's [`lock`](CacheStore::lock).
/// - A store failure is a miss: the source is asked, the caller gets slots,
///   and the failing shard of the store is skipped for
///   [`store_retry_after`](CacheConfig::store_retry_after) (on the cache's
///   [clock](Self::with_clock)).
/// - Call [`invalidate`](Self::invalidate) after a booking or cancellation.
///   A fetch already under way when the key is invalidated does not store
///   its (possibly older) answer.
///
/// The store type defaults to [`BoxCacheStore`], so caches over different
/// stores have one type ([`memory`](Self::memory), [`disabled`](Self::disabled),
/// [`boxed`](Self::boxed)); [`new`](Self::new) keeps the store's own type.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use voxcal_appointment_finder::{
///     BusinessHours, EventType, EventTypeId, FakeClock, InMemoryCalendar, SlotCache, Tenant,
///     TenantId,
/// };
/// use chrono::{Duration, NaiveDate, TimeZone, Utc};
///
/// let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap());
/// let calendar = InMemoryCalendar::new(clock.clone());
/// let tenant = Tenant::new(TenantId::new("praxis").unwrap(), BusinessHours::default());
/// calendar.add_tenant(&tenant);
/// let consult = EventTypeId::from(30_u64);
/// calendar.add_event_type(tenant.id(), consult.clone(), EventType::new(Duration::minutes(30))).unwrap();
///
/// let cache = SlotCache::memory(calendar.clone(), clock.clone());
/// let day = NaiveDate::from_ymd_opt(2026, 10, 12).unwrap();
/// let zone = tenant.hours().zone();
/// let slots = cache.day_slots(tenant.id(), &consult, day, zone).await.unwrap();
/// calendar.book(tenant.id(), &consult, slots[0].start).unwrap();
/// // Still cached ...
/// assert_eq!(cache.day_slots(tenant.id(), &consult, day, zone).await.unwrap().len(), 18);
/// // ... until invalidated.
/// cache.invalidate(tenant.id(), &consult, day).await;
/// assert_eq!(cache.day_slots(tenant.id(), &consult, day, zone).await.unwrap().len(), 17);
/// # });
/// ```
#[derive(Debug)]
pub struct SlotCache<S, C = BoxCacheStore> {
    source: S,
    store: C,
    config: CacheConfig,
    clock: Arc<dyn Clock>,
    gate: OutageGate,
    flights: Mutex<HashMap<CacheKey, Arc<tokio::sync::Mutex<()>>>>,
    counters: Counters,
}

/// How a [`SlotCache`] has answered so far (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups answered from the cache, including those that waited for
    /// another caller's fetch of the same day.
    pub hits: u64,
    /// Lookups that asked the source (a disabled or unreachable cache
    /// makes every lookup a miss).
    pub misses: u64,
    /// Source calls that failed.
    pub source_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    source_errors: AtomicU64,
}

impl Counters {
    fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }
}

impl<S> SlotCache<S> {
    /// A cache in process memory ([`MemoryCacheStore`]), expiring entries
    /// and timing outages by `clock`'s monotonic [`now`](Clock::now).
    pub fn memory(source: S, clock: impl Clock) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let store = BoxCacheStore::new(MemoryCacheStore::new(Arc::clone(&clock)));
        let mut cache = SlotCache::new(source, store);
        cache.clock = clock;
        cache
    }

    /// No caching: every lookup asks the source (concurrent identical
    /// lookups are still coalesced).
    pub fn disabled(source: S) -> Self {
        SlotCache::new(source, BoxCacheStore::disabled())
    }
}

impl<S, C> SlotCache<S, C> {
    /// A cache over `source`, keeping entries in `store`, with the default
    /// [`CacheConfig`], timing outages on the [`SystemClock`].
    pub fn new(source: S, store: C) -> Self {
        let config = CacheConfig::default();
        SlotCache {
            source,
            store,
            gate: OutageGate::new("slot cache", std_duration(config.store_retry_after)),
            config,
            clock: Arc::new(SystemClock),
            flights: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        }
    }

    /// Replaces the settings.
    pub fn with_config(mut self, config: CacheConfig) -> Self {
        self.gate = OutageGate::new("slot cache", std_duration(config.store_retry_after));
        self.config = config;
        self
    }

    /// Times the [`store_retry_after`](CacheConfig::store_retry_after)
    /// window on `clock` (tests cross it with a
    /// [`FakeClock`](voxcal_core::FakeClock)). A store reads its own clock
    /// for entry TTLs ([`MemoryCacheStore::new`]).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The same cache over a [`BoxCacheStore`], the type shared by caches
    /// over any store.
    pub fn boxed(self) -> SlotCache<S>
    where
        C: CacheStore,
    {
        SlotCache {
            source: self.source,
            store: BoxCacheStore::new(self.store),
            config: self.config,
            clock: self.clock,
            gate: self.gate,
            flights: self.flights,
            counters: self.counters,
        }
    }

    /// The source behind the cache.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The store.
    pub fn store(&self) -> &C {
        &self.store
    }

    /// The settings.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// Hits, misses and source errors since the cache was made.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use voxcal_appointment_finder::{
    ///     BusinessHours, EventType, EventTypeId, FakeClock, InMemoryCalendar, SlotCache, Tenant,
    ///     TenantId,
    /// };
    /// use chrono::{Duration, NaiveDate, TimeZone, Utc};
    ///
    /// let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap());
    /// let calendar = InMemoryCalendar::new(clock.clone());
    /// let tenant = Tenant::new(TenantId::new("praxis").unwrap(), BusinessHours::default());
    /// calendar.add_tenant(&tenant);
    /// let consult = EventTypeId::from(30_u64);
    /// calendar.add_event_type(tenant.id(), consult.clone(), EventType::new(Duration::minutes(30))).unwrap();
    /// let cache = SlotCache::memory(calendar, clock);
    /// let day = NaiveDate::from_ymd_opt(2026, 10, 12).unwrap();
    /// for _ in 0..3 {
    ///     cache.day_slots(tenant.id(), &consult, day, tenant.hours().zone()).await.unwrap();
    /// }
    /// let stats = cache.stats();
    /// assert_eq!((stats.hits, stats.misses), (2, 1));
    /// # });
    /// ```
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.counters.hits.load(Ordering::Relaxed),
            misses: self.counters.misses.load(Ordering::Relaxed),
            source_errors: self.counters.source_errors.load(Ordering::Relaxed),
        }
    }
}

impl<S: AvailabilitySource, C: CacheStore> SlotCache<S, C> {
    /// The free slots starting on local `day` (in `zone`) of `event_type`
    /// of `tenant`, from the cache or the source.
    pub async fn day_slots(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        day: NaiveDate,
        zone: Tz,
    ) -> Result<DaySlots, SourceError> {
        let key = CacheKey::new(tenant, event_type, day);
        let shard = self.store.shard(&key);
        if let Some(hit) = self.get(&key, shard).await {
            self.counters.hit();
            return Ok(hit);
        }
        self.known_failure(&key)?;
        let flight = Arc::clone(self.flights.lock().entry(key.clone()).or_default());
        let result = {
            let _running = flight.lock().await;
            self.fetch_once(&key, shard, zone).await
        };
        let mut flights = self.flights.lock();
        if flights
            .get(&key)
            .is_some_and(|current| Arc::ptr_eq(current, &flight))
        {
            flights.remove(&key);
        }
        result
    }

    /// Drops the cached slots of one day (after a booking or cancellation).
    pub async fn invalidate(&self, tenant: &TenantId, event_type: &EventTypeId, day: NaiveDate) {
        let key = CacheKey::new(tenant, event_type, day);
        let shard = self.store.shard(&key);
        let hold = std_duration(self.config.lock_ttl);
        self.call(&key, shard, "invalidation", || {
            self.store.invalidate(&key, hold)
        })
        .await;
    }

    /// Runs one store call for `key`, unless its shard is skipped after a
    /// recent failure; reports the result to the gate. `None`: no answer
    /// (logged: a failure at `warn`, a skip at `debug`, since the gate has
    /// already warned about the outage).
    async fn call<T, F, Fut>(
        &self,
        key: &CacheKey,
        shard: u16,
        what: &'static str,
        call: F,
    ) -> Option<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, CacheStoreError>>,
    {
        if self.gate.skips(shard, self.clock.now()) {
            tracing::debug!(tenant = %key.tenant(), what, "slot cache store skipped after a recent failure");
            return None;
        }
        match call().await {
            Ok(value) => {
                self.gate.record_success(shard, self.clock.now());
                Some(value)
            }
            Err(e) => {
                self.gate.record_failure(shard, self.clock.now(), &e);
                tracing::warn!(tenant = %key.tenant(), error = %e, what, "slot cache store call failed; the source answers");
                None
            }
        }
    }

    async fn get(&self, key: &CacheKey, shard: u16) -> Option<DaySlots> {
        self.call(key, shard, "read", || self.store.get(key))
            .await
            .flatten()
    }

    /// Fails at once, counted as a source error, when the source already
    /// knows that a fetch would fail.
    fn known_failure(&self, key: &CacheKey) -> Result<(), SourceError> {
        match self.source.known_failure(&key.tenant) {
            None => Ok(()),
            Some(err) => {
                self.counters.source_errors.fetch_add(1, Ordering::Relaxed);
                Err(err)
            }
        }
    }

    /// Runs with this process's flight lock for `key` held.
    async fn fetch_once(
        &self,
        key: &CacheKey,
        shard: u16,
        zone: Tz,
    ) -> Result<DaySlots, SourceError> {
        // Another task of this process may have filled it meanwhile, or the
        // source may have started to refuse (a breaker opened by the fetch
        // this one queued behind).
        if let Some(hit) = self.get(key, shard).await {
            self.counters.hit();
            return Ok(hit);
        }
        self.known_failure(key)?;
        let lock_ttl = std_duration(self.config.lock_ttl);
        let mut token = None;
        match self
            .call(key, shard, "lock", || self.store.lock(key, lock_ttl))
            .await
        {
            Some(FetchLock::Acquired(t)) => token = Some(t),
            Some(FetchLock::Busy) => {
                let budget = std_duration(self.config.lock_wait);
                let waited = self
                    .call(key, shard, "wait", || self.store.wait(key, budget))
                    .await;
                if let Some(Some(hit)) = waited {
                    self.counters.hit();
                    return Ok(hit);
                }
            }
            // Failed or skipped: fetch without the lock.
            None => {}
        }
        let since = self.store.generation(key);
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch(key, zone).await;
        match &result {
            Ok(slots) => {
                let ttl = std_duration(self.ttl_for(slots));
                let stored = self
                    .call(key, shard, "write", || {
                        self.store.put(key, Arc::clone(slots), ttl, since)
                    })
                    .await;
                if stored == Some(false) {
                    tracing::debug!(tenant = %key.tenant(), "slot cache write skipped after an invalidation");
                }
            }
            Err(_) => {
                self.counters.source_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(token) = token {
            self.call(key, shard, "unlock", || self.store.unlock(key, token))
                .await;
        }
        result
    }

    fn ttl_for(&self, slots: &[Slot]) -> Duration {
        if slots.is_empty() {
            self.config.empty_ttl
        } else {
            self.config.ttl
        }
    }

    async fn fetch(&self, key: &CacheKey, zone: Tz) -> Result<DaySlots, SourceError> {
        let range = day_range(key.day, zone).ok_or_else(|| {
            SourceError::new(SourceErrorKind::Rejected, "day outside the supported range")
        })?;
        let mut slots = self
            .source
            .free_slots(&key.tenant, &key.event_type, range)
            .await?;
        slots.retain(|s| range.contains(s.start));
        slots.sort();
        slots.dedup();
        Ok(slots.into())
    }
}

/// The instants of local `day` in `zone`: `[midnight, next midnight)`.
pub(crate) fn day_range(day: NaiveDate, zone: Tz) -> Option<TimeRange> {
    let start = resolve_local(zone, day.and_time(NaiveTime::MIN))?.0;
    let end = resolve_local(zone, day.succ_opt()?.and_time(NaiveTime::MIN))?.0;
    Some(TimeRange::new(start, end))
}
