//! Where breaker state lives: the public [`Store`] and [`SharedBreaker`]
//! traits, the plain data they exchange with the breaker, and the two
//! stores of this crate, [`MemoryStore`] (this process) and `RedisStore`
//! (every replica, feature `redis`).
//!
//! The breaker algorithm (the state machine, the fast path, permits) stays
//! in the breaker; a store only does the shared-state work. Nothing here
//! depends on the breaker's internals: the breaker depends on these traits,
//! and the stores implement them.
//!
//! # Writing a store
//!
//! [`Store::attach`] is called once per breaker built on the store. It gets
//! the breaker's [`BreakerSpec`] and a [`FleetSink`] through which the store
//! pushes the fleet's state into that breaker, and returns the breaker's
//! [`SharedBreaker`] handle (or `None`: the breaker then decides alone, like
//! one on a [`MemoryStore`]). The breaker then:
//!
//! - asks [`SharedBreaker::health`] whether its local machine may decide
//!   on its own ([`StoreHealth::Joining`]: not before the fleet state was
//!   read once; [`StoreHealth::Down`]: it decides everything locally);
//! - reports every closed-state outcome with [`SharedBreaker::note_outcome`]
//!   (with the [`Generation`] it was admitted in; a store ignores outcomes
//!   of an older generation) and lock-free successes with
//!   [`SharedBreaker::note_fast_success`];
//! - takes half-open probe permits with [`SharedBreaker::acquire_lease`]
//!   (at most `half_open_permits` fleet-wide) and gives them back with
//!   [`SharedBreaker::release_lease`];
//! - reads the fleet state now with [`SharedBreaker::sync`] and sends
//!   operator changes with [`SharedBreaker::note_operator`].
//!
//! The store, in turn, calls [`FleetSink::adopt`] whenever it learns of a
//! fleet state (a reply, a pushed message, a poll), and bumps the
//! [`Generation`] on every transition. The breaker never holds its own lock
//! while it calls the store (except [`SharedBreaker::health`], which must
//! not block), so a store may call the sink while holding its own locks.
//!
//! A small but complete store: one fleet state per name in a shared map,
//! every clone of the store a "replica" of it. (The conformance suite,
//! feature `conformance`, checks stores like this one.)
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//! use std::time::Instant;
//!
//! use voxcal_circuit_breaker::store::{
//!     BoxFuture, BreakerSpec, FleetSink, FleetState, Generation, Lease, LeaseReply,
//!     OutcomeReport, SharedBreaker, StoreHealth,
//! };
//! use voxcal_circuit_breaker::{
//!     CircuitBreaker, Clock, FakeClock, Outcome, State, Store, BreakerConfig,
//! };
//!
//! #[derive(Debug, Default)]
//! struct Entry {
//!     state: Option<State>,
//!     generation: u64,
//!     failures: u32,
//!     open_until: Option<Instant>,
//!     leases: u32,
//!     successes: u32,
//!     sinks: Vec<FleetSink>,
//! }
//!
//! impl Entry {
//!     fn fleet(&self, now: Instant) -> FleetState {
//!         let mut s = FleetState::new(self.state.unwrap_or(State::Closed), Generation::new(self.generation));
//!         s.open_remaining = self.open_until.map_or_else(Default::default, |u| u.saturating_duration_since(now));
//!         s
//!     }
//!     fn enter(&mut self, state: State, spec: &BreakerSpec, now: Instant) {
//!         self.state = Some(state);
//!         self.generation += 1;
//!         (self.failures, self.leases, self.successes) = (0, 0, 0);
//!         self.open_until = (state == State::Open).then(|| now + spec.config().open_duration());
//!         let fleet = self.fleet(now);
//!         self.sinks.retain(FleetSink::is_attached);
//!         self.sinks.iter().for_each(|sink| sink.adopt(fleet));
//!     }
//! }
//!
//! type Map = Arc<Mutex<HashMap<String, Entry>>>;
//!
//! #[derive(Debug, Clone)]
//! struct MapStore { map: Map, clock: FakeClock }
//!
//! struct Handle { map: Map, spec: BreakerSpec, clock: FakeClock }
//!
//! impl std::fmt::Debug for Handle {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("Handle")
//!     }
//! }
//!
//! impl Handle {
//!     fn with<T>(&self, f: impl FnOnce(&mut Entry, Instant) -> T) -> T {
//!         let mut map = self.map.lock().unwrap();
//!         f(map.entry(self.spec.name().to_owned()).or_default(), self.clock.now())
//!     }
//! }
//!
//! impl Store for MapStore {
//!     fn attach(&self, spec: &BreakerSpec, sink: FleetSink) -> Option<Arc<dyn SharedBreaker>> {
//!         let handle = Handle { map: Arc::clone(&self.map), spec: spec.clone(), clock: self.clock.clone() };
//!         handle.with(|e, _| e.sinks.push(sink));
//!         Some(Arc::new(handle))
//!     }
//! }
//!
//! impl SharedBreaker for Handle {
//!     fn health(&self) -> StoreHealth {
//!         StoreHealth::Healthy
//!     }
//!     fn note_outcome(&self, report: OutcomeReport) {
//!         let limit = self.spec.config().consecutive_failures();
//!         self.with(|e, now| {
//!             if report.generation != Some(Generation::new(e.generation)) || report.probe {
//!                 return; // an outcome of an older generation changes nothing
//!             }
//!             match report.outcome {
//!                 Outcome::Failure => e.failures += 1,
//!                 Outcome::Success => e.failures = 0,
//!                 _ => {}
//!             }
//!             if e.failures >= limit || report.transition == Some(State::Open) {
//!                 e.enter(State::Open, &self.spec, now);
//!             }
//!         });
//!     }
//!     fn acquire_lease(&self) -> BoxFuture<'_, LeaseReply> {
//!         let permits = self.spec.config().half_open_permits();
//!         let reply = self.with(|e, now| {
//!             if e.state == Some(State::Open) && e.open_until.is_some_and(|u| now >= u) {
//!                 e.enter(State::HalfOpen, &self.spec, now);
//!             }
//!             if e.state == Some(State::HalfOpen) && e.leases < permits {
//!                 e.leases += 1;
//!                 return LeaseReply::Granted(Lease::new("lease", Generation::new(e.generation)));
//!             }
//!             LeaseReply::Refused(e.fleet(now))
//!         });
//!         Box::pin(async move { reply })
//!     }
//!     fn release_lease(&self, lease: Lease, outcome: Outcome) {
//!         let needed = self.spec.config().half_open_successes();
//!         self.with(|e, now| {
//!             if lease.generation() != Generation::new(e.generation) || e.state != Some(State::HalfOpen) {
//!                 return;
//!             }
//!             e.leases -= 1;
//!             match outcome {
//!                 Outcome::Success => {
//!                     e.successes += 1;
//!                     if e.successes >= needed {
//!                         e.enter(State::Closed, &self.spec, now);
//!                     }
//!                 }
//!                 Outcome::Failure => e.enter(State::Open, &self.spec, now),
//!                 _ => {}
//!             }
//!         });
//!     }
//!     fn sync(&self) -> BoxFuture<'_, Option<FleetState>> {
//!         let fleet = self.with(|e, now| e.fleet(now));
//!         Box::pin(async move { Some(fleet) })
//!     }
//!     fn note_operator(&self, state: State) {
//!         self.with(|e, now| e.enter(state, &self.spec, now));
//!     }
//! }
//!
//! # futures_util::FutureExt::now_or_never(async {
//! let clock = FakeClock::new();
//! let store = MapStore { map: Map::default(), clock: clock.clone() };
//! let config = BreakerConfig::builder().consecutive_failures(2).build().unwrap();
//! let build = |store: &MapStore| {
//!     CircuitBreaker::builder("calcom").config(config.clone()).clock(clock.clone()).build_with(store)
//! };
//! // Two "replicas" on clones of the store.
//! let (a, b) = (build(&store), build(&store.clone()));
//! for _ in 0..2 {
//!     let _ = a.call(async { Err::<(), _>("502") }).await;
//! }
//! assert_eq!(a.state(), State::Open);
//! assert_eq!(b.state(), State::Open, "pushed to the other replica");
//! # }).unwrap();
//! ```

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use crate::{BreakerConfig, Outcome, State};

