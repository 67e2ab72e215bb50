//! The breaker handle, its builder, permits and the acquire future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use parking_lot::Mutex;

use crate::event::Subscriber;
use crate::machine::{Machine, Phase, Ticket, TicketKind, Transition, HALF_OPEN_BUSY_RETRY};
use crate::store::{
    BoxFuture, BreakerSpec, FleetSink, FleetState, FleetTarget, Generation, Lease, LeaseReply,
    OutcomeReport, SharedBreaker, StoreHealth,
};
use crate::waiters::Waiters;
use crate::{
    BreakerConfig, BreakerError, Classify, Clock, DefaultClassifier, Event, MemoryStore, Metrics,
    Outcome, Rejected, State, Store, SystemClock,
};

/// A circuit breaker. Cheap to clone: clones share one state.
///
/// ```
/// # tokio_test_block_on(async {
/// use voxcal_circuit_breaker::{BreakerError, CircuitBreaker};
///
/// let breaker = CircuitBreaker::new("calcom");
/// let slots: Result<u32, BreakerError<&str>> = breaker.call(async { Ok(3) }).await;
/// assert_eq!(slots.unwrap(), 3);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     futures_util::FutureExt::now_or_never(f).unwrap()
/// # }
/// ```
#[derive(Clone)]
pub struct CircuitBreaker {
    pub(crate) inner: Arc<Inner>,
}

/// State shared by the clones of one breaker.
pub(crate) struct Inner {
    pub(crate) name: Arc<str>,
    pub(crate) config: BreakerConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) local: Mutex<Local>,
    subscribers: Vec<Subscriber>,
    rejected: AtomicU64,
    /// The lock-free fast path: `generation << 2 | no-failures-bit << 1 | 1`
    /// while the breaker is closed and needs neither a window nor timing,
    /// else 0. Written under the lock after every change.
    fast: AtomicU64,
    /// The store's handle to the shared state (`None`: this process only).
    shared: Option<Arc<dyn SharedBreaker>>,
    /// Pending [`Opened`] futures, woken when the breaker opens.
    opened: Waiters,
}

const FAST_ON: u64 = 1;
const FAST_NO_FAILURES: u64 = 2;

/// Everything behind the one lock.
#[derive(Debug)]
pub(crate) struct Local {
    pub(crate) machine: Machine,
    /// The fleet generation last adopted from the store.
    fleet_gen: Generation,
    /// The machine's generation when `fleet_gen` was adopted: only tickets
    /// of it are of the fleet generation.
    gen_base: u64,
}

/// What the builder hands to [`attach`].
#[derive(Clone)]
pub(crate) struct Spec {
    pub(crate) name: Arc<str>,
    pub(crate) config: BreakerConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) subscribers: Vec<Subscriber>,
}

/// The breaker named `spec.name` on `store`: the live one of that name if
/// the store shares breakers in this process, else a new one.
pub(crate) fn attach<S: Store + ?Sized>(store: &S, spec: Spec) -> Arc<Inner> {
    let Some(cache) = store.local_breakers() else {
        return Inner::attach(store, spec);
    };
    let name = Arc::clone(&spec.name);
    let fallback = spec.clone();
    let any = cache.get_or_insert(&name, || Inner::attach(store, spec));
    match any.downcast::<Inner>() {
        Ok(inner) => inner,
        Err(_) => {
            // Only this crate puts breakers into a `LocalBreakers`.
            tracing::error!(breaker = %name, "circuit breaker cache holds something else; not shared");
            Inner::attach(store, fallback)
        }
    }
}

impl Inner {
    /// A new breaker joining `store`.
    fn attach<S: Store + ?Sized>(store: &S, spec: Spec) -> Arc<Inner> {
        let (sink, slot) = FleetSink::pending();
        let shared = store.attach(
            &BreakerSpec::new(Arc::clone(&spec.name), spec.config.clone()),
            sink,
        );
        let inner = Arc::new(Inner::new(spec, shared));
        let target: Arc<dyn FleetTarget> = Arc::clone(&inner) as Arc<dyn FleetTarget>;
        slot.install(&target);
        inner
    }

