//! The contract between a [`SlotCache`](crate::SlotCache) and where it keeps
//! its entries.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use voxcal_core::{Lang, UserMessage};

use super::{CacheKey, DaySlots};

/// How often [`CacheStore::wait`]'s default looks for the holder's result.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Where a [`SlotCache`](crate::SlotCache) keeps its entries: the atomic
/// per-key work, while the cache keeps the algorithm (which TTL a day gets,
/// single flight in the process and across replicas, skipping a failing
/// store for a while, counters).
///
/// Implementations: [`MemoryCacheStore`](crate::MemoryCacheStore) (one
/// process), `RedisCacheStore` (feature `redis`, shared by replicas) and
/// [`BoxCacheStore`] (either, chosen at runtime). Clones or instances that
/// share state act as replicas of one cache: an entry one of them
/// [`put`](Self::put)s is seen by the others, and a [`lock`](Self::lock)
/// taken by one is [`Busy`](FetchLock::Busy) for the others. The
/// `conformance` feature ships the tests every store must pass
/// (`voxcal_appointment_finder::conformance`).
///
/// An error means "no answer from the store": the cache then asks the
/// source, answers the caller, and skips the store for the key's
/// [`shard`](Self::shard) for [`CacheConfig::store_retry_after`](crate::CacheConfig::store_retry_after).
/// A store bounds its own calls (a Redis command timeout, say) and reports
/// a slow call as an error.
///
/// A complete store over one `Mutex<HashMap>` (time from a
/// [`Clock`](voxcal_core::Clock), so tests can move it):
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use std::time::{Duration, Instant};
///
/// use voxcal_appointment_finder::{
///     CacheKey, CacheStore, CacheStoreError, Clock, DaySlots, FetchLock, Generation, LockToken,
/// };
///
/// #[derive(Debug, Default)]
/// struct State {
///     entries: HashMap<CacheKey, (DaySlots, Instant)>,
///     /// Invalidations per key, the key's generation.
///     invalidated: HashMap<CacheKey, u64>,
///     locks: HashMap<CacheKey, (u64, Instant)>,
///     next_token: u64,
/// }
///
/// #[derive(Debug, Clone)]
/// struct MapStore {
///     clock: Arc<dyn Clock>,
///     state: Arc<Mutex<State>>,
/// }
///
/// impl MapStore {
///     fn state(&self) -> Result<std::sync::MutexGuard<'_, State>, CacheStoreError> {
///         self.state.lock().map_err(|_| CacheStoreError::new("state poisoned"))
///     }
/// }
///
/// impl CacheStore for MapStore {
///     async fn get(&self, key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
///         let now = self.clock.now();
///         let state = self.state()?;
///         Ok(state.entries.get(key).filter(|(_, until)| *until > now).map(|(s, _)| s.clone()))
///     }
///
///     fn generation(&self, key: &CacheKey) -> Generation {
///         let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
///         Generation::new(state.invalidated.get(key).copied().unwrap_or(0))
///     }
///
///     async fn put(
///         &self,
///         key: &CacheKey,
///         slots: DaySlots,
///         ttl: Duration,
///         since: Generation,
///     ) -> Result<bool, CacheStoreError> {
///         let until = self.clock.now() + ttl;
///         let mut state = self.state()?;
///         if state.invalidated.get(key).copied().unwrap_or(0) > since.get() {
///             return Ok(false); // invalidated while the answer was fetched
///         }
///         state.entries.insert(key.clone(), (slots, until));
///         Ok(true)
///     }
///
///     async fn invalidate(&self, key: &CacheKey, _hold: Duration) -> Result<(), CacheStoreError> {
///         let mut state = self.state()?;
///         state.entries.remove(key);
///         *state.invalidated.entry(key.clone()).or_default() += 1;
///         Ok(())
///     }
///
///     async fn lock(&self, key: &CacheKey, ttl: Duration) -> Result<FetchLock, CacheStoreError> {
///         let now = self.clock.now();
///         let mut state = self.state()?;
///         if state.locks.get(key).is_some_and(|(_, until)| *until > now) {
///             return Ok(FetchLock::Busy);
///         }
///         state.next_token += 1;
///         let token = state.next_token;
///         state.locks.insert(key.clone(), (token, now + ttl));
///         Ok(FetchLock::Acquired(LockToken::new(token)))
///     }
///
///     async fn unlock(&self, key: &CacheKey, token: LockToken) -> Result<(), CacheStoreError> {
///         let mut state = self.state()?;
///         if state.locks.get(key).is_some_and(|(t, _)| *t == token.get()) {
///             state.locks.remove(key);
///         }
///         Ok(())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use voxcal_appointment_finder::{EventTypeId, FakeClock, InMemoryCalendar, SlotCache, TenantId};
/// use chrono::NaiveDate;
///
/// let clock = FakeClock::new();
/// let store = MapStore { clock: Arc::new(clock.clone()), state: Arc::default() };
/// let cache = SlotCache::new(InMemoryCalendar::new(clock.clone()), store).with_clock(clock);
/// let day = NaiveDate::from_ymd_opt(2026, 10, 12).unwrap();
/// let tenant = TenantId::new("praxis").unwrap();
/// // The calendar does not know the tenant: a source error, nothing stored.
/// assert!(cache.day_slots(&tenant, &EventTypeId::from(30_u64), day, chrono_tz::UTC).await.is_err());
/// # });
/// ```
pub trait CacheStore: Send + Sync + fmt::Debug + 'static {
    /// The entry of `key`, if there is one that has not expired.
    fn get(
        &self,
        key: &CacheKey,
    ) -> impl Future<Output = Result<Option<DaySlots>, CacheStoreError>> + Send;

    /// The generation of `key` now: the cache reads it before it asks the
    /// source and hands it to [`put`](Self::put).
    ///
    /// Stores that count invalidations per key (or globally) return the
    /// count; stores that recognise an invalidation by a marker's lifetime
    /// instead (Redis, across replicas) keep the default, [`Generation::ZERO`].
    fn generation(&self, key: &CacheKey) -> Generation {
        let _ = key;
        Generation::ZERO
    }

    /// Stores `slots` for `key`, living `ttl`, unless `key` was
    /// [`invalidate`](Self::invalidate)d after [`generation`](Self::generation)
    /// returned `since` (the answer may predate the booking that caused the
    /// invalidation). A store may also skip the write while an
    /// invalidation's marker lives (its `hold`). Returns whether it stored.
    fn put(
        &self,
        key: &CacheKey,
        slots: DaySlots,
        ttl: Duration,
        since: Generation,
    ) -> impl Future<Output = Result<bool, CacheStoreError>> + Send;

    /// Drops the entry of `key` and remembers the invalidation for at least
    /// `hold`, so that a fetch already under way does not
    /// [`put`](Self::put) its older answer.
    fn invalidate(
        &self,
        key: &CacheKey,
        hold: Duration,
    ) -> impl Future<Output = Result<(), CacheStoreError>> + Send;

    /// Takes the fetch lock of `key` for `ttl`, if no one holds it: the
    /// holder asks the source, the others [`wait`](Self::wait) for its
    /// answer. A lock whose `ttl` has passed is free again.
    fn lock(
        &self,
        key: &CacheKey,
        ttl: Duration,
    ) -> impl Future<Output = Result<FetchLock, CacheStoreError>> + Send;

    /// Releases the lock of `key` if it still holds `token` (it may have
    /// expired and been taken by another replica meanwhile).
    fn unlock(
        &self,
        key: &CacheKey,
        token: LockToken,
    ) -> impl Future<Output = Result<(), CacheStoreError>> + Send;

    /// Waits up to `budget` for the holder of `key`'s lock to
    /// [`put`](Self::put) its answer, and returns it; `None` when the
    /// budget ran out or the lock went without an answer (the holder's
    /// fetch failed), so the caller asks the source itself.
    ///
    /// This waits for real work, possibly of another process, so it runs
    /// on Tokio's timer. The default looks every 10 ms with
    /// [`get`](Self::get) until `budget` has passed; stores that can tell
    /// when the lock goes stop earlier.
    fn wait(
        &self,
        key: &CacheKey,
        budget: Duration,
    ) -> impl Future<Output = Result<Option<DaySlots>, CacheStoreError>> + Send {
        async move {
            let deadline = tokio::time::Instant::now() + budget;
            loop {
                if let Some(hit) = self.get(key).await? {
                    return Ok(Some(hit));
                }
                if tokio::time::Instant::now() >= deadline {
                    return Ok(None);
                }
                tokio::time::sleep(POLL_EVERY).await;
            }
        }
    }

    /// Which part of the store `key` lives on, for skipping only the
    /// failing part during an outage (a Redis Cluster's key slot). The
    /// default, one part, skips the whole store.
    fn shard(&self, key: &CacheKey) -> u16 {
        let _ = key;
        0
    }
}

