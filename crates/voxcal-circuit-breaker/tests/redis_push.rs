//! Transitions pushed over Redis pub/sub, against real servers: with a
//! 30 s `sync_interval` polling cannot explain a replica learning of
//! another's trip within a second, so each test fails if the push does not
//! arrive. Also: the subscriber moving to another Cluster node when its
//! node dies, reconnecting after a standalone restart, and polling alone
//! when the server refuses pub/sub.
#![cfg(feature = "redis")]

use std::time::{Duration, Instant};

use testkit::{ClusterConfig, RedisCluster, RedisServer, TestRedis};
use voxcal_circuit_breaker::{BreakerConfig, CircuitBreaker, RedisStore, State};

mod common;
use common::{cluster_store, explain, fleet_on, store, wait_or_explain};

/// Polling (every 30 s, every 3 s while failures are counted) cannot
/// explain a change seen within `PUSHED`.
const SYNC: Duration = Duration::from_secs(30);
/// Generous for a loaded 2-core machine; a push takes a few milliseconds.
const PUSHED: Duration = Duration::from_secs(1);

fn push_config() -> BreakerConfig {
    BreakerConfig::builder()
        .open_duration(Duration::from_secs(60))
        .sync_interval(SYNC)
        .build()
        .unwrap()
}

async fn wait_subscribed(stores: &[RedisStore], at_least: u64) {
    let start = Instant::now();
    while !stores
        .iter()
        .all(|s| s.is_subscribed() && s.subscriptions() >= at_least)
    {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "stores not subscribed ({at_least} times): {stores:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Five failures on `fleet[tripper]` open it; returns how long the others
/// took to see it open.
async fn trip_and_measure(fleet: &[CircuitBreaker], tripper: usize, limit: Duration) -> Duration {
    for _ in 0..5 {
        let r = fleet[tripper].call(async { Err::<(), _>("502") }).await;
        assert!(r.is_err());
    }
    assert_eq!(fleet[tripper].state(), State::Open, "the tripper is open");
    let took = wait_or_explain(
        "the others open",
        limit,
        || fleet.iter().all(|b| b.state() == State::Open),
        || explain(fleet),
    )
    .await;
    // Open is open: the others reject without reaching the upstream.
    for (i, b) in fleet.iter().enumerate() {
        let r = b.call(async { Ok::<_, ()>(()) }).await;
        assert!(r.unwrap_err().is_open(), "replica {i} rejects");
    }
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trip_is_pushed_to_every_replica_on_standalone_redis() {
    let redis = tokio::task::spawn_blocking(TestRedis::new).await.unwrap();
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(store(redis.url(), redis.prefix()).await);
    }
    // Each store subscribes when it makes its first breaker, not before.
    assert!(stores
        .iter()
        .all(|s| !s.is_subscribed() && s.subscriptions() == 0));
    let fleet = fleet_on(&stores, &push_config()).await;
    wait_subscribed(&stores, 1).await;
    let took = trip_and_measure(&fleet, 0, PUSHED).await;
    eprintln!("standalone: the other replicas saw the trip after {took:?}");

    // An operator's reset is a transition too: pushed as well.
    fleet[1].reset();
    let took = wait_or_explain(
        "all closed",
        PUSHED,
        || fleet.iter().all(|b| b.state() == State::Closed),
        || explain(&fleet),
    )
    .await;
    eprintln!("standalone: the reset reached every replica after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trip_is_pushed_on_a_cluster_also_after_the_subscribers_node_dies() {
    let mut cluster = tokio::task::spawn_blocking(|| {
        RedisCluster::try_start(ClusterConfig {
            // The Cluster keeps serving the slots of the masters still up.
            require_full_coverage: false,
            ..ClusterConfig::default()
        })
        .unwrap()
    })
    .await
    .unwrap();
    let prefix = testkit::unique_prefix();
    let holder = cluster
        .master_for_key(&format!("{prefix}:{{calcom}}:state"))
        .unwrap();
    // The subscriber takes the nodes in the order given: the first one is
    // a master that does not hold the breaker's state, killed below.
    let victim = (holder + 1) % 3;
    let urls = cluster.urls();
    let mut ordered = vec![urls[victim].clone()];
    ordered.extend(
        urls.iter()
            .enumerate()
            .filter(|(i, _)| *i != victim)
            .map(|(_, u)| u.clone()),
    );
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(cluster_store(&ordered, &prefix).await);
    }
    // Each store subscribes when it makes its first breaker.
    let fleet = fleet_on(&stores, &push_config()).await;
    wait_subscribed(&stores, 1).await;
    let channel = format!("{prefix}:events");
    let numsub = |node: &RedisServer| match node.command(&["PUBSUB", "NUMSUB", &channel]) {
        Ok(testkit::resp::Reply::Array(Some(parts))) => match parts.get(1) {
            Some(testkit::resp::Reply::Integer(n)) => *n,
            _ => -1,
        },
        _ => -1,
    };
    assert_eq!(
        numsub(&cluster.nodes()[victim]),
        3,
        "every store subscribed on the first node given"
    );

    let took = trip_and_measure(&fleet, 0, PUSHED).await;
    eprintln!("cluster: the other replicas saw the trip after {took:?}");
    fleet[2].reset();
    wait_or_explain(
        "all closed",
        PUSHED,
        || fleet.iter().all(|b| b.state() == State::Closed),
        || explain(&fleet),
    )
    .await;

    // The subscribers' node dies; they move on to the next node.
    cluster = tokio::task::spawn_blocking(move || {
        cluster.node_mut(victim).unwrap().kill();
        cluster
    })
    .await
    .unwrap();
    wait_subscribed(&stores, 2).await;
    let elsewhere: i64 = cluster
        .nodes()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != victim)
        .map(|(_, n)| numsub(n))
        .sum();
    assert_eq!(elsewhere, 3, "every store subscribed on another node");

    let took = trip_and_measure(&fleet, 1, PUSHED).await;
    eprintln!("cluster, subscribers' node killed: the other replicas saw the trip after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_subscriber_comes_back_after_a_standalone_restart() {
    let mut server = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let prefix = testkit::unique_prefix();
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(store(&server.url(), &prefix).await);
    }
    // Each store subscribes when it makes its first breaker.
    let fleet = fleet_on(&stores, &push_config()).await;
    wait_subscribed(&stores, 1).await;

    server = tokio::task::spawn_blocking(move || {
        server.kill();
        server.restart();
        server
    })
    .await
    .unwrap();
    wait_subscribed(&stores, 2).await;
    // The main connections find the restarted (empty) server too.
    for b in &fleet {
        let start = Instant::now();
        while !b.synced().await {
            assert!(start.elapsed() < Duration::from_secs(10), "Redis is back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let took = trip_and_measure(&fleet, 2, PUSHED).await;
    eprintln!("standalone, after a restart: the other replicas saw the trip after {took:?}");
    drop(server);
}

/// A server that refuses `SUBSCRIBE` and `PUBLISH`: no push, the scripts
/// still work, and the replicas converge by polling as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_pub_sub_polling_still_converges() {
    let server = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let acl = server
        .command(&["ACL", "SETUSER", "default", "-subscribe", "-publish"])
        .unwrap();
    assert!(
        !matches!(acl, testkit::resp::Reply::Error(_)),
        "ACL SETUSER: {acl:?}"
    );
    let prefix = testkit::unique_prefix();
    let interval = Duration::from_millis(300);
    let config = BreakerConfig::builder()
        .open_duration(Duration::from_secs(60))
        .sync_interval(interval)
        .build()
        .unwrap();
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(store(&server.url(), &prefix).await);
    }
    let fleet = fleet_on(&stores, &config).await;
    let took = trip_and_measure(&fleet, 0, Duration::from_secs(5)).await;
    eprintln!(
        "no pub/sub: the other replicas saw the trip after {took:?} (polling every {interval:?})"
    );
    for store in &stores {
        assert!(!store.is_subscribed(), "{store:?}");
        assert_eq!(store.subscriptions(), 0);
    }
}
