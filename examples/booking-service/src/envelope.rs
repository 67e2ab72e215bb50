//! A Retell function call, read once.
//!
//! [`read`] is the middleware in front of the function routes. It reads the
//! body once and, in this order:
//!
//! 1. resolves the tenant (`X-Tenant-Id`, `?tenant=`, else the only one);
//! 2. checks `X-Retell-Signature` when that tenant has a Retell key (401);
//! 3. parses the envelope with the limiter's [`RetellEnvelope`]: the call id
//!    (`call.call_id`, `args.call_id`, `X-Retell-Call-Id`, as the limiter
//!    counts), the function (from the path or the body's `name`) and
//!    `args`. Functions configured as GET or DELETE
//!    arrive without a body: the call id comes from `X-Retell-Call-Id`, the
//!    arguments from the query;
//! 4. hands the call rate limiter its [`CallKey`] (call id and function), so
//!    the limiter does not read the body again, and the handler the parsed
//!    [`ReadCall`].
//!
//! An envelope that cannot be parsed still reaches the limiter with its
//! bytes, which answers a missing call id; the handler answers the rest.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use voxcal_call_rate_limiter::{CallKey, RetellEnvelope};

use crate::reply::protocol_error;
use crate::signature;
use crate::state::{AppState, TenantRuntime};

/// The nine Retell functions this service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    CheckAvailability,
    CollectAppointment,
    BookAppointment,
    CancelAppointment,
    RescheduleAppointment,
    GetAlternatives,
    FindNextAvailable,
    GetOpeningHours,
    ListServices,
}

impl Function {
    /// Every function, in the order the README lists them.
    pub(crate) const ALL: [Function; 9] = [
        Function::CheckAvailability,
        Function::CollectAppointment,
        Function::BookAppointment,
        Function::CancelAppointment,
        Function::RescheduleAppointment,
        Function::GetAlternatives,
        Function::FindNextAvailable,
        Function::GetOpeningHours,
        Function::ListServices,
    ];

    /// The function's Retell name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Function::CheckAvailability => "check_availability",
            Function::CollectAppointment => "collect_appointment",
            Function::BookAppointment => "book_appointment",
            Function::CancelAppointment => "cancel_appointment",
            Function::RescheduleAppointment => "reschedule_appointment",
            Function::GetAlternatives => "get_alternatives",
            Function::FindNextAvailable => "find_next_available",
            Function::GetOpeningHours => "get_opening_hours",
            Function::ListServices => "list_services",
        }
    }

    /// The function named `name` (a Retell name, without a version suffix).
    pub(crate) fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Header naming the tenant.
pub(crate) const TENANT_HEADER: &str = "x-tenant-id";

/// The tenant a request names: `X-Tenant-Id`, else `?tenant=`.
pub(crate) fn tenant_named(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    headers
        .get(TENANT_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            uri.query()?;
            Query::<HashMap<String, String>>::try_from_uri(uri)
                .ok()
                .and_then(|Query(mut q)| q.remove("tenant"))
        })
}

/// Why no tenant could be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TenantError {
    /// The named tenant does not exist (404).
    Unknown,
    /// Several tenants and none named (400).
    Required,
}

impl IntoResponse for TenantError {
    fn into_response(self) -> Response {
        match self {
            TenantError::Unknown => protocol_error(
                StatusCode::NOT_FOUND,
                "unknown_tenant",
                "Dieses Unternehmen ist hier nicht eingerichtet.",
            ),
            TenantError::Required => protocol_error(
                StatusCode::BAD_REQUEST,
                "tenant_required",
                "Bitte geben Sie das Unternehmen an (X-Tenant-Id oder ?tenant=).",
            ),
        }
    }
}

/// The tenant named by header or query, else the only one.
pub(crate) fn resolve_tenant(
    state: &AppState,
    id: Option<&str>,
) -> Result<Arc<TenantRuntime>, TenantError> {
    let tenants = &state.inner.tenants;
    match id {
        Some(id) => tenants.get(id).cloned().ok_or(TenantError::Unknown),
        None if tenants.len() == 1 => tenants
            .values()
            .next()
            .cloned()
            .ok_or(TenantError::Required),
        None => Err(TenantError::Required),
    }
}

/// A function call's envelope: who calls, which function, with what.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Envelope {
    /// The call id, trimmed, never a placeholder.
    pub(crate) call_id: String,
    pub(crate) function: Function,
    /// `args`, or `{}`.
    pub(crate) args: Value,
}

/// Why an envelope could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvelopeError {
    /// The body is not JSON (400).
    MalformedJson,
    /// No usable `call.call_id` (400).
    MissingCallId,
    /// The path or `name` names no function (404).
    UnknownFunction,
}

