//! Helpers shared by the Redis fleet tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::time::{Duration, Instant};

use voxcal_circuit_breaker::{BreakerConfig, CircuitBreaker, RedisConnection, RedisStore};

/// A store on its own connection to the standalone server at `url`.
pub(crate) async fn store(url: &str, prefix: &str) -> RedisStore {
    let conn = RedisConnection::connect(url).await.expect("Redis connects");
    RedisStore::new(conn).with_prefix(prefix)
}

/// A store on its own connection to the Cluster of `nodes` (the pub/sub
/// subscriber takes them in this order).
pub(crate) async fn cluster_store(nodes: &[String], prefix: &str) -> RedisStore {
    let conn = RedisConnection::connect_cluster(nodes)
        .await
        .expect("the Cluster connects");
    RedisStore::new(conn).with_prefix(prefix)
}

/// Waits in real time (network latency, not a breaker window) until `done`,
/// or fails with `explain()`: what each replica saw.
pub(crate) async fn wait_or_explain(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> bool,
    explain: impl Fn() -> String,
) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "{what}: not within {limit:?}; {}",
            explain()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    start.elapsed()
}

pub(crate) fn explain(fleet: &[CircuitBreaker]) -> String {
    fleet
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let m = b.metrics();
            format!(
                "replica {i}: {:?} gen {} consecutive failures {} rejected {}",
                m.state, m.generation, m.consecutive_failures, m.rejected_calls
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One breaker named `calcom` per store, each synced once.
pub(crate) async fn fleet_on(stores: &[RedisStore], config: &BreakerConfig) -> Vec<CircuitBreaker> {
    let mut fleet = Vec::new();
    for store in stores {
        let breaker = CircuitBreaker::builder("calcom")
            .config(config.clone())
            .build_with(store);
        assert!(breaker.synced().await, "Redis answers");
        fleet.push(breaker);
    }
    fleet
}
