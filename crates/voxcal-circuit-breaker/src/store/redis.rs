//! `RedisStore`: breaker state shared by every replica.
//!
//! Each breaker keeps a local [`Machine`](crate::machine::Machine) that
//! decides the closed-state calls without any I/O. A background task per
//! breaker reconciles it with Redis every `sync_interval` (and at once after
//! a failure): it sends the outcomes counted since the last sync, a local
//! trip or an operator change, and adopts the shared state it gets back.
//! Scripts that change the shared state publish it on `<prefix>:events`;
//! the store's subscriber (see `pubsub`) adopts it in every other replica
//! at once, so polling is only the fallback.
//! Decisions that must be fleet-wide go to Redis while the caller waits:
//! taking a half-open probe permit (a sorted set of leases with expiry, so
//! exactly `half_open_permits` probes run across the fleet) and the first
//! decision of a new replica (which reads the shared state, never resets it).
//!
//! When Redis is unreachable the local machine decides everything on its
//! own; a local trip is remembered and pushed when Redis is back.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Script, Value};
use tokio::runtime::Handle;
use tokio::sync::Notify;

use super::pubsub::Events;
use super::sealed;
use super::Store;
use crate::breaker::{AcquireFuture, Inner, Local, Spec};
use crate::machine::{Phase, Ticket, TicketKind, Transition, HALF_OPEN_BUSY_RETRY};
use crate::{Outcome, Permit, Rejected, State};

/// How long one Redis call may take before the replica decides locally.
const REDIS_TIMEOUT: Duration = Duration::from_millis(750);

/// Breaker state in Redis, shared by every replica (standalone or Cluster).
///
/// Keys are `{prefix}:{<breaker name>}:state` (a hash),
/// `{prefix}:{<breaker name>}:probes` (a sorted set of probe leases) and
/// `{prefix}:{<breaker name>}:window` (time-window buckets); the braces make
/// them land on one Cluster slot. All have TTLs. Every transition is one Lua
/// script using the server's `TIME`, so replicas with skewed clocks agree.
///
/// - The closed-state success path never waits on Redis: outcomes are
///   counted locally and sent by a background task.
/// - **Transitions are pushed**: a script that changes the shared state
///   (a trip, half-open, closing, an operator change) publishes it on the
///   channel `{prefix}:events`, and so does the first failure counted in a
///   closed generation. Each store keeps one subscriber connection (not
///   one per breaker) and the other replicas adopt a pushed state at once:
///   expect a few milliseconds from the tripping script to every replica
///   (about 3 ms measured on one machine, standalone and Cluster), plus
///   the replicas' scheduling delay under load. On a Cluster classic
///   `PUBLISH` reaches every node, so the subscriber uses one node of the
///   list given to [`connect_cluster`](Self::connect_cluster), in order,
///   and moves to the next when its node fails. Subscribing needs the
///   addresses: a store made with
///   [`from_connection_manager`](Self::from_connection_manager) or
///   [`from_cluster_connection`](Self::from_cluster_connection) publishes
///   but only polls. [`is_subscribed`](Self::is_subscribed) tells whether
///   pushes arrive right now.
/// - **Polling underneath, unchanged**: replicas also learn of transitions
///   within `sync_interval` (250 ms by default), right away after a local
///   failure, and within a tenth of it (25 ms by default) while the fleet
///   has counted failures of the closed breaker. A message lost while the
///   subscriber reconnects (after trying every node it backs off from
///   100 ms to 5 s) therefore costs at most that; every breaker re-reads
///   the shared state when the subscriber is back. A server that refuses
///   `PUBLISH` or `SUBSCRIBE` (ACL) leaves polling only.
/// - Half-open probe permits are leases in Redis with a TTL
///   ([`probe_lease`](crate::ConfigBuilder::probe_lease)), so exactly
///   `half_open_permits` probes run fleet-wide and a crashed replica's
///   probe is freed when its lease runs out.
/// - Consecutive failures are counted fleet-wide, and so are the failure
///   and slow-call rates over a [time window](crate::Window::Time)
///   (per-second buckets in `{prefix}:{<name>}:window`). Over a
///   [count window](crate::Window::Count) the rates are evaluated by each
///   replica over its own calls. Either way each replica also applies every
///   rule to its own calls, and a trip by any replica opens the whole fleet.
/// - Each breaker has one background task that runs one small script per
///   `sync_interval`; plan for that with many breakers (e.g. one per tenant).
/// - A new replica reads the shared state before its first decision.
/// - Redis down: each replica keeps deciding on its own breaker; a trip
///   that happened meanwhile is pushed to Redis when it is back.
///
/// ```no_run
/// # async fn demo() -> Result<(), voxcal_circuit_breaker::RedisStoreError> {
/// use voxcal_circuit_breaker::{CircuitBreaker, RedisStore};
///
/// let store = RedisStore::connect("redis://127.0.0.1:6379/", "cb").await?;
/// let breaker = CircuitBreaker::builder("calcom").build_with(&store);
/// breaker.synced().await; // optional: wait until the shared state is known
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    prefix: Arc<str>,
    handle: Handle,
    events: Arc<Events>,
}

