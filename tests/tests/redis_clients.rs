//! The `redis` client that our backends use works against the harness's
//! servers: standalone (with an outage and recovery) and Cluster (hash-tagged
//! Lua scripts, the pattern every backend of the family relies on).

use std::time::Duration;

use redis::AsyncCommands;
use testkit::{RedisCluster, RedisServer, TestRedis};

/// One atomic read-modify-write on two keys of one hash tag, as the limiter
/// and breaker scripts do.
const INCR_BOTH: &str = r"
local a = redis.call('INCR', KEYS[1])
local b = redis.call('INCRBY', KEYS[2], 2)
redis.call('PEXPIRE', KEYS[1], 60000)
redis.call('PEXPIRE', KEYS[2], 60000)
return {a, b}
";

#[tokio::test]
async fn standalone_script_and_prefix() {
    let redis = TestRedis::new();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let script = redis::Script::new(INCR_BOTH);
    let keys = [redis.key("{c}:a"), redis.key("{c}:b")];
    for round in 1..=3_i64 {
        let got: Vec<i64> = script
            .key(&keys[0])
            .key(&keys[1])
            .invoke_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(got, vec![round, 2 * round]);
    }
    let ttl: i64 = conn.pttl(&keys[0]).await.unwrap();
    assert!((1..=60_000).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn connection_manager_recovers_after_a_restart() {
    let mut server = RedisServer::start();
    let client = redis::Client::open(server.url()).unwrap();
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(200)))
        .set_response_timeout(Some(Duration::from_millis(200)));
    let mut conn = client
        .get_connection_manager_with_config(config)
        .await
        .unwrap();
    let _: () = conn.set("k", 1).await.unwrap();

    server.kill();
    let during: redis::RedisResult<i64> = conn.get("k").await;
    assert!(during.is_err(), "a dead server cannot answer: {during:?}");

    server.restart();
    let mut answer = None;
    for _ in 0..100 {
        match conn.get::<_, Option<i64>>("k").await {
            Ok(v) => {
                answer = Some(v);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    // Reconnected, and the restarted server kept nothing.
    assert_eq!(answer, Some(None));
}

#[tokio::test]
async fn cluster_runs_hash_tagged_scripts() {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .unwrap();
    let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    let mut conn = client.get_async_connection().await.unwrap();
    let script = redis::Script::new(INCR_BOTH);
    // Calls spread over all three masters.
    let mut masters = std::collections::HashSet::new();
    for call in 0..30 {
        let keys = [
            format!("rl:{{call-{call}}}:a"),
            format!("rl:{{call-{call}}}:b"),
        ];
        masters.insert(cluster.master_for_key(&keys[0]).unwrap());
        let got: Vec<i64> = script
            .key(&keys[0])
            .key(&keys[1])
            .invoke_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(got, vec![1, 2]);
    }
    assert_eq!(masters.len(), 3, "30 tags should hit every master");

    // Keys of different slots in one script are refused by the cluster.
    let cross: redis::RedisResult<Vec<i64>> = script
        .key("{x}:a")
        .key("{y}:b")
        .invoke_async(&mut conn)
        .await;
    assert!(cross.is_err());
}
