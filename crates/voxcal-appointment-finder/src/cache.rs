//! `SlotCache`: per-day free slots in front of an [`AvailabilitySource`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use parking_lot::Mutex;
use voxcal_core::Clock;

use crate::hours::resolve_local;
use crate::source::{AvailabilitySource, Slot, SourceError, SourceErrorKind, TimeRange};
use crate::tenant::{EventTypeId, TenantId};

#[cfg(feature = "redis")]
mod redis_backend;

#[cfg(feature = "redis")]
pub use redis_backend::RedisCacheBackend;

/// The free slots of one local day, shared between callers.
pub type DaySlots = Arc<[Slot]>;

/// Cache settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Key prefix (default `"slots"`).
    pub prefix: String,
    /// How long a day with free slots stays cached (default 60 s).
    pub ttl: Duration,
    /// How long a day without free slots stays cached (default 15 s).
    pub empty_ttl: Duration,
    /// Most entries the memory backend keeps (default 10 000); expired
    /// entries go first, then those closest to expiry.
    pub max_entries: usize,
    /// Redis only: how long the cross-replica fetch lock lives (default 2 s).
    pub lock_ttl: Duration,
    /// Redis only: how long a replica waits for another replica's fetch
    /// before asking the source itself (default 1.5 s).
    pub lock_wait: Duration,
    /// Redis only: the longest one Redis command may take before it counts
    /// as failed (default 250 ms).
    pub redis_timeout: Duration,
    /// Redis only: after a failed command, Redis is skipped (every lookup a
    /// miss) for this long, so an outage costs one timeout, not one per
    /// lookup (default 1 s). On a Cluster only the failing key slot (the
    /// tenant's) is skipped.
    pub redis_retry_after: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            prefix: "slots".to_owned(),
            ttl: Duration::seconds(60),
            empty_ttl: Duration::seconds(15),
            max_entries: 10_000,
            lock_ttl: Duration::seconds(2),
            lock_wait: Duration::milliseconds(1500),
            redis_timeout: Duration::milliseconds(250),
            redis_retry_after: Duration::seconds(1),
        }
    }
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

#[derive(Debug)]
struct MemoryEntry {
    /// `None` for an invalidation marker.
    slots: Option<DaySlots>,
    expires: Instant,
    /// The epoch of the last invalidation of this key.
    invalidated: u64,
}

#[derive(Debug)]
struct MemoryBackend {
    clock: Arc<dyn Clock>,
    max_entries: usize,
    epoch: AtomicU64,
    entries: Mutex<HashMap<CacheKey, MemoryEntry>>,
}

/// `now + ttl` on the monotonic clock (a negative TTL is zero; one too
/// long for an `Instant` is a year).
fn expiry(now: Instant, ttl: Duration) -> Instant {
    const YEAR: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);
    now.checked_add(ttl.to_std().unwrap_or_default())
        .or_else(|| now.checked_add(YEAR))
        .unwrap_or(now)
}

impl MemoryBackend {
    fn get(&self, key: &CacheKey) -> Option<DaySlots> {
        let now = self.clock.now();
        let entries = self.entries.lock();
        entries
            .get(key)
            .filter(|e| e.expires > now)
            .and_then(|e| e.slots.clone())
    }

    /// The epoch a fetch starts in; see [`put`](Self::put).
    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Stores a fetch's answer, unless the key was invalidated after the
    /// fetch started (its answer may predate the booking).
    fn put(&self, key: CacheKey, slots: DaySlots, ttl: Duration, started: u64) {
        let now = self.clock.now();
        let mut entries = self.entries.lock();
        if entries.get(&key).is_some_and(|e| e.invalidated > started) {
            return;
        }
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.retain(|_, e| e.expires > now);
            while entries.len() >= self.max_entries.max(1) {
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
            key,
            MemoryEntry {
                slots: Some(slots),
                expires: expiry(now, ttl),
                invalidated: 0,
            },
        );
    }

    /// Drops the entry and leaves a marker (living one TTL) so that a fetch
    /// already under way does not store its older answer.
    fn invalidate(&self, key: &CacheKey, ttl: Duration) {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let expires = expiry(self.clock.now(), ttl);
        self.entries.lock().insert(
            key.clone(),
            MemoryEntry {
                slots: None,
                expires,
                invalidated: epoch,
            },
        );
    }
}

#[derive(Debug)]
enum Backend {
    Disabled,
    Memory(MemoryBackend),
    #[cfg(feature = "redis")]
    Redis(RedisCacheBackend),
}

