//! Retries, back-off, `Retry-After`, and the no-double-booking path, with an injected
//! clock whose sleeps return at once and are recorded.

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;
use voxcal_calcom_client::{
    Attendee, CalcomClient, CreateBookingRequest, Credentials, ErrorKind, FakeClock, RetryConfig,
    SlotsQuery,
};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn slots_query() -> SlotsQuery {
    SlotsQuery::new(
        42,
        "2026-12-01T00:00:00Z".parse().unwrap(),
        "2026-12-02T00:00:00Z".parse().unwrap(),
    )
}

async fn failing_then_ok(server: &MockServer, failure: ResponseTemplate, failures: u64) {
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(failure)
        .up_to_n_times(failures)
        .expect(failures)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "2026-12-01": [{"start": "2026-12-01T09:00:00Z"}]
        }))))
        .mount(server)
        .await;
}

#[tokio::test]
async fn server_errors_are_retried_with_exponential_backoff() {
    let server = MockServer::start().await;
    failing_then_ok(&server, ResponseTemplate::new(503), 3).await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock, exact_retries(3));
    let slots = client.slots(&slots_query()).await.unwrap();
    assert_eq!(slots.len(), 1);
    assert_eq!(
        clock.sleeps(),
        [
            Duration::from_millis(100),
            Duration::from_millis(200),
            Duration::from_millis(400)
        ]
    );
}

#[tokio::test]
async fn retries_stop_at_the_budget() {
    let server = MockServer::start().await;
    failing_then_ok(&server, ResponseTemplate::new(500), 3).await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock, exact_retries(2));
    let err = client.slots(&slots_query()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Server);
    assert_eq!(clock.sleeps().len(), 2);
    // The third failure is still mounted; consume it so `expect(3)` holds.
    assert!(client.slots(&slots_query()).await.is_ok());
}

#[tokio::test]
async fn jittered_backoff_stays_within_bounds() {
    let server = MockServer::start().await;
    failing_then_ok(&server, ResponseTemplate::new(502), 4).await;
    let clock = FakeClock::new();
    let policy = RetryConfig {
        jitter: true,
        ..exact_retries(4)
    };
    let client = client_for(&server, &clock, policy);
    client.slots(&slots_query()).await.unwrap();
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 4);
    for (n, sleep) in sleeps.iter().enumerate() {
        let full = Duration::from_millis(100 * 2u64.pow(n as u32)).min(Duration::from_secs(1));
        assert!(*sleep <= full && *sleep >= full / 2, "retry {n}: {sleep:?}");
    }
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after() {
    let server = MockServer::start().await;
    failing_then_ok(
        &server,
        ResponseTemplate::new(429).insert_header("retry-after", "3"),
        1,
    )
    .await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock, exact_retries(2));
    client.slots(&slots_query()).await.unwrap();
    assert_eq!(clock.sleeps(), [Duration::from_secs(3)]);
}

#[tokio::test]
async fn rate_limit_honours_calcom_reset_header() {
    let server = MockServer::start().await;
    failing_then_ok(
        &server,
        ResponseTemplate::new(429)
            .insert_header("x-ratelimit-limit-default", "120")
            .insert_header("x-ratelimit-remaining-default", "0")
            .insert_header("x-ratelimit-reset-default", "7"),
        1,
    )
    .await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock, exact_retries(2));
    client.slots(&slots_query()).await.unwrap();
    assert_eq!(clock.sleeps(), [Duration::from_secs(7)]);
}

#[tokio::test]
async fn rate_limit_with_an_http_date() {
    let server = MockServer::start().await;
    // FakeClock starts at 2026-01-01T00:00:00Z.
    failing_then_ok(
        &server,
        ResponseTemplate::new(429).insert_header("retry-after", "Thu, 01 Jan 2026 00:00:04 GMT"),
        1,
    )
    .await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock, exact_retries(1));
    client.slots(&slots_query()).await.unwrap();
    assert_eq!(clock.sleeps(), [Duration::from_secs(4)]);
}

#[tokio::test]
async fn too_long_retry_after_is_returned_not_waited() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .expect(1)
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let policy = RetryConfig {
        max_retry_after: Duration::from_secs(5),
        ..exact_retries(3)
    };
    let client = client_for(&server, &clock, policy);
    let err = client.slots(&slots_query()).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(error_body("NotFoundException", "x")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock, exact_retries(3));
    assert_eq!(
        client.slots(&slots_query()).await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn writes_are_not_retried_on_server_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings/bk-1/cancel"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let client = client_for(&server, &clock, exact_retries(3));
    let err = client
        .cancel_booking("bk-1", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Server);
    assert!(clock.sleeps().is_empty());
}