mod memory;
#[cfg(feature = "redis")]
mod pubsub;
#[cfg(feature = "redis")]
pub(crate) mod redis;

pub use memory::MemoryStore;

/// A boxed, sendable future, as [`SharedBreaker`] returns them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A place breakers keep their state in: [`MemoryStore`], `RedisStore`,
/// [`BoxStore`], or a store of your own (see the [module docs](self)).
pub trait Store: fmt::Debug + Send + Sync + 'static {
    /// A breaker named `spec.name()` joins the store. Returns its handle to
    /// the shared state, or `None` to let it decide alone (in this process).
    ///
    /// `sink` is how the store pushes fleet states into this breaker; keep
    /// it as long as the handle lives. A state pushed before the breaker is
    /// built (e.g. from a task started here) is adopted once it is.
    fn attach(&self, spec: &BreakerSpec, sink: FleetSink) -> Option<Arc<dyn SharedBreaker>>;

    /// Breakers of one name built on this store (and its clones) share one
    /// in-process state when this returns a cache; `attach` is then only
    /// called for the first of them. Default: `None` (each build attaches).
    fn local_breakers(&self) -> Option<&LocalBreakers> {
        None
    }
}

impl<S: Store + ?Sized> Store for Arc<S> {
    fn attach(&self, spec: &BreakerSpec, sink: FleetSink) -> Option<Arc<dyn SharedBreaker>> {
        (**self).attach(spec, sink)
    }

