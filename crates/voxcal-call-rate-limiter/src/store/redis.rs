//! Shared state in Redis: one Lua script per decision, standalone or Cluster.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;

use crate::clock::{Clock, SystemClock};
use crate::core::{conclude, After, Observed};
use crate::decision::{Decision, DecisionSource};
use crate::policy::{CallKey, Policy};
use crate::store::{MemoryStore, Store, StoreError};

static SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("decide.lua")));

/// What a [`RedisStore`] does while Redis cannot answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OutagePolicy {
    /// Admit everything, count nothing.
    FailOpen,
    /// Refuse everything: the store returns [`StoreError`] and the layer
    /// answers 503.
    FailClosed,
    /// Decide with a local [`MemoryStore`] (exact per process, not shared).
    #[default]
    FallbackToMemory,
}

#[derive(Clone)]
enum Connection {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

/// Call state shared in Redis, so every replica of a service counts together.
///
/// Each decision is one `EVALSHA` of one Lua script (loaded again after a
/// `NOSCRIPT`), using the server's `TIME`. A call's state is one hash,
/// `{prefix}:{<call_id>}:m`, holding the expiry, the cooldown and one field
/// per limit bucket (`l:<limit>[:<part>]`: a count, or the admitted times
/// still in the window), so one read and one write decide. Its key carries
/// the hash tag `{<call_id>}`, so the script runs unchanged on Redis Cluster
/// (and any further key of a call would land in the same slot); every write
/// refreshes its `PEXPIRE`. If Redis does not answer within the timeout
/// (50 ms by default), the [`OutagePolicy`] decides (a local fallback by
/// default) and one `tracing` warning is logged per outage. After a
/// failure, the calls of the same key slot skip Redis for
/// [`with_retry_after`](Self::with_retry_after) (1 s), so an outage costs
/// one timeout per window, not one per request; on a Cluster only the
/// failing node's slots skip.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use voxcal_call_rate_limiter::{OutagePolicy, RedisStore};
/// use std::time::Duration;
///
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let store = RedisStore::new(client.get_connection_manager().await?)
///     .with_prefix("rl")
///     .with_timeout(Duration::from_millis(50))
///     .with_outage_policy(OutagePolicy::FallbackToMemory);
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: Connection,
    prefix: Arc<str>,
    outage: OutagePolicy,
    timeout: Duration,
    clock: Option<Arc<dyn Clock>>,
    fallback: Arc<MemoryStore>,
    retry_after: Duration,
    outages: Arc<Outages>,
}

/// The key slots whose Redis failed lately, each with the time (store clock,
/// ms) until which decisions for it skip Redis. A Cluster has 16 384 slots
/// (a call's slot comes from its hash tag); a standalone server is slot 0.
#[derive(Default)]
struct Outages {
    /// Whether `slots` holds anything: the healthy path reads only this.
    any: AtomicBool,
    slots: parking_lot::Mutex<HashMap<u16, u64>>,
}

/// A failure older than this many retry windows no longer belongs to the
/// current outage.
const QUIET_WINDOWS: u64 = 5;

impl Outages {
    /// Whether decisions for `slot` skip Redis at `now`.
    fn skips(&self, slot: u16, now: u64) -> bool {
        self.any.load(Ordering::Acquire)
            && self
                .slots
                .lock()
                .get(&slot)
                .is_some_and(|&until| now < until)
    }

    /// Records a failure of `slot` (skipped until `now + window`); true if
    /// it starts an outage: no other failure within the last few windows.
    fn fail(&self, slot: u16, now: u64, window: u64) -> bool {
        let quiet = window.saturating_mul(QUIET_WINDOWS);
        let mut slots = self.slots.lock();
        slots.retain(|_, until| until.saturating_add(quiet) > now);
        let first = slots.is_empty();
        slots.insert(slot, now.saturating_add(window));
        self.any.store(true, Ordering::Release);
        first
    }

