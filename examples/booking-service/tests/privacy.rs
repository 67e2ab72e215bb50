//! Logs at debug level never contain the caller's personal data or tokens.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use booking_service::{app, subscriber, AppState, LogFormat, ServiceConfig};
use chrono::{TimeZone, Utc};
use http::Request;
use serde_json::json;
use tower::ServiceExt;
use voxcal_core::FakeClock;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const SECRETS: [&str; 7] = [
    "max.mustermann@gmail.com",
    "erika@example.org",
    "+49 171 9876543",
    "01719876543",
    "Mustermann",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
    "Erika Beispielfrau",
];

async fn run(format: LogFormat) -> String {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(subscriber(capture.clone(), format, "debug"));
    let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap());
    let app = app(AppState::builder(ServiceConfig::demo())
        .clock(clock)
        .build()
        .unwrap());
    let calls = [
        (
            "collect_appointment",
            json!({"datum": "morgen", "uhrzeit": "16 Uhr", "name": "Max Mustermann",
            "email": "max.mustermann@gmail.com", "telefonnummer": "+49 171 9876543",
            "notiz": "Rückruf an Frau Erika Beispielfrau, erika@example.org, 01719876543"}),
        ),
        (
            "book_appointment",
            json!({"datum": "morgen", "uhrzeit": "16 Uhr", "name": "Max Mustermann",
            "email": "max.mustermann@gmail.com", "telefonnummer": "01719876543"}),
        ),
        (
            "check_availability",
            json!({"datum": "morgen", "uhrzeit": "16 Uhr", "name": "Erika Beispielfrau"}),
        ),
    ];
    for (name, args) in calls {
        let body =
            json!({"call": {"call_id": "call_privacy"}, "name": name, "args": args}).to_string();
        let request = Request::post("/api/retell/function")
            .header(
                "authorization",
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
            )
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let bytes = capture.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

fn assert_clean(logs: &str) {
    // The calls were logged (debug lines with the redacted arguments) ...
    assert!(logs.contains("function call"), "{logs}");
    assert!(logs.contains("function answered"), "{logs}");
    assert!(logs.contains("REDACTED"), "{logs}");
    // ... but nothing personal or secret left the process.
    for secret in SECRETS {
        assert!(!logs.contains(secret), "{secret} leaked:\n{logs}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn text_logs_contain_no_personal_data() {
    assert_clean(&run(LogFormat::Text).await);
}

#[tokio::test(flavor = "current_thread")]
async fn json_logs_contain_no_personal_data() {
    let logs = run(LogFormat::Json).await;
    assert_clean(&logs);
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}
