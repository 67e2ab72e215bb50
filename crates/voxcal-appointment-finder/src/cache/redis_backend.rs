//! The Redis backend of the slot cache (feature `redis`).

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::time::Instant;

use chrono::{DateTime, Duration, Utc};
use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, RedisResult};

use super::{CacheConfig, CacheKey, DaySlots};
use crate::source::Slot;

/// Deletes the lock only if it still holds our token.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Drops an entry and marks it invalidated for a short while.
const INVALIDATE: &str = r"
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
";

/// Stores an entry unless it was invalidated moments ago (the answer may
/// predate the booking that caused the invalidation).
const PUT: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// How often a waiting replica looks for the other replica's result.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(20);

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// Where a [`SlotCache`](crate::SlotCache) keeps its entries in Redis:
/// standalone (through a [`ConnectionManager`], which reconnects) or
/// Cluster (through a [`ClusterConnection`]). Keys of one tenant share the
/// hash tag `{<tenant>}`.
///
/// Configure timeouts on the connection (`ConnectionManagerConfig::
/// set_response_timeout`, `ClusterClientBuilder::response_timeout`): a slow
/// Redis then costs at most that long before the cache is bypassed.
#[derive(Clone)]
pub struct RedisCacheBackend {
    conn: Conn,
    release: redis::Script,
    invalidate: redis::Script,
    put: redis::Script,
    down_until: Arc<Mutex<Option<Instant>>>,
}

impl fmt::Debug for RedisCacheBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.conn {
            Conn::Single(_) => "standalone",
            Conn::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisCacheBackend")
            .field("conn", &kind)
            .finish()
    }
}

pub(crate) enum Lock {
    Acquired(String),
    Busy,
    Failed,
}

impl RedisCacheBackend {
    /// A backend on a standalone server.
    pub fn new(conn: ConnectionManager) -> Self {
        RedisCacheBackend {
            conn: Conn::Single(conn),
            release: redis::Script::new(RELEASE),
            invalidate: redis::Script::new(INVALIDATE),
            put: redis::Script::new(PUT),
            down_until: Arc::default(),
        }
    }

    /// A backend on a Redis Cluster.
    pub fn cluster(conn: ClusterConnection) -> Self {
        RedisCacheBackend {
            conn: Conn::Cluster(conn),
            release: redis::Script::new(RELEASE),
            invalidate: redis::Script::new(INVALIDATE),
            put: redis::Script::new(PUT),
            down_until: Arc::default(),
        }
    }

    /// Runs one Redis call with the configured timeout; a failure marks
    /// Redis as down for `redis_retry_after`, during which calls are skipped.
    async fn guarded<T>(
        &self,
        config: &CacheConfig,
        call: impl Future<Output = RedisResult<T>>,
    ) -> RedisResult<T> {
        let now = Instant::now();
        if self.down_until.lock().is_some_and(|until| now < until) {
            return Err(io_error(
                io::ErrorKind::NotConnected,
                "redis skipped after a recent failure",
            ));
        }
        let limit = config.redis_timeout.to_std().unwrap_or_default();
        let result = match tokio::time::timeout(limit, call).await {
            Ok(result) => result,
            Err(_) => Err(io_error(io::ErrorKind::TimedOut, "redis command timed out")),
        };
        if result.is_err() {
            let pause = config.redis_retry_after.to_std().unwrap_or_default();
            *self.down_until.lock() = Some(Instant::now() + pause);
        }
        result
    }

    async fn query<T: FromRedisValue>(&self, cmd: &Cmd, config: &CacheConfig) -> RedisResult<T> {
        match &self.conn {
            Conn::Single(c) => {
                let mut c = c.clone();
                self.guarded(config, async move { cmd.query_async(&mut c).await })
                    .await
            }
            Conn::Cluster(c) => {
                let mut c = c.clone();
                self.guarded(config, async move { cmd.query_async(&mut c).await })
                    .await
            }
        }
    }

