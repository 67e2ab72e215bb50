//! The bearer check of the admin routes on the public port.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::reply::protocol_error;

/// Passes requests with `Authorization: Bearer <token>`; 401 otherwise. The
/// comparison takes the same time wherever the tokens differ.
pub(crate) async fn bearer(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return next.run(req).await;
    }
    metrics::counter!("admin_rejections_total").increment(1);
    let mut response = protocol_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Für diese Adresse ist eine Anmeldung nötig.",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response.into_response()
}
