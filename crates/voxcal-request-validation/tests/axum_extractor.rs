//! The `ValidatedArgs` extractor inside a real axum `Router`, driven with
//! tower's `oneshot`.
#![cfg(feature = "axum")]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use voxcal_request_validation::{AppointmentRequest, FakeClock, ValidatedArgs, ValidationConfig};

async fn collect(request: ValidatedArgs<AppointmentRequest>) -> Json<Value> {
    Json(json!({
        "success": true,
        "status": "ok",
        "function": request.name,
        "call_id": request.call.and_then(|c| c.call_id),
        "data": request.args,
    }))
}

fn app(config: ValidationConfig) -> Router {
    Router::new()
        .route("/api/retell/collect_appointment", post(collect))
        .with_state(config)
}

fn config() -> ValidationConfig {
    // Friday 2026-11-27, 10:00 in Berlin.
    ValidationConfig::new(chrono_tz::Europe::Berlin).with_clock(FakeClock::at(
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(),
    ))
}

async fn post_json(app: Router, body: String) -> (StatusCode, Value) {
    let response = app
        .oneshot(
            Request::post("/api/retell/collect_appointment")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn valid_arguments_reach_the_handler_normalized() {
    let body = json!({
        "call": {"call_id": "call_123"},
        "name": "collect_appointment",
        "args": {
            "datum": "übermorgen", "uhrzeit": "halb drei", "name": "<b>Max</b> Müller",
            "email": "max punkt müller at gmx punkt de", "telefonnummer": "0171 1234567",
        },
    });
    let (status, json) = post_json(app(config()), body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["success"], true);
    assert_eq!(json["call_id"], "call_123");
    assert_eq!(json["function"], "collect_appointment");
    assert_eq!(json["data"]["date"], "2026-11-29");
    assert_eq!(json["data"]["time"], "14:30");
    assert_eq!(json["data"]["name"], "Max Müller");
    assert_eq!(json["data"]["email"], "max.müller@gmx.de");
    assert_eq!(json["data"]["phone"], "+491711234567");
}

#[tokio::test]
async fn validation_failure_is_http_200_with_a_speakable_message() {
    let body = json!({
        "call": {"call_id": "c"},
        "name": "collect_appointment",
        "args": {"datum": "gestern", "email": "max at gmx", "farbe": "blau"},
    });
    let (status, json) = post_json(app(config()), body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["success"], false);
    assert_eq!(json["status"], "validation_error");
    assert!(json["message"].as_str().unwrap().starts_with("Das Datum"));
    assert_eq!(json["errors"]["datum"][0]["code"], "invalid_date");
    assert_eq!(json["errors"]["email"][0]["code"], "invalid_email");
    assert_eq!(
        json["errors"]["email"][0]["message"],
        "Die E-Mail-Adresse scheint unvollständig zu sein. Können Sie sie bitte buchstabieren?"
    );
    assert_eq!(json["errors"]["farbe"][0]["code"], "unknown_field");
}

#[tokio::test]
async fn failure_status_is_configurable() {
    let config = config().with_rejection_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = json!({"call": {}, "name": "collect_appointment", "args": {"datum": "1.1.2020"}});
    let (status, json) = post_json(app(config), body.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json["errors"]["datum"][0]["code"], "past_date");
    assert!(json["message"].as_str().unwrap().contains("Vergangenheit"));
}

#[tokio::test]
async fn english_messages_on_request() {
    let config = config().with_lang(voxcal_request_validation::Lang::En);
    let body = json!({"args": {"datum": "{{current_date}}", "uhrzeit": "{{uhrzeit}}"}});
    let (status, json) = post_json(app(config), body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["errors"]["uhrzeit"][0]["code"], "unfilled_placeholder");
    assert_eq!(
        json["message"],
        "I still need the time. Could you tell me, please?"
    );
}

#[tokio::test]
async fn broken_json_is_a_protocol_error() {
    let (status, json) = post_json(app(config()), "{not json".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["success"], false);
    assert_eq!(json["status"], "bad_request");
}

#[test]
fn extractor_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ValidationConfig>();
    assert_send_sync::<ValidatedArgs<AppointmentRequest>>();
    assert_send_sync::<voxcal_request_validation::ValidationRejection>();
}
