//! The Redis store of the slot cache (feature `redis`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::{Cmd, FromRedisValue, RedisError, RedisResult, ScriptInvocation};
use voxcal_core::redis::{LuaScript, RedisConnection};

use super::store::{CacheStore, CacheStoreError, FetchLock, Generation, LockToken};
use super::{CacheKey, DaySlots};
use crate::source::Slot;

/// Deletes the fetch lock only if it still holds our token.
static RELEASE: LuaScript = LuaScript::new(include_str!("release.lua"));

/// Drops an entry and marks it invalidated for a short while.
static INVALIDATE: LuaScript = LuaScript::new(include_str!("invalidate.lua"));

/// Stores an entry unless it was invalidated moments ago.
static PUT: LuaScript = LuaScript::new(include_str!("put.lua"));

/// How often a waiting replica looks for the other replica's result.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// Default of [`RedisCacheStore::with_timeout`].
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// The slot cache in Redis, on a standalone server or a Cluster
/// ([`RedisConnection`]), shared by every replica.
///
/// Keys are `{prefix}:{<tenant>}:{event type}:{day}`
/// ([`CacheKey::redis_key`]), with `:lock` and `:invalidated` beside them;
/// the tenant is the hash tag, so on a Cluster a tenant's keys live on one
/// node, and [`shard`](CacheStore::shard) is the key slot, so an outage of
/// one node makes only its tenants go without the cache. TTLs are Redis
/// server time (`PX`). A write and an invalidation are one Lua script each;
/// the fetch lock is `SET NX PX` with a random token, released by a script
/// that checks the token.
///
/// Invalidation leaves a marker living the `hold` the cache passes
/// ([`lock_ttl`](crate::CacheConfig::lock_ttl)); while it lives, answers
/// for that day are served but not stored (this store does not count
/// [`Generation`]s). Each command may take at most
/// [`with_timeout`](Self::with_timeout) (default 250 ms, on top of the
/// connection's own response timeout); a slower one is an error, which the
/// cache turns into a miss.
///
/// ```no_run
/// # async fn run() -> redis::RedisResult<()> {
/// use voxcal_appointment_finder::{InMemoryCalendar, RedisCacheStore, SlotCache, SystemClock};
/// use voxcal_core::redis::RedisConnection;
///
/// let conn = RedisConnection::connect("redis://127.0.0.1:6379/").await?;
/// let store = RedisCacheStore::new(conn).with_prefix("slots");
/// let cache = SlotCache::new(InMemoryCalendar::new(SystemClock), store);
/// # drop(cache); Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisCacheStore {
    conn: RedisConnection,
    prefix: Arc<str>,
    timeout: Duration,
}