    fn new(spec: Spec, shared: Option<Arc<dyn SharedBreaker>>) -> Self {
        let machine = Machine::new(&spec.config, spec.clock.now());
        let inner = Inner {
            name: spec.name,
            config: spec.config,
            clock: spec.clock,
            local: Mutex::new(Local {
                machine,
                fleet_gen: Generation::default(),
                gen_base: 0,
            }),
            subscribers: spec.subscribers,
            rejected: AtomicU64::new(0),
            fast: AtomicU64::new(0),
            shared,
            opened: Waiters::default(),
        };
        inner.refresh_fast(&inner.local.lock());
        inner
    }

    /// Publishes the fast-path word for the machine's current state (call
    /// with the lock held, after every change).
    pub(crate) fn refresh_fast(&self, local: &Local) {
        let machine = &local.machine;
        let eligible = machine.phase() == Phase::Closed
            && !self.config.uses_window()
            && !self.config.times_calls();
        // A store that has not read the fleet state yet decides first.
        let eligible = eligible
            && self
                .shared
                .as_ref()
                .is_none_or(|s| s.health() != StoreHealth::Joining);
        let word = if eligible {
            let no_failures = if machine.consecutive_failures() == 0 {
                FAST_NO_FAILURES
            } else {
                0
            };
            (machine.generation() << 2) | no_failures | FAST_ON
        } else {
            0
        };
        self.fast.store(word, Ordering::Release);
    }

    /// A closed-state ticket without taking the lock, when that is safe. A
    /// ticket taken just before a transition is of the older generation,
    /// and its outcome is ignored, as if it had been taken under the lock.
    #[inline]
    pub(crate) fn fast_acquire(&self) -> Option<Ticket> {
        let word = self.fast.load(Ordering::Acquire);
        (word & FAST_ON != 0).then_some(Ticket {
            generation: word >> 2,
            kind: TicketKind::Normal,
        })
    }

    /// Records a closed-state outcome; a success while nothing needs
    /// resetting takes no lock.
    #[inline]
    pub(crate) fn fast_finish(&self, ticket: Ticket, outcome: Outcome) {
        if outcome == Outcome::Success && ticket.kind == TicketKind::Normal {
            let word = self.fast.load(Ordering::Acquire);
            if word == (ticket.generation << 2) | FAST_NO_FAILURES | FAST_ON {
                if let Some(shared) = &self.shared {
                    shared.note_fast_success();
                }
                return;
            }
        }
        self.finish(ticket, outcome, None);
    }

    /// A local decision.
    #[inline]
    pub(crate) fn acquire_local(
        &self,
        local: &mut Local,
    ) -> (Result<Ticket, Rejected>, Option<Transition>) {
        let (decision, transition) = local.machine.acquire(&self.config, &*self.clock);
        if transition.is_some() {
            self.refresh_fast(local);
        }
        let decision = decision.map_err(|retry_after| Rejected {
            retry_after,
            state: local.machine.phase().state(),
        });
        (decision, transition)
    }

    pub(crate) fn permit(self: &Arc<Self>, ticket: Ticket) -> Permit {
        let started = self.config.times_calls().then(|| self.clock.now());
        Permit {
            inner: Arc::clone(self),
            ticket,
            started,
            lease: None,
            done: false,
        }
    }