/// What [`CacheStore::generation`] returned before a fetch; see
/// [`CacheStore::put`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Generation(u64);

impl Generation {
    /// The generation of a store that does not count invalidations.
    pub const ZERO: Generation = Generation(0);

    /// Generation `value` (e.g. how many invalidations the key has seen).
    pub const fn new(value: u64) -> Self {
        Generation(value)
    }

    /// The value.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// Proof of holding a fetch lock, returned by [`CacheStore::lock`] and
/// handed back to [`CacheStore::unlock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LockToken(u64);

impl LockToken {
    /// A token with `value`; it should be unique among the lock's holders
    /// (a random or counted number).
    pub const fn new(value: u64) -> Self {
        LockToken(value)
    }

    /// The value.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// The answer of [`CacheStore::lock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchLock {
    /// Taken: ask the source, [`put`](CacheStore::put), then
    /// [`unlock`](CacheStore::unlock) with this token.
    Acquired(LockToken),
    /// Someone else holds it: [`wait`](CacheStore::wait) for their answer.
    Busy,
}

/// A [`CacheStore`] call that gave no answer (unreachable, timed out,
/// unreadable). The cache treats it as a miss; callers never see it.
///
/// ```
/// use voxcal_appointment_finder::{CacheStoreError, Lang, UserMessage};
/// let err = CacheStoreError::new("connection refused");
/// assert_eq!(err.to_string(), "slot cache store failed: connection refused");
/// assert!(err.user_message(Lang::En).contains("calendar"));
/// ```
#[derive(Debug)]
pub struct CacheStoreError {
    source: Box<dyn StdError + Send + Sync>,
}

impl CacheStoreError {
    /// An error caused by `source` (its text is logged; it must not carry
    /// personal data).
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        CacheStoreError {
            source: source.into(),
        }
    }
}