// --- booking creation: never twice ---

const START: &str = "2026-12-01T09:00:00.000Z";
const END: &str = "2026-12-01T09:30:00.000Z";
const EMAIL: &str = "max@example.com";

fn create_request() -> CreateBookingRequest {
    CreateBookingRequest::new(
        42,
        START.parse().unwrap(),
        Attendee::new("Max Müller", "Europe/Berlin").email(EMAIL),
    )
}

fn slow_client(server: &MockServer, clock: &FakeClock) -> CalcomClient {
    CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .timeouts(short_timeouts())
        .retry(exact_retries(2))
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(success(booking("bk-new", START, END, EMAIL)))
}

fn list_of(bookings: Vec<serde_json::Value>) -> ResponseTemplate {
    let n = bookings.len() as u64;
    ResponseTemplate::new(200).set_body_json(json!({
        "status": "success",
        "data": bookings,
        "pagination": pagination(n, n, 1, 50, false)
    }))
}

#[tokio::test]
async fn timeout_then_found_returns_the_existing_booking() {
    let server = MockServer::start().await;
    // Cal.com creates the booking but answers too late.
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(created().set_delay(SLOW))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .and(query_param("attendeeEmail", EMAIL))
        .and(query_param("eventTypeIds", "42"))
        .and(query_param("afterStart", "2026-12-01T08:59:00.000Z"))
        .respond_with(list_of(vec![
            // Same attendee, other time: not ours.
            booking(
                "bk-other",
                "2026-12-01T11:00:00.000Z",
                "2026-12-01T11:30:00.000Z",
                EMAIL,
            ),
            booking("bk-existing", START, END, EMAIL),
        ]))
        .expect(1)
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let booking = slow_client(&server, &clock)
        .create_booking(&create_request())
        .await
        .unwrap();
    assert_eq!(booking.uid, "bk-existing");
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn timeout_then_not_found_creates_again_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(504).set_body_json(error_body("GatewayTimeout", "x")))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    // A cancelled booking at the same time does not count.
    let mut cancelled = booking("bk-cancelled", START, END, EMAIL);
    cancelled["status"] = json!("cancelled");
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(list_of(vec![cancelled]))
        .expect(1)
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let booking = slow_client(&server, &clock)
        .create_booking(&create_request())
        .await
        .unwrap();
    assert_eq!(booking.uid, "bk-new");
    assert_eq!(clock.sleeps(), [Duration::from_millis(100)]);
}

#[tokio::test]
async fn failed_check_means_no_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(created().set_delay(SLOW))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(error_body("UnauthorizedException", "x")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let err = slow_client(&server, &clock)
        .create_booking(&create_request())
        .await
        .unwrap_err();
    // The original failure is reported, and the POST was sent exactly once.
    assert_eq!(err.kind(), &ErrorKind::Timeout);
}

#[tokio::test]
async fn slot_taken_on_the_retry_finds_our_own_first_booking() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(created().set_delay(SLOW))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(409).set_body_json(error_body(
            "ConflictException",
            "User either already has booking at this time or is not available",
        )))
        .expect(1)
        .mount(&server)
        .await;
    // First check: not visible yet. Second check: there it is.
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(list_of(vec![]))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(list_of(vec![booking("bk-first", START, END, EMAIL)]))
        .expect(1)
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let booking = slow_client(&server, &clock)
        .create_booking(&create_request())
        .await
        .unwrap();
    assert_eq!(booking.uid, "bk-first");
}

#[tokio::test]
async fn phone_only_attendee_is_matched_by_name() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .and(query_param("attendeeName", "Erika Muster"))
        .respond_with(list_of(vec![{
            let mut b = booking("bk-phone", START, END, "generated@cal.example");
            b["attendees"][0]["name"] = json!("Erika Muster");
            b
        }]))
        .expect(1)
        .mount(&server)
        .await;
    let request = CreateBookingRequest::new(
        42,
        START.parse().unwrap(),
        Attendee::new("Erika Muster", "Europe/Berlin").phone_number("+4930111"),
    );
    let clock = FakeClock::new();
    let booking = client_for(&server, &clock, exact_retries(2))
        .create_booking(&request)
        .await
        .unwrap();
    assert_eq!(booking.uid, "bk-phone");
}

#[tokio::test]
async fn connect_failure_on_create_is_retried_directly() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let clock = FakeClock::new();
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(format!("http://{addr}"))
        .retry(exact_retries(2))
        .clock(clock.clone())
        .build()
        .unwrap();
    let err = client.create_booking(&create_request()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Network);
    // Two back-offs, no existence check (nothing reached Cal.com).
    assert_eq!(clock.sleeps().len(), 2);
}
