//! Criterion benchmarks for the crates of the family live in `benches/`;
//! this library only holds helpers they share.
#![warn(missing_docs)]

/// The Redis URL a benchmark should use: `REDIS_URL` when set, otherwise
/// `None` (the bench then starts a private server with `testkit`).
pub fn redis_url_from_env() -> Option<String> {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}