impl fmt::Display for CacheStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "slot cache store failed: {}", self.source)
    }
}

impl StdError for CacheStoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// Callers never see it (the cache asks the source instead); should one
/// surface, it is a calendar hiccup.
impl UserMessage for CacheStoreError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        Cow::Borrowed(match lang {
            Lang::En => "I cannot check the calendar right now.",
            _ => "Ich kann den Kalender gerade leider nicht prüfen.",
        })
    }
}

#[cfg(feature = "redis")]
impl From<redis::RedisError> for CacheStoreError {
    fn from(e: redis::RedisError) -> Self {
        CacheStoreError::new(e)
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`CacheStore`] with boxed futures, so stores of different types fit
/// one [`BoxCacheStore`].
trait DynCacheStore: Send + Sync + fmt::Debug {
    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
    ) -> BoxFuture<'a, Result<Option<DaySlots>, CacheStoreError>>;
    fn generation(&self, key: &CacheKey) -> Generation;
    fn put<'a>(
        &'a self,
        key: &'a CacheKey,
        slots: DaySlots,
        ttl: Duration,
        since: Generation,
    ) -> BoxFuture<'a, Result<bool, CacheStoreError>>;
    fn invalidate<'a>(
        &'a self,
        key: &'a CacheKey,
        hold: Duration,
    ) -> BoxFuture<'a, Result<(), CacheStoreError>>;
    fn lock<'a>(
        &'a self,
        key: &'a CacheKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<FetchLock, CacheStoreError>>;
    fn unlock<'a>(
        &'a self,
        key: &'a CacheKey,
        token: LockToken,
    ) -> BoxFuture<'a, Result<(), CacheStoreError>>;
    fn wait<'a>(
        &'a self,
        key: &'a CacheKey,
        budget: Duration,
    ) -> BoxFuture<'a, Result<Option<DaySlots>, CacheStoreError>>;
    fn shard(&self, key: &CacheKey) -> u16;
}

