//! The connection every Redis store of the family uses
//! (`voxcal_core::redis::RedisConnection`, scripts as `LuaScript`) works
//! against the harness's servers: standalone (with an outage and recovery)
//! and Cluster (hash-tagged Lua scripts, slots as the Cluster places them).

use std::time::Duration;

use redis::AsyncCommands;
use testkit::{RedisCluster, RedisServer, TestRedis};
use voxcal_core::redis::{ConnectOptions, LuaScript, RedisConnection};

/// One atomic read-modify-write on two keys of one hash tag, as the limiter
/// and breaker scripts do.
static INCR_BOTH: LuaScript = LuaScript::new(
    r"
local a = redis.call('INCR', KEYS[1])
local b = redis.call('INCRBY', KEYS[2], 2)
redis.call('PEXPIRE', KEYS[1], 60000)
redis.call('PEXPIRE', KEYS[2], 60000)
return {a, b}
",
);

#[tokio::test]
async fn standalone_script_and_prefix() {
    let redis = TestRedis::new();
    let mut conn = RedisConnection::connect(redis.url()).await.unwrap();
    assert!(!conn.is_cluster());
    assert_eq!(conn.node_urls(), [redis.url().to_owned()]);
    let script = &INCR_BOTH;
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
    // A standalone server is one slot.
    assert_eq!(conn.slot(keys[0].as_bytes()), 0);
}

#[tokio::test]
async fn connection_manager_recovers_after_a_restart() {
    let mut server = RedisServer::start();
    let options = ConnectOptions::new()
        .with_connection_timeout(Duration::from_millis(200))
        .with_response_timeout(Duration::from_millis(200));
    let mut conn = RedisConnection::connect_with(&server.url(), &options)
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
    let mut conn = RedisConnection::connect_cluster(cluster.urls())
        .await
        .unwrap();
    assert!(conn.is_cluster());
    let script = &INCR_BOTH;
    // Calls spread over all three masters.
    let mut masters = std::collections::HashSet::new();
    for call in 0..30 {
        let keys = [
            format!("rl:{{call-{call}}}:a"),
            format!("rl:{{call-{call}}}:b"),
        ];
        masters.insert(cluster.master_for_key(&keys[0]).unwrap());
        // The slot the connection computes is the one the Cluster uses.
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(&keys[0])
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            i64::from(conn.slot(keys[0].as_bytes())),
            slot,
            "{}",
            keys[0]
        );
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
