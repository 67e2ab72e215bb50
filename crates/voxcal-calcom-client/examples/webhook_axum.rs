//! `cargo run -p voxcal-calcom-client --example webhook_axum`
//!
//! A Cal.com webhook receiver in axum: the handler takes the raw body as `Bytes`
//! (the signature covers those exact bytes, so never let axum parse JSON first),
//! verifies `X-Cal-Signature-256` against the tenant's secret, decodes the event and
//! answers 200, or the error's status (401 signature, 400 body, 500 no secret).
//!
//! The example serves on an ephemeral loopback port, posts one signed
//! `BOOKING_CREATED` and one forged delivery to itself, prints both answers and
//! exits (non-zero if an answer was not the expected one).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use voxcal_calcom_client::webhook::{self, TriggerEvent, WebhookHeaders};

/// The receiver's state: the webhook secret configured in Cal.com.
#[derive(Clone)]
struct Receiver {
    secret: Arc<str>,
}

async fn cal_webhook(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let cal = WebhookHeaders::from_headers(&headers);
    let event = match webhook::verify_and_decode(receiver.secret.as_bytes(), &cal, &body) {
        Ok(event) => event,
        Err(err) => {
            // The kind only: never the body, which carries attendees' data.
            tracing::warn!(kind = ?err.kind(), version = cal.version.as_deref(), "Cal.com webhook rejected");
            return (err.status(), "rejected");
        }
    };
    match (&event.trigger_event, event.booking()) {
        (TriggerEvent::BookingCreated | TriggerEvent::BookingRescheduled, Some(booking)) => {
            tracing::info!(
                trigger = %event.trigger_event,
                uid = %booking.uid,
                event_type_id = booking.event_type_id,
                start = %booking.start,
                attendees = booking.attendees.len(),
                "booking confirmed"
            );
        }
        (TriggerEvent::BookingCancelled | TriggerEvent::BookingRejected, Some(booking)) => {
            tracing::info!(trigger = %event.trigger_event, uid = %booking.uid, "booking gone");
        }
        // Unknown triggers are kept as `TriggerEvent::Other(name)`: acknowledge them.
        _ => {}
    }
    (StatusCode::OK, "ok")
}

fn app(secret: &str) -> Router {
    Router::new()
        .route("/webhooks/cal", post(cal_webhook))
        .with_state(Receiver {
            secret: Arc::from(secret),
        })
}

const BODY: &str = r#"{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-12-01T08:00:00.000Z","payload":{"uid":"bk_1","eventTypeId":42,"startTime":"2026-12-01T09:00:00Z","endTime":"2026-12-01T09:30:00Z","attendees":[{"name":"Max Müller","email":"max@example.com","timeZone":"Europe/Berlin","language":{"locale":"de"}}],"status":"ACCEPTED"}}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let secret = "whsec_example";
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot bind a loopback port: {err}");
            return ExitCode::FAILURE;
        }
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}/webhooks/cal"),
        Err(err) => {
            eprintln!("no local address: {err}");
            return ExitCode::FAILURE;
        }
    };
    tokio::spawn(async move { axum::serve(listener, app(secret)).await });

    let http = reqwest::Client::new();
    let mut ok = true;
    for (label, signature, expected) in [
        ("signed", webhook::sign(secret, BODY.as_bytes()), 200),
        (
            "forged",
            webhook::sign("wrong secret", BODY.as_bytes()),
            401,
        ),
    ] {
        let answer = http
            .post(&url)
            .header(webhook::SIGNATURE_HEADER, signature)
            .header(webhook::VERSION_HEADER, "2021-10-20")
            .header("content-type", "application/json")
            .body(BODY)
            .send()
            .await;
        match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                println!("{label} delivery: HTTP {status}");
                ok &= status == expected;
            }
            Err(err) => {
                eprintln!("{label} delivery failed: {err}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
