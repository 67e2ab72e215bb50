//! A voice-booking backend for Retell AI, wired through every crate of the
//! family: the demo you copy to build your own.
//!
//! Retell calls nine functions over HTTP during a phone call
//! (`check_availability`, `collect_appointment`, `book_appointment`, …). This
//! crate answers them for one or more tenants:
//!
//! - `request-validation` turns spoken arguments ("übermorgen", "halb drei")
//!   into clean values;
//! - `appointment-finder` finds the wished slot or the best alternatives in
//!   the tenant's time zone, through a slot cache;
//! - `call-rate-limiter` stops looping agents per call id (429);
//! - `log-sanitizer` redacts every log line before it leaves the process;
//! - Retell's `X-Retell-Signature` is checked when a tenant has an API key;
//!   the body is read once for it, the limiter and the handler.
//!
//! Domain outcomes are HTTP 200 with `{"success","status","message","data"}`,
//! the `message` being a German sentence the agent can say; protocol
//! problems are 4xx.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use voxcal_core::FakeClock;
//! use booking_service::{app, AppState, ServiceConfig};
//! use chrono::{TimeZone, Utc};
//! use tower::ServiceExt;
//!
//! // Monday 2026-10-12, 08:00 in Berlin.
//! let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap());
//! let state = AppState::builder(ServiceConfig::demo()).clock(clock).build().unwrap();
//! let body = r#"{"call":{"call_id":"call_doc1"},"name":"check_availability",
//!                "args":{"datum":"morgen","uhrzeit":"15 Uhr"}}"#;
//! let request = http::Request::post("/api/retell/function")
//!     .header("content-type", "application/json")
//!     .body(axum::body::Body::from(body))
//!     .unwrap();
//! let response = app(state).oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # });
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::{HeaderValue, Request, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use voxcal_call_rate_limiter::{CallRateLimitLayer, RejectionKind};

mod admin;
mod backend;
mod cap;
mod config;
mod deadline;
mod envelope;
mod health;
mod idempotency;
mod recover;
mod reply;
mod retell;
mod run;
mod signature;
mod state;
mod telemetry;
mod webhooks;

pub use config::{
    demo_hours, AdminSettings, BreakerSettings, CalendarConfig, ConfigError, RedisSettings,
    RedisTarget, ServiceConfig, ServiceOffer, TenantConfig, DEFAULT_REDIS_PREFIX,
};
pub use run::{connect_state, run, shutdown_signal, Listening, RunError};
pub use signature::{sign, verify_signature, SignatureError, MAX_SKEW_MS, SIGNATURE_HEADER};
pub use state::{AppState, AppStateBuilder, StateError};
pub use telemetry::{subscriber, LogFormat};

/// Request ids `req-1`, `req-2`, … (unique per process).
#[derive(Debug, Clone, Default)]
struct CountingRequestId {
    next: Arc<AtomicU64>,
}

impl MakeRequestId for CountingRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut buf = [0u8; 24];
        HeaderValue::from_bytes(request_id_text(n, &mut buf))
            .ok()
            .map(RequestId::new)
    }
}

/// `req-<n>` into `buf` (4 + at most 20 digits), without a format string.
fn request_id_text(n: u64, buf: &mut [u8; 24]) -> &[u8] {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n).as_bytes();
    let len = 4 + digits.len();
    buf[..4].copy_from_slice(b"req-");
    buf[4..len].copy_from_slice(digits);
    &buf[..len]
}

/// Counts 429s by the limit that refused them (`cooldown`, or the policy's
/// limit names from the limiter's [`Decision`](voxcal_call_rate_limiter::Decision)).
pub(crate) fn count_rejections(response: Response) -> Response {
    if response.extensions().get::<RejectionKind>() == Some(&RejectionKind::RateLimited) {
        let mut limits: Vec<String> = Vec::new();
        if let Some(decision) = response
            .extensions()
            .get::<voxcal_call_rate_limiter::Decision>()
        {
            if decision.cooldown {
                limits.push("cooldown".to_owned());
            }
            limits.extend(
                decision
                    .limits
                    .iter()
                    .filter(|l| l.exceeded)
                    .map(|l| l.name.as_str().to_owned()),
            );
        }
        if limits.is_empty() {
            limits.push("unknown".to_owned());
        }
        for limit in limits {
            metrics::counter!("rate_limit_rejections_total", "limit" => limit).increment(1);
        }
    }
    response
}

async fn not_found() -> Response {
    reply::protocol_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "Diese Adresse gibt es nicht.",
    )
}

/// The public service as a router, for the port Retell calls: the function
/// routes behind the signature check and the call rate limiter, the
/// webhooks, `/api/health`, and the outer layers (request id → trace → body
/// limit → timeout). `/metrics` and `/api/health/detailed` are on
/// [`admin_app`]; here only with a configured admin token
/// (`Authorization: Bearer <token>`, else 401).
pub fn app(state: AppState) -> Router {
    let _ = health::prometheus();
    let limiter = CallRateLimitLayer::shared(
        Arc::clone(&state.inner.limiter),
        Arc::clone(&state.inner.policy),
    )
    .with_max_body_bytes(state.inner.max_body_bytes);
    let retell = Router::new()
        .route(
            "/api/retell/{function}",
            post(retell::handle)
                .get(retell::handle)
                .delete(retell::handle),
        )
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), envelope::read))
                .layer(limiter),
        );
    let mut public = Router::new()
        .route("/api/health", get(health::live))
        .route("/api/webhooks/retell", post(webhooks::retell))
        .route("/api/webhooks/calcom/{tenant}", post(webhooks::calcom))
        .merge(retell);
    if let Some(token) = state.inner.admin_token.clone() {
        public = public.merge(
            admin_routes().layer(from_fn_with_state(Arc::<str>::from(token), admin::bearer)),
        );
    }
    outer(public, state)
}

/// The operator's routes alone, without authentication: `/metrics`,
/// `/api/health/detailed` (tenant ids, Redis version and memory, breaker
/// states) and `/api/health`. [`run`] serves them on the admin address
/// ([`AdminSettings`], loopback by default), never on the port Retell
/// calls unless a token is configured.
pub fn admin_app(state: AppState) -> Router {
    let _ = health::prometheus();
    outer(
        admin_routes().route("/api/health", get(health::live)),
        state,
    )
}

fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/api/health/detailed", get(health::detailed))
        .route("/metrics", get(health::metrics))
}

/// The outer layers every listener shares (request id → trace → body limit
/// → timeout) and the 404 fallback.
fn outer(routes: Router<AppState>, state: AppState) -> Router {
    let max_body = state.inner.max_body_bytes;
    let timeout = state.inner.request_timeout;
    routes
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(CountingRequestId::default()))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(TraceLayer::new_for_http())
                .layer(RequestBodyLimitLayer::new(max_body))
                .layer(deadline::DeadlineLayer::new(
                    Arc::clone(&state.inner.deadlines),
                    timeout,
                )),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_req_and_the_count() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            12_345,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut buf = [0u8; 24];
            assert_eq!(request_id_text(n, &mut buf), format!("req-{n}").as_bytes());
        }
        let mut make = CountingRequestId::default();
        let request = Request::new(());
        let ids: Vec<String> = (0..3)
            .map(|_| {
                let id = make.make_request_id(&request).expect("an id");
                id.header_value().to_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(ids, ["req-1", "req-2", "req-3"]);
    }
}