    fn local_breakers(&self) -> Option<&LocalBreakers> {
        (**self).local_breakers()
    }
}

impl<S: Store + ?Sized> Store for Box<S> {
    fn attach(&self, spec: &BreakerSpec, sink: FleetSink) -> Option<Arc<dyn SharedBreaker>> {
        (**self).attach(spec, sink)
    }

    fn local_breakers(&self) -> Option<&LocalBreakers> {
        (**self).local_breakers()
    }
}

/// Any [`Store`], chosen at run time (e.g. memory in tests, Redis in
/// production), without an enum of your own. Cheap to clone.
///
/// ```
/// use voxcal_circuit_breaker::{BoxStore, CircuitBreaker, MemoryStore};
///
/// let redis_url: Option<&str> = None; // from the configuration
/// let store = match redis_url {
///     None => BoxStore::new(MemoryStore::new()),
///     Some(_url) => unreachable!("BoxStore::new(RedisStore::new(conn)) with feature `redis`"),
/// };
/// let breaker = CircuitBreaker::builder("calcom").build_with(&store);
/// assert_eq!(breaker.name(), "calcom");
/// ```
#[derive(Clone)]
pub struct BoxStore(Arc<dyn Store>);

impl BoxStore {
    /// Boxes `store`.
    pub fn new(store: impl Store) -> Self {
        BoxStore(Arc::new(store))
    }

    /// Wraps a store that is already shared.
    pub fn from_arc(store: Arc<dyn Store>) -> Self {
        BoxStore(store)
    }
}

impl fmt::Debug for BoxStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BoxStore").field(&self.0).finish()
    }
}

impl Store for BoxStore {
    fn attach(&self, spec: &BreakerSpec, sink: FleetSink) -> Option<Arc<dyn SharedBreaker>> {
        self.0.attach(spec, sink)
    }

    fn local_breakers(&self) -> Option<&LocalBreakers> {
        self.0.local_breakers()
    }
}

