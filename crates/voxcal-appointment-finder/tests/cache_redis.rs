//! The Redis backend of `SlotCache` against real servers (crates/testkit):
//! key layout and TTLs, tenant isolation, single-flight across replicas,
//! an outage where failures become misses, and a 3-master Cluster.
#![cfg(feature = "redis")]

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use chrono_tz::Europe::Berlin;
use common::*;
use redis::AsyncCommands;
use voxcal_appointment_finder::{
    AvailabilitySource, CacheConfig, CacheKey, FakeClock, InMemoryCalendar, RedisCacheStore,
    SlotCache,
};
use voxcal_core::redis::{ConnectOptions, RedisConnection};

async fn connect(url: &str) -> RedisConnection {
    let options = ConnectOptions::new()
        .with_connection_timeout(StdDuration::from_millis(300))
        .with_response_timeout(StdDuration::from_millis(300));
    RedisConnection::connect_with(url, &options).await.unwrap()
}

/// A cache over Redis under `prefix`, boxed (the type of a cache over any
/// store).
fn redis_cache<S: AvailabilitySource>(
    source: S,
    conn: RedisConnection,
    prefix: &str,
    config: CacheConfig,
) -> SlotCache<S> {
    SlotCache::new(source, RedisCacheStore::new(conn).with_prefix(prefix))
        .with_config(config)
        .boxed()
}