impl fmt::Debug for RedisCacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCacheStore")
            .field("conn", &self.conn)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisCacheStore {
    /// A store on `conn` (standalone or Cluster) under the prefix `"slots"`.
    pub fn new(conn: RedisConnection) -> Self {
        RedisCacheStore {
            conn,
            prefix: Arc::from("slots"),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Puts every key under `prefix` (default `"slots"`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// The longest one Redis command may take before it counts as failed
    /// (default 250 ms).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Runs one Redis call with the configured timeout.
    async fn timed<T>(
        &self,
        call: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, CacheStoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(CacheStoreError::from),
            Err(_) => Err(CacheStoreError::from(RedisError::from(
                std::io::Error::new(std::io::ErrorKind::TimedOut, "redis command timed out"),
            ))),
        }
    }

    async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, CacheStoreError> {
        let mut conn = self.conn.clone();
        self.timed(async move { cmd.query_async(&mut conn).await })
            .await
    }

    async fn script<T: FromRedisValue>(
        &self,
        script: &'static LuaScript,
        keys: &[String],
        args: &[String],
    ) -> Result<T, CacheStoreError> {
        let mut invocation: ScriptInvocation<'static> = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        let mut conn = self.conn.clone();
        self.timed(async move { invocation.invoke_async(&mut conn).await })
            .await
    }

    fn entry_key(&self, key: &CacheKey) -> String {
        key.redis_key(&self.prefix)
    }

    fn marker_key(&self, key: &CacheKey) -> String {
        let mut k = self.entry_key(key);
        k.push_str(":invalidated");
        k
    }

    fn lock_key(&self, key: &CacheKey) -> String {
        let mut k = self.entry_key(key);
        k.push_str(":lock");
        k
    }
}

/// Milliseconds for `PX` (at least 1: Redis refuses 0).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl CacheStore for RedisCacheStore {
    /// An unreadable entry is a miss (logged), not an error.
    async fn get(&self, key: &CacheKey) -> Result<Option<DaySlots>, CacheStoreError> {
        let entry = self.entry_key(key);
        let text: Option<String> = self.query(redis::cmd("GET").arg(&entry)).await?;
        Ok(text.and_then(|text| {
            let slots = decode(&text);
            if slots.is_none() {
                tracing::warn!(tenant = %key.tenant(), "unreadable slot cache entry ignored");
            }
            slots
        }))
    }

    async fn put(
        &self,
        key: &CacheKey,
        slots: DaySlots,
        ttl: Duration,
        _since: Generation,
    ) -> Result<bool, CacheStoreError> {
        let keys = [self.entry_key(key), self.marker_key(key)];
        let args = [encode(&slots), millis(ttl).to_string()];
        let stored: i64 = self.script(&PUT, &keys, &args).await?;
        Ok(stored == 1)
    }

    async fn invalidate(&self, key: &CacheKey, hold: Duration) -> Result<(), CacheStoreError> {
        let keys = [self.entry_key(key), self.marker_key(key)];
        let args = [millis(hold).to_string()];
        let _: i64 = self.script(&INVALIDATE, &keys, &args).await?;
        Ok(())
    }

    async fn lock(&self, key: &CacheKey, ttl: Duration) -> Result<FetchLock, CacheStoreError> {
        let token = voxcal_core::random_u64();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.lock_key(key))
            .arg(format!("{token:016x}"))
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        let set: Option<String> = self.query(&cmd).await?;
        Ok(match set {
            Some(_) => FetchLock::Acquired(LockToken::new(token)),
            None => FetchLock::Busy,
        })
    }

    async fn unlock(&self, key: &CacheKey, token: LockToken) -> Result<(), CacheStoreError> {
        let keys = [self.lock_key(key)];
        let args = [format!("{:016x}", token.get())];
        let _: i64 = self.script(&RELEASE, &keys, &args).await?;
        Ok(())
    }

    /// Polls every 20 ms; stops early when the lock is gone (the holder's
    /// fetch failed).
    async fn wait(
        &self,
        key: &CacheKey,
        budget: Duration,
    ) -> Result<Option<DaySlots>, CacheStoreError> {
        let start = tokio::time::Instant::now();
        let lock = self.lock_key(key);
        loop {
            if let Some(hit) = self.get(key).await? {
                return Ok(Some(hit));
            }
            if start.elapsed() >= budget {
                return Ok(None);
            }
            let exists: i64 = self.query(redis::cmd("EXISTS").arg(&lock)).await?;
            if exists != 1 {
                return self.get(key).await;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// The key slot of the tenant's hash tag (0 on a standalone server).
    fn shard(&self, key: &CacheKey) -> u16 {
        self.conn.slot(self.entry_key(key).as_bytes())
    }
}

/// `start,end;start,end` in Unix seconds; an empty day is the empty string.
fn encode(slots: &[Slot]) -> String {
    let mut out = String::with_capacity(slots.len() * 22);
    for (i, slot) in slots.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(&slot.start.timestamp().to_string());
        out.push(',');
        out.push_str(&slot.end.timestamp().to_string());
    }
    out
}

fn decode(text: &str) -> Option<DaySlots> {
    if text.is_empty() {
        return Some(Vec::new().into());
    }
    text.split(';')
        .map(|pair| {
            let (start, end) = pair.split_once(',')?;
            Some(Slot {
                start: DateTime::<Utc>::from_timestamp(start.parse().ok()?, 0)?,
                end: DateTime::<Utc>::from_timestamp(end.parse().ok()?, 0)?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .map(Into::into)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn encoding_round_trips() {
        let slots = vec![
            Slot {
                start: Utc.with_ymd_and_hms(2026, 10, 12, 7, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2026, 10, 12, 7, 30, 0).unwrap(),
            },
            Slot {
                start: Utc.with_ymd_and_hms(2026, 10, 12, 8, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2026, 10, 12, 8, 45, 0).unwrap(),
            },
        ];
        assert_eq!(&*decode(&encode(&slots)).unwrap(), &slots[..]);
        assert_eq!(decode("").unwrap().len(), 0);
        assert!(decode("12,x").is_none());
        assert!(decode("garbage").is_none());
    }
}