/// What can go wrong while connecting a [`RedisStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The connection could not be set up.
    #[error("could not connect to Redis: {0}")]
    Connect(#[source] redis::RedisError),
    /// Not called inside a Tokio runtime.
    #[error("RedisStore must be created inside a Tokio runtime")]
    NoRuntime,
}

impl RedisStore {
    /// Connects to a standalone server (reconnecting on its own after an
    /// outage); keys start with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, RedisStoreError> {
        let client = redis::Client::open(url).map_err(RedisStoreError::Connect)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let manager = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(RedisStoreError::Connect)?;
        Self::with_conn(Conn::Single(manager), prefix, vec![client])
    }

    /// Connects to a Redis Cluster through any of its nodes.
    pub async fn connect_cluster<I, U>(nodes: I, prefix: &str) -> Result<Self, RedisStoreError>
    where
        I: IntoIterator<Item = U>,
        U: AsRef<str>,
    {
        let nodes: Vec<String> = nodes.into_iter().map(|u| u.as_ref().to_owned()).collect();
        let subscribers = nodes
            .iter()
            .filter_map(|url| redis::Client::open(url.as_str()).ok())
            .collect();
        let client = redis::cluster::ClusterClientBuilder::new(nodes)
            .connection_timeout(Duration::from_millis(500))
            .response_timeout(Duration::from_millis(500))
            .retries(2)
            .build()
            .map_err(RedisStoreError::Connect)?;
        let conn = client
            .get_async_connection()
            .await
            .map_err(RedisStoreError::Connect)?;
        Self::with_conn(Conn::Cluster(conn), prefix, subscribers)
    }

    /// Uses an existing connection manager.
    ///
    /// The store cannot open a subscriber connection from it: its breakers
    /// still publish their transitions for the other replicas, but learn of
    /// theirs by polling only. Use [`connect`](Self::connect) to get pushes.
    pub fn from_connection_manager(
        manager: ConnectionManager,
        prefix: &str,
    ) -> Result<Self, RedisStoreError> {
        Self::with_conn(Conn::Single(manager), prefix, Vec::new())
    }

    /// Uses an existing Cluster connection.
    ///
    /// Without the node addresses the store cannot open a subscriber
    /// connection: its breakers still publish their transitions for the
    /// other replicas, but learn of theirs by polling only. Use
    /// [`connect_cluster`](Self::connect_cluster) to get pushes.
    pub fn from_cluster_connection(
        conn: ClusterConnection,
        prefix: &str,
    ) -> Result<Self, RedisStoreError> {
        Self::with_conn(Conn::Cluster(conn), prefix, Vec::new())
    }

    fn with_conn(
        conn: Conn,
        prefix: &str,
        subscribers: Vec<redis::Client>,
    ) -> Result<Self, RedisStoreError> {
        let handle = Handle::try_current().map_err(|_| RedisStoreError::NoRuntime)?;
        let events = Events::start(prefix, subscribers, &handle);
        Ok(RedisStore {
            conn,
            prefix: Arc::from(prefix),
            handle,
            events,
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether the store is subscribed to the transitions other replicas
    /// push right now. `false` before the first subscription, while it is
    /// reconnecting, and always for a store made from an existing
    /// connection; its breakers then learn of transitions by polling.
    pub fn is_subscribed(&self) -> bool {
        self.events.is_subscribed()
    }

    /// How many times the store has subscribed so far (1 after the first
    /// subscription, one more after every reconnection).
    pub fn subscriptions(&self) -> u64 {
        self.events.subscriptions()
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.conn {
            Conn::Single(_) => "standalone",
            Conn::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("connection", &kind)
            .field("subscribed", &self.events.is_subscribed())
            .finish()
    }
}

#[allow(private_interfaces)]
impl sealed::Attach for RedisStore {
    fn attach(&self, spec: Spec) -> Arc<Inner> {
        let name: String = spec
            .name
            .chars()
            .map(|c| if c == '{' || c == '}' { '_' } else { c })
            .collect();
        let base = format!("{}:{{{name}}}", self.prefix);
        let interval = spec.config.sync_interval;
        let spec_config = spec.config.clone();
        let notify = Arc::new(Notify::new());
        let mut inner = Inner::new(spec);
        inner.link = Some(Link {
            conn: self.conn.clone(),
            state_key: format!("{base}:state"),
            probes_key: format!("{base}:probes"),
            window_key: format!("{base}:window"),
            window: SharedWindow::of(&spec_config),
            notify: Arc::clone(&notify),
            handle: self.handle.clone(),
            replica: format!("{:016x}", random_id()),
            leases: AtomicU64::new(0),
            success_seen: AtomicBool::new(false),
            events: Arc::clone(&self.events),
            event_name: name.clone(),
        });
        // A new replica decides nothing before it has read the shared state.
        inner.refresh_fast(&inner.local.lock());
        let inner = Arc::new(inner);
        self.events.register(&name, &inner);
        self.handle
            .spawn(sync_loop(Arc::downgrade(&inner), notify, interval));
        inner
    }
}

impl Store for RedisStore {}

/// One connection type for standalone and Cluster.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Whether this replica can reach Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    /// Not synced yet: the first decision asks Redis.
    #[default]
    Unknown,
    Healthy,
    Down,
}

/// Outcomes of closed-state calls since the last sync, compressed so that
/// consecutive-failure counting still works: failures before the first
/// success, whether a success happened, failures after the last success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pending {
    before: u32,
    reset: bool,
    after: u32,
}

impl Pending {
    fn is_empty(&self) -> bool {
        *self == Pending::default()
    }
}

/// Calls, failures and slow calls not yet added to the shared time window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct WindowDelta {
    calls: u32,
    failures: u32,
    slow: u32,
}

