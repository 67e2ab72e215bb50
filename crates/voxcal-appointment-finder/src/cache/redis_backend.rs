//! The Redis backend of the slot cache (feature `redis`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use redis::{Cmd, FromRedisValue, RedisError, RedisResult, ScriptInvocation};
use voxcal_core::redis::{LuaScript, OutageGate, RedisConnection};
use voxcal_core::{Clock, SystemClock};

use super::{CacheConfig, CacheKey, DaySlots};
use crate::source::Slot;

/// Deletes the fetch lock only if it still holds our token.
static RELEASE: LuaScript = LuaScript::new(include_str!("release.lua"));

/// Drops an entry and marks it invalidated for a short while.
static INVALIDATE: LuaScript = LuaScript::new(include_str!("invalidate.lua"));

/// Stores an entry unless it was invalidated moments ago.
static PUT: LuaScript = LuaScript::new(include_str!("put.lua"));

/// How often a waiting replica looks for the other replica's result.
const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(20);

/// The label the outage gate logs as its `backend`.
const GATE_NAME: &str = "slot cache";

/// Where a [`SlotCache`](crate::SlotCache) keeps its entries in Redis, on a
/// standalone server or a Cluster ([`RedisConnection`]). Keys of one tenant
/// share the hash tag `{<tenant>}`, so on a Cluster they live on one node.
///
/// A failed command makes the lookup a miss (the source is asked) and,
/// through an [`OutageGate`] keyed by the tenant's key slot, skips Redis for
/// that slot for [`redis_retry_after`](CacheConfig::redis_retry_after): an
/// outage costs one timeout per window, not one per lookup, and on a
/// Cluster only the failing node's tenants go without the cache. The gate
/// logs one warning when an outage starts and one line when it ends. Each
/// command may take at most [`redis_timeout`](CacheConfig::redis_timeout)
/// (on top of the connection's own response timeout).
///
/// ```no_run
/// # async fn run() -> redis::RedisResult<()> {
/// use voxcal_appointment_finder::{
///     CacheConfig, InMemoryCalendar, RedisCacheBackend, SlotCache, SystemClock,
/// };
/// use voxcal_core::redis::RedisConnection;
///
/// let conn = RedisConnection::connect("redis://127.0.0.1:6379/").await?;
/// let backend = RedisCacheBackend::new(conn);
/// let calendar = InMemoryCalendar::new(SystemClock);
/// let cache = SlotCache::redis(calendar, backend, CacheConfig::default());
/// # drop(cache); Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisCacheBackend {
    conn: RedisConnection,
    clock: Arc<dyn Clock>,
    gate: Arc<OutageGate>,
}

impl fmt::Debug for RedisCacheBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCacheBackend")
            .field("conn", &self.conn)
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

pub(crate) enum Lock {
    Acquired(String),
    Busy,
    Failed,
}

/// Why a Redis call gave no answer.
enum CallError {
    /// Not sent: the key's slot failed within the retry window.
    Skipped,
    /// Sent, and it failed or timed out.
    Failed(RedisError),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Skipped => f.write_str("skipped after a recent failure"),
            CallError::Failed(e) => fmt::Display::fmt(e, f),
        }
    }
}

/// A command's or script's answer; errors say whether Redis was asked.
type CallResult<T> = Result<T, CallError>;

/// Logs a failed call at `warn` (what the cache did about it), a skipped
/// one at `debug` only: the gate has already warned about the outage.
macro_rules! log_failure {
    ($err:expr, $key:expr, $what:literal) => {
        match $err {
            CallError::Skipped => {
                tracing::debug!(tenant = %$key.tenant(), $what)
            }
            CallError::Failed(e) => {
                tracing::warn!(tenant = %$key.tenant(), error = %e, $what)
            }
        }
    };
}

impl RedisCacheBackend {
    /// A backend on `conn` (standalone or Cluster), reading the time for
    /// its outage gate from the [`SystemClock`].
    pub fn new(conn: RedisConnection) -> Self {
        let retry_after = CacheConfig::default()
            .redis_retry_after
            .to_std()
            .unwrap_or_default();
        RedisCacheBackend {
            conn,
            clock: Arc::new(SystemClock),
            gate: Arc::new(OutageGate::new(GATE_NAME, retry_after)),
        }
    }

    /// Reads the time for the outage gate's retry window from `clock`
    /// (tests cross the window with a [`FakeClock`](voxcal_core::FakeClock)).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Uses `config`'s retry window ([`SlotCache::redis`](crate::SlotCache::redis)
    /// calls it); a fresh gate, so no outage carries over.
    pub(crate) fn configured(mut self, config: &CacheConfig) -> Self {
        let retry_after = config.redis_retry_after.to_std().unwrap_or_default();
        self.gate = Arc::new(OutageGate::new(GATE_NAME, retry_after));
        self
    }

