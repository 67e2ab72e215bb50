//! Exact per-call rate limits for voice-agent function calls, as a tower layer.
//!
//! During a phone call, a voice agent (Retell AI) calls the backend's HTTP
//! functions. A looping agent must be stopped without hurting normal calls.
//! This crate limits per call id, by default:
//!
//! - **total**: 50 admitted requests over the call's lifetime (the state
//!   expires 30 min after the call's last admitted request);
//! - **per_minute**: 20 admitted requests in *any* 60 s span (an exact
//!   sliding log, not a fixed window or GCRA, which both admit more);
//! - **per_function**: 10 admitted requests of the same function;
//! - **cooldown**: after a rejection the whole call is blocked for 300 s.
//!
//! A request is admitted only if every limit admits it, and then all counters
//! move together; a refused request consumes nothing. [`Policy`] is data, so
//! other limits (per tenant, per IP, per custom key part) use the same
//! machinery. State lives in a [`Store`]: [`MemoryStore`] (default, sharded,
//! bounded) or `RedisStore` (feature `redis`, one Lua script per decision,
//! works on Redis Cluster, with an outage policy: fail open, fail closed, or
//! fall back to memory).
//!
//! # Example: an axum router with the layer on a `MemoryStore`
//!
//! ```
//! use axum::{routing::post, Router};
//! use voxcal_call_rate_limiter::{CallRateLimitLayer, MemoryStore, Policy};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app: Router = Router::new()
//!     .route("/api/retell/{function}", post(|| async { "ok" }))
//!     .layer(CallRateLimitLayer::new(MemoryStore::new(), Policy::default()));
//!
//! let call = |name: &str| {
//!     let body = format!(r#"{{"call":{{"call_id":"call_5e1d"}},"name":"{name}","args":{{}}}}"#);
//!     http::Request::post("/api/retell/x").body(axum::body::Body::from(body)).unwrap()
//! };
//! for _ in 0..10 {
//!     let res = app.clone().oneshot(call("book_appointment_v2")).await.unwrap();
//!     assert_eq!(res.status(), 200);
//!     assert!(res.headers().contains_key("ratelimit"));
//! }
//! // The 11th call of one function is refused, with Retry-After and a JSON body
//! // the agent can read out ("limits_exceeded": ["per_function (10/10)"]).
//! let res = app.clone().oneshot(call("book_appointment")).await.unwrap();
//! assert_eq!(res.status(), 429);
//! assert!(res.headers().contains_key("retry-after"));
//! # }
//! ```
//!
//! # Example: shared limits in Redis (feature `redis`)
//!
//! Every replica of the service counts in the same Redis; decisions stay
//! exact under concurrency because each one is a single Lua script.
//!
#![cfg_attr(feature = "redis", doc = "```no_run")]
#![cfg_attr(not(feature = "redis"), doc = "```text")]
//! use std::time::Duration;
//! use axum::{routing::post, Router};
//! use voxcal_call_rate_limiter::{
//!     CallRateLimitLayer, OutagePolicy, Policy, RedisConnection, RedisStore,
//! };
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let conn = RedisConnection::connect("redis://127.0.0.1:6379/").await?;
//! // A Cluster: RedisConnection::connect_cluster(["redis://10.0.0.1:7000/", …]).await?
//! let store = RedisStore::new(conn)
//!     .with_prefix("rl")
//!     .with_timeout(Duration::from_millis(50))
//!     .with_outage_policy(OutagePolicy::FallbackToMemory);
//!
//! let app: Router = Router::new()
//!     .route("/api/retell/{function}", post(|| async { "ok" }))
//!     .layer(CallRateLimitLayer::new(store, Policy::default()));
//! # let _ = app; Ok(()) }
//! ```
//!
//! # What the layer does
//!
//! - It reads the body (up to 256 KiB, else 413) to find the key with a
//!   [`KeyExtractor`] ([`RetellExtractor`] by default: `call.call_id`, then
//!   `args.call_id`, then `X-Retell-Call-Id`; the function is `name` without
//!   `_vN`), and hands the inner service the identical bytes.
//! - A request that already carries a [`CallKey`] in its extensions (an
//!   earlier layer parsed the body: a signature check, an envelope reader)
//!   is limited by that key, and its body is passed on unread.
//! - No usable call id: 400 with a JSON error, or pass through unlimited
//!   ([`MissingCallId`]).
//! - Refused: 429 with `Retry-After`, `RateLimit-Policy` and `RateLimit`
//!   (draft-ietf-httpapi-ratelimit-headers) and a JSON body with a German
//!   sentence; the response is pluggable ([`OnRejection`]).
//! - Admitted: the [`Decision`] goes into the request's extensions, and the
//!   response carries the `RateLimit` fields.
//! - The store could not decide (Redis down, `OutagePolicy::FailClosed`): 503,
//!   with the store error's [`UserMessage`] as the sentence.
//!
//! # Time and messages
//!
//! The crate speaks the family's vocabulary from `voxcal_core`, re-exported
//! here: every store reads a [`Clock`] ([`SystemClock`] by default; tests
//! hand it a [`FakeClock`] and advance it instead of sleeping), and every
//! error ([`StoreError`], [`PolicyError`]) and [`Rejection`] implements
//! [`UserMessage`], German by default ([`Lang`]).
//!
//! # Your own store
//!
//! [`CallStateStore`] is the trait to implement for another backend: the
//! store keeps one [`CallState`] per call id and changes it atomically, the
//! crate's algorithm decides (its docs have a complete `Mutex<HashMap>`
//! store). Every `CallStateStore` is a [`Store`]; a backend that decides
//! itself (like `RedisStore`'s Lua script) implements [`Store`] and answers
//! with [`Decision`]'s constructors. The conformance suite (feature
//! `conformance`, module `conformance`) checks any store against the
//! crate's semantics, and [`BoxStore`] picks a store at runtime.
//!
//! # Features
//!
//! - `redis`: `RedisStore` over a `RedisConnection` (standalone or Cluster;
//!   `voxcal_core::redis::RedisConnection`, re-exported).
//! - `conformance`: the `conformance` module, tests for custom store
//!   implementations (needs a Tokio runtime).
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod core;
mod decision;
mod inline;
mod layer;
mod policy;
mod store;

pub use crate::core::{CallState, DecodeError};
pub use decision::{Decision, DecisionSource, LimitName, LimitStatus, Limits};
pub use layer::{
    is_placeholder_call_id, strip_version_suffix, CallRateLimit, CallRateLimitFuture,
    CallRateLimitLayer, JsonRejection, KeyExtractor, MissingCallId, OnRejection, Rejection,
    RejectionKind, RetellEnvelope, RetellExtractor, CALL_ID_HEADER, RATELIMIT, RATELIMIT_POLICY,
};
pub use policy::{CallKey, Limit, Period, Policy, PolicyBuilder, PolicyError, Scope};
pub use store::{
    BoxDecision, BoxStore, CallStateStore, MemoryStore, ReleaseFuture, Store, StoreError,
};
#[cfg(feature = "redis")]
pub use store::{OutagePolicy, RedisDecision, RedisStore};
/// The family's Redis connection (standalone or Cluster) a [`RedisStore`] is
/// made from, re-exported from `voxcal_core::redis`.
#[cfg(feature = "redis")]
pub use voxcal_core::redis::RedisConnection;
pub use voxcal_core::{Clock, FakeClock, Lang, SystemClock, UserMessage};
