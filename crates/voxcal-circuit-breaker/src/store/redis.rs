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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::{oneshot, Notify};
use voxcal_core::redis::{LuaScript, RedisConnection};

use super::pubsub::{parse_shared, Events, Pushed, Shared};
use super::{
    BoxFuture, BreakerSpec, FleetSink, FleetState, Generation, Lease, LeaseReply, OutcomeReport,
    SharedBreaker, Store, StoreHealth,
};
use crate::{BreakerConfig, Clock, Outcome, State};

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
    /// The clock the scripts read instead of the server's `TIME` (tests).
    clock: Option<Arc<dyn Clock>>,
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
            clock: None,
        }
    }

    /// The scripts read `clock`'s wall time ([`Clock::now_utc`]) instead of
    /// the server's `TIME`: for tests with a [`FakeClock`](crate::FakeClock)
    /// (open durations, probe leases and time windows then follow it).
    /// Every replica must use the same clock. Without it (the default) the
    /// server's time governs, so replicas with skewed clocks agree.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
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

impl Store for RedisStore {
    fn attach(&self, spec: &BreakerSpec, sink: FleetSink) -> Option<Arc<dyn SharedBreaker>> {
        let Some(handle) = self.handle.clone().or_else(|| Handle::try_current().ok()) else {
            tracing::error!(
                breaker = %spec.name(),
                "circuit breaker built on a RedisStore outside any Tokio runtime; it decides locally and shares no state"
            );
            return None;
        };
        let name: String = spec
            .name()
            .chars()
            .map(|c| if c == '{' || c == '}' { '_' } else { c })
            .collect();
        let base = format!("{}:{{{name}}}", self.prefix);
        let config = spec.config().clone();
        let interval = config.sync_interval;
        let notify = Arc::new(Notify::new());
        let events = self.events(&handle);
        let link = Arc::new_cyclic(|me| Link {
            me: Weak::clone(me),
            name: Arc::clone(spec.name_arc()),
            conn: self.conn.clone(),
            state_key: format!("{base}:state"),
            probes_key: format!("{base}:probes"),
            window_key: format!("{base}:window"),
            window: SharedWindow::of(&config),
            config,
            notify: Arc::clone(&notify),
            handle: handle.clone(),
            replica: format!("{:016x}", voxcal_core::random_u64()),
            leases: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            success_seen: AtomicBool::new(false),
            events: Arc::clone(&events),
            event_name: name.clone(),
            clock: self.clock.clone(),
            mode: AtomicU8::new(Mode::Unknown as u8),
            sync: Mutex::new(SyncState::default()),
            sink,
        });
        let pushed: Weak<dyn Pushed> = Arc::downgrade(&link) as Weak<dyn Pushed>;
        events.register(&name, pushed);
        handle.spawn(sync_loop(Arc::downgrade(&link), notify, interval));
        Some(link)
    }
}

/// Whether this replica can reach Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
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
}

impl SharedWindow {
    fn of(config: &BreakerConfig) -> Option<Self> {
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
        })
    }
}

/// The replica's view of the shared state (behind the link's lock).
#[derive(Debug, Default)]
struct SyncState {
    /// The shared generation this replica last saw (and its breaker adopted).
    shared_gen: u64,
    /// The shared state adopted with it.
    state: SharedStateKind,
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
    /// The number of the call whose reply (or the push) gave the adopted
    /// state: see [`Link::apply_reply`].
    adopted_call: u64,
}

/// The last adopted shared state (`Default`: closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SharedStateKind(State);

impl Default for SharedStateKind {
    fn default() -> Self {
        SharedStateKind(State::Closed)
    }
}