impl IntoResponse for EnvelopeError {
    fn into_response(self) -> Response {
        match self {
            EnvelopeError::MalformedJson => protocol_error(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "Die Anfrage war kein gültiges JSON.",
            ),
            EnvelopeError::MissingCallId => protocol_error(
                StatusCode::BAD_REQUEST,
                "missing_call_id",
                "Die Anfrage enthält keine gültige Anruf-ID (call.call_id).",
            ),
            EnvelopeError::UnknownFunction => protocol_error(
                StatusCode::NOT_FOUND,
                "unknown_function",
                "Diese Funktion gibt es nicht.",
            ),
        }
    }
}

/// The arguments of a call without a body: the query, but `tenant`.
fn query_args(uri: &Uri) -> Value {
    let query = Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    let args: Map<String, Value> = query
        .into_iter()
        .filter(|(k, _)| k.as_str() != "tenant")
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Value::Object(args)
}

/// Parses the envelope of a call to `/api/retell/{path_function}`:
/// `path_function` is `function` (the body's `name` decides, without a
/// `_vN` suffix) or one of the functions with dashes (`check-availability`).
/// The call id is the one the rate limiter counts by
/// ([`RetellEnvelope::call_id`]): `call.call_id`, `args.call_id`, then
/// `X-Retell-Call-Id`.
pub(crate) fn parse(
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    path_function: &str,
    body: &[u8],
) -> Result<Envelope, EnvelopeError> {
    let bodyless = body.is_empty() && (method == Method::GET || method == Method::DELETE);
    let wire = if bodyless {
        RetellEnvelope::default()
    } else {
        RetellEnvelope::parse(body).ok_or(EnvelopeError::MalformedJson)?
    };
    let header = headers
        .get(voxcal_call_rate_limiter::CALL_ID_HEADER)
        .and_then(|v| v.to_str().ok());
    let call_id = wire
        .call_id(header)
        .ok_or(EnvelopeError::MissingCallId)?
        .to_owned();
    let function = if path_function == "function" {
        wire.function().and_then(Function::from_name)
    } else if path_function.contains('_') {
        None
    } else {
        Function::from_name(&path_function.replace('-', "_"))
    }
    .ok_or(EnvelopeError::UnknownFunction)?;
    let args = if bodyless {
        query_args(uri)
    } else {
        wire.args.unwrap_or_else(|| json!({}))
    };
    Ok(Envelope {
        call_id,
        function,
        args,
    })
}

/// What [`read`] found, for the handler: the tenant and the envelope, or why
/// there is none.
#[derive(Clone)]
pub(crate) struct ReadCall {
    pub(crate) tenant: Result<Arc<TenantRuntime>, TenantError>,
    pub(crate) envelope: Result<Envelope, EnvelopeError>,
}

impl<S: Send + Sync> FromRequestParts<S> for ReadCall {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Taken, not cloned: the arguments move on to the handler.
        parts.extensions.remove::<ReadCall>().ok_or_else(|| {
            tracing::error!("a function route without envelope::read in front of it");
            protocol_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Es ist ein interner Fehler aufgetreten.",
            )
        })
    }
}