/// The rate rules evaluated in Redis over a shared time window.
#[derive(Debug, Clone, Copy)]
struct SharedWindow {
    secs: u64,
    minimum_calls: u32,
    /// Thresholds in parts per million; 0 is off.
    failure_ppm: u64,
    slow_ppm: u64,
    slow_limit: Option<Duration>,
}

impl SharedWindow {
    fn of(config: &crate::Config) -> Option<Self> {
        let crate::Window::Time(d) = config.window else {
            return None;
        };
        if !config.uses_window() {
            return None;
        }
        // Both rates are in (0, 1]: the cast cannot overflow or go negative.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ppm = |rate: Option<f64>| rate.map_or(0, |r| (r * 1_000_000.0).round() as u64);
        Some(SharedWindow {
            secs: (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1),
            minimum_calls: config.minimum_calls,
            failure_ppm: ppm(config.failure_rate),
            slow_ppm: ppm(config.slow_call_rate),
            slow_limit: config.slow_call_duration,
        })
    }
}

/// The replica's view of the shared state (behind the breaker's lock).
#[derive(Debug, Default)]
pub(crate) struct SyncState {
    mode: Mode,
    /// The shared generation this replica last saw.
    shared_gen: u64,
    /// The local machine's generation when `shared_gen` was adopted; only
    /// outcomes of tickets from it are sent.
    gen_base: u64,
    pending: Pending,
    /// Calls for the shared time window since the last sync.
    window: WindowDelta,
    /// The fleet's failure total in `shared_gen` as of the last reply: a
    /// success sent later erases only the failures it knew about.
    known_failures: u64,
    /// The shared generation in which this replica tripped locally.
    trip: Option<u64>,
    operator: Option<State>,
    /// A generation adopted from a pushed message and not yet confirmed by
    /// a reply: an older reply does not undo it.
    pushed: Option<u64>,
}

/// A half-open probe permit held in Redis.
#[derive(Debug)]
pub(crate) struct Lease {
    id: String,
    shared_gen: u64,
}

/// The Redis side of one breaker.
pub(crate) struct Link {
    conn: Conn,
    state_key: String,
    probes_key: String,
    window_key: String,
    window: Option<SharedWindow>,
    notify: Arc<Notify>,
    handle: Handle,
    replica: String,
    leases: AtomicU64,
    /// A closed-state success taken on the lock-free path since the last
    /// look; folded into `Pending` under the lock.
    success_seen: AtomicBool,
    /// The store's pushed transitions (keeps its subscriber alive).
    events: Arc<Events>,
    /// The name this breaker's transitions are published under.
    event_name: String,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("state_key", &self.state_key)
            .finish_non_exhaustive()
    }
}

/// The shared state as a script returns it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shared {
    granted: bool,
    state: State,
    generation: u64,
    remaining: Duration,
    reopenings: u32,
    failures: u64,
}

impl SyncState {
    /// Whether closed-state calls may be decided without asking Redis.
    pub(crate) fn decides_locally(&self) -> bool {
        self.mode != Mode::Unknown
    }
}

impl Link {
    /// A success on the lock-free path: one relaxed load in the common case.
    #[inline]
    pub(crate) fn fast_success(&self) {
        if !self.success_seen.load(Ordering::Relaxed) {
            self.success_seen.store(true, Ordering::Relaxed);
        }
    }

    /// Folds lock-free successes into the pending outcomes (under the lock).
    fn fold_successes(&self, sync: &mut SyncState) {
        if self.success_seen.swap(false, Ordering::Relaxed) {
            sync.pending.reset = true;
            sync.pending.after = 0;
        }
    }