/// The Redis side of one breaker: its [`SharedBreaker`] handle.
struct Link {
    /// Itself, for the tasks it spawns.
    me: Weak<Link>,
    name: Arc<str>,
    config: BreakerConfig,
    conn: RedisConnection,
    state_key: String,
    probes_key: String,
    window_key: String,
    window: Option<SharedWindow>,
    notify: Arc<Notify>,
    handle: Handle,
    replica: String,
    leases: AtomicU64,
    /// Calls to Redis sent so far (their numbers).
    sent: AtomicU64,
    /// A closed-state success taken on the lock-free path since the last
    /// look; folded into `Pending` under the lock.
    success_seen: AtomicBool,
    /// The store's pushed transitions (keeps its subscriber alive).
    events: Arc<Events>,
    /// The name this breaker's transitions are published under.
    event_name: String,
    /// The clock the scripts read instead of `TIME`, if any.
    clock: Option<Arc<dyn Clock>>,
    /// A `Mode`, readable without the lock.
    mode: AtomicU8,
    sync: Mutex<SyncState>,
    /// Where adopted states go: the breaker.
    sink: FleetSink,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBreaker")
            .field("state_key", &self.state_key)
            .field("mode", &self.mode())
            .finish_non_exhaustive()
    }
}

fn fleet_of(shared: &Shared) -> FleetState {
    let mut fleet = FleetState::new(shared.state, Generation::new(shared.generation));
    fleet.open_remaining = shared.remaining;
    fleet.reopenings = shared.reopenings;
    fleet.failures = shared.failures;
    fleet
}

impl Link {
    fn mode(&self) -> Mode {
        match self.mode.load(Ordering::Acquire) {
            0 => Mode::Unknown,
            1 => Mode::Healthy,
            _ => Mode::Down,
        }
    }

    fn set_mode(&self, mode: Mode) -> Mode {
        match self.mode.swap(mode as u8, Ordering::AcqRel) {
            0 => Mode::Unknown,
            1 => Mode::Healthy,
            _ => Mode::Down,
        }
    }

    /// Folds lock-free successes into the pending outcomes (under the lock).
    fn fold_successes(&self, sync: &mut SyncState) {
        if self.success_seen.swap(false, Ordering::Relaxed) {
            sync.pending.reset = true;
            sync.pending.after = 0;
        }
    }

