//! `RedisStore` against real `redis-server`s from `testkit`: exactness under
//! concurrency (one store, four independent stores, a 3-master Cluster),
//! equivalence with the in-memory decision, keys and TTLs, NOSCRIPT reload,
//! and outages by killing and restarting the server.
#![cfg(feature = "redis")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use testkit::{RedisCluster, RedisServer, TestRedis};
use voxcal_call_rate_limiter::{
    CallKey, Decision, DecisionSource, FakeClock, Limit, MemoryStore, OutagePolicy, Policy,
    RedisStore, Store, UserMessage,
};
use voxcal_core::redis::{ConnectOptions, RedisConnection};
use voxcal_core::Clock;

async fn test_redis() -> TestRedis {
    tokio::task::spawn_blocking(TestRedis::new).await.unwrap()
}

async fn standalone(url: &str, prefix: &str) -> RedisStore {
    let conn = RedisConnection::connect(url).await.unwrap();
    // Generous timeout: these tests count exactly, so nothing may fall back.
    RedisStore::new(conn)
        .with_prefix(prefix)
        .with_timeout(Duration::from_secs(5))
}

/// Connect and answer timeouts of 200 ms: a dead server is given up on
/// quickly.
fn short_timeouts() -> ConnectOptions {
    ConnectOptions::new()
        .with_connection_timeout(Duration::from_millis(200))
        .with_response_timeout(Duration::from_millis(200))
}

/// A connection that gives up on a dead server within 200 ms.
async fn short_timeout_connection(url: &str) -> RedisConnection {
    RedisConnection::connect_with(url, &short_timeouts())
        .await
        .unwrap()
}

