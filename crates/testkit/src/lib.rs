//! Test harness for the crates of this workspace that keep state in Redis.
//!
//! Redis backends are tested against a real `redis-server`, never a mock.
//! This crate gives a test one of three things:
//!
//! - [`TestRedis::new`]: *a* server to talk to. With `REDIS_URL` set, that
//!   server; otherwise a private [`RedisServer`]. Either way the handle carries
//!   a random [key prefix](TestRedis::prefix), so tests running at once never
//!   see each other's keys.
//! - [`RedisServer::start`]: always a private `redis-server` child process on a
//!   free loopback port, with no persistence, which the test can
//!   [`kill`](RedisServer::kill) and [`restart`](RedisServer::restart) to
//!   simulate an outage.
//! - [`RedisCluster::start`]: a private 3-master Redis Cluster on free ports.
//!
//! Every process is torn down when its handle drops, also while a failing test
//! unwinds. Each `redis-server` runs under a small `sh` wrapper that holds a
//! pipe from the test process and kills the server when that pipe closes, so a
//! test process that is itself killed leaves no server behind either.
//!
//! If `redis-server` is not installed and `REDIS_URL` is not set, the test
//! fails with a message that says how to install it; it never skips silently.
//!
//! ```no_run
//! let redis = testkit::TestRedis::new();
//! let url = redis.url();            // hand this to the client under test
//! let key = redis.key("limits");    // "<random prefix>:limits"
//! # let _ = (url, key);
//! ```
#![warn(missing_docs)]

mod cluster;
pub mod resp;
mod server;

use std::fmt;
use std::time::Duration;

pub use cluster::{ClusterConfig, RedisCluster};
pub use server::RedisServer;

/// The environment variable naming an existing Redis server for the tests.
pub const REDIS_URL_ENV: &str = "REDIS_URL";

/// What can go wrong while setting up a test server.
#[derive(Debug)]
#[non_exhaustive]
pub enum HarnessError {
    /// `redis-server` (or `redis-cli`) is not on `PATH`.
    NotInstalled {
        /// The missing program.
        program: &'static str,
    },
    /// The server process started but never answered `PING`.
    StartFailed {
        /// The port it was asked to listen on.
        port: u16,
        /// The last lines of its log.
        log: String,
    },
    /// No free loopback port was found.
    NoFreePort,
    /// Creating or checking a cluster failed.
    Cluster(String),
    /// An I/O error, with what the harness was doing.
    Io(&'static str, std::io::Error),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::NotInstalled { program } => write!(
                f,
                "`{program}` was not found on PATH and {REDIS_URL_ENV} is not set. \
                 These tests need a real Redis server: install it with \
                 `sudo apt-get install -y redis-server` (Debian/Ubuntu; `scripts/test` \
                 does this for you), or point {REDIS_URL_ENV}=redis://HOST:PORT/ at an \
                 existing server (kill/restart and cluster tests still need `{program}`)."
            ),
            HarnessError::StartFailed { port, log } => write!(
                f,
                "redis-server on port {port} did not answer PING; its log ends with:\n{log}"
            ),
            HarnessError::NoFreePort => f.write_str("no free loopback port for redis-server"),
            HarnessError::Cluster(msg) => write!(f, "Redis Cluster: {msg}"),
            HarnessError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for HarnessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HarnessError::Io(_, e) => Some(e),
            _ => None,
        }
    }
}

/// A Redis server for one test: the one `REDIS_URL` names, or a private one.
///
/// The handle owns a random key prefix; on drop, keys under it are removed
/// from an external server (a private server simply dies).
#[derive(Debug)]
pub struct TestRedis {
    url: String,
    prefix: String,
    server: Option<RedisServer>,
}