/// One breaker's handle to the shared state, made by [`Store::attach`].
///
/// The breaker calls these without holding its own lock (except
/// [`health`](Self::health)); none of them may wait on the breaker.
pub trait SharedBreaker: fmt::Debug + Send + Sync + 'static {
    /// Whether the store can be reached right now. Read on the breaker's
    /// slow path under its lock: keep it to an atomic load.
    fn health(&self) -> StoreHealth;

    /// A closed-state success taken on the lock-free path, reported without
    /// a [`Generation`] (it is of the current one). This is on the hot path:
    /// keep it to a relaxed atomic load (and a store when it changes).
    /// Default: nothing.
    #[inline]
    fn note_fast_success(&self) {}

    /// How an admitted call ended, or a transition the local machine made
    /// on its own (e.g. it tripped). Must not wait; send it later if needed.
    fn note_outcome(&self, report: OutcomeReport);

    /// Asks for a half-open probe permit: moves an expired open breaker to
    /// half-open and grants a [`Lease`] while fewer than
    /// `half_open_permits` are out fleet-wide. The store adopts the state it
    /// learns through the [`FleetSink`] before the future completes. If the
    /// future is dropped before it completes, a lease granted meanwhile must
    /// be released (or expire).
    fn acquire_lease(&self) -> BoxFuture<'_, LeaseReply>;

    /// Gives a lease back with the probe's outcome ([`Outcome::Success`]
    /// counts toward closing, [`Outcome::Failure`] reopens,
    /// [`Outcome::Ignore`] only frees the slot). A lease of an older
    /// generation changes nothing. Must not wait.
    fn release_lease(&self, lease: Lease, outcome: Outcome);

    /// Reconciles with the fleet now: sends what is pending, adopts (through
    /// the sink) and returns the fleet state; `None` if the store cannot be
    /// reached.
    fn sync(&self) -> BoxFuture<'_, Option<FleetState>>;

    /// An operator moved the breaker to `state`: make it the fleet's (a new
    /// generation). Must not wait.
    fn note_operator(&self, state: State);
}

/// Whether a [`SharedBreaker`] can reach the shared state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreHealth {
    /// The fleet state was not read yet: the breaker asks the store before
    /// its first decision.
    Joining,
    /// Reachable: closed-state calls are decided locally, half-open probes
    /// by the store.
    Healthy,
    /// Unreachable: the breaker decides everything on its own.
    Down,
}

/// A fleet-wide generation: every transition starts a new one, and outcomes
/// of calls admitted in an older one are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Generation(u64);

impl Generation {
    /// The generation numbered `n`.
    ///
    /// ```
    /// use voxcal_circuit_breaker::store::Generation;
    /// assert_eq!(Generation::new(3).next(), Generation::new(4));
    /// ```
    pub const fn new(n: u64) -> Self {
        Generation(n)
    }

    /// Its number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The generation after it.
    #[must_use]
    pub const fn next(self) -> Self {
        Generation(self.0.saturating_add(1))
    }
}

/// The fleet's view of one breaker, as a store reports it.
///
/// ```
/// use std::time::Duration;
/// use voxcal_circuit_breaker::store::{FleetState, Generation};
/// use voxcal_circuit_breaker::State;
///
/// let mut open = FleetState::new(State::Open, Generation::new(7));
/// open.open_remaining = Duration::from_secs(30);
/// assert_eq!(open.state, State::Open);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FleetState {
    /// The shared state.
    pub state: State,
    /// Its generation.
    pub generation: Generation,
    /// While open: how long until half-open (else zero).
    pub open_remaining: Duration,
    /// Failed half-open rounds in a row (for the open-duration backoff).
    pub reopenings: u32,
    /// Failures counted fleet-wide in this (closed) generation.
    pub failures: u64,
}

impl FleetState {
    /// `state` in `generation`, nothing else known.
    pub fn new(state: State, generation: Generation) -> Self {
        FleetState {
            state,
            generation,
            open_remaining: Duration::ZERO,
            reopenings: 0,
            failures: 0,
        }
    }
}

/// A half-open probe permit held in a store.
///
/// ```
/// use voxcal_circuit_breaker::store::{Generation, Lease};
/// let lease = Lease::new("replica-1:7", Generation::new(4));
/// assert_eq!(lease.id(), "replica-1:7");
/// assert_eq!(lease.generation(), Generation::new(4));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    id: String,
    generation: Generation,
}

impl Lease {
    /// A lease named `id` (unique in the fleet) taken in `generation`.
    pub fn new(id: impl Into<String>, generation: Generation) -> Self {
        Lease {
            id: id.into(),
            generation,
        }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The generation it was taken in.
    pub fn generation(&self) -> Generation {
        self.generation
    }
}

/// The answer to [`SharedBreaker::acquire_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseReply {
    /// A probe permit.
    Granted(Lease),
    /// No permit: the fleet state says why (closed or disabled: the breaker
    /// decides locally; open, forced open, half-open with every probe out:
    /// rejected).
    Refused(FleetState),
    /// The store cannot be reached: the breaker decides locally.
    Unreachable,
}