/// Fires `n` decisions at once, spread round-robin over `stores`; function
/// `i % functions`. Returns how many were admitted.
async fn storm(stores: &[RedisStore], call_id: &str, n: usize, functions: usize) -> usize {
    let policy = Arc::new(Policy::default());
    let mut tasks = Vec::new();
    for i in 0..n {
        let store = stores[i % stores.len()].clone();
        let policy = Arc::clone(&policy);
        let key = CallKey::new(call_id).with_function(format!("fn_{}", i % functions));
        tasks.push(tokio::spawn(async move {
            store.decide(&policy, &key).await.unwrap()
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        let decision: Decision = task.await.unwrap();
        assert_eq!(
            decision.source,
            DecisionSource::Redis,
            "nothing may fall back"
        );
        admitted += usize::from(decision.admitted);
    }
    admitted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_store_200_concurrent_exact() {
    let redis = test_redis().await;
    let store = standalone(redis.url(), redis.prefix()).await;
    assert_eq!(
        storm(std::slice::from_ref(&store), "call_one_fn", 200, 1).await,
        10
    );
    assert_eq!(storm(&[store], "call_twenty_fns", 200, 20).await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_independent_stores_200_concurrent_exact() {
    let redis = test_redis().await;
    let mut stores = Vec::new();
    for _ in 0..4 {
        // Separate clients, separate connections: four replicas of a service.
        stores.push(standalone(redis.url(), redis.prefix()).await);
    }
    assert_eq!(storm(&stores, "call_one_fn", 200, 1).await, 10);
    assert_eq!(storm(&stores, "call_twenty_fns", 200, 20).await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_200_concurrent_exact_on_every_master() {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .unwrap();
    let mut stores = Vec::new();
    for _ in 0..4 {
        let conn = RedisConnection::connect_cluster(cluster.urls())
            .await
            .unwrap();
        assert!(conn.is_cluster());
        stores.push(
            RedisStore::new(conn)
                .with_prefix("rl")
                .with_timeout(Duration::from_secs(5)),
        );
    }
    let mut masters = std::collections::HashSet::new();
    for c in 0..6 {
        let one = format!("call_one_{c}");
        let twenty = format!("call_twenty_{c}");
        masters.insert(cluster.master_for_key(&format!("rl:{{{one}}}:s")).unwrap());
        masters.insert(
            cluster
                .master_for_key(&format!("rl:{{{twenty}}}:s"))
                .unwrap(),
        );
        assert_eq!(storm(&stores, &one, 200, 1).await, 10, "{one}");
        assert_eq!(storm(&stores, &twenty, 200, 20).await, 20, "{twenty}");
    }
    assert!(
        masters.len() >= 2,
        "calls should spread over masters: {masters:?}"
    );
}

/// A 6-byte big-endian stamp of a window log, as the script writes it.
fn stamps(log: &[u8]) -> Vec<u64> {
    assert_eq!(log.len() % 6, 0, "a log of whole stamps: {log:?}");
    log.chunks_exact(6)
        .map(|c| c.iter().fold(0_u64, |acc, &b| acc << 8 | u64::from(b)))
        .collect()
}

#[tokio::test]
async fn one_hash_tagged_key_per_call_with_a_ttl() {
    let redis = test_redis().await;
    let clock = FakeClock::new();
    let store = standalone(redis.url(), redis.prefix())
        .await
        .with_clock(clock.clone());
    let policy = Arc::new(Policy::default());
    let key = CallKey::new("call_ttl").with_function("book");
    let first = clock.now_utc().timestamp_millis() as u64;
    assert!(store.decide(&policy, &key).await.unwrap().admitted);
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = conn.keys(format!("{}:*", redis.prefix())).await.unwrap();
    keys.sort();
    let stem = format!("{}:{{call_ttl}}", redis.prefix());
    // One hash per call, with one field per limit bucket.
    assert_eq!(keys, vec![format!("{stem}:s")]);
    let hash = format!("{stem}:s");
    let fields: std::collections::HashMap<String, Vec<u8>> = conn.hgetall(&hash).await.unwrap();
    let text = |f: &str| String::from_utf8(fields[f].clone()).unwrap();
    assert_eq!(text("l:total"), "1");
    assert_eq!(text("l:per_function:book"), "1");
    assert_eq!(stamps(&fields["l:per_minute"]), vec![first]);
    // The state expires after the idle TTL (30 min); the key's own TTL is
    // half an idle TTL longer, so later decisions need not extend it.
    assert_eq!(text("exp"), (first + 1_800_000).to_string());
    assert_eq!(text("gc"), (first + 2_700_000).to_string());
    let ttl: i64 = conn.pttl(&hash).await.unwrap();
    assert!((2_600_000..=2_700_000).contains(&ttl), "{hash}: {ttl}");

    // Nine more, one second apart: the state's expiry moves, the key's TTL
    // is left alone, and ten stamps keep the hash a listpack.
    for step in 1..10_u64 {
        clock.advance(Duration::from_secs(1));
        assert!(
            store.decide(&policy, &key).await.unwrap().admitted,
            "step {step}"
        );
    }
    let fields: std::collections::HashMap<String, Vec<u8>> = conn.hgetall(&hash).await.unwrap();
    let text = |f: &str| String::from_utf8(fields[f].clone()).unwrap();
    let last = first + 9_000;
    assert_eq!(
        stamps(&fields["l:per_minute"]),
        (0..10).map(|s| first + s * 1_000).collect::<Vec<_>>()
    );
    assert_eq!(text("exp"), (last + 1_800_000).to_string());
    assert_eq!(text("gc"), (first + 2_700_000).to_string());
    assert_eq!(text("l:total"), "10");
    let encoding: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(&hash)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(encoding, "listpack");

    // Once the state would outlive the key, the next write extends the key
    // (another function: `book` has used its ten).
    clock.advance(Duration::from_millis(900_001));
    let other = CallKey::new("call_ttl").with_function("check");
    assert!(store.decide(&policy, &other).await.unwrap().admitted);
    let gc: String = conn.hget(&hash, "gc").await.unwrap();
    assert_eq!(gc, (last + 900_001 + 2_700_000).to_string());
}

#[tokio::test]
async fn script_is_reloaded_after_noscript() {
    let redis = test_redis().await;
    let store = standalone(redis.url(), redis.prefix()).await;
    let policy = Arc::new(Policy::default());
    let key = CallKey::new("call_flush").with_function("f");
    assert_eq!(
        store.decide(&policy, &key).await.unwrap().source,
        DecisionSource::Redis
    );
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .unwrap();
    let again = store.decide(&policy, &key).await.unwrap();
    assert_eq!(again.source, DecisionSource::Redis);
    assert_eq!(again.limits[0].used, 2);
}

/// A policy from drawn numbers: per limit (kind, quota, window in ms), with
/// kind 0 a lifetime limit per call, 1 a window per call, 2 a lifetime
/// limit per function, 3 a window per value of the key part `room`.
fn drawn_policy(limits: &[(u8, u32, u64)], cooldown_ms: u64, ttl_ms: u64) -> Policy {
    use voxcal_call_rate_limiter::Scope;
    let mut builder = Policy::builder()
        .cooldown((cooldown_ms > 0).then(|| Duration::from_millis(cooldown_ms)))
        .idle_ttl(Duration::from_millis(ttl_ms));
    for (i, &(kind, quota, window)) in limits.iter().enumerate() {
        let name = format!("l{i}");
        let window = Duration::from_millis(window);
        builder = builder.limit(match kind {
            0 => Limit::lifetime(name, quota),
            1 => Limit::per_window(name, quota, window),
            2 => Limit::lifetime(name, quota).scoped(Scope::CallAndFunction),
            _ => Limit::per_window(name, quota, window).scoped(Scope::Part("room".into())),
        });
    }
    builder.build().unwrap()
}

/// The Lua script and the in-memory decision agree on every step of a
/// random schedule under a random policy (client time from a shared fake
/// clock): each policy gets its own generated script, and requests without
/// a function or the `room` part leave those limits out.
#[test]
fn lua_matches_memory_on_random_schedules() {
    use proptest::prelude::*;
    let redis = TestRedis::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conn = rt.block_on(RedisConnection::connect(redis.url())).unwrap();
    let case = AtomicUsize::new(0);
    let config = ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    // Windows, TTLs, cooldowns and steps on a 250 ms grid, so a request
    // often lands exactly where a window, cooldown or state ends.
    let limits =
        proptest::collection::vec((0u8..4, 1u32..6, (2u64..60).prop_map(|q| q * 250)), 1..5);
    let steps =
        proptest::collection::vec(((0u64..25).prop_map(|q| q * 250), 0u8..5, 0u8..3), 1..60);
    proptest!(config, |(
        limits in limits,
        cooldown_ms in prop_oneof![Just(0u64), (1u64..32).prop_map(|q| q * 250)],
        ttl_ms in (4u64..160).prop_map(|q| q * 250),
        steps in steps,
    )| {
        let policy = Arc::new(drawn_policy(&limits, cooldown_ms, ttl_ms));
        let clock = FakeClock::new();
        let store = RedisStore::new(conn.clone())
            .with_prefix(redis.prefix())
            .with_timeout(Duration::from_secs(5))
            .with_clock(clock.clone());
        let memory = MemoryStore::new().with_clock(clock.clone());
        let call = format!("call_case_{}", case.fetch_add(1, Ordering::SeqCst));
        for (delta, f, room) in steps {
            clock.advance(Duration::from_millis(delta));
            let mut key = CallKey::new(call.as_str());
            if f < 4 {
                key = key.with_function(format!("f{f}"));
            }
            if room < 2 {
                key = key.with_part("room", format!("r{room}"));
            }
            let from_redis = rt.block_on(store.decide(&policy, &key)).unwrap();
            let mut from_memory = memory.decide_now(&policy, &key);
            prop_assert_eq!(from_redis.source, DecisionSource::Redis);
            from_memory.source = DecisionSource::Redis;
            prop_assert_eq!(from_redis, from_memory);
        }
    });
}

/// The largest policy (16 limits, every kind) makes a script Redis runs
/// (Lua caps a function's locals and registers) and decides as memory does.
#[tokio::test]
async fn the_largest_policy_runs_on_redis() {
    let redis = test_redis().await;
    let clock = FakeClock::new();
    let store = standalone(redis.url(), redis.prefix())
        .await
        .with_clock(clock.clone());
    let memory = MemoryStore::new().with_clock(clock.clone());
    let limits: Vec<(u8, u32, u64)> = (0..16_u32)
        .map(|i| ((i % 4) as u8, 3 + i % 5, 1_000 + 500 * u64::from(i)))
        .collect();
    let policy = Arc::new(drawn_policy(&limits, 2_000, 30_000));
    assert_eq!(policy.limits().len(), 16);
    for step in 0..40_u64 {
        clock.advance(Duration::from_millis(250 * (step % 5)));
        let key = CallKey::new("call_sixteen")
            .with_function(format!("f{}", step % 3))
            .with_part("room", format!("r{}", step % 2));
        let from_redis = store.decide(&policy, &key).await.unwrap();
        let mut from_memory = memory.decide_now(&policy, &key);
        assert_eq!(from_redis.source, DecisionSource::Redis, "step {step}");
        from_memory.source = DecisionSource::Redis;
        assert_eq!(from_redis, from_memory, "step {step}");
    }
}

#[tokio::test]
async fn sliding_window_on_redis_with_a_fake_clock() {
    let redis = test_redis().await;
    let clock = FakeClock::new();
    let store = standalone(redis.url(), redis.prefix())
        .await
        .with_clock(clock.clone());
    let policy = Arc::new(
        Policy::builder()
            .limit(Limit::per_window("per_minute", 20, Duration::from_secs(60)))
            .build()
            .unwrap(),
    );
    let key = CallKey::new("call_window");
    let mut admitted = 0;
    clock.advance(Duration::from_secs(59));
    for _ in 0..30 {
        admitted += usize::from(store.decide(&policy, &key).await.unwrap().admitted);
    }
    clock.advance(Duration::from_secs(2));
    for _ in 0..30 {
        admitted += usize::from(store.decide(&policy, &key).await.unwrap().admitted);
    }
    // A fixed window would have admitted 40 across the minute mark.
    assert_eq!(admitted, 20);
    clock.advance(Duration::from_millis(57_999));
    let refused = store.decide(&policy, &key).await.unwrap();
    assert!(!refused.admitted);
    assert_eq!(refused.retry_after, Some(Duration::from_millis(1)));
    clock.advance(Duration::from_millis(1));
    assert!(store.decide(&policy, &key).await.unwrap().admitted);
}

/// Counts WARN events from the family's crates (the outage gate of
/// `voxcal_core` logs the outage warning for the store).
struct CountWarnings(Arc<AtomicUsize>);

impl tracing::Subscriber for CountWarnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let meta = event.metadata();
        if *meta.level() == tracing::Level::WARN && meta.target().starts_with("voxcal_") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Kills the server mid-test, checks every decision returns within the
/// timeout under `outage`, one warning per outage, and recovery after a
/// restart (with the script loaded again into the empty server).
async fn outage_round_trip(
    outage: OutagePolicy,
    check: impl Fn(usize, &Result<Decision, voxcal_call_rate_limiter::StoreError>),
) {
    let warnings = Arc::new(AtomicUsize::new(0));
    let _guard = tracing::subscriber::set_default(CountWarnings(Arc::clone(&warnings)));
    let mut server = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let conn = short_timeout_connection(&server.url()).await;
    let timeout = Duration::from_millis(50);
    let store = RedisStore::new(conn)
        .with_timeout(timeout)
        .with_outage_policy(outage)
        .with_fallback(MemoryStore::new().with_clock(FakeClock::new()));
    let policy = Arc::new(Policy::default());

    for round in 0..2 {
        let call = format!("call_outage_{round}");
        let key = CallKey::new(call.as_str()).with_function("book");
        let up = store.decide(&policy, &key).await.unwrap();
        assert_eq!(up.source, DecisionSource::Redis);
        assert_eq!(
            warnings.load(Ordering::SeqCst),
            round,
            "no warning while up"
        );

        server = tokio::task::spawn_blocking(move || {
            server.kill();
            server
        })
        .await
        .unwrap();
        for i in 0..15 {
            let started = Instant::now();
            let result = store.decide(&policy, &key).await;
            let took = started.elapsed();
            assert!(
                took < timeout + Duration::from_millis(150),
                "decision {i} took {took:?}"
            );
            check(i, &result);
        }
        assert_eq!(
            warnings.load(Ordering::SeqCst),
            round + 1,
            "one warning per outage"
        );

        server = tokio::task::spawn_blocking(move || {
            server.restart();
            server
        })
        .await
        .unwrap();
        let mut recovered = false;
        for _ in 0..200 {
            if let Ok(d) = store.decide(&policy, &key).await {
                if d.source == DecisionSource::Redis {
                    // The restarted server is empty: counting starts over.
                    assert_eq!(d.limits[0].used, 1);
                    recovered = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(recovered, "Redis decisions resume after the restart");
        assert_eq!(warnings.load(Ordering::SeqCst), round + 1);
    }
}

#[tokio::test]
async fn outage_fallback_to_memory_counts_locally() {
    outage_round_trip(OutagePolicy::FallbackToMemory, |i, result| {
        let d = result.as_ref().expect("fallback always decides");
        assert_eq!(d.source, DecisionSource::Fallback);
        // The fallback is exact too: 10 per function, then refusals.
        assert_eq!(d.admitted, i < 10, "fallback decision {i}");
    })
    .await;
}

#[tokio::test]
async fn outage_fail_open_admits_everything() {
    outage_round_trip(OutagePolicy::FailOpen, |_, result| {
        let d = result.as_ref().expect("fail-open always decides");
        assert!(d.admitted);
        assert_eq!(d.source, DecisionSource::FailOpen);
    })
    .await;
}

#[tokio::test]
async fn outage_fail_closed_returns_errors() {
    outage_round_trip(OutagePolicy::FailClosed, |_, result| {
        let error = result.as_ref().expect_err("fail-closed refuses");
        assert!(error
            .user_message(voxcal_call_rate_limiter::Lang::De)
            .contains("nicht erreichbar"));
    })
    .await;
}

#[tokio::test]
async fn fail_closed_layer_answers_503() {
    use tower::ServiceExt;
    let mut server = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let conn = RedisConnection::connect(&server.url()).await.unwrap();
    let store = RedisStore::new(conn).with_outage_policy(OutagePolicy::FailClosed);
    server = tokio::task::spawn_blocking(move || {
        server.kill();
        server
    })
    .await
    .unwrap();
    let svc = tower::ServiceBuilder::new()
        .layer(voxcal_call_rate_limiter::CallRateLimitLayer::new(
            store,
            Policy::default(),
        ))
        .service(tower::service_fn(
            |_req: http::Request<axum::body::Body>| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
            },
        ));
    let req = http::Request::post("/f")
        .body(axum::body::Body::from(
            r#"{"call":{"call_id":"call_503"},"name":"f"}"#,
        ))
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    drop(server);
}

/// 200 concurrent HTTP requests through the layer, spread over 4 services
/// with their own Redis connections: exactly 10 reach the handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layer_over_redis_admits_exactly_under_concurrency() {
    use tower::ServiceExt;
    let redis = test_redis().await;
    let reached = Arc::new(AtomicUsize::new(0));
    let mut apps = Vec::new();
    for _ in 0..4 {
        let store = standalone(redis.url(), redis.prefix()).await;
        let reached = Arc::clone(&reached);
        let app = axum::Router::new()
            .route(
                "/api/retell/{function}",
                axum::routing::post(move || {
                    let reached = Arc::clone(&reached);
                    async move {
                        reached.fetch_add(1, Ordering::SeqCst);
                        "ok"
                    }
                }),
            )
            .layer(voxcal_call_rate_limiter::CallRateLimitLayer::new(
                store,
                Policy::default(),
            ));
        apps.push(app);
    }
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = apps[i % 4].clone();
        tasks.push(tokio::spawn(async move {
            let body =
                r#"{"call":{"call_id":"call_layer_storm"},"name":"book_appointment_v1","args":{}}"#;
            let req = http::Request::post("/api/retell/book_appointment")
                .body(axum::body::Body::from(body))
                .unwrap();
            app.oneshot(req).await.unwrap().status().as_u16()
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for task in tasks {
        match task.await.unwrap() {
            200 => ok += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, limited), (10, 190));
    assert_eq!(reached.load(Ordering::SeqCst), 10);
}

/// After a failure, decisions skip Redis for `retry_after` on the store's
/// clock: an outage costs one wait, not one per request; once the window
/// has passed (the fake clock moves, no real sleep), Redis decides again.
#[tokio::test]
async fn an_outage_costs_one_wait_per_retry_window() {
    let warnings = Arc::new(AtomicUsize::new(0));
    let _guard = tracing::subscriber::set_default(CountWarnings(Arc::clone(&warnings)));
    let mut server = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let conn = short_timeout_connection(&server.url()).await;
    let clock = FakeClock::new();
    let timeout = Duration::from_millis(300);
    let store = RedisStore::new(conn)
        .with_clock(clock.clone())
        .with_timeout(timeout)
        .with_retry_after(Duration::from_secs(5));
    let policy = Arc::new(Policy::default());
    let key = |i: usize| CallKey::new(format!("call_window_{i}")).with_function("book");
    assert_eq!(
        store.decide(&policy, &key(0)).await.unwrap().source,
        DecisionSource::Redis
    );

    server = tokio::task::spawn_blocking(move || {
        server.kill();
        server
    })
    .await
    .unwrap();
    let first = store.decide(&policy, &key(1)).await.unwrap();
    assert_eq!(first.source, DecisionSource::Fallback);
    // The next fifty skip Redis: together far less than one timeout.
    let started = Instant::now();
    for i in 0..50 {
        let d = store.decide(&policy, &key(i + 2)).await.unwrap();
        assert_eq!(d.source, DecisionSource::Fallback, "decision {i}");
    }
    let took = started.elapsed();
    assert!(took < timeout, "50 decisions in the window took {took:?}");

    let _server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    // Redis is back, but the window has not passed on the store's clock.
    let skipped = store.decide(&policy, &key(100)).await.unwrap();
    assert_eq!(skipped.source, DecisionSource::Fallback);
    let mut back = false;
    for _ in 0..100 {
        clock.advance(Duration::from_secs(5));
        if store.decide(&policy, &key(101)).await.unwrap().source == DecisionSource::Redis {
            back = true;
            break;
        }
        // The connection manager may still be reconnecting.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(back, "Redis decides again once the window has passed");
    assert_eq!(warnings.load(Ordering::SeqCst), 1, "one warning per outage");
}

/// On a Cluster with one master down, only the calls of its slots skip
/// Redis; calls on the other masters keep counting there, and the outage
/// is one warning however the answers interleave.
#[tokio::test]
async fn cluster_node_down_skips_only_its_slots_and_warns_once() {
    let warnings = Arc::new(AtomicUsize::new(0));
    let _guard = tracing::subscriber::set_default(CountWarnings(Arc::clone(&warnings)));
    let mut cluster = tokio::task::spawn_blocking(|| {
        RedisCluster::try_start(testkit::ClusterConfig {
            require_full_coverage: false,
            ..testkit::ClusterConfig::default()
        })
        .unwrap()
    })
    .await
    .unwrap();
    let conn = RedisConnection::connect_cluster_with(cluster.urls(), &short_timeouts())
        .await
        .unwrap();
    let store = RedisStore::new(conn)
        .with_prefix("rl")
        .with_timeout(Duration::from_millis(300))
        .with_retry_after(Duration::from_secs(60));
    let policy = Arc::new(Policy::default());
    let call_on = |master: usize| {
        (0..)
            .map(|i| format!("call_node_{i}"))
            .find(|c| cluster.master_for_key(&format!("rl:{{{c}}}:s")).unwrap() == master)
            .unwrap()
    };
    let (down, up) = (call_on(0), [call_on(1), call_on(2)]);
    let key = |c: &str| CallKey::new(c).with_function("book");
    for c in std::iter::once(&down).chain(&up) {
        assert_eq!(
            store.decide(&policy, &key(c)).await.unwrap().source,
            DecisionSource::Redis
        );
    }
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.node_mut(0).unwrap().kill();
        cluster
    })
    .await
    .unwrap();
    let mut redis_answers = [0_usize; 2];
    for round in 0..12 {
        let d = store.decide(&policy, &key(&down)).await.unwrap();
        assert_eq!(d.source, DecisionSource::Fallback, "round {round}");
        for (i, c) in up.iter().enumerate() {
            let d = store.decide(&policy, &key(c)).await.unwrap();
            redis_answers[i] += usize::from(d.source == DecisionSource::Redis);
        }
    }
    // The live masters keep deciding (a moment of re-routing aside).
    assert!(
        redis_answers.iter().all(|&n| n >= 8),
        "answers from the live masters: {redis_answers:?}"
    );
    assert_eq!(warnings.load(Ordering::SeqCst), 1, "one warning per outage");
    drop(cluster);
}