/// Free slots per tenant, event type and local day, cached in memory or in
/// Redis (feature `redis`) for a short time.
///
/// - Keys always carry the tenant: tenant A never receives tenant B's
///   slots, even for identical event type ids.
/// - Days with slots live [`ttl`](CacheConfig::ttl) (60 s), empty days
///   [`empty_ttl`](CacheConfig::empty_ttl) (15 s).
/// - Concurrent misses of one key make one source call (single-flight); on
///   Redis also across replicas, through a short `SET NX PX` lock.
/// - A cache failure is a miss: the source is asked, the caller gets slots.
/// - Call [`invalidate`](Self::invalidate) after a booking or cancellation.
///   A fetch already under way when the key is invalidated does not store
///   its (possibly older) answer: in memory the invalidation leaves a
///   marker; on Redis a marker key lives [`lock_ttl`](CacheConfig::lock_ttl),
///   during which answers for that day are served but not stored.
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
pub struct SlotCache<S> {
    source: S,
    backend: Backend,
    config: CacheConfig,
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

impl<S: AvailabilitySource> SlotCache<S> {
    /// A cache in process memory, expiring by `clock`'s monotonic
    /// [`now`](Clock::now).
    pub fn memory(source: S, clock: impl Clock) -> Self {
        Self::memory_with_config(source, clock, CacheConfig::default())
    }

    /// A memory cache with explicit settings.
    pub fn memory_with_config(source: S, clock: impl Clock, config: CacheConfig) -> Self {
        SlotCache {
            source,
            backend: Backend::Memory(MemoryBackend {
                clock: Arc::new(clock),
                max_entries: config.max_entries,
                epoch: AtomicU64::new(0),
                entries: Mutex::new(HashMap::new()),
            }),
            config,
            flights: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        }
    }

    /// No caching: every lookup asks the source (concurrent identical
    /// lookups are still coalesced).
    pub fn disabled(source: S) -> Self {
        SlotCache {
            source,
            backend: Backend::Disabled,
            config: CacheConfig::default(),
            flights: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        }
    }

    /// A cache in Redis (standalone or Cluster), shared by all replicas.
    ///
    /// `backend`'s outage gate skips a failing slot for `config`'s
    /// [`redis_retry_after`](CacheConfig::redis_retry_after).
    #[cfg(feature = "redis")]
    pub fn redis(source: S, backend: RedisCacheBackend, config: CacheConfig) -> Self {
        SlotCache {
            source,
            backend: Backend::Redis(backend.configured(&config)),
            config,
            flights: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        }
    }

    /// The source behind the cache.
    pub fn source(&self) -> &S {
        &self.source
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
        if let Some(hit) = self.get(&key).await {
            self.counters.hit();
            return Ok(hit);
        }
        self.known_failure(&key)?;
        let flight = Arc::clone(self.flights.lock().entry(key.clone()).or_default());
        let result = {
            let _running = flight.lock().await;
            self.fetch_once(&key, zone).await
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
        match &self.backend {
            Backend::Disabled => {}
            Backend::Memory(memory) => memory.invalidate(&key, self.config.ttl),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.invalidate(&key, &self.config).await,
        }
    }

    async fn get(&self, key: &CacheKey) -> Option<DaySlots> {
        match &self.backend {
            Backend::Disabled => None,
            Backend::Memory(memory) => memory.get(key),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.get(key, &self.config).await,
        }
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
    async fn fetch_once(&self, key: &CacheKey, zone: Tz) -> Result<DaySlots, SourceError> {
        // Another task of this process may have filled it meanwhile, or the
        // source may have started to refuse (a breaker opened by the fetch
        // this one queued behind).
        if let Some(hit) = self.get(key).await {
            self.counters.hit();
            return Ok(hit);
        }
        self.known_failure(key)?;
        #[cfg(feature = "redis")]
        let mut token = None;
        #[cfg(feature = "redis")]
        if let Backend::Redis(redis) = &self.backend {
            match redis.acquire(key, &self.config).await {
                redis_backend::Lock::Acquired(t) => token = Some(t),
                redis_backend::Lock::Busy => {
                    if let Some(hit) = redis.wait_for(key, &self.config).await {
                        self.counters.hit();
                        return Ok(hit);
                    }
                }
                redis_backend::Lock::Failed => {}
            }
        }
        let started = match &self.backend {
            Backend::Memory(memory) => memory.epoch(),
            _ => 0,
        };
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch(key, zone).await;
        if result.is_err() {
            self.counters.source_errors.fetch_add(1, Ordering::Relaxed);
        }
        match (&result, &self.backend) {
            (_, Backend::Disabled) | (Err(_), _) => {}
            (Ok(slots), Backend::Memory(memory)) => {
                memory.put(key.clone(), Arc::clone(slots), self.ttl_for(slots), started);
            }
            #[cfg(feature = "redis")]
            (Ok(slots), Backend::Redis(redis)) => {
                redis
                    .put(key, slots, self.ttl_for(slots), &self.config)
                    .await;
            }
        }
        #[cfg(feature = "redis")]
        if let (Backend::Redis(redis), Some(token)) = (&self.backend, token) {
            redis.release(key, &token, &self.config).await;
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
