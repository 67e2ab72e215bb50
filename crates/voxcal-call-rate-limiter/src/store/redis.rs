//! Shared state in Redis: one Lua script per decision, standalone or Cluster.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::RwLock;
use redis::Script;
use voxcal_core::redis::RedisConnection;
use voxcal_core::OutageGate;
use voxcal_core::{Clock, SystemClock};

use crate::core::{conclude, After, Observed};
use crate::decision::{Decision, DecisionSource};
use crate::policy::{CallKey, Policy};
use crate::store::lua;
use crate::store::{MemoryStore, ReleaseFuture, Store, StoreError};

/// The last part of a call's key: `{prefix}:{<call_id>}:s`. (Up to 0.x the
/// hash was `…:m`, with text window logs; the new name keeps an old and a
/// new replica from reading each other's layout during a rolling upgrade.)
const KEY_SUFFIX: &str = ":s";

/// The decision scripts of the policies a store has decided under, each
/// generated once ([`lua::source`]) and kept with its policy.
#[derive(Default)]
struct Scripts {
    known: RwLock<Vec<(Arc<Policy>, Arc<Script>)>>,
}

/// The most policies whose scripts a store keeps; one more drops the oldest.
const MAX_SCRIPTS: usize = 8;

impl Scripts {
    fn find(known: &[(Arc<Policy>, Arc<Script>)], policy: &Arc<Policy>) -> Option<Arc<Script>> {
        known
            .iter()
            .find(|(p, _)| Arc::ptr_eq(p, policy) || **p == **policy)
            .map(|(_, script)| Arc::clone(script))
    }

    fn for_policy(&self, policy: &Arc<Policy>) -> Arc<Script> {
        if let Some(script) = Self::find(&self.known.read(), policy) {
            return script;
        }
        let script = Arc::new(Script::new(&lua::source(policy)));
        let mut known = self.known.write();
        if let Some(script) = Self::find(&known, policy) {
            return script;
        }
        if known.len() >= MAX_SCRIPTS {
            known.remove(0);
        }
        known.push((Arc::clone(policy), Arc::clone(&script)));
        script
    }
}

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

/// Call state shared in Redis, so every replica of a service counts together.
///
/// Made from a [`RedisConnection`] (standalone or Cluster; clones share it)
/// and `with_*` builders. Each decision is one `EVALSHA` of one Lua script
/// (loaded again after a `NOSCRIPT`), using the server's `TIME`; the script
/// is written for the policy, with its windows and quotas as literals, once
/// per policy and store. A call's state is one hash, `{prefix}:{<call_id>}:s`,
/// holding the expiry, the cooldown and one field per limit bucket
/// (`l:<limit>[:<part>]`: a count, or the admitted times still in the
/// window as 6-byte stamps), so one read and one write decide. Its key
/// carries the hash tag `{<call_id>}`, so the script runs unchanged on Redis
/// Cluster (and any further key of a call would land in the same slot). The
/// key's own TTL is set to one and a half idle TTLs whenever the state
/// would outlive it (so most decisions send no `PEXPIRE`); the state itself
/// expires after one idle TTL, as in every store. If Redis does not
/// answer within the timeout (50 ms by default), the [`OutagePolicy`]
/// decides (a local fallback by default). After a failure, the calls of the
/// same key slot ([`RedisConnection::slot`]) skip Redis for
/// [`with_retry_after`](Self::with_retry_after) (1 s) through an
/// [`OutageGate`], so an outage costs one timeout per window, not one per
/// request, and is logged once (one warning, one recovery line); on a
/// Cluster only the failing node's slots skip.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use voxcal_call_rate_limiter::{OutagePolicy, RedisConnection, RedisStore};
///
/// let conn = RedisConnection::connect("redis://127.0.0.1/").await?;
/// let store = RedisStore::new(conn)
///     .with_prefix("rl")
///     .with_timeout(Duration::from_millis(50))
///     .with_outage_policy(OutagePolicy::FallbackToMemory);
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: RedisConnection,
    prefix: Arc<str>,
    outage: OutagePolicy,
    timeout: Duration,
    /// The outage windows' time, and with `client_time` the decisions' too.
    clock: Arc<dyn Clock>,
    /// Whether decisions use the clock's wall time instead of Redis `TIME`.
    client_time: bool,
    fallback: Arc<MemoryStore>,
    gate: Arc<OutageGate>,
    scripts: Arc<Scripts>,
}

/// The gate's label in its log lines.
const BACKEND: &str = "call rate limiter";

