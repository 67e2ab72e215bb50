//! The conformance suite on every store: `MemoryStore`; `RedisStore` on a
//! private server (pushed and poll-only, and through a real outage) and on
//! a 3-master Cluster; a store written here against the public trait (a
//! `Mutex<HashMap>` fleet), also behind a fault-injecting wrapper; and a
//! deliberately wrong store (unlimited probes), which must fail.
#![cfg(feature = "conformance")]

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::FutureExt;
use voxcal_circuit_breaker::conformance::{self, Harness};
use voxcal_circuit_breaker::store::{
    BoxFuture, BreakerSpec, FleetSink, FleetState, Generation, Lease, LeaseReply, OutcomeReport,
    SharedBreaker, StoreHealth,
};
use voxcal_circuit_breaker::{Clock, FakeClock, MemoryStore, Outcome, State, Store};

// ---------------------------------------------------------------------------
// A store written outside the crate: one fleet state per breaker name in a
// shared map; every clone of the store is a replica.

#[derive(Default)]
struct Entry {
    state: Option<State>,
    generation: u64,
    failures: u32,
    open_until: Option<Instant>,
    reopenings: u32,
    leases: HashSet<String>,
    successes: u32,
    sinks: Vec<FleetSink>,
}

impl Entry {
    fn state(&self) -> State {
        self.state.unwrap_or(State::Closed)
    }

    fn fleet(&self, now: Instant) -> FleetState {
        let mut fleet = FleetState::new(self.state(), Generation::new(self.generation));
        if let Some(until) = self.open_until {
            fleet.open_remaining = until.saturating_duration_since(now);
        }
        fleet.reopenings = self.reopenings;
        fleet.failures = u64::from(self.failures);
        fleet
    }

    /// A transition: a new generation, pushed to every replica.
    fn enter(&mut self, state: State, spec: &BreakerSpec, now: Instant) {
        self.state = Some(state);
        self.generation += 1;
        self.failures = 0;
        self.successes = 0;
        self.leases.clear();
        self.open_until = (state == State::Open).then(|| now + spec.config().open_duration());
        let fleet = self.fleet(now);
        self.sinks.retain(FleetSink::is_attached);
        for sink in &self.sinks {
            sink.adopt(fleet);
        }
    }
}

type Map = Arc<Mutex<HashMap<String, Entry>>>;

#[derive(Clone)]
struct MapStore {
    map: Map,
    clock: FakeClock,
    /// Wrong on purpose: grants every probe asked for.
    unlimited_probes: bool,
    /// Wrong on purpose: counts outcomes of older generations too.
    any_generation: bool,
    leases: Arc<AtomicU64>,
}

impl std::fmt::Debug for MapStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapStore").finish_non_exhaustive()
    }
}

impl MapStore {
    fn new(clock: FakeClock) -> Self {
        MapStore {
            map: Map::default(),
            clock,
            unlimited_probes: false,
            any_generation: false,
            leases: Arc::default(),
        }
    }
}

struct MapHandle {
    store: MapStore,
    spec: BreakerSpec,
    sink: FleetSink,
}

impl std::fmt::Debug for MapHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapHandle")
            .field("name", &self.spec.name())
            .finish()
    }
}

impl MapHandle {
    fn with<T>(&self, f: impl FnOnce(&mut Entry, Instant) -> T) -> T {
        let mut map = self.store.map.lock().unwrap();
        let entry = map.entry(self.spec.name().to_owned()).or_default();
        f(entry, self.store.clock.now())
    }
}

impl Store for MapStore {
    fn attach(&self, spec: &BreakerSpec, sink: FleetSink) -> Option<Arc<dyn SharedBreaker>> {
        let handle = MapHandle {
            store: self.clone(),
            spec: spec.clone(),
            sink: sink.clone(),
        };
        handle.with(|e, _| e.sinks.push(sink));
        Some(Arc::new(handle))
    }
}

impl SharedBreaker for MapHandle {
    fn health(&self) -> StoreHealth {
        StoreHealth::Healthy
    }

    fn note_outcome(&self, report: OutcomeReport) {
        let limit = self.spec.config().consecutive_failures();
        self.with(|e, now| {
            let current = report.generation == Some(Generation::new(e.generation));
            if !(current || self.store.any_generation) || e.state() != State::Closed {
                return;
            }
            if report.transition == Some(State::Open) {
                e.enter(State::Open, &self.spec, now);
                return;
            }
            if report.probe {
                return;
            }
            match report.outcome {
                Outcome::Success => e.failures = 0,
                Outcome::Failure => e.failures += 1,
                _ => {}
            }
            if limit > 0 && e.failures >= limit {
                e.enter(State::Open, &self.spec, now);
            }
        });
    }

