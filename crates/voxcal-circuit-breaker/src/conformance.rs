//! Tests for store implementations: the breaker's semantics, checked on any
//! [`Store`] (feature `conformance`).
//!
//! Every store of this crate runs these in its own tests, and a store
//! written elsewhere (a [`Store`] of your own, a wrapper with metrics or
//! fault injection) runs the same. Each check builds breakers with the
//! suite's settings (open after **3** consecutive failures, open **10 s**,
//! **2** probes, closed after **2** successful probes, sync every 50 ms) and
//! the harness's [`FakeClock`]:
//!
//! - [`transitions`]: closed → open after 3 failures, open → half-open once
//!   the clock passed the open duration (not before), half-open → closed
//!   after 2 successful probes and → open after a failed one;
//! - [`probes_fleet_wide`]: 3 breakers on 3 store instances, 12 concurrent
//!   acquires in half-open: exactly 2 probes granted fleet-wide; a dropped
//!   probe permit is released (another breaker gets it);
//! - [`generations`]: late failures of calls admitted before a transition
//!   (on another instance) change nothing;
//! - [`pushed_transitions`]: a transition made through instance A becomes
//!   visible through instance B without asking (pushed or polled by the
//!   store), within [`Harness::with_wait`] (5 s by default);
//! - [`polled_transitions`]: after [`CircuitBreaker::synced`], instance B
//!   shows what A did, at once;
//! - [`outage`] (only with [`Harness::with_outage`]): while the store is
//!   unreachable the breaker says so and keeps deciding on its own
//!   (trips, rejects, probes, closes); afterwards it syncs again.
//!
//! A [`Harness`] holds the store factory and the [`FakeClock`] its stores
//! (and the suite's breakers) read: every store the factory makes shares
//! one state (clones of one in-process store, or stores on one server with
//! one prefix), so several of them stand for several replicas. Time moves
//! only by [`FakeClock::advance`]; the only real-time waits are bounded
//! waits for a store's own I/O (a release or a push to arrive). Every check
//! panics with what it expected and what it saw; run them from a
//! multi-threaded Tokio runtime (with the `time` driver).
//!
//! ```
//! use voxcal_circuit_breaker::conformance::{self, Harness};
//! use voxcal_circuit_breaker::{FakeClock, MemoryStore};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! let store = MemoryStore::new();
//! // Every instance is a clone of the one store.
//! let harness = Harness::new(FakeClock::new(), move || {
//!     let store = store.clone();
//!     async move { store }
//! });
//! conformance::run(&harness).await;
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::store::BoxFuture;
use crate::{
    BoxStore, BreakerConfig, BreakerError, CircuitBreaker, FakeClock, Permit, State, Store,
};

/// How long the suite's breakers stay open.
pub const OPEN: Duration = Duration::from_secs(10);
/// Consecutive failures that open the suite's breakers.
pub const FAILURES: u32 = 3;
/// Half-open probes at a time (fleet-wide).
pub const PROBES: u32 = 2;

type MakeStore = Box<dyn Fn() -> BoxFuture<'static, BoxStore> + Send + Sync>;
type Outage = Box<dyn Fn(bool) -> BoxFuture<'static, ()> + Send + Sync>;

/// A store under test: a factory of store instances over one shared state,
/// the [`FakeClock`] they read, and optionally a way to cut them off.
pub struct Harness {
    clock: FakeClock,
    make: MakeStore,
    outage: Option<Outage>,
    wait: Duration,
    run: u64,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("clock", &self.clock)
            .field("outage", &self.outage.is_some())
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Tests the stores `factory` makes. Every store it makes must share one
    /// state and, if it keeps time itself, read `clock` (a clone of it).
    pub fn new<F, Fut, S>(clock: FakeClock, factory: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = S> + Send + 'static,
        S: Store,
    {
        Harness {
            clock,
            make: Box::new(move || {
                let made = factory();
                Box::pin(async move { BoxStore::new(made.await) })
            }),
            outage: None,
            wait: Duration::from_secs(5),
            // Breaker names of this run differ from those of earlier runs on
            // the same (persistent) backend.
            run: voxcal_core::random_u64(),
        }
    }

    /// Enables the [`outage`] check: `hook(true)` makes every store the
    /// factory made unreachable (e.g. turns on a fault-injecting wrapper, or
    /// stops the server) and `hook(false)` makes them reachable again.
    pub fn with_outage<H, Fut>(mut self, hook: H) -> Self
    where
        H: Fn(bool) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.outage = Some(Box::new(move |down| Box::pin(hook(down))));
        self
    }

