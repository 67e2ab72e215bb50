//! The conformance suite (`voxcal_call_rate_limiter::conformance`) on every
//! store: `MemoryStore`; two stores written here, outside the crate (a
//! `Mutex<HashMap>` of encoded states implementing `CallStateStore`, and a
//! wrapper that fails every k-th decision); `RedisStore` on a private server
//! and on a 3-master Cluster. Plus the layer over the failing wrapper: 503
//! for each failure, and the failures count nowhere.
#![cfg(feature = "conformance")]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use voxcal_call_rate_limiter::conformance::{self, Harness};
use voxcal_call_rate_limiter::{
    BoxStore, CallKey, CallState, CallStateStore, Clock, Decision, FakeClock, MemoryStore, Policy,
    ReleaseFuture, Store, StoreError,
};

/// Encoded call states with their expiry (ms), by call id.
type Calls = HashMap<String, (Vec<u8>, u64)>;

/// A store written outside the crate: call states kept as bytes in a
/// `Mutex<HashMap>`, with their expiry, on the clock's wall time. Clones
/// share the map (several instances, one state).
#[derive(Debug, Clone)]
struct MapStore {
    calls: Arc<Mutex<Calls>>,
    clock: FakeClock,
    updates: Arc<AtomicUsize>,
}

impl MapStore {
    fn new(clock: FakeClock) -> Self {
        MapStore {
            calls: Arc::default(),
            clock,
            updates: Arc::default(),
        }
    }
}

impl CallStateStore for MapStore {
    fn now_millis(&self) -> u64 {
        u64::try_from(self.clock.now_utc().timestamp_millis()).unwrap_or(0)
    }

    fn update<R>(
        &self,
        call_id: &str,
        decide: impl FnOnce(&mut CallState) -> R,
    ) -> Result<R, StoreError> {
        let now = self.now_millis();
        let mut calls = self
            .calls
            .lock()
            .map_err(|_| StoreError::unavailable("map lock poisoned"))?;
        // Now and then, drop what has expired (a TTL, the lazy way).
        if self
            .updates
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(256)
        {
            calls.retain(|_, (_, expires_at)| *expires_at > now);
        }
        let mut state = match calls.get(call_id) {
            Some((bytes, _)) => CallState::decode(bytes)?,
            None => CallState::new(),
        };
        let answer = decide(&mut state);
        match state.expires_at() {
            Some(at) if state.ttl(now).is_some() => {
                calls.insert(call_id.to_owned(), (state.to_bytes(), at));
            }
            _ => {
                calls.remove(call_id);
            }
        }
        Ok(answer)
    }

    fn remove(&self, call_id: &str) -> Result<(), StoreError> {
        self.calls
            .lock()
            .map_err(|_| StoreError::unavailable("map lock poisoned"))?
            .remove(call_id);
        Ok(())
    }
}

/// A wrapper around any store that fails every `k`-th decision with a
/// `StoreError`, before the inner store sees it (so it counts nowhere).
#[derive(Debug, Clone)]
struct Flaky<S> {
    inner: S,
    every: usize,
    calls: Arc<AtomicUsize>,
}

impl<S> Flaky<S> {
    fn new(inner: S, every: usize, calls: Arc<AtomicUsize>) -> Self {
        Flaky {
            inner,
            every,
            calls,
        }
    }
}