    /// Counts a closed-state outcome for the fleet (called under the lock).
    pub(crate) fn note_outcome(
        &self,
        local: &mut Local,
        ticket: Ticket,
        outcome: Outcome,
        elapsed: Option<Duration>,
        transition: Option<Transition>,
    ) {
        let sync = &mut local.sync;
        self.fold_successes(sync);
        if let Some(window) = &self.window {
            if ticket.kind == TicketKind::Normal
                && ticket.generation == sync.gen_base
                && outcome != Outcome::Ignore
            {
                let slow = matches!((window.slow_limit, elapsed), (Some(l), Some(e)) if e >= l);
                let delta = &mut sync.window;
                delta.calls = delta.calls.saturating_add(1);
                delta.failures = delta
                    .failures
                    .saturating_add(u32::from(outcome == Outcome::Failure));
                delta.slow = delta.slow.saturating_add(u32::from(slow));
            }
        }
        if let Some(t) = transition {
            match t.to {
                State::Open if ticket.generation == sync.gen_base => {
                    sync.trip = Some(sync.shared_gen);
                }
                // Closed again on its own (while Redis was down): nothing to push.
                State::Closed => sync.trip = None,
                _ => {}
            }
        }
        if ticket.kind != TicketKind::Normal || ticket.generation != sync.gen_base {
            if transition.is_some() {
                self.notify.notify_one();
            }
            return;
        }
        match outcome {
            Outcome::Success => {
                sync.pending.reset = true;
                sync.pending.after = 0;
            }
            Outcome::Failure => {
                if sync.pending.reset {
                    sync.pending.after = sync.pending.after.saturating_add(1);
                } else {
                    sync.pending.before = sync.pending.before.saturating_add(1);
                }
                self.notify.notify_one();
            }
            Outcome::Ignore => {}
        }
    }

    /// Remembers an operator's state change for the fleet.
    pub(crate) fn note_operator(&self, local: &mut Local, state: State) {
        local.sync.operator = Some(state);
        local.sync.trip = None;
        self.notify.notify_one();
    }

    /// Decides locally when that is safe, otherwise asks Redis.
    pub(crate) fn acquire(&self, inner: &Arc<Inner>) -> AcquireFuture {
        let (decision, transition) = {
            let mut local = inner.local.lock();
            let remote = match local.sync.mode {
                Mode::Down => false,
                Mode::Unknown => true,
                Mode::Healthy => match local.machine.phase() {
                    Phase::Closed | Phase::Disabled | Phase::ForcedOpen => false,
                    Phase::HalfOpen { .. } => true,
                    Phase::Open { until } => inner.clock.now() >= until,
                },
            };
            if remote {
                drop(local);
                let task = self.handle.spawn(remote_acquire(Arc::clone(inner)));
                return AcquireFuture::remote(task);
            }
            inner.acquire_local(&mut local)
        };
        inner.transitioned(transition);
        AcquireFuture::ready(match decision {
            Ok(ticket) => Ok(inner.permit(ticket)),
            Err(rejected) => {
                inner.rejected(rejected);
                Err(rejected)
            }
        })
    }

    /// Reports a probe's outcome to Redis without making the caller wait.
    pub(crate) fn finish_probe(
        &self,
        inner: &Arc<Inner>,
        lease: Lease,
        outcome: Outcome,
        elapsed: Option<Duration>,
    ) {
        let config = &inner.config;
        let slow = match (config.slow_call_duration, elapsed) {
            (Some(limit), Some(took)) => took >= limit && config.slow_call_rate.is_some(),
            _ => false,
        };
        let code = match outcome {
            Outcome::Success if !slow => "S",
            Outcome::Success | Outcome::Failure => "F",
            Outcome::Ignore => "R",
        };
        let inner = Arc::clone(inner);
        self.handle.spawn(async move {
            let Some(link) = inner.link.as_ref() else {
                return;
            };
            let mut conn = link.conn.clone();
            let mut invocation = PROBE_RESULT.prepare_invoke();
            link.prelude(&mut invocation, &inner);
            invocation
                .arg(&lease.id)
                .arg(lease.shared_gen)
                .arg(code)
                .arg(inner.config.half_open_successes);
            link.postlude(&mut invocation);
            let reply = with_timeout(invocation.invoke_async::<Vec<i64>>(&mut conn)).await;
            apply_reply(&inner, reply, false);
        });
    }

    fn prelude(&self, invocation: &mut redis::ScriptInvocation<'_>, inner: &Inner) {
        let config = &inner.config;
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let max_open = config.max_open_duration.max(config.open_duration);
        let ttl = ms(max_open).saturating_mul(2).max(86_400_000);
        invocation
            .key(&self.state_key)
            .key(&self.probes_key)
            .key(&self.window_key)
            .arg(config.consecutive_failures)
            .arg(ms(config.open_duration))
            .arg(config.backoff_multiplier.to_string())
            .arg(ms(max_open))
            .arg(ttl);
    }

    /// The last two arguments of every script: where and under which name
    /// it publishes a change the other replicas must know of at once.
    fn postlude(&self, invocation: &mut redis::ScriptInvocation<'_>) {
        invocation.arg(self.events.channel()).arg(&self.event_name);
    }
}