    /// How long a store's own I/O may take to show (a push, a release, a
    /// reconnection); default 5 s.
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// The clock the stores and the suite's breakers read.
    pub fn clock(&self) -> &FakeClock {
        &self.clock
    }

    /// A new store instance over the shared state.
    pub async fn store(&self) -> BoxStore {
        (self.make)().await
    }

    /// The suite's settings.
    pub fn config() -> BreakerConfig {
        BreakerConfig::builder()
            .consecutive_failures(FAILURES)
            .open_duration(OPEN)
            .half_open_permits(PROBES)
            .half_open_successes(2)
            .probe_lease(Duration::from_secs(600))
            .sync_interval(Duration::from_millis(50))
            .build()
            .unwrap_or_default()
    }

    /// A breaker of check `check` on `store`, synced once.
    async fn breaker(&self, store: &BoxStore, check: &str) -> CircuitBreaker {
        let breaker = CircuitBreaker::builder(format!("conformance-{check}-{:016x}", self.run))
            .config(Self::config())
            .clock(self.clock.clone())
            .build_with(store);
        assert!(
            breaker.synced().await,
            "conformance {check}: synced() on a new breaker says the store did not answer"
        );
        breaker
    }

    /// `n` breakers of check `check`, each on its own store instance.
    async fn fleet(&self, check: &str, n: usize) -> Vec<CircuitBreaker> {
        let mut fleet = Vec::with_capacity(n);
        for _ in 0..n {
            let store = self.store().await;
            fleet.push(self.breaker(&store, check).await);
        }
        fleet
    }

