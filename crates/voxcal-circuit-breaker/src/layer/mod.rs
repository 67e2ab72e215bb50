//! Tower middleware.
//!
//! [`HttpBreakerLayer`] is for HTTP services: a rejected request gets a
//! ready `503 Service Unavailable` with `Retry-After` (the [`Rejected`]
//! reason is in the response extensions) and `Error = S::Error`; what counts
//! as failure is decided by an [`HttpClassifier`] (by default 5xx, 429, 408
//! and service errors such as timeouts).
//!
//! [`BreakerLayer`] is for any other service: a rejection is
//! [`BreakerError::Open`](crate::BreakerError::Open) and a service error is
//! [`BreakerError::Inner`](crate::BreakerError::Inner).
//!
//! Both forward `poll_ready` to the inner service and decide inside `call`.
//!
//! ```
//! use voxcal_circuit_breaker::{CircuitBreaker, HttpBreakerLayer};
//! use http::{Request, Response, StatusCode};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # futures_util::FutureExt::now_or_never(async {
//! let breaker = CircuitBreaker::new("calcom");
//! breaker.force_open();
//! let svc = ServiceBuilder::new()
//!     .layer(HttpBreakerLayer::new(breaker))
//!     .service(service_fn(|_req: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(String::from("slots")))
//!     }));
//! let res = svc.oneshot(Request::new(String::new())).await.unwrap();
//! assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(res.headers()["retry-after"], "60");
//! # }).unwrap();
//! ```
//!
//! [`Rejected`]: crate::Rejected

mod future;
#[allow(clippy::module_inception)]
mod layer;
mod service;

pub use future::{BreakerFuture, HttpBreakerFuture};
pub use layer::{BreakerLayer, HttpBreakerLayer};
pub use service::{Breaker, DefaultHttpClassifier, HttpBreaker, HttpClassifier};
