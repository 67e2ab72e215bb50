//! Criterion benchmarks for the crates of the family live in `benches/`;
//! this library only holds the set-up they share.
#![warn(missing_docs)]

/// The Redis URL a benchmark should use: `REDIS_URL` when set, otherwise
/// `None` (the bench then starts a private server with `testkit`).
pub fn redis_url_from_env() -> Option<String> {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// A Redis server for one benchmark run: the one `REDIS_URL` names, or a
/// private `redis-server` that lives as long as this value.
#[derive(Debug)]
pub struct BenchRedis {
    url: String,
    _server: Option<testkit::RedisServer>,
}

impl BenchRedis {
    /// `REDIS_URL` if set, otherwise a private server (panics, with an install
    /// hint, when `redis-server` is missing).
    pub fn start() -> Self {
        match redis_url_from_env() {
            Some(url) => BenchRedis { url, _server: None },
            None => {
                let server = testkit::RedisServer::start();
                BenchRedis {
                    url: server.url(),
                    _server: Some(server),
                }
            }
        }
    }

    /// The URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A multi-threaded tokio runtime with `workers` threads and all drivers.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
