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
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::Notify;
use voxcal_core::redis::{LuaScript, RedisConnection};

use super::pubsub::Events;
use super::sealed;
use super::Store;
use crate::breaker::{AcquireFuture, Inner, Local, Spec};
use crate::machine::{Phase, Ticket, TicketKind, Transition, HALF_OPEN_BUSY_RETRY};
use crate::{Outcome, Permit, Rejected, State};

/// How long one Redis call may take before the replica decides locally.
const REDIS_TIMEOUT: Duration = Duration::from_millis(750);

/// The key prefix of a store made without [`RedisStore::with_prefix`].
const DEFAULT_PREFIX: &str = "cb";

/// Breaker state in Redis, shared by every replica (standalone or Cluster).
///
/// Made one way, like every Redis store of the family: connect a
/// [`RedisConnection`] once, then `RedisStore::new(conn)` and `with_*`
/// builders.
///
/// Keys are `{prefix}:{<breaker name>}:state` (a hash),
/// `{prefix}:{<breaker name>}:probes` (a sorted set of probe leases) and
/// `{prefix}:{<breaker name>}:window` (time-window buckets), with the
/// prefix `cb` unless [`with_prefix`](Self::with_prefix) says otherwise; the
/// braces make them land on one Cluster slot. All have TTLs. Every
/// transition is one Lua script using the server's `TIME`, so replicas with
/// skewed clocks agree.
///
/// - The closed-state success path never waits on Redis: outcomes are
///   counted locally and sent by a background task.
/// - **Transitions are pushed**: a script that changes the shared state
///   (a trip, half-open, closing, an operator change) publishes it on the
///   channel `{prefix}:events`, and so does the first failure counted in a
///   closed generation. Each store keeps one subscriber connection (not
///   one per breaker), started when the store makes its first breaker, and
///   the other replicas adopt a pushed state at once: expect a few
///   milliseconds from the tripping script to every replica (about 3 ms
///   measured on one machine, standalone and Cluster), plus the replicas'
///   scheduling delay under load. The subscriber opens its own connections
///   from the connection's [`node_urls`](RedisConnection::node_urls): on a
///   Cluster classic `PUBLISH` reaches every node, so it uses one node of
///   the list given to
///   [`RedisConnection::connect_cluster`], in order, and moves to the next
///   when its node fails. A connection made from an existing
///   `ConnectionManager` or `ClusterConnection` (`RedisConnection::from`)
///   has no addresses: its store publishes but only polls.
///   [`is_subscribed`](Self::is_subscribed) tells whether pushes arrive
///   right now.
/// - **Polling underneath, unchanged**: replicas also learn of transitions
///   within `sync_interval` (250 ms by default), right away after a local
///   failure, and within a tenth of it (25 ms by default) while the fleet
///   has counted failures of the closed breaker. A message lost while the
///   subscriber reconnects (after trying every node it backs off from
///   100 ms to 5 s) therefore costs at most that; every breaker re-reads
///   the shared state when the subscriber is back. A server that refuses
///   `PUBLISH` or `SUBSCRIBE` (ACL) leaves polling only.
/// - Half-open probe permits are leases in Redis with a TTL
///   ([`probe_lease`](crate::BreakerConfigBuilder::probe_lease)), so exactly
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
/// - **Tokio**: the background tasks run on the runtime the store was made
///   in, or, for a store made outside any runtime, on the runtime a breaker
///   is built in. A breaker built with no runtime at all logs one
///   `tracing` error and decides on its own (as on a [`MemoryStore`](crate::MemoryStore)),
///   instead of panicking.
///
/// ```no_run
/// # async fn demo() -> Result<(), redis::RedisError> {
/// use voxcal_circuit_breaker::{CircuitBreaker, RedisConnection, RedisStore};
///
/// let conn = RedisConnection::connect("redis://127.0.0.1:6379/").await?;
/// let store = RedisStore::new(conn).with_prefix("cb");
/// let breaker = CircuitBreaker::builder("calcom").build_with(&store);
/// breaker.synced().await; // optional: wait until the shared state is known
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: RedisConnection,
    prefix: Arc<str>,
    /// The runtime the store was made in, if any.
    handle: Option<Handle>,
    /// The pushed transitions, started with the first breaker (so with the
    /// final prefix). Shared by the clones of one store.
    events: Arc<OnceLock<Arc<Events>>>,
}