    /// Records an answer for `slot`; true if it ends the outage. A slot
    /// that had failed answering again ends it unless another slot failed
    /// within the last window; any answer ends it once the last failure is
    /// a few windows old (its slots may simply not have been asked again).
    fn answered(&self, slot: u16, now: u64, window: u64) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let mut slots = self.slots.lock();
        let horizon = if slots.remove(&slot).is_some() {
            0
        } else {
            window.saturating_mul(QUIET_WINDOWS)
        };
        slots.retain(|_, until| until.saturating_add(horizon) > now);
        if !slots.is_empty() {
            return false;
        }
        self.any.store(false, Ordering::Release);
        true
    }
}

/// The Redis Cluster hash slot of `key`: CRC16 (XMODEM) of its hash tag
/// (the text between the first `{` and the next `}`, if not empty) or of
/// the whole key, modulo 16 384.
fn key_slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        let close = rest.iter().position(|&b| b == b'}')?;
        (close > 0).then(|| &rest[..close])
    });
    let mut crc: u16 = 0;
    for &byte in tagged.unwrap_or(key) {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc & 0x3fff
}

impl RedisStore {
    /// A store over a standalone server's connection manager.
    pub fn new(conn: ConnectionManager) -> Self {
        Self::with_connection(Connection::Standalone(conn))
    }

    /// A store over a Redis Cluster connection.
    pub fn cluster(conn: ClusterConnection) -> Self {
        Self::with_connection(Connection::Cluster(conn))
    }

    /// Connects to a standalone server at `url` with a connection manager
    /// (it reconnects by itself after an outage).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = client.get_connection_manager().await.map_err(unavailable)?;
        Ok(Self::new(conn))
    }

    fn with_connection(conn: Connection) -> Self {
        RedisStore {
            conn,
            prefix: Arc::from("rl"),
            outage: OutagePolicy::default(),
            timeout: Duration::from_millis(50),
            clock: None,
            fallback: Arc::new(MemoryStore::new()),
            retry_after: Duration::from_secs(1),
            outages: Arc::new(Outages::default()),
        }
    }

    /// Sets the key prefix (default `rl`). It must not contain `{` or `}`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix: String = prefix.into();
        self.prefix = Arc::from(prefix.replace(['{', '}'], "_"));
        self
    }

    /// Sets what happens while Redis is unreachable.
    pub fn with_outage_policy(mut self, outage: OutagePolicy) -> Self {
        self.outage = outage;
        self
    }

    /// Sets the most a decision may wait for Redis (default 50 ms).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// After Redis failed to decide for a call (an error or the timeout),
    /// decisions for calls on the same key slot (all calls on a standalone
    /// server; the calls of the failing node's slots on a Cluster) go
    /// straight to the [`OutagePolicy`] for this long, then Redis is tried
    /// again (default 1 s). An outage then costs one timeout per slot and
    /// second, not one per request.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Sets the store used under [`OutagePolicy::FallbackToMemory`].
    pub fn with_fallback(mut self, fallback: MemoryStore) -> Self {
        self.fallback = Arc::new(fallback);
        self
    }

    /// Sends this clock's time with each decision instead of using the
    /// server's `TIME`. For tests with a [`FakeClock`](crate::FakeClock);
    /// every store sharing the data must then use the same clock.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// `retry_after` in ms.
    fn retry_window(&self) -> u64 {
        u64::try_from(self.retry_after.as_millis()).unwrap_or(u64::MAX)
    }

    /// Now on the store's clock (ms), for the outage windows.
    fn now_millis(&self) -> u64 {
        match &self.clock {
            Some(clock) => clock.now_millis(),
            None => SystemClock.now_millis(),
        }
    }

    /// The hash-tagged key stem of a call: `{prefix}:{<call_id>}`.
    fn stem(&self, call_id: &str) -> String {
        let mut stem = String::with_capacity(self.prefix.len() + call_id.len() + 8);
        stem.push_str(&self.prefix);
        stem.push_str(":{");
        stem.push_str(call_id);
        stem.push('}');
        stem
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.conn {
            Connection::Standalone(_) => "standalone",
            Connection::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("connection", &kind)
            .field("prefix", &self.prefix)
            .field("outage", &self.outage)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The future of one [`RedisStore`] decision.
pub struct RedisDecision {
    inner: Pin<Box<dyn Future<Output = Result<Decision, StoreError>> + Send>>,
}

impl fmt::Debug for RedisDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDecision").finish_non_exhaustive()
    }
}