    /// Runs one Redis call for `key` with the configured timeout, unless
    /// the key's slot is skipped after a recent failure; reports the result
    /// to the gate.
    async fn guarded<T>(
        &self,
        key: &str,
        config: &CacheConfig,
        call: impl Future<Output = RedisResult<T>>,
    ) -> CallResult<T> {
        let slot = self.conn.slot(key.as_bytes());
        if self.gate.skips(slot, self.clock.now()) {
            return Err(CallError::Skipped);
        }
        let limit = config.redis_timeout.to_std().unwrap_or_default();
        let result = match tokio::time::timeout(limit, call).await {
            Ok(result) => result,
            Err(_) => Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "redis command timed out",
            ))),
        };
        match result {
            Ok(value) => {
                self.gate.record_success(slot, self.clock.now());
                Ok(value)
            }
            Err(e) => {
                self.gate.record_failure(slot, self.clock.now(), &e);
                Err(CallError::Failed(e))
            }
        }
    }

    /// Runs `cmd`, whose first key is `key`.
    async fn query<T: FromRedisValue>(
        &self,
        key: &str,
        cmd: &Cmd,
        config: &CacheConfig,
    ) -> CallResult<T> {
        let mut conn = self.conn.clone();
        self.guarded(key, config, async move { cmd.query_async(&mut conn).await })
            .await
    }

    /// Runs `script` with `keys` and `args`.
    async fn script<T: FromRedisValue>(
        &self,
        script: &'static LuaScript,
        keys: &[String],
        args: &[String],
        config: &CacheConfig,
    ) -> CallResult<T> {
        let mut invocation: ScriptInvocation<'static> = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        let mut conn = self.conn.clone();
        let first = keys.first().map(String::as_str).unwrap_or_default();
        self.guarded(first, config, async move {
            invocation.invoke_async(&mut conn).await
        })
        .await
    }

    pub(crate) async fn get(&self, key: &CacheKey, config: &CacheConfig) -> Option<DaySlots> {
        let redis_key = key.redis_key(&config.prefix);
        match self
            .query::<Option<String>>(&redis_key, redis::cmd("GET").arg(&redis_key), config)
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
                log_failure!(e, key, "slot cache read failed; treated as a miss");
                None
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
        match self.script::<i64>(&PUT, &keys, &args, config).await {
            Ok(0) => {
                tracing::debug!(tenant = %key.tenant(), "slot cache write skipped after an invalidation")
            }
            Ok(_) => {}
            Err(e) => log_failure!(e, key, "slot cache write failed"),
        }
    }

    pub(crate) async fn invalidate(&self, key: &CacheKey, config: &CacheConfig) {
        let keys = [key.redis_key(&config.prefix), marker_key(key, config)];
        let args = [config.lock_ttl.num_milliseconds().max(1).to_string()];
        if let Err(e) = self.script::<i64>(&INVALIDATE, &keys, &args, config).await {
            log_failure!(e, key, "slot cache invalidation failed");
        }
    }

    pub(crate) async fn acquire(&self, key: &CacheKey, config: &CacheConfig) -> Lock {
        let token = format!("{:016x}", voxcal_core::random_u64());
        let lock = lock_key(key, config);
        let mut cmd = redis::cmd("SET");
        cmd.arg(&lock)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(config.lock_ttl.num_milliseconds().max(1));
        match self.query::<Option<String>>(&lock, &cmd, config).await {
            Ok(Some(_)) => Lock::Acquired(token),
            Ok(None) => Lock::Busy,
            Err(e) => {
                log_failure!(e, key, "slot cache lock failed; fetching without it");
                Lock::Failed
            }
        }
    }

    pub(crate) async fn release(&self, key: &CacheKey, token: &str, config: &CacheConfig) {
        let keys = [lock_key(key, config)];
        let args = [token.to_owned()];
        if let Err(e) = self.script::<i64>(&RELEASE, &keys, &args, config).await {
            log_failure!(
                e,
                key,
                "slot cache unlock failed; the lock expires by itself"
            );
        }
    }

    /// Waits for another replica's fetch to land, up to `lock_wait`.
    ///
    /// This waits for another process's real work, so it runs on Tokio's
    /// timer, not on the cache's clock.
    pub(crate) async fn wait_for(&self, key: &CacheKey, config: &CacheConfig) -> Option<DaySlots> {
        let budget = config.lock_wait.to_std().unwrap_or_default();
        let start = tokio::time::Instant::now();
        let lock = lock_key(key, config);
        loop {
            if let Some(hit) = self.get(key, config).await {
                return Some(hit);
            }
            if start.elapsed() >= budget {
                return None;
            }
            // Stop waiting early when the lock is gone (the other fetch failed).
            let exists = self
                .query::<i64>(&lock, redis::cmd("EXISTS").arg(&lock), config)
                .await;
            if !matches!(exists, Ok(1)) {
                return self.get(key, config).await;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
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