    fn acquire_lease(&self) -> BoxFuture<'_, LeaseReply> {
        let permits = self.spec.config().half_open_permits() as usize;
        let reply = self.with(|e, now| {
            if e.state() == State::Open && e.open_until.is_some_and(|u| now >= u) {
                e.enter(State::HalfOpen, &self.spec, now);
            }
            if e.state() == State::HalfOpen
                && (self.store.unlimited_probes || e.leases.len() < permits)
            {
                let id = format!(
                    "lease-{}",
                    self.store.leases.fetch_add(1, Ordering::Relaxed)
                );
                e.leases.insert(id.clone());
                return LeaseReply::Granted(Lease::new(id, Generation::new(e.generation)));
            }
            LeaseReply::Refused(e.fleet(now))
        });
        Box::pin(async move { reply })
    }

    fn release_lease(&self, lease: Lease, outcome: Outcome) {
        let needed = self.spec.config().half_open_successes();
        self.with(|e, now| {
            if lease.generation() != Generation::new(e.generation) || !e.leases.remove(lease.id()) {
                return;
            }
            match outcome {
                Outcome::Success => {
                    e.successes += 1;
                    if e.successes >= needed {
                        e.reopenings = 0;
                        e.enter(State::Closed, &self.spec, now);
                    }
                }
                Outcome::Failure => {
                    e.reopenings += 1;
                    e.enter(State::Open, &self.spec, now);
                }
                _ => {}
            }
        });
    }

    fn sync(&self) -> BoxFuture<'_, Option<FleetState>> {
        let fleet = self.with(|e, now| e.fleet(now));
        self.sink.adopt(fleet);
        Box::pin(async move { Some(fleet) })
    }

    fn note_operator(&self, state: State) {
        self.with(|e, now| {
            if state == State::Closed {
                e.reopenings = 0;
            }
            e.enter(state, &self.spec, now);
        });
    }
}

// ---------------------------------------------------------------------------
// A wrapper that cuts any store off while its flag is set.

#[derive(Debug, Clone)]
struct FaultStore<S> {
    inner: S,
    down: Arc<AtomicBool>,
}

#[derive(Debug)]
struct FaultHandle {
    inner: Arc<dyn SharedBreaker>,
    down: Arc<AtomicBool>,
}

impl<S: Store> Store for FaultStore<S> {
    fn attach(&self, spec: &BreakerSpec, sink: FleetSink) -> Option<Arc<dyn SharedBreaker>> {
        let inner = self.inner.attach(spec, sink)?;
        Some(Arc::new(FaultHandle {
            inner,
            down: Arc::clone(&self.down),
        }))
    }
}

impl FaultHandle {
    fn down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }
}

impl SharedBreaker for FaultHandle {
    fn health(&self) -> StoreHealth {
        if self.down() {
            StoreHealth::Down
        } else {
            self.inner.health()
        }
    }

    fn note_fast_success(&self) {
        self.inner.note_fast_success();
    }

    fn note_outcome(&self, report: OutcomeReport) {
        if !self.down() {
            self.inner.note_outcome(report);
        }
    }

    fn acquire_lease(&self) -> BoxFuture<'_, LeaseReply> {
        if self.down() {
            return Box::pin(async { LeaseReply::Unreachable });
        }
        self.inner.acquire_lease()
    }

    fn release_lease(&self, lease: Lease, outcome: Outcome) {
        if !self.down() {
            self.inner.release_lease(lease, outcome);
        }
    }

    fn sync(&self) -> BoxFuture<'_, Option<FleetState>> {
        if self.down() {
            return Box::pin(async { None });
        }
        self.inner.sync()
    }

    fn note_operator(&self, state: State) {
        if !self.down() {
            self.inner.note_operator(state);
        }
    }
}

fn map_harness(unlimited_probes: bool) -> Harness {
    wrong_map_harness(unlimited_probes, false)
}