    pub(crate) fn rejected(&self, rejected: Rejected) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            breaker = %self.name,
            state = %rejected.state,
            retry_after_ms = u64::try_from(rejected.retry_after.as_millis()).unwrap_or(u64::MAX),
            "circuit breaker rejected a call"
        );
        if !self.subscribers.is_empty() {
            self.emit(&Event::Rejected {
                breaker: Arc::clone(&self.name),
                state: rejected.state,
                retry_after: rejected.retry_after,
            });
        }
    }

    pub(crate) fn transitioned(&self, transition: Option<Transition>) {
        let Some(Transition { from, to }) = transition else {
            return;
        };
        if to == State::Open || to == State::ForcedOpen {
            tracing::warn!(breaker = %self.name, %from, %to, "circuit breaker opened");
            self.opened.wake_all();
        } else {
            tracing::info!(breaker = %self.name, %from, %to, "circuit breaker changed state");
        }
        if !self.subscribers.is_empty() {
            self.emit(&Event::StateTransition {
                breaker: Arc::clone(&self.name),
                from,
                to,
            });
        }
    }

    fn emit(&self, event: &Event) {
        for subscriber in &self.subscribers {
            subscriber(event);
        }
    }

    fn finish(&self, ticket: Ticket, outcome: Outcome, started: Option<Instant>) {
        let elapsed = started.map(|s| self.clock.now().saturating_duration_since(s));
        let (transition, report) = {
            let mut local = self.local.lock();
            let transition =
                local
                    .machine
                    .record(&self.config, ticket, outcome, elapsed, &*self.clock);
            let report = self.shared.is_some().then(|| {
                let mut report = OutcomeReport::new(
                    (ticket.generation == local.gen_base).then_some(local.fleet_gen),
                    outcome,
                );
                report.slow = matches!(
                    (self.config.slow_call_duration, elapsed),
                    (Some(limit), Some(took)) if took >= limit
                );
                report.probe = ticket.kind != TicketKind::Normal;
                report.transition = transition.map(|t| t.to);
                report
            });
            self.refresh_fast(&local);
            (transition, report)
        };
        // The store is told without the lock held: it may push a state back.
        if let (Some(shared), Some(report)) = (&self.shared, report) {
            shared.note_outcome(report);
        }
        self.transitioned(transition);
    }

    /// A local decision (no store, the store unreachable, or the fleet
    /// state says closed).
    fn decide_locally(self: &Arc<Self>) -> Result<Permit, Rejected> {
        let (decision, transition) = {
            let mut local = self.local.lock();
            self.acquire_local(&mut local)
        };
        self.transitioned(transition);
        match decision {
            Ok(ticket) => Ok(self.permit(ticket)),
            Err(rejected) => {
                self.rejected(rejected);
                Err(rejected)
            }
        }
    }

    /// Decides locally when that is safe, otherwise asks the store.
    fn acquire_shared(self: &Arc<Self>, shared: &dyn SharedBreaker) -> AcquireFuture {
        let (decision, transition) = {
            let mut local = self.local.lock();
            let remote = match shared.health() {
                StoreHealth::Down => false,
                StoreHealth::Joining => true,
                StoreHealth::Healthy => match local.machine.phase() {
                    Phase::Closed | Phase::Disabled | Phase::ForcedOpen => false,
                    Phase::HalfOpen { .. } => true,
                    Phase::Open { until } => self.clock.now() >= until,
                },
            };
            if remote {
                drop(local);
                return AcquireFuture::remote(Box::pin(remote_acquire(Arc::clone(self))));
            }
            self.acquire_local(&mut local)
        };
        self.transitioned(transition);
        AcquireFuture::ready(match decision {
            Ok(ticket) => Ok(self.permit(ticket)),
            Err(rejected) => {
                self.rejected(rejected);
                Err(rejected)
            }
        })
    }
}

