//! Two service processes share one Redis for call limits.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

struct Server {
    child: Child,
    addr: String,
    /// The admin listener (`/metrics`, `/api/health/detailed`), when on.
    admin: Option<String>,
}

impl Server {
    fn start(redis_url: &str, prefix: &str) -> Server {
        Self::start_with("REDIS_URL", redis_url, prefix)
    }

    fn start_with(var: &str, redis: &str, prefix: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_booking-service"))
            .env_remove("BOOKING_CONFIG")
            .env_remove("REDIS_URL")
            .env_remove("REDIS_CLUSTER_NODES")
            .env("BOOKING_BIND", "127.0.0.1:0")
            .env(var, redis)
            .env("BOOKING_REDIS_PREFIX", prefix)
            // Exactness across processes needs every decision to reach Redis:
            // a generous timeout keeps a loaded CI machine from falling back
            // to per-process counting (the production default is 50 ms).
            .env("BOOKING_REDIS_TIMEOUT_MS", "3000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first.rsplit("http://").next().unwrap().trim().to_owned();
        // The start-up lines, up to the admin listener's (the last).
        let mut head: Vec<String> = Vec::new();
        let mut admin = None;
        for line in lines.by_ref().take(8) {
            let line = line.unwrap();
            if let Some(at) = line.strip_prefix("admin (metrics, detailed health) on http://") {
                admin = Some(at.trim().to_owned());
                break;
            }
            head.push(line);
        }
        std::thread::spawn(move || for _ in lines {});
        let admin = admin.unwrap_or_else(|| panic!("no admin line after {head:?}"));
        let server = Server {
            child,
            addr,
            admin: Some(admin),
        };
        assert!(head.iter().any(|l| l == "call limits: redis"), "{head:?}");
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(addr: &str, call_id: &str, name: &str) -> u16 {
    let body = json!({"call": {"call_id": call_id}, "name": name,
                      "args": {"datum": "morgen", "uhrzeit": "16 Uhr"}})
    .to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /api/retell/function HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn two_processes_share_the_limits_of_a_call() {
    let redis = testkit::TestRedis::new();
    let a = Server::start(redis.url(), redis.prefix());
    let b = Server::start(redis.url(), redis.prefix());
    let threads: Vec<_> = (0..30)
        .map(|i| {
            let addr = if i % 2 == 0 {
                a.addr.clone()
            } else {
                b.addr.clone()
            };
            std::thread::spawn(move || post(&addr, "call_shared_1", "check_availability"))
        })
        .collect();
    let codes: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = codes.iter().filter(|c| **c == 200).count();
    let limited = codes.iter().filter(|c| **c == 429).count();
    assert_eq!((ok, limited), (10, 20), "{codes:?}");
    // Cooldown holds on the other process and for another function.
    assert_eq!(post(&b.addr, "call_shared_1", "list_services"), 429);
    assert_eq!(post(&a.addr, "call_shared_1", "list_services"), 429);
    // Another call is admitted.
    assert_eq!(post(&a.addr, "call_shared_2", "list_services"), 200);

    // The detailed health shows Redis with its figures.
    let body = detailed_health(a.admin.as_deref().unwrap());
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(body["checks"]["redis"]["backend"], "redis");
    assert!(body["checks"]["redis"]["version"].is_string(), "{body}");
    assert!(
        body["checks"]["redis"]["used_memory_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(body["checks"]["rate_limiter"]["backend"], "redis");
}

#[test]
fn two_processes_share_the_limits_on_a_redis_cluster() {
    let cluster = testkit::RedisCluster::start();
    let nodes = cluster.urls().join(",");
    let prefix = testkit::unique_prefix();
    let a = Server::start_with("REDIS_CLUSTER_NODES", &nodes, &prefix);
    let b = Server::start_with("REDIS_CLUSTER_NODES", &nodes, &prefix);
    let threads: Vec<_> = (0..30)
        .map(|i| {
            let addr = if i % 2 == 0 {
                a.addr.clone()
            } else {
                b.addr.clone()
            };
            std::thread::spawn(move || post(&addr, "call_cluster_1", "check_availability"))
        })
        .collect();
    let codes: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = codes.iter().filter(|c| **c == 200).count();
    let limited = codes.iter().filter(|c| **c == 429).count();
    assert_eq!((ok, limited), (10, 20), "{codes:?}");
    assert_eq!(post(&b.addr, "call_cluster_1", "list_services"), 429);
    assert_eq!(post(&a.addr, "call_cluster_2", "list_services"), 200);

    // The detailed health checks the Cluster.
    let body = detailed_health(b.admin.as_deref().unwrap());
    let redis = &body["checks"]["redis"];
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(redis["backend"], "redis-cluster", "{body}");
    assert_eq!(redis["cluster_state"], "ok", "{body}");
    assert_eq!(redis["cluster_known_nodes"], 3, "{body}");
    assert!(redis["ping_ms"].as_f64().is_some(), "{body}");
    assert!(redis["version"].is_string(), "{body}");
}

/// `GET /api/health/detailed`, parsed.
fn detailed_health(addr: &str) -> serde_json::Value {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/health/detailed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

/// `[redis]` in `booking.toml` moves the limiter and the breakers to Redis
/// without any environment variable; two processes share the limits.
#[test]
fn redis_from_the_config_file() {
    let redis = testkit::TestRedis::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("booking.toml");
    std::fs::write(
        &path,
        format!(
            "[redis]\nurl = \"{}\"\nprefix = \"{}\"\ntimeout_ms = 3000\n[[tenants]]\nid = \"demo\"\nseed_bookings = true\n[[tenants.services]]\nevent_type = \"beratung\"\nname = \"Beratung\"\nduration_minutes = 30\n",
            redis.url(),
            redis.prefix()
        ),
    )
    .unwrap();
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_booking-service"))
            .env_remove("REDIS_URL")
            .env_remove("REDIS_CLUSTER_NODES")
            .env_remove("BOOKING_REDIS_PREFIX")
            .env("BOOKING_CONFIG", &path)
            .env("BOOKING_BIND", "127.0.0.1:0")
            .env("BOOKING_ADMIN_BIND", "off")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first.rsplit("http://").next().unwrap().trim().to_owned();
        let head: Vec<String> = lines.by_ref().take(5).map(Result::unwrap).collect();
        assert!(head.iter().any(|l| l == "admin listener: off"), "{head:?}");
        std::thread::spawn(move || for _ in lines {});
        assert!(head.iter().any(|l| l == "call limits: redis"), "{head:?}");
        assert!(
            head.iter().any(|l| l == "circuit breakers: redis"),
            "{head:?}"
        );
        Server {
            child,
            addr,
            admin: None,
        }
    };
    let a = start();
    let b = start();
    let codes: Vec<u16> = (0..12)
        .map(|i| {
            let addr = if i % 2 == 0 { &a.addr } else { &b.addr };
            post(addr, "call_file_1", "check_availability")
        })
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 10, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 2, "{codes:?}");
}