impl RedisStore {
    /// A store over `conn` (standalone or Cluster) with the defaults: prefix
    /// `rl`, 50 ms per decision, [`OutagePolicy::FallbackToMemory`], a 1 s
    /// retry window and the server's `TIME`.
    pub fn new(conn: RedisConnection) -> Self {
        RedisStore {
            conn,
            prefix: Arc::from("rl"),
            outage: OutagePolicy::default(),
            timeout: Duration::from_millis(50),
            clock: Arc::new(SystemClock),
            client_time: false,
            fallback: Arc::new(MemoryStore::new()),
            gate: Arc::new(OutageGate::new(BACKEND, Duration::from_secs(1))),
            scripts: Arc::default(),
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
        self.gate = Arc::new(OutageGate::new(BACKEND, retry_after));
        self
    }

    /// Sets the store used under [`OutagePolicy::FallbackToMemory`].
    pub fn with_fallback(mut self, fallback: MemoryStore) -> Self {
        self.fallback = Arc::new(fallback);
        self
    }

    /// Uses `clock` for the retry windows and sends its wall time
    /// ([`Clock::now_utc`], in ms since the Unix epoch) with each decision
    /// instead of using the server's `TIME`. For tests with a
    /// [`FakeClock`](crate::FakeClock): moving it crosses windows, cooldowns
    /// and the retry window without sleeping. Every store sharing the data
    /// must then use clones of the same clock.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self.client_time = true;
        self
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
        f.debug_struct("RedisStore")
            .field("conn", &self.conn)
            .field("prefix", &self.prefix)
            .field("outage", &self.outage)
            .field("timeout", &self.timeout)
            .field("retry_after", &self.gate.retry_after())
            .field("client_time", &self.client_time)
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
        let redis_key = self.stem(key.call_id()) + KEY_SUFFIX;
        let slot = self.conn.slot(redis_key.as_bytes());
        let script = self.scripts.for_policy(policy);
        // The time is read now, when the request is decided, not when the
        // future is first polled.
        let client_now = self
            .client_time
            .then(|| self.clock.now_utc().timestamp_millis().max(0));
        let store = self.clone();
        let policy = Arc::clone(policy);
        let key = key.clone();
        let inner = Box::pin(async move {
            let now = store.clock.now();
            let error = if store.gate.skips(slot, now) {
                None
            } else {
                let mut invocation = script.key(redis_key);
                match client_now {
                    Some(ms) => invocation.arg(ms),
                    None => invocation.arg(""),
                };
                // Bit `i`: limit `i` applies to this request (at most 16).
                let mut applicable = 0_u32;
                let mut field = String::with_capacity(64);
                for (index, limit) in policy.limits().iter().enumerate() {
                    let Some(part) = key.bucket_for(limit.scope()) else {
                        invocation.arg("");
                        continue;
                    };
                    field.clear();
                    field.push_str("l:");
                    field.push_str(limit.name());
                    if let Some(part) = part {
                        field.push(':');
                        field.push_str(part);
                    }
                    invocation.arg(field.as_str());
                    applicable |= 1 << index;
                }
                let mut conn = store.conn.clone();
                let run = invocation.invoke_async::<Vec<i64>>(&mut conn);
                let error = match tokio::time::timeout(store.timeout, run).await {
                    Ok(Ok(reply)) => match parse(&policy, applicable, &reply) {
                        Some(decision) => {
                            store.gate.record_success(slot, now);
                            return Ok(decision);
                        }
                        None => StoreError::Unavailable(
                            "unexpected reply from the rate-limit script".into(),
                        ),
                    },
                    Ok(Err(e)) => unavailable(e),
                    Err(_) => StoreError::Timeout(store.timeout),
                };
                // The gate logs the outage's one warning.
                if store.gate.record_failure(slot, now, &error) {
                    tracing::debug!(policy = ?store.outage, "rate-limit decisions follow the outage policy while Redis is down");
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

    fn backend(&self) -> &'static str {
        "redis"
    }

    /// Deletes the call's hash (`{prefix}:{<call_id>}:s`) with the store's
    /// timeout. While Redis is down the state stays until its TTL.
    fn release(&self, call_id: &str) -> ReleaseFuture {
        let key = self.stem(call_id) + KEY_SUFFIX;
        let mut conn = self.conn.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let mut cmd = redis::cmd("DEL");
            cmd.arg(&key);
            let del = cmd.query_async::<i64>(&mut conn);
            match tokio::time::timeout(timeout, del).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(unavailable(e)),
                Err(_) => Err(StoreError::Timeout(timeout)),
            }
        })
    }
}

/// The script's reply as a decision; `applicable` has bit `i` set for each
/// limit `i` that applies to the request.
fn parse(policy: &Policy, applicable: u32, reply: &[i64]) -> Option<Decision> {
    let [admitted, in_cooldown, cooldown_until, expires_at, now, rest @ ..] = reply else {
        return None;
    };
    if rest.len() != policy.limits().len() * 2 {
        return None;
    }
    let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
    let observed: Vec<Observed> = rest
        .chunks_exact(2)
        .enumerate()
        .filter(|&(limit, _)| applicable & (1 << limit) != 0)
        .map(|(limit, pair)| Observed {
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