/// Asks Redis for a decision: reads (or creates) the shared state, moves an
/// expired open breaker to half-open and takes a probe lease if one is free.
async fn remote_acquire(inner: Arc<Inner>) -> Result<Permit, Rejected> {
    let Some(link) = inner.link.as_ref() else {
        return local_fallback(&inner);
    };
    let lease_no = link.leases.fetch_add(1, Ordering::Relaxed);
    let lease_id = format!("{}:{lease_no}", link.replica);
    let (trip, pending_gen) = {
        let local = inner.local.lock();
        (local.sync.trip, local.sync.shared_gen)
    };
    let mut conn = link.conn.clone();
    let mut invocation = ACQUIRE.prepare_invoke();
    link.prelude(&mut invocation, &inner);
    let lease_ms = u64::try_from(inner.config.probe_lease.as_millis()).unwrap_or(u64::MAX);
    invocation
        .arg(&lease_id)
        .arg(lease_ms)
        .arg(inner.config.half_open_permits)
        .arg(trip.map_or(-1, |g| i64::try_from(g).unwrap_or(i64::MAX)))
        .arg(pending_gen);
    link.postlude(&mut invocation);
    let reply = with_timeout(invocation.invoke_async::<Vec<i64>>(&mut conn)).await;
    let Some(shared) = apply_reply(&inner, reply, trip.is_some()) else {
        return local_fallback(&inner);
    };
    if shared.granted {
        let ticket = Ticket {
            generation: inner.local.lock().machine.generation(),
            kind: TicketKind::Untracked,
        };
        let mut permit = inner.permit(ticket);
        permit.lease = Some(Lease {
            id: lease_id,
            shared_gen: shared.generation,
        });
        return Ok(permit);
    }
    let rejected = match shared.state {
        State::Closed | State::Disabled => return local_fallback(&inner),
        State::Open => Rejected {
            retry_after: shared.remaining,
            state: State::Open,
        },
        State::ForcedOpen => Rejected {
            retry_after: inner.config.open_duration,
            state: State::ForcedOpen,
        },
        State::HalfOpen => Rejected {
            retry_after: HALF_OPEN_BUSY_RETRY,
            state: State::HalfOpen,
        },
    };
    inner.rejected(rejected);
    Err(rejected)
}

/// A local decision (Redis unreachable, or the shared state says closed).
fn local_fallback(inner: &Arc<Inner>) -> Result<Permit, Rejected> {
    let (decision, transition) = {
        let mut local = inner.local.lock();
        inner.acquire_local(&mut local)
    };
    inner.transitioned(transition);
    match decision {
        Ok(ticket) => Ok(inner.permit(ticket)),
        Err(rejected) => {
            inner.rejected(rejected);
            Err(rejected)
        }
    }
}

async fn with_timeout<T>(
    fut: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    match tokio::time::timeout(REDIS_TIMEOUT, fut).await {
        Ok(result) => result,
        Err(_) => Err(redis::RedisError::from(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "redis call timed out",
        ))),
    }
}

/// Adopts a script's reply, or marks Redis as down. `sent_trip` says the
/// call carried this replica's pending trip (now delivered).
fn apply_reply(
    inner: &Arc<Inner>,
    reply: redis::RedisResult<Vec<i64>>,
    sent_trip: bool,
) -> Option<Shared> {
    let shared = match reply.map(|v| parse_shared(&v)) {
        Ok(Some(shared)) => shared,
        Ok(None) | Err(_) => {
            let was = {
                let mut local = inner.local.lock();
                let was = std::mem::replace(&mut local.sync.mode, Mode::Down);
                inner.refresh_fast(&local);
                was
            };
            if was != Mode::Down {
                tracing::warn!(
                    breaker = %inner.name,
                    "circuit breaker cannot reach Redis; deciding locally until it is back"
                );
            }
            return None;
        }
    };
    let (transition, stale) = {
        let mut local = inner.local.lock();
        let local = &mut *local;
        if local.sync.mode == Mode::Down {
            tracing::info!(breaker = %inner.name, "circuit breaker reconnected to Redis");
        }
        local.sync.mode = Mode::Healthy;
        if sent_trip {
            local.sync.trip = None;
        }
        // A reply to a call made before a newer state was pushed is not
        // adopted (once): the loop asks again.
        let stale = matches!(local.sync.pushed.take(), Some(p) if shared.generation < p);
        let transition = if stale {
            None
        } else {
            adopt_shared(inner, local, &shared)
        };
        inner.refresh_fast(local);
        (transition, stale)
    };
    if stale {
        wake(inner);
    }
    inner.transitioned(transition);
    Some(shared)
}

/// Makes the shared state the local one (under the lock).
fn adopt_shared(inner: &Inner, local: &mut Local, shared: &Shared) -> Option<Transition> {
    // A trip not yet delivered wins over an older view of the same generation.
    let keep_local = local.sync.trip == Some(shared.generation) && shared.state == State::Closed;
    if keep_local {
        return None;
    }
    let changed = shared.generation != local.sync.shared_gen;
    let until = (shared.state == State::Open).then(|| inner.clock.now() + shared.remaining);
    let transition = local
        .machine
        .adopt(shared.state, until, shared.reopenings, changed);
    if changed {
        local.sync.shared_gen = shared.generation;
        local.sync.gen_base = local.machine.generation();
        local.sync.pending = Pending::default();
        local.sync.window = WindowDelta::default();
    }
    local.sync.known_failures = shared.failures;
    transition
}