    pub(crate) async fn get(&self, key: &CacheKey, config: &CacheConfig) -> Option<DaySlots> {
        let redis_key = key.redis_key(&config.prefix);
        match self
            .query::<Option<String>>(redis::cmd("GET").arg(&redis_key), config)
            .await
        {
            Ok(Some(text)) => match decode(&text) {
                Some(slots) => Some(slots),
                None => {
                    tracing::warn!(tenant = %key.tenant(), "unreadable slot cache entry ignored");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(tenant = %key.tenant(), error = %e, "slot cache read failed; treated as a miss");
                None
            }
        }
    }

    /// Runs a script with the guard (timeout, outage pause).
    async fn script<T: FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[String],
        args: &[String],
        config: &CacheConfig,
    ) -> RedisResult<T> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        match &self.conn {
            Conn::Single(c) => {
                let mut c = c.clone();
                self.guarded(config, async move { invocation.invoke_async(&mut c).await })
                    .await
            }
            Conn::Cluster(c) => {
                let mut c = c.clone();
                self.guarded(config, async move { invocation.invoke_async(&mut c).await })
                    .await
            }
        }
    }

    pub(crate) async fn put(
        &self,
        key: &CacheKey,
        slots: &[Slot],
        ttl: Duration,
        config: &CacheConfig,
    ) {
        let keys = [key.redis_key(&config.prefix), marker_key(key, config)];
        let args = [encode(slots), ttl.num_milliseconds().max(1).to_string()];
        match self.script::<i64>(&self.put, &keys, &args, config).await {
            Ok(0) => {
                tracing::debug!(tenant = %key.tenant(), "slot cache write skipped after an invalidation")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(tenant = %key.tenant(), error = %e, "slot cache write failed"),
        }
    }

    pub(crate) async fn invalidate(&self, key: &CacheKey, config: &CacheConfig) {
        let keys = [key.redis_key(&config.prefix), marker_key(key, config)];
        let args = [config.lock_ttl.num_milliseconds().max(1).to_string()];
        if let Err(e) = self
            .script::<i64>(&self.invalidate, &keys, &args, config)
            .await
        {
            tracing::warn!(tenant = %key.tenant(), error = %e, "slot cache invalidation failed");
        }
    }

    pub(crate) async fn acquire(&self, key: &CacheKey, config: &CacheConfig) -> Lock {
        let token = new_token();
        let mut cmd = redis::cmd("SET");
        cmd.arg(lock_key(key, config))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(config.lock_ttl.num_milliseconds().max(1));
        match self.query::<Option<String>>(&cmd, config).await {
            Ok(Some(_)) => Lock::Acquired(token),
            Ok(None) => Lock::Busy,
            Err(e) => {
                tracing::warn!(tenant = %key.tenant(), error = %e, "slot cache lock failed; fetching without it");
                Lock::Failed
            }
        }
    }

    pub(crate) async fn release(&self, key: &CacheKey, token: &str, config: &CacheConfig) {
        let keys = [lock_key(key, config)];
        let args = [token.to_owned()];
        if let Err(e) = self
            .script::<i64>(&self.release, &keys, &args, config)
            .await
        {
            tracing::warn!(tenant = %key.tenant(), error = %e, "slot cache unlock failed; the lock expires by itself");
        }
    }

    /// Waits for another replica's fetch to land, up to `lock_wait`.
    pub(crate) async fn wait_for(&self, key: &CacheKey, config: &CacheConfig) -> Option<DaySlots> {
        let budget = config.lock_wait.to_std().unwrap_or_default();
        let deadline = tokio::time::Instant::now() + budget;
        loop {
            if let Some(hit) = self.get(key, config).await {
                return Some(hit);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            // Stop waiting early when the lock is gone (the other fetch failed).
            let exists = self
                .query::<i64>(redis::cmd("EXISTS").arg(lock_key(key, config)), config)
                .await;
            if !matches!(exists, Ok(1)) {
                return self.get(key, config).await;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

fn io_error(kind: io::ErrorKind, what: &'static str) -> redis::RedisError {
    redis::RedisError::from(io::Error::new(kind, what))
}

fn marker_key(key: &CacheKey, config: &CacheConfig) -> String {
    let mut k = key.redis_key(&config.prefix);
    k.push_str(":invalidated");
    k
}

fn lock_key(key: &CacheKey, config: &CacheConfig) -> String {
    let mut k = key.redis_key(&config.prefix);
    k.push_str(":lock");
    k
}

fn new_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
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