/// What the breaker reports with [`SharedBreaker::note_outcome`].
///
/// ```
/// use voxcal_circuit_breaker::store::{Generation, OutcomeReport};
/// use voxcal_circuit_breaker::Outcome;
///
/// let report = OutcomeReport::new(Some(Generation::new(2)), Outcome::Failure);
/// assert!(!report.slow && !report.probe && report.transition.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutcomeReport {
    /// The fleet generation the call was admitted in; `None` if it was
    /// admitted in a generation the local machine started on its own
    /// (which the fleet must not count).
    pub generation: Option<Generation>,
    /// How it ended.
    pub outcome: Outcome,
    /// Whether it was slow (only with slow-call detection on).
    pub slow: bool,
    /// Whether it was a probe counted by the local machine (Redis
    /// unreachable); such outcomes only matter through `transition`.
    pub probe: bool,
    /// The state the local machine moved to because of it, if any (e.g.
    /// [`State::Open`]: it tripped; the fleet should follow).
    pub transition: Option<State>,
}

impl OutcomeReport {
    /// A closed-state `outcome` admitted in `generation`.
    pub fn new(generation: Option<Generation>, outcome: Outcome) -> Self {
        OutcomeReport {
            generation,
            outcome,
            slow: false,
            probe: false,
            transition: None,
        }
    }
}

/// What a breaker offers its store: its name and settings.
#[derive(Debug, Clone)]
pub struct BreakerSpec {
    name: Arc<str>,
    config: BreakerConfig,
}

impl BreakerSpec {
    /// The spec of a breaker named `name` with `config`.
    ///
    /// ```
    /// use voxcal_circuit_breaker::store::BreakerSpec;
    /// use voxcal_circuit_breaker::BreakerConfig;
    /// let spec = BreakerSpec::new("calcom", BreakerConfig::default());
    /// assert_eq!(spec.name(), "calcom");
    /// ```
    pub fn new(name: impl Into<Arc<str>>, config: BreakerConfig) -> Self {
        BreakerSpec {
            name: name.into(),
            config,
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name, shared.
    pub fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// The breaker's settings.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }
}

/// What the breaker does with a fleet state (implemented by the breaker).
pub(crate) trait FleetTarget: Send + Sync {
    fn adopt(&self, fleet: FleetState);
    fn refresh(&self);
}

/// How a store pushes fleet states into one breaker. Cheap to clone; holds
/// the breaker weakly.
///
/// A state pushed while the breaker is still being built (from a task the
/// store started in [`Store::attach`]) is kept and adopted once it exists.
#[derive(Clone)]
pub struct FleetSink {
    slot: Option<Arc<SinkSlot>>,
}

/// Where a sink's breaker is, once it exists.
#[derive(Default)]
pub(crate) struct SinkSlot {
    target: OnceLock<Weak<dyn FleetTarget>>,
    /// What was pushed before the breaker existed.
    early: Mutex<Early>,
}

#[derive(Default)]
struct Early {
    fleet: Option<FleetState>,
    refresh: bool,
}

impl SinkSlot {
    /// The breaker now exists: it adopts what was pushed meanwhile.
    pub(crate) fn install(&self, target: &Arc<dyn FleetTarget>) {
        let early = {
            let mut early = self.early.lock();
            let _ = self.target.set(Arc::downgrade(target));
            std::mem::take(&mut *early)
        };
        if let Some(fleet) = early.fleet {
            target.adopt(fleet);
        } else if early.refresh {
            target.refresh();
        }
    }

    /// The breaker, if it exists and is alive; else remembers `early`.
    fn target_or(&self, early: impl FnOnce(&mut Early)) -> Option<Arc<dyn FleetTarget>> {
        if let Some(target) = self.target.get() {
            return target.upgrade();
        }
        let mut pending = self.early.lock();
        match self.target.get() {
            Some(target) => target.upgrade(),
            None => {
                early(&mut pending);
                None
            }
        }
    }
}

impl FleetSink {
    /// A sink for a breaker about to be built, and its slot.
    pub(crate) fn pending() -> (Self, Arc<SinkSlot>) {
        let slot = Arc::new(SinkSlot::default());
        (
            FleetSink {
                slot: Some(Arc::clone(&slot)),
            },
            slot,
        )
    }

    /// A sink that belongs to no breaker (for testing a store on its own).
    ///
    /// ```
    /// use voxcal_circuit_breaker::store::FleetSink;
    /// assert!(!FleetSink::detached().is_attached());
    /// ```
    pub fn detached() -> Self {
        FleetSink { slot: None }
    }

    /// The breaker adopts `fleet`: its local machine moves to that state
    /// (a new generation if `fleet.generation` differs from the last one it
    /// adopted). Returns at once when the breaker is gone.
    pub fn adopt(&self, fleet: FleetState) {
        let Some(slot) = &self.slot else {
            return;
        };
        if let Some(target) = slot.target_or(|early| early.fleet = Some(fleet)) {
            target.adopt(fleet);
        }
    }

    /// The breaker re-reads [`SharedBreaker::health`] (call after it changes
    /// from [`StoreHealth::Joining`] without a state to adopt).
    pub fn refresh(&self) {
        let Some(slot) = &self.slot else {
            return;
        };
        if let Some(target) = slot.target_or(|early| early.refresh = true) {
            target.refresh();
        }
    }

    /// Whether the breaker is alive (or still being built).
    pub fn is_attached(&self) -> bool {
        self.slot
            .as_ref()
            .is_some_and(|slot| slot.target.get().is_none_or(|t| t.strong_count() > 0))
    }
}

impl fmt::Debug for FleetSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetSink")
            .field("attached", &self.is_attached())
            .finish()
    }
}