fn wrong_map_harness(unlimited_probes: bool, any_generation: bool) -> Harness {
    let clock = FakeClock::new();
    let mut store = MapStore::new(clock.clone());
    store.unlimited_probes = unlimited_probes;
    store.any_generation = any_generation;
    Harness::new(clock, move || {
        let store = store.clone();
        async move { store }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes() {
    let store = MemoryStore::new();
    let harness = Harness::new(FakeClock::new(), move || {
        let store = store.clone();
        async move { store }
    });
    conformance::run(&harness).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_store_written_outside_the_crate_passes() {
    conformance::run(&map_harness(false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_store_behind_a_fault_injecting_wrapper_passes_with_an_outage() {
    let clock = FakeClock::new();
    let store = MapStore::new(clock.clone());
    let down = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&down);
    let harness = Harness::new(clock, move || {
        let store = FaultStore {
            inner: store.clone(),
            down: Arc::clone(&flag),
        };
        async move { store }
    })
    .with_outage(move |is_down| {
        down.store(is_down, Ordering::SeqCst);
        async {}
    });
    conformance::run(&harness).await;
    conformance::outage(&harness).await;
}

/// The suite must be able to fail: a store that grants every probe asked
/// for is caught by the fleet-wide probe check, with a message saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_granting_unlimited_probes_fails_the_suite() {
    let harness = map_harness(true);
    let failed = AssertUnwindSafe(conformance::run(&harness))
        .catch_unwind()
        .await;
    let Err(panic) = failed else {
        panic!("the suite passed a store that grants unlimited probes");
    };
    let message = panic_message(&*panic);
    assert!(
        message.contains("probes may run fleet-wide") && message.contains("12 of 12"),
        "failed for another reason: {message}"
    );
    // The correct store passes the same check.
    conformance::probes_fleet_wide(&map_harness(false)).await;
}

/// A store that counts late outcomes of an older generation is caught by
/// the generations check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_counting_stale_outcomes_fails_the_suite() {
    let harness = wrong_map_harness(false, true);
    let failed = AssertUnwindSafe(conformance::generations(&harness))
        .catch_unwind()
        .await;
    let Err(panic) = failed else {
        panic!("the suite passed a store that counts outcomes of older generations");
    };
    let message = panic_message(&*panic);
    assert!(
        message.contains("late failures"),
        "failed for another reason: {message}"
    );
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[cfg(feature = "redis")]
mod redis_stores {
    use std::time::Duration;

    use testkit::{RedisCluster, RedisServer, TestRedis};
    use voxcal_circuit_breaker::{RedisConnection, RedisStore};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_on_a_private_server_passes() {
        let redis = tokio::task::spawn_blocking(TestRedis::new).await.unwrap();
        let clock = FakeClock::new();
        let (url, prefix) = (redis.url().to_owned(), redis.prefix().to_owned());
        let harness = Harness::new(clock.clone(), move || {
            let (url, prefix, clock) = (url.clone(), prefix.clone(), clock.clone());
            // Each instance on its own connection: a replica of its own.
            async move {
                let conn = RedisConnection::connect(&url).await.unwrap();
                RedisStore::new(conn).with_prefix(prefix).with_clock(clock)
            }
        });
        conformance::run(&harness).await;
    }

    /// Connections without node addresses have no subscriber: transitions
    /// reach the other instance by polling only.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_polling_only_passes() {
        let redis = tokio::task::spawn_blocking(TestRedis::new).await.unwrap();
        let clock = FakeClock::new();
        let (url, prefix) = (redis.url().to_owned(), redis.prefix().to_owned());
        let harness = Harness::new(clock.clone(), move || {
            let (url, prefix, clock) = (url.clone(), prefix.clone(), clock.clone());
            async move {
                let client = redis::Client::open(url.as_str()).unwrap();
                let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
                let store = RedisStore::new(RedisConnection::from(manager))
                    .with_prefix(prefix)
                    .with_clock(clock);
                assert!(!store.is_subscribed());
                store
            }
        });
        conformance::run(&harness).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_on_a_three_master_cluster_passes() {
        let cluster = tokio::task::spawn_blocking(RedisCluster::start)
            .await
            .unwrap();
        let clock = FakeClock::new();
        let urls = cluster.urls();
        let prefix = testkit::unique_prefix();
        let harness = Harness::new(clock.clone(), move || {
            let (urls, prefix, clock) = (urls.clone(), prefix.clone(), clock.clone());
            async move {
                let conn = RedisConnection::connect_cluster(urls).await.unwrap();
                assert!(conn.is_cluster());
                RedisStore::new(conn).with_prefix(prefix).with_clock(clock)
            }
        });
        conformance::run(&harness).await;
        drop(cluster);
    }

    /// A real outage: the private server is killed and restarted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_survives_a_server_outage() {
        let server = tokio::task::spawn_blocking(RedisServer::start)
            .await
            .unwrap();
        let url = server.url();
        let server = Arc::new(Mutex::new(server));
        let clock = FakeClock::new();
        let prefix = testkit::unique_prefix();
        let harness = Harness::new(clock.clone(), move || {
            let (url, prefix, clock) = (url.clone(), prefix.clone(), clock.clone());
            async move {
                let conn = RedisConnection::connect(&url).await.unwrap();
                RedisStore::new(conn).with_prefix(prefix).with_clock(clock)
            }
        })
        // Reconnecting after the restart takes the connection's backoff.
        .with_wait(Duration::from_secs(15))
        .with_outage(move |down| {
            let server = Arc::clone(&server);
            async move {
                tokio::task::spawn_blocking(move || {
                    let mut server = server.lock().unwrap();
                    if down {
                        server.kill();
                    } else {
                        server.restart();
                    }
                })
                .await
                .unwrap();
            }
        });
        conformance::outage(&harness).await;
    }
}