/// Asks the store for a decision: it reads the fleet state, moves an
/// expired open breaker to half-open and grants a probe lease if one is free.
async fn remote_acquire(inner: Arc<Inner>) -> Result<Permit, Rejected> {
    let Some(shared) = inner.shared.as_ref() else {
        return inner.decide_locally();
    };
    let fleet = match shared.acquire_lease().await {
        LeaseReply::Granted(lease) => {
            let ticket = Ticket {
                generation: inner.local.lock().machine.generation(),
                kind: TicketKind::Untracked,
            };
            let mut permit = inner.permit(ticket);
            permit.lease = Some(lease);
            return Ok(permit);
        }
        LeaseReply::Unreachable => return inner.decide_locally(),
        LeaseReply::Refused(fleet) => fleet,
    };
    let rejected = match fleet.state {
        State::Closed | State::Disabled => return inner.decide_locally(),
        State::Open => Rejected {
            retry_after: fleet.open_remaining,
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

impl FleetTarget for Inner {
    fn adopt(&self, fleet: FleetState) {
        let transition = {
            let mut local = self.local.lock();
            let changed = fleet.generation != local.fleet_gen;
            let until =
                (fleet.state == State::Open).then(|| self.clock.now() + fleet.open_remaining);
            let transition = local
                .machine
                .adopt(fleet.state, until, fleet.reopenings, changed);
            if changed {
                local.fleet_gen = fleet.generation;
                local.gen_base = local.machine.generation();
            }
            self.refresh_fast(&local);
            transition
        };
        self.transitioned(transition);
    }

    fn refresh(&self) {
        self.refresh_fast(&self.local.lock());
    }
}

impl CircuitBreaker {
    /// A breaker with the [default config](BreakerConfig), the system clock and
    /// its own in-memory state.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self::builder(name).build()
    }

    /// A builder for a breaker named `name` (e.g. `"calcom"`, or
    /// `"calcom:tenant-42"` for one breaker per tenant).
    pub fn builder(name: impl Into<Arc<str>>) -> CircuitBreakerBuilder {
        CircuitBreakerBuilder {
            name: name.into(),
            config: BreakerConfig::default(),
            clock: Arc::new(SystemClock),
            subscribers: Vec::new(),
        }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The breaker's settings.
    pub fn config(&self) -> &BreakerConfig {
        &self.inner.config
    }

    /// Runs `fut` if the breaker admits it; `Err` counts as a failure.
    ///
    /// The future is [`call_with`](Self::call_with)'s itself, not one more
    /// layer around it: the closed path moves less.
    pub fn call<F, T, E>(
        &self,
        fut: F,
    ) -> impl Future<Output = Result<T, BreakerError<E>>> + use<'_, F, T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.call_with(DefaultClassifier, fut)
    }

    /// Runs `fut` if the breaker admits it, letting `classifier` decide what
    /// counts as a failure. If the returned future is dropped before `fut`
    /// finishes, the permit is released without counting.
    pub async fn call_with<K, F, T, E>(&self, classifier: K, fut: F) -> Result<T, BreakerError<E>>
    where
        K: Classify<T, E>,
        F: Future<Output = Result<T, E>>,
    {
        if let Some(ticket) = self.inner.fast_acquire() {
            // A closed-state ticket needs no release if the call is dropped.
            let result = fut.await;
            self.inner.fast_finish(ticket, classifier.classify(&result));
            return result.map_err(BreakerError::Inner);
        }
        let permit = self.try_acquire().await?;
        let result = fut.await;
        permit.record(classifier.classify(&result));
        result.map_err(BreakerError::Inner)
    }

    /// Asks for a permit, for code that is not a single future. Report the
    /// outcome with [`Permit::success`] / [`Permit::failure`]; a permit that
    /// is dropped unreported is released and counts as nothing.
    ///
    /// The future is ready at once except with the Redis store in half-open
    /// (the probe permit is taken in Redis) or before the first sync.
    pub fn try_acquire(&self) -> AcquireFuture {
        if let Some(ticket) = self.inner.fast_acquire() {
            return AcquireFuture::ready(Ok(self.inner.permit(ticket)));
        }
        if let Some(shared) = &self.inner.shared {
            return self.inner.acquire_shared(&**shared);
        }
        AcquireFuture::ready(self.inner.decide_locally())
    }

    /// With a shared store (Redis): reconciles with the shared state now and
    /// says whether the store answered. With the memory store: returns
    /// `true` at once.
    /// Not needed before calls (the first decision of a new replica reads
    /// the shared state anyway); useful in tests and health checks.
    pub async fn synced(&self) -> bool {
        match &self.inner.shared {
            Some(shared) => shared.sync().await.is_some(),
            None => true,
        }
    }

    /// The current state, as this replica sees it.
    pub fn state(&self) -> State {
        self.inner.local.lock().machine.phase().state()
    }

    /// A future that is ready once this breaker is open or forced open (at
    /// once if it is now), whether its own calls opened it, an operator, or
    /// another replica through a shared store.
    ///
    /// For work that waits before it calls through the breaker, such as a
    /// retry's back-off: race the wait against this, and a caller hears
    /// "unavailable" as soon as the breaker opens rather than after a wait
    /// whose call would only be refused. A pending future costs one entry
    /// in the breaker's waiter list, removed when it is dropped. It needs
    /// no async runtime.
    ///
    /// ```
    /// use futures_util::FutureExt;
    /// use voxcal_circuit_breaker::CircuitBreaker;
    ///
    /// let breaker = CircuitBreaker::new("calcom");
    /// let mut opened = Box::pin(breaker.opened());
    /// assert!(opened.as_mut().now_or_never().is_none(), "closed: still waiting");
    /// breaker.force_open();
    /// assert!(opened.now_or_never().is_some(), "woken by the transition");
    /// ```
    pub fn opened(&self) -> Opened {
        Opened {
            inner: Arc::clone(&self.inner),
            id: None,
        }
    }

    /// Forces the breaker open until [`reset`](Self::reset) or another
    /// operator call (shared with the whole fleet on the Redis store).
    pub fn force_open(&self) {
        self.set_state(State::ForcedOpen);
    }

    /// Disables the breaker: every call passes, nothing is counted.
    pub fn disable(&self) {
        self.set_state(State::Disabled);
    }

    /// Closes the breaker and clears its counters.
    pub fn reset(&self) {
        self.set_state(State::Closed);
    }

    /// Moves the breaker to `state` (an operator action).
    pub fn set_state(&self, state: State) {
        let transition = {
            let mut local = self.inner.local.lock();
            let transition = local
                .machine
                .set(&self.inner.config, state, self.inner.clock.now());
            self.inner.refresh_fast(&local);
            transition
        };
        if let Some(shared) = &self.inner.shared {
            shared.note_operator(state);
        }
        self.inner.transitioned(transition);
    }

    /// A snapshot for health endpoints.
    pub fn metrics(&self) -> Metrics {
        let local = self.inner.local.lock();
        let machine = &local.machine;
        let counts = machine.counts();
        let rate = |n: u32| (counts.calls > 0).then(|| f64::from(n) / f64::from(counts.calls));
        let phase = machine.phase();
        let time_until_half_open = match phase {
            Phase::Open { until } => Some(until.saturating_duration_since(self.inner.clock.now())),
            _ => None,
        };
        Metrics {
            name: Arc::clone(&self.inner.name),
            state: phase.state(),
            calls: counts.calls,
            failed_calls: counts.failures,
            slow_calls: counts.slow,
            failure_rate: rate(counts.failures),
            slow_call_rate: rate(counts.slow),
            consecutive_failures: machine.consecutive_failures(),
            rejected_calls: self.inner.rejected.load(Ordering::Relaxed),
            time_until_half_open,
            reopenings: machine.reopenings(),
            generation: machine.generation(),
        }
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.inner.name)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Builds a [`CircuitBreaker`].
pub struct CircuitBreakerBuilder {
    name: Arc<str>,
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    subscribers: Vec<Subscriber>,
}

impl CircuitBreakerBuilder {
    /// The settings (default: [`BreakerConfig::default`]).
    pub fn config(mut self, config: BreakerConfig) -> Self {
        self.config = config;
        self
    }

    /// The clock (default: [`SystemClock`]; tests pass a [`FakeClock`](crate::FakeClock)).
    ///
    /// Only its monotonic [`now`](Clock::now) is read, and not on the
    /// closed-state fast path. An `Arc<dyn Clock>` (a clock shared with
    /// other components) is kept as it is, not wrapped again.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = shared_clock(clock);
        self
    }

    /// Calls `subscriber` for every [`Event`], on the thread that caused it.
    /// Keep it short; it must not call back into the breaker.
    pub fn on_event(mut self, subscriber: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.subscribers.push(Arc::new(subscriber));
        self
    }

    /// A breaker with its own in-memory state.
    pub fn build(self) -> CircuitBreaker {
        self.build_with(&MemoryStore::new())
    }

    /// A breaker whose state lives in `store`. Breakers of the same name in
    /// the same store share their state (the first one's settings win).
    ///
    /// With a [`RedisStore`](crate::RedisStore) the store runs the breaker's
    /// background work on the Tokio runtime it was made in (or, if it was
    /// made outside one, the runtime this is called in). Without any
    /// runtime the breaker logs an error and decides on its own, like a
    /// [`MemoryStore`] breaker.
    pub fn build_with<S: Store + ?Sized>(self, store: &S) -> CircuitBreaker {
        let spec = Spec {
            name: self.name,
            config: self.config,
            clock: self.clock,
            subscribers: self.subscribers,
        };
        CircuitBreaker {
            inner: attach(store, spec),
        }
    }
}

impl fmt::Debug for CircuitBreakerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerBuilder")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// `clock` behind an `Arc`: an `Arc<dyn Clock>` is used as it is.
pub(crate) fn shared_clock<C: Clock>(clock: C) -> Arc<dyn Clock> {
    let any: &dyn std::any::Any = &clock;
    match any.downcast_ref::<Arc<dyn Clock>>() {
        Some(shared) => Arc::clone(shared),
        None => Arc::new(clock),
    }
}

/// The future of [`CircuitBreaker::opened`]: ready once the breaker is open
/// or forced open.
#[must_use = "futures do nothing unless polled"]
pub struct Opened {
    inner: Arc<Inner>,
    /// The registration in the breaker's waiter list, once polled pending.
    id: Option<u64>,
}

impl Opened {
    fn is_open(&self) -> bool {
        matches!(
            self.inner.local.lock().machine.phase().state(),
            State::Open | State::ForcedOpen
        )
    }
}

impl Future for Opened {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.is_open() {
            return Poll::Ready(());
        }
        this.id = Some(this.inner.opened.register(this.id, cx.waker()));
        // A transition between the look above and the registration has
        // already changed the state: look again rather than miss its wake.
        if this.is_open() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.inner.opened.remove(id);
        }
    }
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("breaker", &self.inner.name)
            .finish_non_exhaustive()
    }
}