/// A message another replica's script published: `<generation> <state>
/// <remaining ms> <reopenings> <failures> <name>`.
pub(super) fn parse_event(payload: &str) -> Option<(Shared, &str)> {
    let mut parts = payload.splitn(6, ' ');
    let mut number = || parts.next()?.parse::<i64>().ok();
    let (generation, state, remaining, reopenings, failures) =
        (number()?, number()?, number()?, number()?, number()?);
    let name = parts.next()?;
    let shared = parse_shared(&[0, state, generation, remaining, reopenings, failures])?;
    Some((shared, name))
}

/// Applies a pushed state that is newer than what this replica knows, at
/// once; for anything else (not synced yet, Redis unreachable, failures
/// counted, a state it may already know) wakes the sync loop instead, which
/// asks Redis.
pub(super) fn apply_pushed(inner: &Arc<Inner>, shared: Shared) {
    let Some(link) = inner.link.as_ref() else {
        return;
    };
    let transition = {
        let mut local = inner.local.lock();
        let local = &mut *local;
        let known = shared.generation == local.sync.shared_gen
            && shared.state == local.machine.phase().state()
            && (shared.state != State::Closed || local.sync.known_failures > 0);
        if known {
            return;
        }
        if local.sync.mode != Mode::Healthy || shared.generation <= local.sync.shared_gen {
            link.notify.notify_one();
            return;
        }
        let transition = adopt_shared(inner, local, &shared);
        local.sync.pushed = Some(shared.generation);
        inner.refresh_fast(local);
        transition
    };
    inner.transitioned(transition);
}

/// Makes the breaker's sync loop look at the shared state now.
pub(super) fn wake(inner: &Inner) {
    if let Some(link) = inner.link.as_ref() {
        link.notify.notify_one();
    }
}

fn parse_shared(v: &[i64]) -> Option<Shared> {
    let [granted, state, generation, remaining, reopenings, failures] = *v else {
        return None;
    };
    let state = match state {
        0 => State::Closed,
        1 => State::Open,
        2 => State::HalfOpen,
        3 => State::ForcedOpen,
        4 => State::Disabled,
        _ => return None,
    };
    Some(Shared {
        granted: granted == 1,
        state,
        generation: u64::try_from(generation).ok()?,
        remaining: Duration::from_millis(u64::try_from(remaining).unwrap_or(0)),
        reopenings: u32::try_from(reopenings).unwrap_or(u32::MAX),
        failures: u64::try_from(failures).unwrap_or(0),
    })
}

fn state_code(state: State) -> i64 {
    match state {
        State::Closed => 0,
        State::Open => 1,
        State::HalfOpen => 2,
        State::ForcedOpen => 3,
        State::Disabled => 4,
    }
}

/// The refresh interval while the fleet has counted failures of a closed
/// breaker: a tenth of `interval`, at least 10 ms.
fn suspect_interval(interval: Duration) -> Duration {
    (interval / 10).max(Duration::from_millis(10)).min(interval)
}

