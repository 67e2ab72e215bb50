//! Tests of the harness itself: servers and clusters start, serve commands,
//! survive kill/restart, and leave no process behind.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::resp::Reply;
use testkit::{process_alive, ClusterConfig, RedisCluster, RedisServer, TestRedis};

fn wait_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn text(reply: Reply) -> String {
    reply
        .as_text()
        .unwrap_or_else(|| panic!("not text: {reply:?}"))
}

#[test]
fn private_server_starts_serves_and_dies_on_drop() {
    let server = RedisServer::start();
    let pid = server.pid().expect("running server has a pid");
    assert!(process_alive(pid));
    assert!(server.ping());
    assert_eq!(text(server.command(&["SET", "k", "v"]).unwrap()), "OK");
    assert_eq!(text(server.command(&["GET", "k"]).unwrap()), "v");
    // No persistence configured.
    let save = server.command(&["CONFIG", "GET", "save"]).unwrap();
    assert_eq!(
        save,
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"save".to_vec())),
            Reply::Bulk(Some(Vec::new()))
        ]))
    );
    let dir = server.dir().to_path_buf();
    drop(server);
    assert!(wait_gone(pid), "redis-server {pid} outlived its handle");
    assert!(!dir.exists(), "temporary directory {dir:?} left behind");
}

#[test]
fn kill_and_restart_on_the_same_port() {
    let mut server = RedisServer::start();
    let port = server.port();
    let first_pid = server.pid().unwrap();
    server.command(&["SET", "k", "v"]).unwrap();

    server.kill();
    assert!(wait_gone(first_pid));
    assert!(!server.ping());
    assert!(!server.is_running());
    assert!(server.command(&["PING"]).is_err());
    server.kill(); // killing twice is harmless

    server.restart();
    assert_eq!(server.port(), port);
    assert_ne!(server.pid(), Some(first_pid));
    assert!(server.ping());
    // Nothing was persisted across the outage.
    assert_eq!(server.command(&["GET", "k"]).unwrap(), Reply::Bulk(None));
}

#[test]
fn servers_started_at_once_get_distinct_ports() {
    let servers: Vec<RedisServer> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(RedisServer::start)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ports: Vec<u16> = servers.iter().map(RedisServer::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 4);
    assert!(servers.iter().all(RedisServer::ping));
}

#[test]
fn test_redis_has_a_unique_prefix_and_a_reachable_server() {
    let a = TestRedis::new();
    let b = TestRedis::new();
    assert_ne!(a.prefix(), b.prefix());
    assert!(!a.prefix().contains('{') && !a.prefix().contains('}'));
    assert_eq!(a.key("x"), format!("{}:x", a.prefix()));
    assert!(a.url().starts_with("redis://"));
    assert_eq!(
        a.is_external(),
        std::env::var("REDIS_URL").is_ok_and(|u| !u.trim().is_empty())
    );
}

#[test]
fn external_server_keys_are_removed_on_drop() {
    let server = RedisServer::start();
    let redis = TestRedis::with_url(server.url());
    assert!(redis.is_external());
    for i in 0..2_500 {
        server
            .command(&["SET", &redis.key(&i.to_string()), "1"])
            .unwrap();
    }
    server.command(&["SET", "other:key", "1"]).unwrap();
    drop(redis);
    assert_eq!(server.command(&["DBSIZE"]).unwrap(), Reply::Integer(1));
}

#[test]
fn cluster_starts_routes_and_dies_on_drop() {
    let cluster = RedisCluster::start();
    let info = cluster.info().unwrap();
    assert!(info.contains("cluster_state:ok"), "{info}");
    assert!(info.contains("cluster_slots_assigned:16384"), "{info}");
    assert!(info.contains("cluster_known_nodes:3"), "{info}");
    assert_eq!(cluster.urls().len(), 3);

    // Keys with one hash tag land on one master, which accepts them; another
    // master redirects.
    let owner = cluster.master_for_key("{call-1}:total").unwrap();
    assert_eq!(cluster.master_for_key("{call-1}:minute").unwrap(), owner);
    let nodes = cluster.nodes();
    assert_eq!(
        text(
            nodes[owner]
                .command(&["SET", "{call-1}:total", "1"])
                .unwrap()
        ),
        "OK"
    );
    let other = (owner + 1) % 3;
    match nodes[other]
        .command(&["SET", "{call-1}:total", "1"])
        .unwrap()
    {
        Reply::Error(e) => assert!(e.starts_with("MOVED"), "{e}"),
        reply => panic!("expected MOVED, got {reply:?}"),
    }

    let pids: Vec<u32> = nodes.iter().filter_map(RedisServer::pid).collect();
    assert_eq!(pids.len(), 3);
    drop(cluster);
    for pid in pids {
        assert!(wait_gone(pid), "cluster node {pid} outlived the cluster");
    }
}

#[test]
fn cluster_master_can_be_killed_and_restarted() {
    let mut cluster = RedisCluster::try_start(ClusterConfig {
        node_timeout_ms: 500,
        ..ClusterConfig::default()
    })
    .unwrap();
    let victim = cluster.master_for_key("{k}").unwrap();
    cluster.node_mut(victim).unwrap().kill();
    // The survivors notice the missing master and stop serving (full coverage).
    let survivor = &cluster.nodes()[(victim + 1) % 3];
    let deadline = Instant::now() + Duration::from_secs(15);
    while survivor
        .cluster_info()
        .unwrap()
        .contains("cluster_state:ok")
    {
        assert!(
            Instant::now() < deadline,
            "cluster never noticed the outage"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster.node_mut(victim).unwrap().restart();
    cluster.wait_ok(Duration::from_secs(30)).unwrap();
    assert_eq!(cluster.master_for_key("{k}").unwrap(), victim);
    assert_eq!(
        text(
            cluster.nodes()[victim]
                .command(&["SET", "{k}", "v"])
                .unwrap()
        ),
        "OK"
    );
}

#[test]
fn cluster_needs_three_masters() {
    let err = RedisCluster::try_start(ClusterConfig {
        masters: 2,
        ..ClusterConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("at least 3 masters"), "{err}");
}

fn child(role: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_testkit-probe"));
    cmd.arg(role).env_remove("REDIS_URL");
    cmd
}

#[test]
fn missing_redis_server_fails_with_install_hint() {
    let out = child("missing")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the test must fail, not skip");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("redis-server"), "{stderr}");
    assert!(
        stderr.contains("apt-get install -y redis-server"),
        "{stderr}"
    );
    assert!(stderr.contains("REDIS_URL"), "{stderr}");
}

#[test]
fn server_dies_when_the_test_process_is_killed() {
    let mut proc = child("orphan")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = proc.stdout.take().unwrap();
    let pid = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("PID ").map(|p| p.parse::<u32>().unwrap()))
        .expect("child printed its server pid");
    assert!(process_alive(pid));
    proc.kill().unwrap(); // SIGKILL: no destructor runs in the child
    proc.wait().unwrap();
    assert!(wait_gone(pid), "redis-server {pid} leaked after SIGKILL");
}