/// Middleware in front of the function routes: see the [module docs](self).
pub(crate) async fn read(
    State(state): State<AppState>,
    Path(path_function): Path<String>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let tenant = resolve_tenant(&state, tenant_named(&parts.headers, &parts.uri).as_deref());
    let Ok(bytes) = to_bytes(body, state.inner.max_body_bytes).await else {
        return protocol_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Die Anfrage ist zu groß.",
        );
    };
    // Unknown tenants are answered by the handler, after the limiter.
    if let Ok(tenant) = &tenant {
        if let Err(e) = signature::check_request(&state, tenant, &parts.headers, &bytes) {
            tracing::warn!(tenant = %tenant.tenant.id(), reason = %e, "signature refused");
            metrics::counter!("signature_rejections_total").increment(1);
            return protocol_error(
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
                "Die Signatur der Anfrage ist ungültig.",
            );
        }
    }
    // Raw headers at debug level: the log writer redacts them.
    tracing::debug!(headers = ?parts.headers, "function request");
    let envelope = parse(
        &parts.method,
        &parts.headers,
        &parts.uri,
        &path_function,
        &bytes,
    );
    let body = match &envelope {
        Ok(envelope) => {
            parts.extensions.insert(
                CallKey::new(envelope.call_id.clone()).with_function(envelope.function.name()),
            );
            Body::empty()
        }
        // The limiter reads the bytes itself (and answers a missing call id).
        Err(_) => Body::from(bytes),
    };
    parts.extensions.insert(ReadCall { tenant, envelope });
    // The limiter's 429s are counted here, by the limit that refused them.
    crate::count_rejections(next.run(Request::from_parts(parts, body)).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(path_function: &str, body: &str) -> Result<Envelope, EnvelopeError> {
        let uri: Uri = format!("/api/retell/{path_function}").parse().unwrap();
        parse(
            &Method::POST,
            &HeaderMap::new(),
            &uri,
            path_function,
            body.as_bytes(),
        )
    }

    #[test]
    fn envelopes_by_path_and_name() {
        let ok = post(
            "function",
            r#"{"call":{"call_id":" call_1 "},"name":"book_appointment_v2","args":{"name":"Anna"}}"#,
        )
        .unwrap();
        assert_eq!(ok.call_id, "call_1");
        assert_eq!(ok.function, Function::BookAppointment);
        assert_eq!(ok.args, json!({"name": "Anna"}));
        // The limiter's rule: `args.call_id` when `call.call_id` is unusable,
        // and a number's digits.
        let from_args = post(
            "function",
            r#"{"call":{"call_id":"undefined"},"name":"list_services","args":{"call_id":"call_args"}}"#,
        )
        .unwrap();
        assert_eq!(from_args.call_id, "call_args");
        let numeric = post("list-services", r#"{"call":{"call_id":1234567}}"#).unwrap();
        assert_eq!(numeric.call_id, "1234567");
        let by_path = post("check-availability", r#"{"call":{"call_id":"call_2"}}"#).unwrap();
        assert_eq!(by_path.function, Function::CheckAvailability);
        assert_eq!(by_path.args, json!({}));
        for (i, function) in Function::ALL.into_iter().enumerate() {
            assert_eq!(function as usize, i, "ALL lists {function:?} in its place");
            let dashed = function.name().replace('_', "-");
            let body = r#"{"call":{"call_id":"call_3"}}"#;
            assert_eq!(post(&dashed, body).unwrap().function, function, "{dashed}");
            // Underscores in the path are not a function's route.
            assert_eq!(
                post(function.name(), body),
                Err(EnvelopeError::UnknownFunction),
                "{function:?}"
            );
        }
    }

    #[test]
    fn envelope_errors_in_order() {
        type Case = (&'static str, &'static str, EnvelopeError);
        let cases: &[Case] = &[
            ("function", "{", EnvelopeError::MalformedJson),
            ("function", "", EnvelopeError::MalformedJson),
            (
                "function",
                r#"{"name":"list_services"}"#,
                EnvelopeError::MissingCallId,
            ),
            (
                "function",
                r#"{"call":{"call_id":"undefined"},"name":"list_services"}"#,
                EnvelopeError::MissingCallId,
            ),
            (
                "function",
                r#"{"call":{"call_id":"12345"},"name":"list_services"}"#,
                EnvelopeError::MissingCallId,
            ),
            (
                "function",
                r#"{"call":{"call_id":7},"name":"list_services"}"#,
                EnvelopeError::MissingCallId,
            ),
            (
                "function",
                r#"{"call":{"call_id":"null"},"args":{"call_id":"None"},"name":"list_services"}"#,
                EnvelopeError::MissingCallId,
            ),
            // A missing call id is reported before an unknown function.
            ("nope", r#"{"call":{}}"#, EnvelopeError::MissingCallId),
            (
                "function",
                r#"{"call":{"call_id":"call_4"}}"#,
                EnvelopeError::UnknownFunction,
            ),
            (
                "function",
                r#"{"call":{"call_id":"call_4"},"name":"delete_everything"}"#,
                EnvelopeError::UnknownFunction,
            ),
            (
                "nope",
                r#"{"call":{"call_id":"call_4"}}"#,
                EnvelopeError::UnknownFunction,
            ),
        ];
        for (path, body, expected) in cases {
            assert_eq!(post(path, body), Err(*expected), "{path} {body}");
        }
    }

    #[test]
    fn bodyless_calls_take_the_call_id_header_and_the_query() {
        let mut headers = HeaderMap::new();
        headers.insert(
            voxcal_call_rate_limiter::CALL_ID_HEADER,
            "call_get".parse().unwrap(),
        );
        let uri: Uri = "/api/retell/get-opening-hours?tenant=demo&datum=morgen"
            .parse()
            .unwrap();
        for method in [Method::GET, Method::DELETE] {
            let got = parse(&method, &headers, &uri, "get-opening-hours", b"").unwrap();
            assert_eq!(got.call_id, "call_get");
            assert_eq!(got.function, Function::GetOpeningHours);
            assert_eq!(
                got.args,
                json!({"datum": "morgen"}),
                "the tenant is no argument"
            );
        }
        // Without the header a bodyless call has no call id; a bodyless POST
        // is no JSON.
        assert_eq!(
            parse(
                &Method::GET,
                &HeaderMap::new(),
                &uri,
                "get-opening-hours",
                b""
            ),
            Err(EnvelopeError::MissingCallId)
        );
        assert_eq!(
            parse(&Method::POST, &headers, &uri, "get-opening-hours", b""),
            Err(EnvelopeError::MalformedJson)
        );
    }

    #[test]
    fn the_tenant_is_named_by_header_then_query() {
        let mut headers = HeaderMap::new();
        let uri: Uri = "/x?tenant=from_query".parse().unwrap();
        assert_eq!(tenant_named(&headers, &uri).as_deref(), Some("from_query"));
        headers.insert(TENANT_HEADER, "from_header".parse().unwrap());
        assert_eq!(tenant_named(&headers, &uri).as_deref(), Some("from_header"));
        assert_eq!(
            tenant_named(&HeaderMap::new(), &"/x".parse().unwrap()),
            None
        );
    }
}