impl RedisStore {
    /// A store on `conn` with keys under the prefix `cb`.
    ///
    /// Nothing is sent yet: the pub/sub subscriber starts with the first
    /// breaker built on the store, each breaker's sync task with it.
    pub fn new(conn: RedisConnection) -> Self {
        RedisStore {
            conn,
            prefix: Arc::from(DEFAULT_PREFIX),
            handle: Handle::try_current().ok(),
            events: Arc::new(OnceLock::new()),
        }
    }

    /// Keys (and the event channel) under `prefix` instead of `cb`.
    ///
    /// Replicas that share breakers use the same prefix. The result is a
    /// store of its own: breakers already built on `self` keep theirs.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self.events = Arc::new(OnceLock::new());
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The connection the store uses.
    pub fn connection(&self) -> &RedisConnection {
        &self.conn
    }

    /// Whether the store is subscribed to the transitions other replicas
    /// push right now. `false` before the first breaker is built, before
    /// the first subscription, while it is reconnecting, and always for a
    /// connection without node addresses; its breakers then learn of
    /// transitions by polling.
    pub fn is_subscribed(&self) -> bool {
        self.events.get().is_some_and(|e| e.is_subscribed())
    }

    /// How many times the store has subscribed so far (1 after the first
    /// subscription, one more after every reconnection).
    pub fn subscriptions(&self) -> u64 {
        self.events.get().map_or(0, |e| e.subscriptions())
    }

    /// The store's events, starting the subscriber on `handle` the first time.
    fn events(&self, handle: &Handle) -> Arc<Events> {
        let events = self.events.get_or_init(|| {
            // A URL that does not parse cannot be subscribed to; the
            // others still are.
            let nodes = self
                .conn
                .node_urls()
                .iter()
                .filter_map(|url| redis::Client::open(url.as_str()).ok())
                .collect();
            Events::start(&self.prefix, nodes, handle)
        });
        Arc::clone(events)
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.conn.is_cluster() {
            "cluster"
        } else {
            "standalone"
        };
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("connection", &kind)
            .field("subscribed", &self.is_subscribed())
            .finish()
    }
}

#[allow(private_interfaces)]
impl sealed::Attach for RedisStore {
    fn attach(&self, spec: Spec) -> Arc<Inner> {
        let Some(handle) = self.handle.clone().or_else(|| Handle::try_current().ok()) else {
            tracing::error!(
                breaker = %spec.name,
                "circuit breaker built on a RedisStore outside any Tokio runtime; it decides locally and shares no state"
            );
            return Arc::new(Inner::new(spec));
        };
        let name: String = spec
            .name
            .chars()
            .map(|c| if c == '{' || c == '}' { '_' } else { c })
            .collect();
        let base = format!("{}:{{{name}}}", self.prefix);
        let interval = spec.config.sync_interval;
        let spec_config = spec.config.clone();
        let notify = Arc::new(Notify::new());
        let events = self.events(&handle);
        let mut inner = Inner::new(spec);
        inner.link = Some(Link {
            conn: self.conn.clone(),
            state_key: format!("{base}:state"),
            probes_key: format!("{base}:probes"),
            window_key: format!("{base}:window"),
            window: SharedWindow::of(&spec_config),
            notify: Arc::clone(&notify),
            handle: handle.clone(),
            replica: format!("{:016x}", voxcal_core::random_u64()),
            leases: AtomicU64::new(0),
            success_seen: AtomicBool::new(false),
            events: Arc::clone(&events),
            event_name: name.clone(),
        });
        // A new replica decides nothing before it has read the shared state.
        inner.refresh_fast(&inner.local.lock());
        let inner = Arc::new(inner);
        events.register(&name, &inner);
        handle.spawn(sync_loop(Arc::downgrade(&inner), notify, interval));
        inner
    }
}

impl Store for RedisStore {}

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
    fn of(config: &crate::BreakerConfig) -> Option<Self> {
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
    conn: RedisConnection,
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

/// The scripts: `prelude.lua` + the script's own part + `epilogue.lua`.
static SYNC: LuaScript = LuaScript::new(concat!(
    include_str!("lua/prelude.lua"),
    include_str!("lua/sync.lua"),
    include_str!("lua/epilogue.lua"),
));

static ACQUIRE: LuaScript = LuaScript::new(concat!(
    include_str!("lua/prelude.lua"),
    include_str!("lua/acquire.lua"),
    include_str!("lua/epilogue.lua"),
));

static PROBE_RESULT: LuaScript = LuaScript::new(concat!(
    include_str!("lua/prelude.lua"),
    include_str!("lua/probe_result.lua"),
    include_str!("lua/epilogue.lua"),
));

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