/// In-process breakers by name, for a store whose breakers of one name
/// share one state in this process (see [`Store::local_breakers`]). Holds
/// them weakly: dropping every handle of a breaker frees it.
#[derive(Default)]
pub struct LocalBreakers {
    breakers: Mutex<HashMap<Arc<str>, Weak<dyn Any + Send + Sync>>>,
}

impl LocalBreakers {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many breakers are alive in it.
    pub fn len(&self) -> usize {
        self.breakers
            .lock()
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }

    /// Whether none is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live breaker named `name`, or the one `make` makes (kept).
    pub(crate) fn get_or_insert(
        &self,
        name: &Arc<str>,
        make: impl FnOnce() -> Arc<dyn Any + Send + Sync>,
    ) -> Arc<dyn Any + Send + Sync> {
        let mut breakers = self.breakers.lock();
        if let Some(existing) = breakers.get(name).and_then(Weak::upgrade) {
            return existing;
        }
        breakers.retain(|_, weak| weak.strong_count() > 0);
        let made = make();
        breakers.insert(Arc::clone(name), Arc::downgrade(&made));
        made
    }
}

impl fmt::Debug for LocalBreakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalBreakers")
            .field("breakers", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder {
        adopted: Mutex<Vec<FleetState>>,
        refreshed: Mutex<u32>,
    }

    impl FleetTarget for Recorder {
        fn adopt(&self, fleet: FleetState) {
            self.adopted.lock().push(fleet);
        }
        fn refresh(&self) {
            *self.refreshed.lock() += 1;
        }
    }

    #[test]
    fn a_state_pushed_before_the_breaker_exists_is_adopted_once_it_does() {
        let (sink, slot) = FleetSink::pending();
        assert!(
            sink.is_attached(),
            "a breaker being built counts as attached"
        );
        let old = FleetState::new(State::Closed, Generation::new(1));
        let newer = FleetState::new(State::Open, Generation::new(2));
        sink.adopt(old);
        sink.adopt(newer);
        let recorder = Arc::new(Recorder::default());
        let target: Arc<dyn FleetTarget> = Arc::clone(&recorder) as Arc<dyn FleetTarget>;
        slot.install(&target);
        assert_eq!(
            *recorder.adopted.lock(),
            vec![newer],
            "only the latest early state"
        );
        sink.refresh();
        assert_eq!(*recorder.refreshed.lock(), 1);
        drop(target);
        drop(recorder);
        assert!(!sink.is_attached());
        sink.adopt(old); // the breaker is gone: nothing happens, no panic
    }
}