impl Future for RedisDecision {
    type Output = Result<Decision, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl Store for RedisStore {
    type Future = RedisDecision;

    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future {
        // The invocation is built here, writing numbers straight into the
        // command (no intermediate strings), and owned by the future.
        let redis_key = self.stem(key.call_id()) + ":m";
        let slot = match self.conn {
            Connection::Standalone(_) => 0,
            Connection::Cluster(_) => key_slot(redis_key.as_bytes()),
        };
        let mut invocation = SCRIPT.key(redis_key);
        match &self.clock {
            Some(clock) => invocation.arg(clock.now_millis()),
            None => invocation.arg(""),
        };
        invocation
            .arg(policy.idle_ttl_millis())
            .arg(policy.cooldown_millis());
        let mut applicable = Vec::with_capacity(policy.limits().len());
        let mut field = String::with_capacity(64);
        for (index, limit) in policy.limits().iter().enumerate() {
            let Some(part) = key.bucket_for(limit.scope()) else {
                continue;
            };
            field.clear();
            field.push_str("l:");
            field.push_str(limit.name());
            if let Some(part) = part {
                field.push(':');
                field.push_str(part);
            }
            invocation
                .arg(limit.window_millis().unwrap_or(0))
                .arg(limit.quota())
                .arg(field.as_str());
            applicable.push(index);
        }
        let store = self.clone();
        let policy = Arc::clone(policy);
        let key = key.clone();
        let inner = Box::pin(async move {
            let now = store.now_millis();
            let error = if store.outages.skips(slot, now) {
                None
            } else {
                let run = run_script(store.conn.clone(), &invocation);
                let error = match tokio::time::timeout(store.timeout, run).await {
                    Ok(Ok(reply)) => match parse(&policy, &applicable, &reply) {
                        Some(decision) => {
                            if store.outages.answered(slot, now, store.retry_window()) {
                                tracing::info!("rate-limit Redis answers again; outage over");
                            }
                            return Ok(decision);
                        }
                        None => StoreError::Unavailable(
                            "unexpected reply from the rate-limit script".into(),
                        ),
                    },
                    Ok(Err(e)) => unavailable(e),
                    Err(_) => StoreError::Timeout(store.timeout),
                };
                if store.outages.fail(slot, now, store.retry_window()) {
                    tracing::warn!(error = %error, policy = ?store.outage, "rate-limit Redis unreachable; deciding by outage policy until it answers again");
                }
                Some(error)
            };
            match store.outage {
                OutagePolicy::FailOpen => Ok(Decision::unlimited(DecisionSource::FailOpen)),
                OutagePolicy::FailClosed => Err(error.unwrap_or_else(|| {
                    StoreError::Unavailable("rate-limit Redis failed moments ago".into())
                })),
                OutagePolicy::FallbackToMemory => {
                    let mut decision = store.fallback.decide_now(&policy, &key);
                    decision.source = DecisionSource::Fallback;
                    Ok(decision)
                }
            }
        });
        RedisDecision { inner }
    }
}

async fn run_script(
    conn: Connection,
    invocation: &redis::ScriptInvocation<'static>,
) -> redis::RedisResult<Vec<i64>> {
    match conn {
        Connection::Standalone(mut c) => invocation.invoke_async(&mut c).await,
        Connection::Cluster(mut c) => invocation.invoke_async(&mut c).await,
    }
}

fn parse(policy: &Policy, applicable: &[usize], reply: &[i64]) -> Option<Decision> {
    let [admitted, in_cooldown, cooldown_until, expires_at, now, rest @ ..] = reply else {
        return None;
    };
    if rest.len() != applicable.len() * 2 {
        return None;
    }
    let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
    let observed: Vec<Observed> = applicable
        .iter()
        .zip(rest.chunks_exact(2))
        .map(|(&limit, pair)| Observed {
            limit,
            used: unsigned(pair[0]),
            oldest: u64::try_from(pair[1]).ok(),
        })
        .collect();
    let after = After {
        admitted: *admitted == 1,
        in_cooldown: *in_cooldown == 1,
        cooldown_until: unsigned(*cooldown_until),
        expires_at: unsigned(*expires_at),
    };
    Some(conclude(
        policy,
        &observed,
        after,
        unsigned(*now),
        DecisionSource::Redis,
    ))
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::{key_slot, Outages};

    #[test]
    fn an_outage_is_one_warning_and_one_recovery() {
        let o = Outages::default();
        let w = 1_000;
        assert!(!o.skips(7, 0));
        assert!(o.fail(7, 0, w), "the first failure starts the outage");
        assert!(o.skips(7, 999) && !o.skips(7, 1_000) && !o.skips(8, 10));
        // Other slots answering do not end it; more failures do not restart it.
        assert!(!o.answered(8, 500, w));
        assert!(!o.fail(9, 1_500, w));
        assert!(!o.fail(7, 2_000, w));
        assert!(!o.answered(8, 2_100, w));
        // A failed slot answering ends it once no other failed in the window.
        assert!(!o.answered(7, 2_200, w), "slot 9 failed within the window");
        assert!(o.answered(9, 2_600, w));
        assert!(!o.skips(9, 2_600));
        // A failure after a quiet stretch is a new outage.
        assert!(o.fail(3, 3_000, w));
        // Never asked again: any answer a few windows later ends it.
        assert!(!o.answered(4, 3_000 + 5 * w, w));
        assert!(o.answered(4, 4_000 + 5 * w, w));
        assert!(o.fail(3, 20_000, w));
        assert!(!o.fail(5, 20_000 + 5 * w, w), "within the quiet stretch");
        assert!(o.fail(5, 21_000 + 10 * w, w), "after it");
    }

    #[test]
    fn key_slots_follow_the_cluster_spec() {
        // CRC16/XMODEM check value, and `CLUSTER KEYSLOT` answers.
        assert_eq!(key_slot(b"123456789"), 0x31c3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        // The hash tag decides; an empty tag hashes the whole key.
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"rl:{call_9}:m"), key_slot(b"call_9"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b""), 0);
    }

    /// The same answer as a real Cluster node for arbitrary keys.
    #[test]
    fn key_slots_match_a_real_cluster() {
        let cluster = testkit::RedisCluster::start();
        let node = &cluster.nodes()[0];
        let mut keys: Vec<String> = vec!["rl:{}:m".into(), "{{}}".into(), "a}{b}".into()];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..300 {
            // A small xorshift: ids with braces, digits and non-ASCII text.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let alphabet = ['a', 'Z', '0', '{', '}', ':', '_', 'ä', '€', ' '];
            let id: String = (0..(seed % 12) as usize)
                .map(|i| alphabet[((seed >> (i * 4)) % 10) as usize])
                .collect();
            keys.push(format!("rl:{{{id}}}:m{n}"));
        }
        for key in &keys {
            let answer = node.command(&["CLUSTER", "KEYSLOT", key]).unwrap();
            assert_eq!(
                answer,
                testkit::resp::Reply::Integer(i64::from(key_slot(key.as_bytes()))),
                "{key}"
            );
        }
    }
}