impl<T: CacheStore> DynCacheStore for T {
    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
    ) -> BoxFuture<'a, Result<Option<DaySlots>, CacheStoreError>> {
        Box::pin(CacheStore::get(self, key))
    }

    fn generation(&self, key: &CacheKey) -> Generation {
        CacheStore::generation(self, key)
    }

    fn put<'a>(
        &'a self,
        key: &'a CacheKey,
        slots: DaySlots,
        ttl: Duration,
        since: Generation,
    ) -> BoxFuture<'a, Result<bool, CacheStoreError>> {
        Box::pin(CacheStore::put(self, key, slots, ttl, since))
    }

    fn invalidate<'a>(
        &'a self,
        key: &'a CacheKey,
        hold: Duration,
    ) -> BoxFuture<'a, Result<(), CacheStoreError>> {
        Box::pin(CacheStore::invalidate(self, key, hold))
    }

    fn lock<'a>(
        &'a self,
        key: &'a CacheKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<FetchLock, CacheStoreError>> {
        Box::pin(CacheStore::lock(self, key, ttl))
    }

    fn unlock<'a>(
        &'a self,
        key: &'a CacheKey,
        token: LockToken,
    ) -> BoxFuture<'a, Result<(), CacheStoreError>> {
        Box::pin(CacheStore::unlock(self, key, token))
    }

    fn wait<'a>(
        &'a self,
        key: &'a CacheKey,
        budget: Duration,
    ) -> BoxFuture<'a, Result<Option<DaySlots>, CacheStoreError>> {
        Box::pin(CacheStore::wait(self, key, budget))
    }

    fn shard(&self, key: &CacheKey) -> u16 {
        CacheStore::shard(self, key)
    }
}

/// Any [`CacheStore`], chosen at runtime: the default store type of
/// [`SlotCache`](crate::SlotCache), so caches over memory, Redis or a store
/// of your own have one type. Cheap to clone; clones share the store.
///
/// ```
/// use voxcal_appointment_finder::{BoxCacheStore, FakeClock, MemoryCacheStore};
/// let per_tenant: Vec<BoxCacheStore> = vec![
///     BoxCacheStore::new(MemoryCacheStore::new(FakeClock::new())),
///     BoxCacheStore::disabled(),
/// ];
/// assert_eq!(per_tenant.len(), 2);
/// ```
#[derive(Clone)]
pub struct BoxCacheStore(Arc<dyn DynCacheStore>);

impl BoxCacheStore {
    /// Boxes `store`.
    pub fn new(store: impl CacheStore) -> Self {
        BoxCacheStore(Arc::new(store))
    }

    /// A store that keeps nothing: every lookup asks the source (the cache
    /// still coalesces concurrent lookups of one day in the process).
    pub fn disabled() -> Self {
        BoxCacheStore::new(Disabled)
    }
}

impl fmt::Debug for BoxCacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BoxCacheStore").field(&self.0).finish()
    }
}

impl CacheStore for BoxCacheStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
        self.0.get(key).await
    }

    fn generation(&self, key: &CacheKey) -> Generation {
        self.0.generation(key)
    }

    async fn put(
        &self,
        key: &CacheKey,
        slots: DaySlots,
        ttl: Duration,
        since: Generation,
    ) -> Result<bool, CacheStoreError> {
        self.0.put(key, slots, ttl, since).await
    }

    async fn invalidate(&self, key: &CacheKey, hold: Duration) -> Result<(), CacheStoreError> {
        self.0.invalidate(key, hold).await
    }

    async fn lock(&self, key: &CacheKey, ttl: Duration) -> Result<FetchLock, CacheStoreError> {
        self.0.lock(key, ttl).await
    }

    async fn unlock(&self, key: &CacheKey, token: LockToken) -> Result<(), CacheStoreError> {
        self.0.unlock(key, token).await
    }

    async fn wait(
        &self,
        key: &CacheKey,
        budget: Duration,
    ) -> Result<Option<DaySlots>, CacheStoreError> {
        self.0.wait(key, budget).await
    }

    fn shard(&self, key: &CacheKey) -> u16 {
        self.0.shard(key)
    }
}

/// Keeps nothing ([`BoxCacheStore::disabled`]).
#[derive(Debug, Clone, Copy)]
struct Disabled;

impl CacheStore for Disabled {
    async fn get(&self, _key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
        Ok(None)
    }

    async fn put(
        &self,
        _key: &CacheKey,
        _slots: DaySlots,
        _ttl: Duration,
        _since: Generation,
    ) -> Result<bool, CacheStoreError> {
        Ok(false)
    }

    async fn invalidate(&self, _key: &CacheKey, _hold: Duration) -> Result<(), CacheStoreError> {
        Ok(())
    }

    /// Always granted: nothing is shared, so nothing to wait for.
    async fn lock(&self, _key: &CacheKey, _ttl: Duration) -> Result<FetchLock, CacheStoreError> {
        Ok(FetchLock::Acquired(LockToken::new(0)))
    }

    async fn unlock(&self, _key: &CacheKey, _token: LockToken) -> Result<(), CacheStoreError> {
        Ok(())
    }

    async fn wait(
        &self,
        _key: &CacheKey,
        _budget: Duration,
    ) -> Result<Option<DaySlots>, CacheStoreError> {
        Ok(None)
    }
}