impl<S: Store> Store for Flaky<S> {
    type Future = Pin<Box<dyn Future<Output = Result<Decision, StoreError>> + Send>>;

    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future {
        if (self.calls.fetch_add(1, Ordering::SeqCst) + 1).is_multiple_of(self.every) {
            return Box::pin(std::future::ready(Err(StoreError::unavailable(
                "injected fault",
            ))));
        }
        Box::pin(self.inner.decide(policy, key))
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn release(&self, call_id: &str) -> ReleaseFuture {
        self.inner.release(call_id)
    }
}

fn assert_store<S: Store>() {}

#[test]
fn the_stores_written_here_are_stores() {
    assert_store::<MapStore>();
    assert_store::<Flaky<MapStore>>();
    assert_store::<Flaky<BoxStore>>();
    assert_eq!(MapStore::new(FakeClock::new()).backend(), "custom");
    assert_eq!(
        BoxStore::new(Flaky::new(MemoryStore::new(), 2, Arc::default())).backend(),
        "in-memory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryStore::new().with_clock(clock.clone()));
    let harness = Harness::new(clock, move || {
        let store = Arc::clone(&store);
        async move { store }
    });
    conformance::run(&harness).await;
    assert_eq!(harness.errors(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutex_hashmap_store_of_encoded_states_passes() {
    let clock = FakeClock::new();
    let store = MapStore::new(clock.clone());
    let harness = Harness::new(clock, move || {
        let store = store.clone();
        async move { store }
    });
    conformance::run(&harness).await;
    assert_eq!(harness.errors(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failing_every_seventh_decision_passes_because_failures_count_nowhere() {
    let clock = FakeClock::new();
    let store = MapStore::new(clock.clone());
    let calls = Arc::new(AtomicUsize::new(0));
    let harness = Harness::new(clock, move || {
        let store = Flaky::new(store.clone(), 7, Arc::clone(&calls));
        async move { store }
    });
    conformance::run(&harness).await;
    assert!(
        harness.errors() > 100,
        "the faults were injected: {} errors seen",
        harness.errors()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_memory_store_passes_too() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryStore::new().with_clock(clock.clone()));
    let calls = Arc::new(AtomicUsize::new(0));
    let harness = Harness::new(clock, move || {
        let store = Flaky::new(Arc::clone(&store), 3, Arc::clone(&calls));
        async move { store }
    });
    conformance::run(&harness).await;
    assert!(harness.errors() > 100, "{} errors seen", harness.errors());
}

/// The suite can fail: a store that forgets (a fresh map per instance, so
/// instances do not share) is caught by `shared_state`, and one that counts
/// refusals is caught by `all_or_nothing`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_catches_broken_stores() {
    let clock = FakeClock::new();
    let unshared = Harness::new(clock.clone(), {
        let clock = clock.clone();
        move || {
            let store = MapStore::new(clock.clone());
            async move { store }
        }
    });
    let caught = tokio::spawn(async move { conformance::shared_state(&unshared).await }).await;
    let message = panic_message(caught.expect_err("unshared instances must fail"));
    assert!(
        message.contains("shared_state")
            && message.contains("expected limit total to count 2, got 1"),
        "{message}"
    );

    // A store that keeps the default `release` (state waits for its TTL) is
    // caught by `release`.
    #[derive(Debug)]
    struct NoRelease(MapStore);
    impl Store for NoRelease {
        type Future = <MapStore as Store>::Future;
        fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future {
            self.0.decide(policy, key)
        }
    }
    let shared = MapStore::new(clock.clone());
    let keeps = Harness::new(clock.clone(), move || {
        let store = NoRelease(shared.clone());
        async move { store }
    });
    let caught = tokio::spawn(async move { conformance::release(&keeps).await }).await;
    let message = panic_message(caught.expect_err("a store that never releases must fail"));
    assert!(
        message.contains("release")
            && message.contains("the first request after the release")
            && message.contains("to be admitted"),
        "{message}"
    );

    /// Counts every request, refused or not: its own `Store`.
    #[derive(Debug, Clone, Default)]
    struct CountsEverything(Arc<Mutex<HashMap<String, u32>>>);
    impl Store for CountsEverything {
        type Future = std::future::Ready<Result<Decision, StoreError>>;
        fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future {
            let mut calls = self.0.lock().unwrap();
            let n = calls.entry(key.call_id().to_owned()).or_default();
            *n += 1;
            let mut limits = voxcal_call_rate_limiter::Limits::new();
            for limit in policy.limits() {
                let name = voxcal_call_rate_limiter::LimitName::new(limit.name()).unwrap();
                let used = (*n).min(limit.quota());
                limits.push(
                    voxcal_call_rate_limiter::LimitStatus::new(name, limit.quota(), None)
                        .with_used(used),
                );
            }
            let source = voxcal_call_rate_limiter::DecisionSource::Custom;
            std::future::ready(Ok(Decision::admitted(source).with_limits(limits)))
        }
    }
    let store = CountsEverything::default();
    let counting = Harness::new(clock, move || {
        let store = store.clone();
        async move { store }
    });
    let caught = tokio::spawn(async move { conformance::all_or_nothing(&counting).await }).await;
    let message = panic_message(caught.expect_err("a store that never refuses must fail"));
    assert!(
        message.contains("all_or_nothing: expected request 11 of one function to be refused"),
        "{message}"
    );
}

fn panic_message(e: tokio::task::JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// The layer over a store that fails every third decision: each failure is
/// a 503, and the failures count in no limit (exactly 10 of one function
/// still reach the handler).
#[tokio::test]
async fn the_layer_answers_503_for_store_faults_and_counts_them_nowhere() {
    use tower::ServiceExt;
    let clock = FakeClock::new();
    let store = Flaky::new(MapStore::new(clock), 3, Arc::default());
    let reached = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route(
            "/api/retell/{function}",
            axum::routing::post({
                let reached = Arc::clone(&reached);
                move || {
                    reached.fetch_add(1, Ordering::SeqCst);
                    async { "ok" }
                }
            }),
        )
        .layer(voxcal_call_rate_limiter::CallRateLimitLayer::new(
            store,
            Policy::default(),
        ));
    let mut statuses = Vec::new();
    for _ in 0..18 {
        let body = r#"{"call":{"call_id":"call_flaky"},"name":"book_appointment","args":{}}"#;
        let req = http::Request::post("/api/retell/book_appointment")
            .body(axum::body::Body::from(body))
            .unwrap();
        statuses.push(app.clone().oneshot(req).await.unwrap().status().as_u16());
    }
    // Every third is a fault; of the other twelve, ten are admitted, then
    // the quota refuses.
    let want: Vec<u16> = (1_u32..=18)
        .map(|i| match i {
            i if i.is_multiple_of(3) => 503,
            i if i - i / 3 <= 10 => 200,
            _ => 429,
        })
        .collect();
    assert_eq!(statuses, want);
    assert_eq!(reached.load(Ordering::SeqCst), 10);
}

#[cfg(feature = "redis")]
mod redis_stores {
    use std::time::Duration;

    use super::*;
    use testkit::{RedisCluster, TestRedis};
    use voxcal_call_rate_limiter::{RedisConnection, RedisStore};

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
                RedisStore::new(conn)
                    .with_prefix(prefix)
                    .with_timeout(Duration::from_secs(5))
                    .with_clock(clock)
            }
        });
        conformance::run(&harness).await;
        assert_eq!(harness.errors(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_on_a_three_master_cluster_passes() {
        let cluster = tokio::task::spawn_blocking(RedisCluster::start)
            .await
            .unwrap();
        let clock = FakeClock::new();
        let urls = cluster.urls();
        let harness = Harness::new(clock.clone(), move || {
            let (urls, clock) = (urls.clone(), clock.clone());
            async move {
                let conn = RedisConnection::connect_cluster(urls).await.unwrap();
                assert!(conn.is_cluster());
                RedisStore::new(conn)
                    .with_prefix("rl")
                    .with_timeout(Duration::from_secs(5))
                    .with_clock(clock)
            }
        });
        conformance::run(&harness).await;
        assert_eq!(harness.errors(), 0);
        drop(cluster);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flaky_redis_store_passes() {
        let redis = tokio::task::spawn_blocking(TestRedis::new).await.unwrap();
        let clock = FakeClock::new();
        let conn = RedisConnection::connect(redis.url()).await.unwrap();
        let store = RedisStore::new(conn)
            .with_prefix(redis.prefix())
            .with_timeout(Duration::from_secs(5))
            .with_clock(clock.clone());
        let calls = Arc::new(AtomicUsize::new(0));
        let harness = Harness::new(clock, move || {
            let store = Flaky::new(store.clone(), 5, Arc::clone(&calls));
            async move { store }
        });
        conformance::run(&harness).await;
        assert!(harness.errors() > 100, "{} errors seen", harness.errors());
    }
}