/// Runs 2 replicas x `per_replica` tasks against one cold key while the
/// source is held at its gate; returns the results.
async fn stampede<S: AvailabilitySource + 'static>(
    caches: [Arc<SlotCache<Probe<S>>>; 2],
    probe: &Probe<S>,
    t: &voxcal_appointment_finder::Tenant,
    per_replica: usize,
) -> Vec<voxcal_appointment_finder::DaySlots> {
    probe.close_gate();
    let day = date(2026, 10, 13);
    let mut tasks = Vec::new();
    for cache in &caches {
        for _ in 0..per_replica {
            let cache = Arc::clone(cache);
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .day_slots(t.id(), &consult(), day, Berlin)
                    .await
                    .unwrap()
            }));
        }
    }
    while probe.calls() == 0 {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    // Give every task time to reach its flight lock or the Redis lock.
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    probe.open_gate();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_ttls_hits_and_invalidation() {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let prefix = format!("{}:slots", redis.prefix());
    let (calendar, t, _clock) = practice();
    let probe = Probe::new(calendar.clone());
    let cache = redis_cache(
        probe.clone(),
        connect(redis.url()).await,
        &prefix,
        CacheConfig::default(),
    );
    let mut raw = connect(redis.url()).await;

    let day = date(2026, 10, 13);
    let slots = cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(slots.len(), 16);
    let key = format!("{prefix}:{{praxis}}:30:2026-10-13");
    assert_eq!(
        CacheKey::new(t.id(), &consult(), day).redis_key(&prefix),
        key
    );
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!((50_000..=60_000).contains(&ttl), "ttl {ttl}");
    // The lock is gone after the fetch.
    let lock: bool = raw.exists(format!("{key}:lock")).await.unwrap();
    assert!(!lock);

    // A hit: no source call, same slots.
    let again = cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 1);
    assert_eq!(*again, *slots);

    // Empty days get the short TTL.
    let saturday = date(2026, 10, 17);
    assert!(cache
        .day_slots(t.id(), &consult(), saturday, Berlin)
        .await
        .unwrap()
        .is_empty());
    let ttl: i64 = raw
        .pttl(format!("{prefix}:{{praxis}}:30:2026-10-17"))
        .await
        .unwrap();
    assert!((5_000..=15_000).contains(&ttl), "empty ttl {ttl}");
    assert!(cache
        .day_slots(t.id(), &consult(), saturday, Berlin)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(probe.calls(), 2);

    // Book, invalidate, see the change.
    calendar.book(t.id(), &consult(), slots[0].start).unwrap();
    cache.invalidate(t.id(), &consult(), day).await;
    let exists: bool = raw.exists(&key).await.unwrap();
    assert!(!exists);
    let after = cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(after.len(), 15);
    assert_eq!(probe.calls(), 3);

    // A corrupt entry is a miss, not an error.
    let _: () = raw.set(&key, "not slots").await.unwrap();
    assert_eq!(
        cache
            .day_slots(t.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        15
    );
    assert_eq!(probe.calls(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_during_a_fetch_is_not_undone() {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let prefix = format!("{}:slots", redis.prefix());
    let (calendar, t, _clock) = practice();
    let probe = Probe::new(calendar.clone());
    let replica = |conn| redis_cache(probe.clone(), conn, &prefix, CacheConfig::default());
    let one = Arc::new(replica(connect(redis.url()).await));
    let two = replica(connect(redis.url()).await);
    let day = date(2026, 10, 13);
    probe.close_gate();
    let inflight = {
        let one = Arc::clone(&one);
        let t = t.clone();
        tokio::spawn(async move {
            one.day_slots(t.id(), &consult(), day, Berlin)
                .await
                .unwrap()
        })
    };
    while probe.calls() == 0 {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    // Replica one is fetching; replica two books and invalidates.
    calendar
        .book(t.id(), &consult(), berlin(2026, 10, 13, 9, 0))
        .unwrap();
    two.invalidate(t.id(), &consult(), day).await;
    probe.open_gate();
    inflight.await.unwrap();
    let mut raw = connect(redis.url()).await;
    let key = CacheKey::new(t.id(), &consult(), day).redis_key(&prefix);
    let stored: bool = raw.exists(&key).await.unwrap();
    assert!(!stored, "the in-flight answer was not stored");
    assert_eq!(
        two.day_slots(t.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        15
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_with_the_same_event_type_stay_apart() {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let prefix = format!("{}:slots", redis.prefix());
    let clock = FakeClock::at(berlin(2026, 10, 12, 7, 0));
    let calendar = InMemoryCalendar::new(clock.clone());
    let a = tenant("a", practice_hours());
    let b = tenant("b", practice_hours());
    for t in [&a, &b] {
        calendar.add_tenant(t);
        calendar
            .add_event_type(
                t.id(),
                consult(),
                voxcal_appointment_finder::EventType::new(Duration::minutes(30)),
            )
            .unwrap();
    }
    block(&calendar, &b, date(2026, 10, 13), (9, 0), (17, 0));
    // Two replicas: A is cached by one, read by the other.
    let one = redis_cache(
        calendar.clone(),
        connect(redis.url()).await,
        &prefix,
        CacheConfig::default(),
    );
    let two = redis_cache(
        calendar,
        connect(redis.url()).await,
        &prefix,
        CacheConfig::default(),
    );
    let day = date(2026, 10, 13);
    assert_eq!(
        one.day_slots(a.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        16
    );
    assert_eq!(
        two.day_slots(b.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        two.day_slots(a.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        16
    );
    assert_eq!(
        one.day_slots(b.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_source_call_across_replicas() {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let prefix = format!("{}:slots", redis.prefix());
    let (calendar, t, _clock) = practice();
    let probe = Probe::new(calendar);
    let caches = [
        Arc::new(redis_cache(
            probe.clone(),
            connect(redis.url()).await,
            &prefix,
            CacheConfig::default(),
        )),
        Arc::new(redis_cache(
            probe.clone(),
            connect(redis.url()).await,
            &prefix,
            CacheConfig::default(),
        )),
    ];
    let results = stampede(caches, &probe, &t, 16).await;
    assert_eq!(
        probe.calls(),
        1,
        "one call for 32 concurrent misses on 2 replicas"
    );
    assert_eq!(results.len(), 32);
    assert!(results.iter().all(|r| r.len() == 16 && **r == *results[0]));
}

/// While another replica holds the fetch lock, a replica whose source
/// refuses in advance (an open breaker) answers at once instead of waiting
/// up to `lock_wait` for a result that will not come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_source_does_not_wait_for_another_replicas_lock() {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let prefix = format!("{}:slots", redis.prefix());
    let (calendar, t, _clock) = practice();
    let holder = Probe::new(calendar.clone());
    let refusing = Probe::new(calendar);
    let config = CacheConfig {
        lock_wait: Duration::seconds(5),
        ..CacheConfig::default()
    };
    let a = Arc::new(redis_cache(
        holder.clone(),
        connect(redis.url()).await,
        &prefix,
        config.clone(),
    ));
    let b = redis_cache(
        refusing.clone(),
        connect(redis.url()).await,
        &prefix,
        config,
    );
    let day = date(2026, 10, 13);
    holder.close_gate();
    let fetch = {
        let (a, t) = (Arc::clone(&a), t.clone());
        tokio::spawn(async move { a.day_slots(t.id(), &consult(), day, Berlin).await })
    };
    while holder.calls() == 0 {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    // Replica A holds the Redis lock of the day; B's breaker is open.
    refusing.refuse(true);
    let started = std::time::Instant::now();
    let err = b
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.detail(), "breaker open");
    assert!(
        waited < StdDuration::from_secs(1),
        "answered after {waited:?}, not after the 5 s lock wait"
    );
    assert_eq!(refusing.calls(), 0);
    holder.open_gate();
    assert_eq!(fetch.await.unwrap().unwrap().len(), 16);
    // Refusing or not, a cached day is served.
    assert_eq!(
        b.day_slots(t.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        16
    );
}

/// An outage: every lookup is a miss answered by the source; after the
/// first failure Redis is skipped for `store_retry_after` on the cache's
/// clock (a FakeClock here, so the test crosses the window by advancing it),
/// and the cache works again once Redis answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_turns_into_misses_and_recovers() {
    let mut server = tokio::task::spawn_blocking(testkit::RedisServer::start)
        .await
        .unwrap();
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    let config = CacheConfig::default();
    let window = config.store_retry_after.to_std().unwrap();
    let cache = redis_cache(probe.clone(), connect(&server.url()).await, "slots", config)
        .with_clock(clock.clone());
    let day = date(2026, 10, 13);
    let lookup = || async {
        cache
            .day_slots(t.id(), &consult(), day, Berlin)
            .await
            .unwrap()
    };
    lookup().await;
    lookup().await;
    assert_eq!(probe.calls(), 1);

    server.kill();
    for round in 2..=4 {
        let slots = lookup().await;
        assert_eq!(
            slots.len(),
            16,
            "answered from the source while Redis is down"
        );
        assert_eq!(probe.calls(), round, "every lookup is a miss");
    }
    let stats = cache.stats();
    assert_eq!(
        (stats.hits, stats.misses),
        (1, 4),
        "the outage shows as misses"
    );

    server.restart();
    // The window has not passed on the cache's clock: Redis is not asked,
    // however long it has been back.
    for round in 5..=6 {
        lookup().await;
        assert_eq!(probe.calls(), round, "skipped within the retry window");
    }
    // Past the window it is asked again; the connection may need a few
    // tries to reconnect, each failure closing the gate for one more window.
    let mut cached_again = false;
    for _ in 0..300 {
        clock.advance(window);
        let before = probe.calls();
        lookup().await;
        lookup().await;
        if probe.calls() == before + 1 {
            cached_again = true;
            break;
        }
        // Real time for the reconnect (the window is crossed by the clock).
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(cached_again, "the cache works again after the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_caches_and_coalesces() {
    let cluster = tokio::task::spawn_blocking(testkit::RedisCluster::start)
        .await
        .unwrap();
    let connect = || async {
        RedisConnection::connect_cluster(cluster.urls())
            .await
            .unwrap()
    };
    let (calendar, t, _clock) = practice();
    let probe = Probe::new(calendar.clone());
    let caches = [
        Arc::new(redis_cache(
            probe.clone(),
            connect().await,
            "slots",
            CacheConfig::default(),
        )),
        Arc::new(redis_cache(
            probe.clone(),
            connect().await,
            "slots",
            CacheConfig::default(),
        )),
    ];
    let results = stampede(
        [Arc::clone(&caches[0]), Arc::clone(&caches[1])],
        &probe,
        &t,
        8,
    )
    .await;
    assert_eq!(probe.calls(), 1);
    assert!(results.iter().all(|r| r.len() == 16));

    // The entry lives on the master that owns the tenant's tag, with its TTL.
    let key = CacheKey::new(t.id(), &consult(), date(2026, 10, 13)).redis_key("slots");
    let mut raw = connect().await;
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!((50_000..=60_000).contains(&ttl), "ttl {ttl}");
    let tag_owner = cluster.master_for_key("{praxis}").unwrap();
    assert_eq!(cluster.master_for_key(&key).unwrap(), tag_owner);
    assert_eq!(
        cluster.master_for_key(&format!("{key}:lock")).unwrap(),
        tag_owner
    );

    // Invalidation on one replica is seen by the other.
    let slots = caches[1]
        .day_slots(t.id(), &consult(), date(2026, 10, 13), Berlin)
        .await
        .unwrap();
    calendar.book(t.id(), &consult(), slots[0].start).unwrap();
    caches[0]
        .invalidate(t.id(), &consult(), date(2026, 10, 13))
        .await;
    let after = caches[1]
        .day_slots(t.id(), &consult(), date(2026, 10, 13), Berlin)
        .await
        .unwrap();
    assert_eq!(after.len(), 15);
    assert_eq!(probe.calls(), 2);
}

/// The conformance suite on a private server, every instance on its own
/// connection (replicas).
#[cfg(feature = "conformance")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_on_a_private_server_passes_the_conformance_suite() {
    let server = tokio::task::spawn_blocking(testkit::RedisServer::start)
        .await
        .unwrap();
    let url = server.url();
    let clock = FakeClock::new();
    voxcal_appointment_finder::conformance::run(
        || async { RedisCacheStore::new(connect(&url).await).with_prefix("conformance") },
        &clock,
    )
    .await;
}

/// The conformance suite on the 3-master Cluster.
#[cfg(feature = "conformance")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_on_a_cluster_passes_the_conformance_suite() {
    let cluster = tokio::task::spawn_blocking(testkit::RedisCluster::start)
        .await
        .unwrap();
    let clock = FakeClock::new();
    voxcal_appointment_finder::conformance::run(
        || async {
            let conn = RedisConnection::connect_cluster(cluster.urls())
                .await
                .unwrap();
            RedisCacheStore::new(conn).with_prefix("conformance")
        },
        &clock,
    )
    .await;
}
