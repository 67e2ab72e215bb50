//! A circuit breaker for calls to an upstream (Cal.com, or anything else),
//! for plain async code and for tower services, with its state optionally
//! shared by every replica through Redis.
//!
//! It follows resilience4j's model: states closed, open, half-open, plus
//! forced-open and disabled for operators; consecutive-failure, failure-rate
//! and slow-call-rate rules over a count or time window; a limited number of
//! half-open probes; exponential backoff of the open duration; events and a
//! metrics snapshot. The [defaults](BreakerConfig) open after 5 consecutive
//! failures, stay open 60 s, then admit 2 probes and close after 2 successes.
//!
//! ```
//! use std::time::Duration;
//! use voxcal_circuit_breaker::{BreakerConfig, BreakerError, CircuitBreaker, FakeClock, State};
//!
//! # futures_util::FutureExt::now_or_never(async {
//! let clock = FakeClock::new();
//! let breaker = CircuitBreaker::builder("calcom")
//!     .config(BreakerConfig::builder().consecutive_failures(2).build().unwrap())
//!     .clock(clock.clone())
//!     .build();
//!
//! for _ in 0..2 {
//!     let r: Result<(), _> = breaker.call(async { Err("upstream 502") }).await;
//!     assert!(matches!(r, Err(BreakerError::Inner("upstream 502"))));
//! }
//! assert_eq!(breaker.state(), State::Open);
//!
//! // Rejected without running, with the time to put into `Retry-After`.
//! let r: Result<(), BreakerError<&str>> = breaker.call(async { Ok(()) }).await;
//! assert_eq!(r.unwrap_err().retry_after(), Some(Duration::from_secs(60)));
//!
//! // After the open duration two probes are let through; two successes close it.
//! clock.advance(Duration::from_secs(60));
//! let a = breaker.try_acquire().await.unwrap();
//! let b = breaker.try_acquire().await.unwrap();
//! assert!(breaker.try_acquire().await.is_err(), "only two probes at a time");
//! a.success();
//! b.success();
//! assert_eq!(breaker.state(), State::Closed);
//! # }).unwrap();
//! ```
//!
//! # Wrapping a reqwest call
//!
//! Decide what counts as a failure with a classifier: here 5xx and 429 and
//! transport errors (timeouts included) are failures, other 4xx are not.
//!
//! ```no_run
//! use voxcal_circuit_breaker::{BreakerError, CircuitBreaker, Lang, Outcome, UserMessage};
//!
//! async fn slots(
//!     http: &reqwest::Client,
//!     breaker: &CircuitBreaker,
//! ) -> Result<reqwest::Response, BreakerError<reqwest::Error>> {
//!     let classify = |r: &Result<reqwest::Response, reqwest::Error>| match r {
//!         Ok(res) if res.status().is_server_error() || res.status() == 429 => Outcome::Failure,
//!         Ok(_) => Outcome::Success,
//!         Err(_) => Outcome::Failure,
//!     };
//!     breaker
//!         .call_with(classify, http.get("http://calcom.invalid/v2/slots").send())
//!         .await
//! }
//!
//! # async fn demo() {
//! let breaker = CircuitBreaker::new("calcom");
//! match slots(&reqwest::Client::new(), &breaker).await {
//!     Ok(_res) => { /* parse the slots */ }
//!     Err(e) => {
//!         // "Der Kalender ist gerade nicht erreichbar. Bitte versuchen Sie es in etwa 60 Sekunden noch einmal."
//!         let _say = e.user_message(Lang::De);
//!     }
//! }
//! # }
//! ```
//!
//! # An axum route (feature `tower`)
//!
//! `HttpBreakerLayer` answers a ready `503 Service Unavailable` with
//! `Retry-After` while the breaker is open, and counts 5xx, 429 and errors
//! as failures:
//!
//! ```no_run
//! # #[cfg(feature = "tower")] {
//! use axum::{routing::post, Router};
//! use voxcal_circuit_breaker::{CircuitBreaker, HttpBreakerLayer};
//!
//! async fn check_availability() -> &'static str {
//!     "slots"
//! }
//!
//! let breaker = CircuitBreaker::new("calcom");
//! let app: Router = Router::new()
//!     .route("/api/retell/check_availability", post(check_availability))
//!     .route_layer(HttpBreakerLayer::new(breaker.clone()));
//! # let _ = app;
//! # }
//! ```
//!
//! # Backends
//!
//! - [`MemoryStore`] (default): state in this process.
//! - `RedisStore` (feature `redis`): state shared by every replica, standalone
//!   or Cluster. The closed-state success path never waits on Redis; see the
//!   `RedisStore` docs for how transitions spread and what happens when Redis
//!   is down.
//! - A store of your own: both are implementations of the public
//!   [`Store`] / [`store::SharedBreaker`] traits, which do only the
//!   shared-state work (outcomes, fleet state, pushed transitions, probe
//!   leases, generations) while the breaker algorithm stays here. The
//!   [`store`] module docs have a small complete implementation; the
//!   `conformance` module (feature `conformance`) checks any store against
//!   the breaker's semantics.
//!
//! [`BoxStore`] holds any of them, so a service picks memory or Redis at run
//! time without an enum of its own:
//!
//! ```
//! use voxcal_circuit_breaker::{BoxStore, BreakerRegistry, MemoryStore};
//!
//! let store = BoxStore::new(MemoryStore::new()); // or BoxStore::new(redis_store)
//! let registry = BreakerRegistry::new(store);
//! assert_eq!(registry.get("calcom").name(), "calcom");
//! ```
//!
//! A `RedisStore` is made one way, from the family's one Redis connection
//! (`voxcal_core::redis::RedisConnection`, re-exported here):
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # async fn demo() -> Result<(), redis::RedisError> {
//! use voxcal_circuit_breaker::{CircuitBreaker, RedisConnection, RedisStore};
//!
//! let conn = RedisConnection::connect("redis://127.0.0.1:6379/").await?;
//! let store = RedisStore::new(conn).with_prefix("cb");
//! let breaker = CircuitBreaker::builder("calcom").build_with(&store);
//! # let _ = breaker;
//! # Ok(()) }
//! ```
//!
//! # Time and messages
//!
//! The breaker reads the monotonic [`Clock::now`] of the family's
//! [`Clock`] (from `voxcal-core`, re-exported here with [`SystemClock`] and
//! [`FakeClock`]); the closed-state fast path reads no clock at all. Every
//! error implements [`UserMessage`]: a sentence in [`Lang::De`] (default) or
//! [`Lang::En`] that a voice agent can say.
//!
//! # Features
//!
//! - `tower`: `HttpBreakerLayer` (HTTP services) and `BreakerLayer` (any service).
//! - `redis`: `RedisStore`.
//! - `conformance`: the `conformance` module, the checks every store must
//!   pass (for stores written elsewhere and wrappers).
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod breaker;
mod classify;
mod config;
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod error;
mod event;
#[cfg(feature = "tower")]
mod layer;
mod machine;
mod registry;
pub mod store;
mod waiters;

pub use breaker::{AcquireFuture, CircuitBreaker, CircuitBreakerBuilder, Opened, Permit};
pub use classify::{Classify, DefaultClassifier};
pub use config::{BreakerConfig, BreakerConfigBuilder, Window};
pub use error::{BreakerError, ConfigError, Rejected};
pub use event::{Event, Metrics};
#[cfg(feature = "tower")]
pub use layer::{
    Breaker, BreakerFuture, BreakerLayer, DefaultHttpClassifier, HttpBreaker, HttpBreakerFuture,
    HttpBreakerLayer, HttpClassifier,
};
pub use machine::{Outcome, State};
pub use registry::BreakerRegistry;
#[cfg(feature = "redis")]
pub use store::redis::RedisStore;
pub use store::{BoxStore, MemoryStore, Store};
/// The connection a [`RedisStore`] is made from (feature `redis`), the
/// family's one Redis connection for standalone servers and Clusters.
#[cfg(feature = "redis")]
pub use voxcal_core::redis::RedisConnection;
pub use voxcal_core::{Clock, FakeClock, Lang, SystemClock, UserMessage};