/// Reconciles one breaker with Redis until the breaker is dropped: every
/// `interval`, and every tenth of it while the fleet has counted failures
/// (another replica may trip the breaker any moment, and every call this
/// replica admits until it learns of that reaches the failing service).
async fn sync_loop(breaker: Weak<Inner>, notify: Arc<Notify>, interval: Duration) {
    let suspect = suspect_interval(interval);
    loop {
        let Some(inner) = breaker.upgrade() else {
            return;
        };
        sync_once(&inner).await;
        let wait = {
            let local = inner.local.lock();
            let sync = &local.sync;
            let failing = sync.known_failures > 0 || !sync.pending.is_empty();
            if failing && local.machine.phase() == Phase::Closed {
                suspect
            } else {
                interval
            }
        };
        drop(inner);
        tokio::select! {
            () = notify.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// One reconciliation, now; whether Redis answered.
pub(crate) async fn sync_now(inner: &Arc<Inner>) -> bool {
    sync_once(inner).await
}

async fn sync_once(inner: &Arc<Inner>) -> bool {
    let Some(link) = inner.link.as_ref() else {
        return false;
    };
    let (pending_gen, pending, window, known, trip, operator) = {
        let mut local = inner.local.lock();
        let sync = &mut local.sync;
        link.fold_successes(sync);
        (
            sync.shared_gen,
            std::mem::take(&mut sync.pending),
            std::mem::take(&mut sync.window),
            sync.known_failures,
            sync.trip,
            sync.operator.take(),
        )
    };
    let mut conn = link.conn.clone();
    let mut invocation = SYNC.prepare_invoke();
    link.prelude(&mut invocation, inner);
    invocation
        .arg(pending_gen)
        .arg(pending.before)
        .arg(u8::from(pending.reset))
        .arg(pending.after)
        .arg(trip.map_or(-1, |g| i64::try_from(g).unwrap_or(i64::MAX)))
        .arg(operator.map_or(-1, state_code))
        .arg(known);
    let shared = link.window.unwrap_or(SharedWindow {
        secs: 0,
        minimum_calls: 0,
        failure_ppm: 0,
        slow_ppm: 0,
        slow_limit: None,
    });
    invocation
        .arg(shared.secs)
        .arg(shared.minimum_calls)
        .arg(shared.failure_ppm)
        .arg(shared.slow_ppm)
        .arg(window.calls)
        .arg(window.failures)
        .arg(window.slow);
    link.postlude(&mut invocation);
    let reply = with_timeout(invocation.invoke_async::<Vec<i64>>(&mut conn)).await;
    if reply.is_err() {
        // Keep what was not delivered for the next attempt.
        let mut local = inner.local.lock();
        let sync = &mut local.sync;
        if sync.operator.is_none() {
            sync.operator = operator;
        }
        if sync.shared_gen == pending_gen {
            if !pending.is_empty() {
                let newer = sync.pending;
                sync.pending = merge(pending, newer);
            }
            sync.window.calls = sync.window.calls.saturating_add(window.calls);
            sync.window.failures = sync.window.failures.saturating_add(window.failures);
            sync.window.slow = sync.window.slow.saturating_add(window.slow);
        }
    }
    apply_reply(inner, reply, trip.is_some()).is_some()
}

/// `older` followed by `newer`.
fn merge(older: Pending, newer: Pending) -> Pending {
    if newer.reset {
        Pending {
            before: older.before,
            reset: true,
            after: newer.after,
        }
        .with_before(if older.reset { 0 } else { newer.before })
    } else if older.reset {
        Pending {
            before: older.before,
            reset: true,
            after: older.after.saturating_add(newer.before),
        }
    } else {
        Pending {
            before: older.before.saturating_add(newer.before),
            reset: false,
            after: 0,
        }
    }
}

impl Pending {
    fn with_before(mut self, extra: u32) -> Self {
        self.before = self.before.saturating_add(extra);
        self
    }
}

fn random_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

/// Shared by every script: reads the state (creating it if missing) and
/// defines the helpers. KEYS: state hash, probe leases, time-window
/// buckets. ARGV 1-5: consecutive
/// failure limit, open ms, backoff multiplier, max open ms, state TTL ms.
/// The last two ARGV (after each script's own): the event channel and the
/// name published on it (see the epilogue).
macro_rules! prelude {
    () => {
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cf_max = tonumber(ARGV[1])
local open_ms = tonumber(ARGV[2])
local mult = tonumber(ARGV[3])
local max_ms = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'st', 'g', 'until', 're', 'ft', 'rs', 'hs')
local fresh = (h[1] == false)
local st = tonumber(h[1]) or 0
local g = tonumber(h[2]) or 1
local untl = tonumber(h[3]) or 0
local re = tonumber(h[4]) or 0
local ft = tonumber(h[5]) or 0
local rs = tonumber(h[6]) or 0
local hs = tonumber(h[7]) or 0
local g0 = g
local ft0 = ft
local chan = ARGV[#ARGV - 1]
local pname = ARGV[#ARGV]
local function open_for(r)
  local d = open_ms * (mult ^ r)
  if d > max_ms then d = max_ms end
  if d < open_ms then d = open_ms end
  return math.floor(d)
end
local function enter(s)
  st = s
  g = g + 1
  ft = 0
  rs = 0
  hs = 0
  redis.call('DEL', KEYS[2], KEYS[3])
  if s == 1 then untl = now + open_for(re) end
end
local function trip_if(trip_gen)
  if trip_gen >= 0 and st == 0 and (fresh or g == trip_gen) then enter(1) end
end
"
    };
}

/// Writes the state back and returns `{granted, st, g, remaining ms, re, ft}`.
///
/// A new generation (any transition) and the first failures counted in a
/// closed generation are published as `<g> <st> <remaining> <re> <ft>
/// <name>`, so the other replicas adopt the one and start refreshing often
/// on the other at once. `pcall`: a server that refuses `PUBLISH` (ACL)
/// only loses the push.
macro_rules! epilogue {
    () => {
        r"
if st == 1 and now >= untl then enter(2) end
redis.call('HSET', KEYS[1], 'st', st, 'g', g, 'until', untl, 're', re, 'ft', ft, 'rs', rs, 'hs', hs)
redis.call('PEXPIRE', KEYS[1], ttl)
local remaining = 0
if st == 1 then remaining = untl - now end
if g ~= g0 or (st == 0 and ft0 == 0 and ft > 0) then
  redis.pcall('PUBLISH', chan, g .. ' ' .. st .. ' ' .. remaining .. ' ' .. re .. ' ' .. ft .. ' ' .. pname)
end
return {granted, st, g, remaining, re, ft}
"
    };
}

/// ARGV 6-12: pending generation, failures before, reset, failures after,
/// trip generation (-1: none), operator state (-1: none), the failure total
/// the replica knew of.
///
/// Consecutive failures fleet-wide are `ft - rs`: `ft` counts the failures
/// of this generation, `rs` is where the last success put the count back.
/// A replica's success erases the failures it knew of (and its own earlier
/// ones), never failures of other replicas it had not seen yet.
///
/// ARGV 13-19: the shared time window in seconds (0: none), minimum calls,
/// failure and slow-call thresholds in ppm (0: off), then this replica's
/// calls, failures and slow calls since its last sync, added to per-second
/// buckets (`<second>c`, `<second>f`, `<second>s`).
static SYNC: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(concat!(
        prelude!(),
        r"
local granted = 0
local pgen = tonumber(ARGV[6])
local before = tonumber(ARGV[7])
local reset = tonumber(ARGV[8])
local after = tonumber(ARGV[9])
local op = tonumber(ARGV[11])
if op >= 0 then
  if op == 0 then re = 0 end
  enter(op)
else
  trip_if(tonumber(ARGV[10]))
  if st == 0 and g == pgen and not fresh then
    local known = tonumber(ARGV[12])
    ft = ft + before
    if cf_max > 0 and ft - rs >= cf_max then enter(1) end
    if st == 0 and reset == 1 then
      local upto = math.min(known + before, ft)
      if upto > rs then rs = upto end
    end
    if st == 0 then
      ft = ft + after
      if cf_max > 0 and ft - rs >= cf_max then enter(1) end
    end
    local wsecs = tonumber(ARGV[13])
    local dc = tonumber(ARGV[17])
    if st == 0 and wsecs > 0 and dc > 0 then
      local sec = math.floor(now / 1000)
      redis.call('HINCRBY', KEYS[3], sec .. 'c', dc)
      redis.call('HINCRBY', KEYS[3], sec .. 'f', tonumber(ARGV[18]))
      redis.call('HINCRBY', KEYS[3], sec .. 's', tonumber(ARGV[19]))
      redis.call('PEXPIRE', KEYS[3], wsecs * 2000 + 10000)
      for old = sec - wsecs - 10, sec - wsecs do
        redis.call('HDEL', KEYS[3], old .. 'c', old .. 'f', old .. 's')
      end
      local fields = {}
      for s = sec - wsecs + 1, sec do
        table.insert(fields, s .. 'c')
        table.insert(fields, s .. 'f')
        table.insert(fields, s .. 's')
      end
      local vals = redis.call('HMGET', KEYS[3], unpack(fields))
      local c, f, sl = 0, 0, 0
      for i = 1, #vals, 3 do
        c = c + (tonumber(vals[i]) or 0)
        f = f + (tonumber(vals[i + 1]) or 0)
        sl = sl + (tonumber(vals[i + 2]) or 0)
      end
      local fppm = tonumber(ARGV[15])
      local sppm = tonumber(ARGV[16])
      if c > 0 and c >= tonumber(ARGV[14]) then
        if (fppm > 0 and f * 1000000 >= fppm * c) or (sppm > 0 and sl * 1000000 >= sppm * c) then
          enter(1)
        end
      end
    end
  end
end
",
        epilogue!()
    ))
});

/// ARGV 6-10: lease id, lease ms, permits, trip generation (-1: none),
/// generation the replica knows.
static ACQUIRE: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(concat!(
        prelude!(),
        r"
local granted = 0
trip_if(tonumber(ARGV[9]))
if st == 1 and now >= untl then enter(2) end
if st == 2 then
  local lease_ms = tonumber(ARGV[7])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[8]) then
    redis.call('ZADD', KEYS[2], now + lease_ms, ARGV[6])
    redis.call('PEXPIRE', KEYS[2], lease_ms * 2)
    granted = 1
  end
end
",
        epilogue!()
    ))
});

/// ARGV 6-9: lease id, lease generation, outcome (S, F or R), successes needed.
static PROBE_RESULT: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(concat!(
        prelude!(),
        r"
local granted = 0
if st == 2 and g == tonumber(ARGV[7]) and redis.call('ZREM', KEYS[2], ARGV[6]) == 1 then
  if ARGV[8] == 'S' then
    hs = hs + 1
    if hs >= tonumber(ARGV[9]) then
      re = 0
      enter(0)
    end
  elseif ARGV[8] == 'F' then
    re = re + 1
    enter(1)
  end
end
",
        epilogue!()
    ))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_the_order_of_outcomes() {
        let p = |before, reset, after| Pending {
            before,
            reset,
            after,
        };
        // F F | F S F  ->  F F F S F
        assert_eq!(merge(p(2, false, 0), p(1, true, 1)), p(3, true, 1));
        // F S F | F  ->  F S F F
        assert_eq!(merge(p(1, true, 1), p(1, false, 0)), p(1, true, 2));
        // S F | F S  ->  S F F S
        assert_eq!(merge(p(0, true, 1), p(1, true, 0)), p(0, true, 0));
    }
}
