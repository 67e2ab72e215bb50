//! Shared state in Redis: one Lua script per decision, standalone or Cluster.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;

use crate::clock::Clock;
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
/// default) and one `tracing` warning is logged per outage.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use call_rate_limiter::{OutagePolicy, RedisStore};
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
    in_outage: Arc<AtomicBool>,
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
            in_outage: Arc::new(AtomicBool::new(false)),
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
        let mut invocation = SCRIPT.key(self.stem(key.call_id()) + ":m");
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
            let run = run_script(store.conn.clone(), &invocation);
            let error = match tokio::time::timeout(store.timeout, run).await {
                Ok(Ok(reply)) => match parse(&policy, &applicable, &reply) {
                    Some(decision) => {
                        if store.in_outage.swap(false, Ordering::SeqCst) {
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
            if !store.in_outage.swap(true, Ordering::SeqCst) {
                tracing::warn!(error = %error, policy = ?store.outage, "rate-limit Redis unreachable; deciding by outage policy until it answers again");
            }
            match store.outage {
                OutagePolicy::FailOpen => Ok(Decision::unlimited(DecisionSource::FailOpen)),
                OutagePolicy::FailClosed => Err(error),
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