    fn prelude(&self, invocation: &mut redis::ScriptInvocation<'_>) {
        let config = &self.config;
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

    /// The last three arguments of every script: the time to use (-1: the
    /// server's), and where and under which name it publishes a change the
    /// other replicas must know of at once.
    fn postlude(&self, invocation: &mut redis::ScriptInvocation<'_>) {
        let now_ms = self
            .clock
            .as_ref()
            .map_or(-1, |c| c.now_utc().timestamp_millis().max(0));
        invocation
            .arg(now_ms)
            .arg(self.events.channel())
            .arg(&self.event_name);
    }

    /// Asks Redis for a decision: reads (or creates) the shared state, moves
    /// an expired open breaker to half-open and takes a probe lease if one
    /// is free.
    async fn remote_acquire(&self) -> LeaseReply {
        let lease_no = self.leases.fetch_add(1, Ordering::Relaxed);
        let lease_id = format!("{}:{lease_no}", self.replica);
        let (trip, pending_gen) = {
            let sync = self.sync.lock();
            (self.deliverable_trip(&sync), sync.shared_gen)
        };
        let mut conn = self.conn.clone();
        let mut invocation = ACQUIRE.prepare_invoke();
        self.prelude(&mut invocation);
        let lease_ms = u64::try_from(self.config.probe_lease.as_millis()).unwrap_or(u64::MAX);
        invocation
            .arg(&lease_id)
            .arg(lease_ms)
            .arg(self.config.half_open_permits)
            .arg(trip.map_or(-1, |g| i64::try_from(g).unwrap_or(i64::MAX)))
            .arg(pending_gen);
        self.postlude(&mut invocation);
        let sent = self.sent();
        let reply = with_timeout(invocation.invoke_async::<Vec<i64>>(&mut conn)).await;
        let Some(shared) = self.apply_reply(reply, trip.is_some(), sent) else {
            return LeaseReply::Unreachable;
        };
        if shared.granted {
            return LeaseReply::Granted(Lease::new(lease_id, Generation::new(shared.generation)));
        }
        LeaseReply::Refused(fleet_of(&shared))
    }

    /// The local trip a call may carry: none while Redis is down. Such a
    /// call may wait for the reconnection and reach the server long after it
    /// was made, when this replica may have closed again on its own; a trip
    /// (or failures, or an operator's change) delivered then would open a
    /// healthy fleet. So while Redis is down a sync only asks whether it is
    /// back, and what the outage left goes out once it answered (see
    /// [`Link::apply_reply`]).
    fn deliverable_trip(&self, sync: &SyncState) -> Option<u64> {
        if self.mode() == Mode::Down {
            None
        } else {
            sync.trip
        }
    }

    /// Numbers a call about to be sent.
    fn sent(&self) -> Sent {
        Sent {
            at: Instant::now(),
            call: self.sent.fetch_add(1, Ordering::Relaxed) + 1,
        }
    }

    /// `shared.remaining` as of now: less the time since the script computed
    /// it. Without an injected clock the script read the server's `TIME`,
    /// which the replica's clock may disagree with: then the time since the
    /// call was `sent` counts (none for a pushed message).
    fn aged(&self, mut shared: Shared, sent: Option<Instant>) -> Shared {
        let elapsed = match (&self.clock, sent) {
            (Some(clock), _) => Duration::from_millis(
                u64::try_from(clock.now_utc().timestamp_millis() - shared.at_ms).unwrap_or(0),
            ),
            (None, Some(sent)) => sent.elapsed(),
            (None, None) => Duration::ZERO,
        };
        shared.remaining = shared.remaining.saturating_sub(elapsed);
        shared
    }

    /// Adopts a script's reply, or marks Redis as down. `sent_trip` says the
    /// call carried this replica's pending trip (now delivered); `sent` says
    /// when the call went out, and its number.
    fn apply_reply(
        &self,
        reply: redis::RedisResult<Vec<i64>>,
        sent_trip: bool,
        sent: Sent,
    ) -> Option<Shared> {
        let shared = match reply.map(|v| parse_shared(&v)) {
            Ok(Some(shared)) => self.aged(shared, Some(sent.at)),
            Ok(None) | Err(_) => {
                let was = self.set_mode(Mode::Down);
                if was != Mode::Down {
                    tracing::warn!(
                        breaker = %self.name,
                        "circuit breaker cannot reach Redis; deciding locally until it is back"
                    );
                }
                if was == Mode::Unknown {
                    // The breaker may now decide closed calls on its own.
                    self.sink.refresh();
                }
                return None;
            }
        };
        let ask_again = {
            let mut sync = self.sync.lock();
            let was = self.set_mode(Mode::Healthy);
            if was == Mode::Down {
                tracing::info!(breaker = %self.name, "circuit breaker reconnected to Redis");
            }
            if sent_trip {
                sync.trip = None;
            }
            // Back from an outage with a trip of it still to push: onto the
            // store's generation if nothing happened since or the store lost
            // its state (a lower generation); the breaker stays open and the
            // loop pushes it at once.
            let push_trip = was == Mode::Down
                && shared.state == State::Closed
                && matches!(sync.trip, Some(t) if shared.generation <= t);
            if push_trip {
                sync.trip = Some(shared.generation);
            }
            // A reply to a call made before a newer state was pushed is not
            // adopted (once): the loop asks again.
            let stale = matches!(sync.pushed.take(), Some(p) if shared.generation < p);
            // Nor is an older generation from a call numbered before the one
            // that gave the adopted state: its task was only slow to read it
            // (a sync sent before the trip, read after the probe's reply).
            // A lower generation from a later call is the store's own: its
            // state was lost (a restarted server without persistence).
            let overtaken = shared.generation < sync.shared_gen && sent.call < sync.adopted_call;
            let adopted = if stale || overtaken {
                None
            } else {
                sync.adopted_call = sync.adopted_call.max(sent.call);
                adopt_shared(&mut sync, &shared)
            };
            // Under the lock, so that adopted states reach the breaker in order.
            match adopted {
                Some(fleet) => self.sink.adopt(fleet),
                None if was == Mode::Unknown => self.sink.refresh(),
                None => {}
            }
            let undelivered = was == Mode::Down
                && (sync.trip.is_some()
                    || sync.operator.is_some()
                    || !sync.pending.is_empty()
                    || sync.window != WindowDelta::default());
            stale || push_trip || undelivered
        };
        if ask_again {
            self.notify.notify_one();
        }
        Some(shared)
    }

    /// One reconciliation, now; the shared state if Redis answered.
    async fn sync_once(&self) -> Option<Shared> {
        let (pending_gen, pending, window, known, trip, operator) = {
            let mut sync = self.sync.lock();
            self.fold_successes(&mut sync);
            if self.mode() == Mode::Down {
                // Only asks whether Redis is back: see `deliverable_trip`.
                (
                    sync.shared_gen,
                    Pending::default(),
                    WindowDelta::default(),
                    sync.known_failures,
                    None,
                    None,
                )
            } else {
                (
                    sync.shared_gen,
                    std::mem::take(&mut sync.pending),
                    std::mem::take(&mut sync.window),
                    sync.known_failures,
                    sync.trip,
                    sync.operator.take(),
                )
            }
        };
        let mut conn = self.conn.clone();
        let mut invocation = SYNC.prepare_invoke();
        self.prelude(&mut invocation);
        invocation
            .arg(pending_gen)
            .arg(pending.before)
            .arg(u8::from(pending.reset))
            .arg(pending.after)
            .arg(trip.map_or(-1, |g| i64::try_from(g).unwrap_or(i64::MAX)))
            .arg(operator.map_or(-1, state_code))
            .arg(known);
        let shared = self.window.unwrap_or(SharedWindow {
            secs: 0,
            minimum_calls: 0,
            failure_ppm: 0,
            slow_ppm: 0,
        });
        invocation
            .arg(shared.secs)
            .arg(shared.minimum_calls)
            .arg(shared.failure_ppm)
            .arg(shared.slow_ppm)
            .arg(window.calls)
            .arg(window.failures)
            .arg(window.slow);
        self.postlude(&mut invocation);
        let sent = self.sent();
        let reply = with_timeout(invocation.invoke_async::<Vec<i64>>(&mut conn)).await;
        if reply.is_err() {
            // Keep what was not delivered for the next attempt.
            let mut sync = self.sync.lock();
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
        self.apply_reply(reply, trip.is_some(), sent)
    }
}

impl SharedBreaker for Link {
    fn health(&self) -> StoreHealth {
        match self.mode() {
            Mode::Unknown => StoreHealth::Joining,
            Mode::Healthy => StoreHealth::Healthy,
            Mode::Down => StoreHealth::Down,
        }
    }

    /// One relaxed load in the common case.
    #[inline]
    fn note_fast_success(&self) {
        if !self.success_seen.load(Ordering::Relaxed) {
            self.success_seen.store(true, Ordering::Relaxed);
        }
    }

    fn note_outcome(&self, report: OutcomeReport) {
        let mut sync = self.sync.lock();
        let sync = &mut *sync;
        self.fold_successes(sync);
        let current = report.generation == Some(Generation::new(sync.shared_gen));
        if self.window.is_some() && current && !report.probe && report.outcome != Outcome::Ignore {
            let delta = &mut sync.window;
            delta.calls = delta.calls.saturating_add(1);
            delta.failures = delta
                .failures
                .saturating_add(u32::from(report.outcome == Outcome::Failure));
            delta.slow = delta.slow.saturating_add(u32::from(report.slow));
        }
        match report.transition {
            Some(State::Open) if current => sync.trip = Some(sync.shared_gen),
            // Closed again on its own (while Redis was down): nothing to
            // push, and the failures counted before its trip are healed by
            // the probes that closed it (sent, they would count towards a
            // new trip of the fleet); a success is what it tells the fleet.
            Some(State::Closed) => {
                sync.trip = None;
                sync.pending = Pending {
                    before: 0,
                    reset: true,
                    after: 0,
                };
            }
            _ => {}
        }
        if report.probe || !current {
            if report.transition.is_some() {
                self.notify.notify_one();
            }
            return;
        }
        match report.outcome {
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
            _ => {}
        }
    }

    fn acquire_lease(&self) -> BoxFuture<'_, LeaseReply> {
        let Some(link) = self.me.upgrade() else {
            return Box::pin(async { LeaseReply::Unreachable });
        };
        let busy = {
            let sync = self.sync.lock();
            FleetState::new(State::HalfOpen, Generation::new(sync.shared_gen))
        };
        let (tx, rx) = oneshot::channel();
        // On the store's runtime, so that a caller that gives up does not
        // cut a script short; a lease nobody takes any more is given back.
        self.handle.spawn(async move {
            let reply = link.remote_acquire().await;
            if let Err(LeaseReply::Granted(lease)) = tx.send(reply) {
                link.release_lease(lease, Outcome::Ignore);
            }
        });
        Box::pin(async move {
            // The task panicked or the runtime is shutting down: no probe.
            rx.await.unwrap_or(LeaseReply::Refused(busy))
        })
    }

    /// Reports a probe's outcome to Redis without making the caller wait.
    fn release_lease(&self, lease: Lease, outcome: Outcome) {
        let Some(link) = self.me.upgrade() else {
            return;
        };
        let code = match outcome {
            Outcome::Success => "S",
            Outcome::Failure => "F",
            _ => "R",
        };
        self.handle.spawn(async move {
            let mut conn = link.conn.clone();
            let mut invocation = PROBE_RESULT.prepare_invoke();
            link.prelude(&mut invocation);
            invocation
                .arg(lease.id())
                .arg(lease.generation().get())
                .arg(code)
                .arg(link.config.half_open_successes);
            link.postlude(&mut invocation);
            let sent = link.sent();
            let reply = with_timeout(invocation.invoke_async::<Vec<i64>>(&mut conn)).await;
            link.apply_reply(reply, false, sent);
        });
    }

    fn sync(&self) -> BoxFuture<'_, Option<FleetState>> {
        Box::pin(async move { self.sync_once().await.map(|s| fleet_of(&s)) })
    }

