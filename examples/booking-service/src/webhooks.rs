//! The webhooks a deployment receives besides Retell's function calls.
//!
//! - `POST /api/webhooks/retell` (tenant by `X-Tenant-Id` or `?tenant=`, as
//!   for functions): Retell's call events, signed like function calls
//!   (`X-Retell-Signature`, checked when the tenant has a Retell key).
//!   `call_ended` releases the call's rate-limit state on every replica and
//!   logs a summary without personal data (no transcript, no numbers);
//!   other events are acknowledged.
//! - `POST /api/webhooks/calcom/{tenant}`: Cal.com's booking events, signed
//!   with the tenant's webhook secret (`X-Cal-Signature-256`). A booking made,
//!   cancelled or moved anywhere (the website, the Cal.com app) drops the
//!   tenant's cached slots of that day, on every replica when the slot cache
//!   lives in Redis, so the agent never offers a slot that is gone.
//!
//! Both answer 200 `{"success":true,"status":...}` for what they accept, 401
//! for a bad signature, 400 for a body that is not such an event; neither
//! logs a body.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use voxcal_calcom_client::webhook::{TriggerEvent, WebhookErrorKind, WebhookEvent, WebhookHeaders};
use voxcal_call_rate_limiter::Store;

use crate::envelope::{resolve_tenant, tenant_named};
use crate::reply::protocol_error;
use crate::signature;
use crate::state::{AppState, TenantRuntime};

/// What a webhook accepted: 200 with a status word.
fn accepted(status: &'static str) -> Response {
    (
        StatusCode::OK,
        Json(json!({"success": true, "status": status})),
    )
        .into_response()
}

fn bad_signature(source: &'static str, reason: &dyn std::fmt::Display) -> Response {
    tracing::warn!(source, %reason, "webhook signature refused");
    metrics::counter!("webhook_rejections_total", "source" => source, "reason" => "signature")
        .increment(1);
    protocol_error(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        "Die Signatur der Anfrage ist ungültig.",
    )
}

fn malformed(source: &'static str) -> Response {
    metrics::counter!("webhook_rejections_total", "source" => source, "reason" => "malformed")
        .increment(1);
    protocol_error(
        StatusCode::BAD_REQUEST,
        "malformed_event",
        "Die Nachricht hat nicht das erwartete Format.",
    )
}

// ------------------------------------------------------------------ Retell

/// A Retell call event: only what the service acts on is read.
#[derive(Debug, Deserialize)]
struct RetellEvent {
    event: String,
    call: RetellCall,
}

/// The call object of a Retell event; transcript and numbers stay unread.
#[derive(Debug, Deserialize)]
struct RetellCall {
    call_id: String,
    #[serde(default)]
    call_status: Option<String>,
    #[serde(default)]
    start_timestamp: Option<i64>,
    #[serde(default)]
    end_timestamp: Option<i64>,
    #[serde(default)]
    disconnection_reason: Option<String>,
}

/// `POST /api/webhooks/retell`.
pub(crate) async fn retell(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let named = tenant_named(&headers, &uri);
    let tenant = match resolve_tenant(&state, named.as_deref()) {
        Ok(tenant) => tenant,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = signature::check_request(&state, &tenant, &headers, &body) {
        return bad_signature("retell", &e);
    }
    let Ok(event) = serde_json::from_slice::<RetellEvent>(&body) else {
        return malformed("retell");
    };
    metrics::counter!("webhook_events_total", "source" => "retell", "event" => event_label(&event.event))
        .increment(1);
    if event.event != "call_ended" {
        tracing::debug!(tenant = %tenant.tenant.id(), event = event_label(&event.event), "retell event acknowledged");
        return accepted("acknowledged");
    }
    call_ended(&state, &tenant, &event.call).await
}

/// Known event names as themselves, anything else as `other` (a metric
/// label must not take arbitrary text).
fn event_label(event: &str) -> &'static str {
    match event {
        "call_started" => "call_started",
        "call_ended" => "call_ended",
        "call_analyzed" => "call_analyzed",
        _ => "other",
    }
}