/// Permission to make one call. Report how it went with
/// [`success`](Self::success), [`failure`](Self::failure) or
/// [`record`](Self::record); dropping it unreported releases it (a
/// half-open probe slot is freed, nothing is counted).
#[must_use = "a permit that is dropped unreported counts as nothing"]
pub struct Permit {
    inner: Arc<Inner>,
    ticket: Ticket,
    started: Option<Instant>,
    /// A probe permit held in the store.
    lease: Option<Lease>,
    done: bool,
}

impl Permit {
    /// The call worked.
    pub fn success(self) {
        self.record(Outcome::Success);
    }

    /// The call failed.
    pub fn failure(self) {
        self.record(Outcome::Failure);
    }

    /// The call ended with `outcome`.
    pub fn record(mut self, outcome: Outcome) {
        self.done = true;
        self.complete(outcome);
    }

    /// Whether this permit is a half-open probe.
    pub fn is_probe(&self) -> bool {
        if self.lease.is_some() {
            return true;
        }
        self.ticket.kind == TicketKind::Probe
    }

    fn complete(&mut self, outcome: Outcome) {
        if let Some(lease) = self.lease.take() {
            let config = &self.inner.config;
            let elapsed = self
                .started
                .map(|s| self.inner.clock.now().saturating_duration_since(s));
            let slow = match (config.slow_call_duration, elapsed) {
                (Some(limit), Some(took)) => took >= limit && config.slow_call_rate.is_some(),
                _ => false,
            };
            let outcome = match outcome {
                Outcome::Success if !slow => Outcome::Success,
                Outcome::Success | Outcome::Failure => Outcome::Failure,
                Outcome::Ignore => Outcome::Ignore,
            };
            if let Some(shared) = &self.inner.shared {
                shared.release_lease(lease, outcome);
            }
            return;
        }
        if self.started.is_none() {
            self.inner.fast_finish(self.ticket, outcome);
        } else {
            self.inner.finish(self.ticket, outcome, self.started);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            self.complete(Outcome::Ignore);
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.inner.name)
            .field("probe", &self.is_probe())
            .finish_non_exhaustive()
    }
}