    fn note_operator(&self, state: State) {
        let mut sync = self.sync.lock();
        sync.operator = Some(state);
        sync.trip = None;
        self.notify.notify_one();
    }
}

impl Pushed for Link {
    /// Applies a pushed state that is newer than what this replica knows,
    /// at once; for anything else (not synced yet, Redis unreachable,
    /// failures counted, a state it may already know) wakes the sync loop
    /// instead, which asks Redis.
    fn pushed(&self, shared: Shared) {
        let shared = self.aged(shared, None);
        let mut sync = self.sync.lock();
        let known = shared.generation == sync.shared_gen
            && shared.state == sync.state.0
            && (shared.state != State::Closed || sync.known_failures > 0);
        if known {
            return;
        }
        if self.mode() != Mode::Healthy || shared.generation <= sync.shared_gen {
            self.notify.notify_one();
            return;
        }
        if let Some(fleet) = adopt_shared(&mut sync, &shared) {
            sync.pushed = Some(shared.generation);
            // Calls sent so far may answer with what the push replaced.
            sync.adopted_call = self.sent.load(Ordering::Relaxed);
            self.sink.adopt(fleet);
        }
    }

    fn wake(&self) {
        self.notify.notify_one();
    }
}

/// When a call to Redis went out, and its number.
#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Instant,
    call: u64,
}

/// What the breaker should adopt of `shared` (under the link's lock).
fn adopt_shared(sync: &mut SyncState, shared: &Shared) -> Option<FleetState> {
    // A trip not yet delivered wins over an older view of the same generation.
    let keep_local = sync.trip == Some(shared.generation) && shared.state == State::Closed;
    if keep_local {
        return None;
    }
    if shared.generation != sync.shared_gen {
        sync.shared_gen = shared.generation;
        sync.pending = Pending::default();
        sync.window = WindowDelta::default();
    }
    sync.state = SharedStateKind(shared.state);
    sync.known_failures = shared.failures;
    Some(fleet_of(shared))
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
async fn sync_loop(link: Weak<Link>, notify: Arc<Notify>, interval: Duration) {
    let suspect = suspect_interval(interval);
    loop {
        let Some(strong) = link.upgrade() else {
            return;
        };
        strong.sync_once().await;
        let wait = {
            let sync = strong.sync.lock();
            let failing = sync.known_failures > 0 || !sync.pending.is_empty();
            if failing && sync.state.0 == State::Closed {
                suspect
            } else {
                interval
            }
        };
        drop(strong);
        tokio::select! {
            () = notify.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
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