async fn call_ended(state: &AppState, tenant: &TenantRuntime, call: &RetellCall) -> Response {
    let duration_ms = match (call.start_timestamp, call.end_timestamp) {
        (Some(start), Some(end)) if end >= start => Some(end - start),
        _ => None,
    };
    // A call id is Retell's opaque handle, not personal data; the rest of
    // the call object (transcript, numbers, variables) is never logged.
    let released = state.inner.limiter.release(&call.call_id).await;
    tracing::info!(
        tenant = %tenant.tenant.id(),
        call_id = %call.call_id,
        status = call.call_status.as_deref().unwrap_or("-"),
        disconnection = call.disconnection_reason.as_deref().unwrap_or("-"),
        duration_ms,
        limiter_released = released.is_ok(),
        "call ended"
    );
    match released {
        Ok(()) => accepted("released"),
        Err(e) => {
            // Retell retries a failed webhook; the state expires by its TTL
            // meanwhile, so the event is not lost either way.
            tracing::warn!(error = %e, "call rate limiter state not released");
            protocol_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "Der Zähler des Anrufs konnte gerade nicht freigegeben werden.",
            )
        }
    }
}

// ----------------------------------------------------------------- Cal.com

/// `POST /api/webhooks/calcom/{tenant}`.
pub(crate) async fn calcom(
    State(state): State<AppState>,
    Path(tenant_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tenant = match resolve_tenant(&state, Some(&tenant_id)) {
        Ok(tenant) => tenant,
        Err(e) => return e.into_response(),
    };
    let Some(secret) = tenant.calcom_webhook_secret.as_deref() else {
        return protocol_error(
            StatusCode::NOT_FOUND,
            "webhook_not_configured",
            "Für dieses Unternehmen ist kein Cal.com-Webhook eingerichtet.",
        );
    };
    if let Err(e) = WebhookHeaders::from_headers(&headers).verify(secret, &body) {
        return bad_signature("calcom", &e);
    }
    let event = match WebhookEvent::from_slice(&body) {
        Ok(event) => event,
        Err(e) if e.kind() == WebhookErrorKind::Decode => return malformed("calcom"),
        Err(e) => {
            return protocol_error(e.status(), "invalid_event", "Die Nachricht ist ungültig.")
        }
    };
    let trigger = event.trigger_event.clone();
    metrics::counter!("webhook_events_total", "source" => "calcom", "event" => calcom_label(&trigger))
        .increment(1);
    let Some(booking) = event.booking().filter(|_| trigger.is_booking()) else {
        tracing::debug!(tenant = %tenant.tenant.id(), trigger = calcom_label(&trigger), "cal.com event ignored");
        return accepted("ignored");
    };
    invalidate_day(&tenant, booking.start).await;
    tracing::info!(
        tenant = %tenant.tenant.id(),
        trigger = calcom_label(&trigger),
        booking = %booking.uid,
        "cal.com booking event: cached slots of its day dropped"
    );
    accepted("invalidated")
}

/// The trigger for logs and metrics: unknown ones as `other` (a metric
/// label must not take arbitrary text).
fn calcom_label(trigger: &TriggerEvent) -> &'static str {
    match trigger {
        TriggerEvent::BookingCreated => "BOOKING_CREATED",
        TriggerEvent::BookingRescheduled => "BOOKING_RESCHEDULED",
        TriggerEvent::BookingCancelled => "BOOKING_CANCELLED",
        TriggerEvent::BookingRequested => "BOOKING_REQUESTED",
        TriggerEvent::BookingRejected => "BOOKING_REJECTED",
        TriggerEvent::BookingPaymentInitiated => "BOOKING_PAYMENT_INITIATED",
        TriggerEvent::BookingPaid => "BOOKING_PAID",
        _ => "other",
    }
}

/// Drops the cached slots of `start`'s local day for every service of the
/// tenant (a booking blocks the calendar for all of them).
async fn invalidate_day(tenant: &TenantRuntime, start: DateTime<Utc>) {
    let day = tenant.tenant.hours().local_date(start);
    for service in &tenant.services {
        tenant
            .finder
            .cache()
            .invalidate(tenant.tenant.id(), &service.event_type, day)
            .await;
    }
}