    /// Waits (in real time, at most `self.wait`) for a store's own I/O.
    async fn wait_for(
        &self,
        what: &str,
        mut done: impl FnMut() -> bool,
        seen: impl Fn() -> String,
    ) {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < self.wait,
                "conformance: {what}: not within {:?}; {}",
                self.wait,
                seen()
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// Runs every check: transitions, probes fleet-wide (and a dropped permit),
/// generations, pushed and polled transitions, and the outage (if the
/// harness has a hook for it).
pub async fn run(harness: &Harness) {
    transitions(harness).await;
    probes_fleet_wide(harness).await;
    generations(harness).await;
    pushed_transitions(harness).await;
    polled_transitions(harness).await;
    if harness.outage.is_some() {
        outage(harness).await;
    }
}

async fn fail(breaker: &CircuitBreaker, n: u32) {
    for i in 0..n {
        let r = breaker.call(async { Err::<(), _>("upstream 502") }).await;
        if !matches!(r, Err(BreakerError::Inner("upstream 502"))) {
            panic!(
                "conformance: failure {} of {n} on {:?} did not run: {r:?}",
                i + 1,
                breaker.name()
            );
        }
    }
}

fn seen(fleet: &[&CircuitBreaker]) -> String {
    fleet
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let m = b.metrics();
            format!(
                "breaker {i}: {} (generation {}, consecutive failures {})",
                m.state, m.generation, m.consecutive_failures
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn expect_state(check: &str, breaker: &CircuitBreaker, want: State, why: &str) {
    let got = breaker.state();
    assert!(
        got == want,
        "conformance {check}: {why}: expected {want}, saw {}",
        seen(&[breaker])
    );
}

/// Closed → open after 3 failures; open → half-open once the open duration
/// passed; half-open → closed after 2 successes, → open after a failure.
pub async fn transitions(h: &Harness) {
    const CHECK: &str = "transitions";
    let store = h.store().await;
    let b = h.breaker(&store, CHECK).await;
    fail(&b, FAILURES - 1).await;
    expect_state(
        CHECK,
        &b,
        State::Closed,
        "still closed after 2 of 3 failures",
    );
    fail(&b, 1).await;
    expect_state(CHECK, &b, State::Open, "open after 3 consecutive failures");
    assert!(
        b.synced().await,
        "conformance {CHECK}: the store did not answer a sync after the trip"
    );
    expect_state(CHECK, &b, State::Open, "still open after a sync");
    let r = b.call(async { Ok::<_, &str>(()) }).await;
    assert!(
        matches!(&r, Err(e) if e.is_open()),
        "conformance {CHECK}: an open breaker ran a call: {r:?}"
    );

    h.clock().advance(OPEN - Duration::from_secs(1));
    let early = b.try_acquire().await;
    assert!(
        early.is_err(),
        "conformance {CHECK}: a permit 1 s before the open duration ended: {early:?}"
    );
    h.clock().advance(Duration::from_secs(1));
    let first = b.try_acquire().await;
    let Ok(first) = first else {
        panic!(
            "conformance {CHECK}: no probe once the open duration passed: {first:?}; {}",
            seen(&[&b])
        );
    };
    assert!(
        first.is_probe(),
        "conformance {CHECK}: the first permit after open is no probe"
    );
    expect_state(
        CHECK,
        &b,
        State::HalfOpen,
        "half-open after the open duration",
    );
    let second = b.try_acquire().await;
    let Ok(second) = second else {
        panic!("conformance {CHECK}: no second probe in half-open: {second:?}");
    };
    first.success();
    second.success();
    h.wait_for(
        "half-open -> closed after 2 successful probes",
        || b.state() == State::Closed,
        || seen(&[&b]),
    )
    .await;

    fail(&b, FAILURES).await;
    expect_state(CHECK, &b, State::Open, "open again after 3 failures");
    assert!(
        b.synced().await,
        "conformance {CHECK}: the store did not answer a sync"
    );
    h.clock().advance(OPEN);
    let probe = b.try_acquire().await;
    let Ok(probe) = probe else {
        panic!("conformance {CHECK}: no probe after the second open duration: {probe:?}");
    };
    probe.failure();
    h.wait_for(
        "half-open -> open after a failed probe",
        || b.state() == State::Open,
        || seen(&[&b]),
    )
    .await;
}

/// Exactly [`PROBES`] probes across 3 breakers on 3 store instances, and a
/// dropped probe permit is given back.
pub async fn probes_fleet_wide(h: &Harness) {
    const CHECK: &str = "probes";
    let fleet = h.fleet(CHECK, 3).await;
    let all: Vec<&CircuitBreaker> = fleet.iter().collect();
    fail(&fleet[0], FAILURES).await;
    for b in &fleet {
        assert!(
            b.synced().await,
            "conformance {CHECK}: the store did not answer a sync"
        );
    }
    for b in &fleet {
        expect_state(CHECK, b, State::Open, "every instance open after a sync");
    }
    h.clock().advance(OPEN);

    let acquires = fleet
        .iter()
        .flat_map(|b| (0..4).map(move |_| b.try_acquire()))
        .collect::<Vec<_>>();
    let mut held: Vec<Permit> = join_all(acquires).await.into_iter().flatten().collect();
    assert!(
        held.len() == PROBES as usize,
        "conformance {CHECK}: {} of 12 concurrent acquires over 3 instances were granted in \
         half-open; at most (and, with that many asking, exactly) {PROBES} probes may run \
         fleet-wide; {}",
        held.len(),
        seen(&all)
    );
    assert!(
        held.iter().all(Permit::is_probe),
        "conformance {CHECK}: a half-open permit that is no probe"
    );

    // A dropped probe permit frees its slot for any instance (the store
    // may give it back asynchronously: bounded wait).
    drop(held.pop());
    let start = Instant::now();
    let again = loop {
        if let Ok(permit) = fleet[2].try_acquire().await {
            break permit;
        }
        assert!(
            start.elapsed() < h.wait,
            "conformance {CHECK}: a dropped probe permit was not released within {:?}; {}",
            h.wait,
            seen(&all)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let extra = join_all(fleet.iter().map(CircuitBreaker::try_acquire)).await;
    let extra = extra.into_iter().flatten().count();
    assert!(
        extra == 0,
        "conformance {CHECK}: {extra} more probes granted while {PROBES} are held"
    );
    drop(again);
    drop(held);
}

/// Failures of calls admitted before a transition (on another instance)
/// change nothing.
pub async fn generations(h: &Harness) {
    const CHECK: &str = "generations";
    let fleet = h.fleet(CHECK, 2).await;
    let all: Vec<&CircuitBreaker> = fleet.iter().collect();
    let mut late = Vec::new();
    for _ in 0..FAILURES {
        match fleet[1].try_acquire().await {
            Ok(permit) => late.push(permit),
            Err(e) => panic!("conformance {CHECK}: a closed breaker refused a permit: {e:?}"),
        }
    }
    fail(&fleet[0], FAILURES).await;
    assert!(fleet[0].synced().await, "conformance {CHECK}: no sync");
    fleet[0].reset();
    for b in &fleet {
        assert!(b.synced().await, "conformance {CHECK}: no sync");
    }
    for b in &fleet {
        expect_state(CHECK, b, State::Closed, "closed after the operator's reset");
    }
    let before = fleet[1].metrics().generation;
    for permit in late {
        permit.failure();
    }
    for b in fleet.iter().rev() {
        assert!(b.synced().await, "conformance {CHECK}: no sync");
    }
    for b in &fleet {
        expect_state(
            CHECK,
            b,
            State::Closed,
            "3 late failures of calls admitted before the trip and the reset were counted",
        );
    }
    assert!(
        fleet[1].metrics().generation == before && fleet[1].metrics().consecutive_failures == 0,
        "conformance {CHECK}: late failures changed the breaker: {}",
        seen(&all)
    );
}

/// A transition through instance A shows through instance B without B
/// asking (pushed, or polled by the store).
pub async fn pushed_transitions(h: &Harness) {
    const CHECK: &str = "pushed";
    let fleet = h.fleet(CHECK, 2).await;
    let all: Vec<&CircuitBreaker> = fleet.iter().collect();
    fail(&fleet[0], FAILURES).await;
    h.wait_for(
        "a trip through instance A visible through instance B without asking",
        || fleet[1].state() == State::Open,
        || seen(&all),
    )
    .await;
    fleet[0].reset();
    h.wait_for(
        "a reset through instance A visible through instance B without asking",
        || fleet[1].state() == State::Closed,
        || seen(&all),
    )
    .await;
}

/// After [`CircuitBreaker::synced`], instance B shows what A did.
pub async fn polled_transitions(h: &Harness) {
    const CHECK: &str = "polled";
    let fleet = h.fleet(CHECK, 2).await;
    fail(&fleet[0], FAILURES).await;
    assert!(fleet[0].synced().await, "conformance {CHECK}: no sync");
    assert!(fleet[1].synced().await, "conformance {CHECK}: no sync");
    expect_state(
        CHECK,
        &fleet[1],
        State::Open,
        "instance B after a sync, A tripped",
    );
    fleet[1].disable();
    assert!(fleet[1].synced().await, "conformance {CHECK}: no sync");
    assert!(fleet[0].synced().await, "conformance {CHECK}: no sync");
    expect_state(
        CHECK,
        &fleet[0],
        State::Disabled,
        "instance A after a sync, B disabled it",
    );
    fleet[0].reset();
}

/// While the store is unreachable the breaker keeps deciding on its own.
pub async fn outage(h: &Harness) {
    const CHECK: &str = "outage";
    let Some(hook) = h.outage.as_ref() else {
        return;
    };
    let store = h.store().await;
    let b = h.breaker(&store, CHECK).await;
    hook(true).await;
    assert!(
        !b.synced().await,
        "conformance {CHECK}: synced() says the store answered during an outage"
    );
    let r = b.call(async { Ok::<_, &str>(7) }).await;
    assert!(
        matches!(r, Ok(7)),
        "conformance {CHECK}: a closed call did not run during the outage: {r:?}"
    );
    fail(&b, FAILURES).await;
    expect_state(CHECK, &b, State::Open, "tripped locally during the outage");
    let r = b.call(async { Ok::<_, &str>(7) }).await;
    assert!(
        matches!(&r, Err(e) if e.is_open()),
        "conformance {CHECK}: open during the outage but ran a call: {r:?}"
    );
    h.clock().advance(OPEN);
    let (p1, p2) = (b.try_acquire().await, b.try_acquire().await);
    let (Ok(p1), Ok(p2)) = (p1, p2) else {
        panic!(
            "conformance {CHECK}: no local probes during the outage; {}",
            seen(&[&b])
        );
    };
    assert!(
        b.try_acquire().await.is_err(),
        "conformance {CHECK}: more than {PROBES} local probes"
    );
    p1.success();
    p2.success();
    expect_state(
        CHECK,
        &b,
        State::Closed,
        "closed locally by 2 probes during the outage",
    );

    hook(false).await;
    let mut back = false;
    let start = Instant::now();
    while !back {
        assert!(
            start.elapsed() < h.wait,
            "conformance {CHECK}: the store did not answer within {:?} after the outage",
            h.wait
        );
        back = b.synced().await;
        if !back {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let r = b.call(async { Ok::<_, &str>(7) }).await;
    assert!(
        matches!(r, Ok(7)),
        "conformance {CHECK}: a call after the outage: {r:?}; {}",
        seen(&[&b])
    );
}