/// The future of [`CircuitBreaker::try_acquire`].
#[must_use = "futures do nothing unless polled"]
pub struct AcquireFuture {
    state: AcquireState,
}

enum AcquireState {
    Ready(Option<Result<Permit, Rejected>>),
    /// Waiting for the store (a half-open probe, or the first decision).
    Remote(BoxFuture<'static, Result<Permit, Rejected>>),
}

impl AcquireFuture {
    pub(crate) fn ready(result: Result<Permit, Rejected>) -> Self {
        AcquireFuture {
            state: AcquireState::Ready(Some(result)),
        }
    }

    fn remote(fut: BoxFuture<'static, Result<Permit, Rejected>>) -> Self {
        AcquireFuture {
            state: AcquireState::Remote(fut),
        }
    }

    /// The result if it is known without waiting (used by the tower layer).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn take_ready(&mut self) -> Option<Result<Permit, Rejected>> {
        match &mut self.state {
            AcquireState::Ready(result) => result.take(),
            AcquireState::Remote(_) => None,
        }
    }
}

impl Future for AcquireFuture {
    type Output = Result<Permit, Rejected>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            AcquireState::Ready(result) => match result.take() {
                Some(result) => Poll::Ready(result),
                None => Poll::Pending,
            },
            AcquireState::Remote(fut) => fut.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for AcquireFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            AcquireState::Ready(_) => "ready",
            AcquireState::Remote(_) => "remote",
        };
        f.debug_struct("AcquireFuture")
            .field("state", &state)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::shared_clock;
    use crate::{Clock, FakeClock};

    #[test]
    fn a_shared_clock_is_kept_and_any_other_is_wrapped() {
        let shared: Arc<dyn Clock> = Arc::new(FakeClock::new());
        assert!(Arc::ptr_eq(&shared_clock(Arc::clone(&shared)), &shared));
        let fake = FakeClock::new();
        let wrapped = shared_clock(fake.clone());
        let start = wrapped.now();
        fake.advance(std::time::Duration::from_secs(5));
        assert_eq!(wrapped.now() - start, std::time::Duration::from_secs(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn opened_wakes_every_waiter_when_failures_trip_the_breaker() {
        use crate::{BreakerConfig, BreakerError, CircuitBreaker, State};

        let clock = FakeClock::new();
        let breaker = CircuitBreaker::builder("opened")
            .config(
                BreakerConfig::builder()
                    .consecutive_failures(3)
                    .build()
                    .unwrap(),
            )
            .clock(clock.clone())
            .build();
        let waiters: Vec<_> = (0..8).map(|_| tokio::spawn(breaker.opened())).collect();
        // Every task registers before the failures come (bounded: 8 spawned
        // tasks on 2 workers register within milliseconds; 10 s is the
        // margin for a loaded machine).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while breaker.inner.opened.len() < 8 {
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of 8 waiters registered",
                breaker.inner.opened.len()
            );
            tokio::task::yield_now().await;
        }
        for _ in 0..3 {
            let failed: Result<(), BreakerError<&str>> = breaker.call(async { Err("500") }).await;
            assert!(matches!(failed, Err(BreakerError::Inner("500"))));
        }
        assert_eq!(breaker.state(), State::Open);
        for waiter in waiters {
            tokio::time::timeout(std::time::Duration::from_secs(10), waiter)
                .await
                .expect("a waiter was not woken by the trip")
                .unwrap();
        }
        assert_eq!(breaker.inner.opened.len(), 0, "woken waiters are forgotten");
    }

    #[test]
    fn a_dropped_waiter_leaves_no_entry() {
        use futures_util::FutureExt;

        let breaker = crate::CircuitBreaker::new("dropped");
        for _ in 0..100 {
            let mut opened = Box::pin(breaker.opened());
            assert!(opened.as_mut().now_or_never().is_none());
        }
        assert_eq!(breaker.inner.opened.len(), 0);
        let mut opened = Box::pin(breaker.opened());
        assert!(opened.as_mut().now_or_never().is_none());
        assert_eq!(breaker.inner.opened.len(), 1);
        breaker.force_open();
        assert!(opened.now_or_never().is_some());
        assert!(
            breaker.opened().now_or_never().is_some(),
            "ready at once while open"
        );
    }
}