impl TestRedis {
    /// `REDIS_URL` if set, otherwise a private server. Panics with a message
    /// that says how to install `redis-server` when neither is available.
    #[track_caller]
    pub fn new() -> Self {
        match Self::try_new() {
            Ok(redis) => redis,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`new`](Self::new), returning the error.
    pub fn try_new() -> Result<Self, HarnessError> {
        let prefix = unique_prefix();
        match std::env::var(REDIS_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => Ok(TestRedis {
                url: url.trim().to_owned(),
                prefix,
                server: None,
            }),
            _ => {
                let server = RedisServer::try_start()?;
                Ok(TestRedis {
                    url: server.url(),
                    prefix,
                    server: Some(server),
                })
            }
        }
    }

    /// A handle on an existing server at `url`, with a fresh prefix; its keys
    /// are removed on drop. This is what [`new`](Self::new) does with `REDIS_URL`.
    pub fn with_url(url: impl Into<String>) -> Self {
        TestRedis {
            url: url.into(),
            prefix: unique_prefix(),
            server: None,
        }
    }

    /// The URL to hand to a Redis client.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// This test's random key prefix, e.g. `t7f3a9c01d2e4b5a6`. It contains no
    /// `{}` so it never changes which Cluster slot a hash-tagged key maps to.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `"{prefix}:{suffix}"`.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.prefix)
    }

    /// Whether this handle talks to the server named by `REDIS_URL`.
    pub fn is_external(&self) -> bool {
        self.server.is_none()
    }

    /// The private server, when there is one (to kill or restart it).
    pub fn private_server(&mut self) -> Option<&mut RedisServer> {
        self.server.as_mut()
    }
}

impl Default for TestRedis {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if self.server.is_none() {
            if let Some(addr) = addr_of_url(&self.url) {
                delete_prefix(addr, &self.prefix);
            }
        }
    }
}

/// Best-effort removal of a test's keys from a shared server.
fn delete_prefix(addr: std::net::SocketAddr, prefix: &str) {
    let pattern = format!("{prefix}*");
    let mut cursor = "0".to_owned();
    for _ in 0..10_000 {
        let reply = resp::command(
            addr,
            &["SCAN", &cursor, "MATCH", &pattern, "COUNT", "1000"],
            Duration::from_secs(2),
        );
        let Ok(resp::Reply::Array(Some(parts))) = reply else {
            return;
        };
        let (Some(next), Some(resp::Reply::Array(Some(keys)))) =
            (parts.first().and_then(resp::Reply::as_text), parts.get(1))
        else {
            return;
        };
        let keys: Vec<String> = keys.iter().filter_map(resp::Reply::as_text).collect();
        if !keys.is_empty() {
            let mut args = vec!["UNLINK"];
            args.extend(keys.iter().map(String::as_str));
            let _ = resp::command(addr, &args, Duration::from_secs(2));
        }
        if next == "0" {
            return;
        }
        cursor = next;
    }
}

/// The host and port of a plain `redis://host:port[/db]` URL (no auth, no TLS).
fn addr_of_url(url: &str) -> Option<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let rest = url.strip_prefix("redis://")?;
    if rest.contains('@') {
        return None;
    }
    let host_port = rest.split('/').next()?;
    host_port.to_socket_addrs().ok()?.next()
}

/// A fresh random key prefix: `t` followed by 16 hex digits.
pub fn unique_prefix() -> String {
    format!("t{:016x}", random_u64())
}

use voxcal_core::random_u64;

fn find_on_path(program: &'static str) -> Result<std::path::PathBuf, HarnessError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or(HarnessError::NotInstalled { program })
}

pub(crate) fn redis_server_binary() -> Result<std::path::PathBuf, HarnessError> {
    find_on_path("redis-server")
}

pub(crate) fn redis_cli_binary() -> Result<std::path::PathBuf, HarnessError> {
    find_on_path("redis-cli")
}

/// Whether the process with this pid is alive (not gone, not a zombie).
/// Tests use it to prove that a server died with its handle.
pub fn process_alive(pid: u32) -> bool {
    server::process_alive(pid)
}
