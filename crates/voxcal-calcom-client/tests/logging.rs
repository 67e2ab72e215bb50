//! Everything the client logs (at every level, through `tracing`) is free of the API
//! key and the caller's personal data, across successes, retries, errors and the
//! booking-recovery path.

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use support::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use voxcal_calcom_client::{
    Attendee, BookingsQuery, CalcomClient, CreateBookingRequest, Credentials, FakeClock,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Records every event and span field as text.
#[derive(Clone, Default)]
struct Recorder {
    text: Arc<Mutex<String>>,
    events: Arc<Mutex<usize>>,
}

struct Collect<'a>(&'a mut String);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut text = self.text.lock().unwrap();
        span.record(&mut Collect(&mut text));
        text.push('\n');
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut text = self.text.lock().unwrap();
        values.record(&mut Collect(&mut text));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        *self.events.lock().unwrap() += 1;
        let mut text = self.text.lock().unwrap();
        event.record(&mut Collect(&mut text));
        text.push('\n');
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

const EMAIL: &str = "erika.geheim@example.com";
const NAME: &str = "Erika Geheimname";
const PHONE: &str = "+4930987654";

#[tokio::test]
async fn logs_carry_no_secrets_or_personal_data() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    let server = MockServer::start().await;
    let start = "2026-12-01T09:00:00.000Z";
    let end = "2026-12-01T09:30:00.000Z";
    // Create: a 503 (ambiguous), the check finds nothing, the retry succeeds.
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(success(booking("bk-1", start, end, EMAIL))),
        )
        .mount(&server)
        .await;
    // Listing: a 500 first (retried), then an empty page.
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(500).set_body_json(error_body(
            "InternalServerErrorException",
            &format!("failed for {EMAIL}"),
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success", "data": [], "pagination": pagination(0, 0, 1, 50, false)
        })))
        .mount(&server)
        .await;

    let clock = FakeClock::new();
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .clock(clock.clone())
        .retry(exact_retries(2))
        .build()
        .unwrap();
    let request = CreateBookingRequest::new(
        42,
        start.parse().unwrap(),
        Attendee::new(NAME, "Europe/Berlin")
            .email(EMAIL)
            .phone_number(PHONE),
    );
    let booking = client.create_booking(&request).await.unwrap();
    assert_eq!(booking.uid, "bk-1");

    let query = BookingsQuery {
        attendee_email: Some(EMAIL.to_owned()),
        ..BookingsQuery::new()
    };
    client.list_bookings(&query).await.unwrap();
    // An error and its Debug/Display, as an application would log them.
    let failing = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(error_body("BadRequestException", &format!("bad {EMAIL}"))),
        )
        .mount(&failing)
        .await;
    let other = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(failing.uri())
        .clock(clock.clone())
        .build()
        .unwrap();
    let err = other.me().await.unwrap_err();
    tracing::error!(error = %err, "application logs the error");

    let text = recorder.text.lock().unwrap().clone();
    assert!(*recorder.events.lock().unwrap() >= 5, "{text}");
    assert!(text.contains("retrying Cal.com request"), "{text}");
    assert!(
        text.contains("booking not found after an ambiguous failure"),
        "{text}"
    );
    for secret in [API_KEY, EMAIL, NAME, PHONE, "Erika"] {
        assert!(!text.contains(secret), "{secret} leaked into logs:\n{text}");
    }
    assert_eq!(clock.sleeps()[0], Duration::from_millis(100));
}
