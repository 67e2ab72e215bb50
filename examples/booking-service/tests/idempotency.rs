//! `book_appointment` is idempotent per call id + slot across replicas:
//! Retell retries a failed function call, and the retry may land on
//! another replica while the first attempt is still booking. With Redis the
//! record is shared; without it, concurrent attempts in one process wait
//! for each other. A fake Cal.com (wiremock) counts the booking POSTs.

use std::time::Duration;

use axum::body::Body;
use axum::Router;
use booking_service::{app, AppState, ServiceConfig};
use chrono::{DateTime, TimeZone, Utc};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use voxcal_calcom_client::RetryConfig;
use voxcal_circuit_breaker::{BreakerRegistry, MemoryStore};
use voxcal_core::redis::RedisConnection;
use voxcal_core::FakeClock;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Monday 2026-10-12, 08:00 in Berlin.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap()
}

fn config(base_url: &str) -> ServiceConfig {
    let text = format!(
        r#"
[[tenants]]
id = "praxis"
calendar = "calcom"
api_key_env = "KEY"
base_url = "{base_url}"
[[tenants.services]]
event_type = "beratung"
name = "Beratung"
duration_minutes = 30
event_type_id = 42
"#
    );
    ServiceConfig::from_toml("booking.toml", &text, |var| {
        (var == "KEY").then(|| "cal_test_key".to_owned())
    })
    .unwrap()
}

/// The fake Cal.com: Tuesday 14:30 and 15:00 free; a booking POST answers
/// after `delay` with `status`.
async fn fake(delay: Duration, status: u16) -> MockServer {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "status": "success", "data": {"2026-10-13": [
            {"start": "2026-10-13T14:30:00.000+02:00", "end": "2026-10-13T15:00:00.000+02:00"},
            {"start": "2026-10-13T15:00:00.000+02:00", "end": "2026-10-13T15:30:00.000+02:00"}
        ]}})))
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(
            ResponseTemplate::new(status)
                .set_delay(delay)
                .set_body_json(json!({"status": "success", "data": {
                    "id": 7, "uid": "uid-retry", "status": "accepted",
                    "start": "2026-10-13T12:30:00.000Z", "end": "2026-10-13T13:00:00.000Z",
                    "attendees": [], "eventTypeId": 42}})),
        )
        .mount(&fake)
        .await;
    fake
}

async fn posts(fake: &MockServer) -> usize {
    fake.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method == wiremock::http::Method::POST && r.url.path() == "/v2/bookings")
        .count()
}

fn replica(base_url: &str, clock: &FakeClock, redis: Option<(RedisConnection, String)>) -> Router {
    let mut builder = AppState::builder(config(base_url))
        .clock(clock.clone())
        .breaker_registry(BreakerRegistry::new(MemoryStore::new()), "in-memory")
        .calcom_retry(RetryConfig::none());
    if let Some((conn, prefix)) = redis {
        builder = builder.redis_idempotency(conn, prefix);
    }
    app(builder.build().unwrap())
}

async fn book(app: Router, call_id: &str) -> Value {
    let body = json!({"call": {"call_id": call_id}, "name": "book_appointment", "args": {
        "datum": "13.10.2026", "uhrzeit": "14:30", "dienstleistung": "Beratung",
        "name": "Max Müller", "email": "max@example.org"}})
    .to_string();
    let request = Request::post("/api/retell/function")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

async fn two_replicas(
    fake: &MockServer,
    clock: &FakeClock,
) -> (Router, Router, testkit::TestRedis) {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let conn = RedisConnection::connect(redis.url()).await.unwrap();
        replicas.push(replica(&fake.uri(), clock, Some((conn, redis.key("book")))));
    }
    let b = replicas.pop().unwrap();
    let a = replicas.pop().unwrap();
    (a, b, redis)
}

/// Both answers are the one booking; exactly one made it.
fn assert_one_booking(replies: &[Value]) {
    for reply in replies {
        assert_eq!(reply["status"], "booked", "{reply}");
        assert_eq!(reply["data"]["booking_id"], "uid-retry", "{reply}");
    }
    let first: Vec<bool> = replies
        .iter()
        .map(|r| r["data"]["idempotent_replay"] == false)
        .collect();
    assert_eq!(
        first.iter().filter(|f| **f).count(),
        1,
        "exactly one original answer: {replies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_on_another_replica_replays_the_booking() {
    let fake = fake(Duration::ZERO, 201).await;
    let clock = FakeClock::at(now());
    let (a, b, _redis) = two_replicas(&fake, &clock).await;
    let first = book(a, "call_retry").await;
    let retry = book(b, "call_retry").await;
    assert_one_booking(&[first, retry]);
    assert_eq!(posts(&fake).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_during_the_first_attempt_waits_for_it() {
    // The first attempt's POST takes 400 ms: the retry arrives meanwhile.
    let fake = fake(Duration::from_millis(400), 201).await;
    let clock = FakeClock::at(now());
    let (a, b, _redis) = two_replicas(&fake, &clock).await;
    let first = tokio::spawn(book(a.clone(), "call_inflight"));
    // Retell's retries, on both replicas, while the first is in flight.
    let retries: Vec<_> = [a, b.clone(), b]
        .into_iter()
        .map(|r| tokio::spawn(book(r, "call_inflight")))
        .collect();
    let mut replies = vec![first.await.unwrap()];
    for retry in retries {
        replies.push(retry.await.unwrap());
    }
    assert_one_booking(&replies);
    assert_eq!(posts(&fake).await, 1, "{replies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_attempts_in_one_process_book_once() {
    let fake = fake(Duration::from_millis(300), 201).await;
    let clock = FakeClock::at(now());
    let app = replica(&fake.uri(), &clock, None);
    let tasks: Vec<_> = (0..4)
        .map(|_| tokio::spawn(book(app.clone(), "call_local")))
        .collect();
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    assert_one_booking(&replies);
    assert_eq!(posts(&fake).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_leaves_the_slot_to_the_retry() {
    let failing = fake(Duration::ZERO, 503).await;
    let clock = FakeClock::at(now());
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let conn = RedisConnection::connect(redis.url()).await.unwrap();
    let prefix = redis.key("book");
    let a = replica(&failing.uri(), &clock, Some((conn.clone(), prefix.clone())));
    let failed = book(a, "call_fail").await;
    assert_eq!(failed["status"], "service_unavailable", "{failed}");
    // The retry (another replica, Cal.com back) books.
    let working = fake(Duration::ZERO, 201).await;
    let b = replica(&working.uri(), &clock, Some((conn, prefix)));
    let retry = book(b, "call_fail").await;
    assert_eq!(retry["status"], "booked", "{retry}");
    assert_eq!(retry["data"]["idempotent_replay"], false, "{retry}");
    assert_eq!(posts(&working).await, 1);
}

/// With the record's Redis gone the booking still goes through, and the
/// answer says its record could not be kept (so a retry elsewhere may not
/// replay it; Cal.com then refuses the taken slot instead of booking twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_while_redis_is_down_says_its_record_is_unavailable() {
    let fake = fake(Duration::ZERO, 201).await;
    let clock = FakeClock::at(now());
    let mut redis = tokio::task::spawn_blocking(testkit::RedisServer::start)
        .await
        .unwrap();
    let conn = RedisConnection::connect(&redis.url()).await.unwrap();
    let app = replica(&fake.uri(), &clock, Some((conn, "book".to_owned())));
    let kept = book(app.clone(), "call_up").await;
    assert_eq!(kept["data"]["idempotency_record"], "kept", "{kept}");
    let redis = tokio::task::spawn_blocking(move || {
        redis.kill();
        redis
    })
    .await
    .unwrap();
    let down = book(app, "call_down").await;
    assert_eq!(down["status"], "booked", "{down}");
    assert_eq!(down["data"]["idempotency_record"], "unavailable", "{down}");
    assert_eq!(posts(&fake).await, 2);
    drop(redis);
}

/// Cal.com after it took a booking for call `holder`: a second booking of
/// the slot is refused (409), and the booking is listed with the call id
/// the service put in its metadata.
async fn fake_after_booking(holder: &str) -> MockServer {
    let fake = MockServer::start().await;
    let booking = json!({
        "id": 7, "uid": "uid-retry", "status": "accepted",
        "start": "2026-10-13T12:30:00.000Z", "end": "2026-10-13T13:00:00.000Z",
        "attendees": [], "eventTypeId": 42, "metadata": {"call_id": holder}});
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "status": "success", "data": {"2026-10-13": [
            {"start": "2026-10-13T15:00:00.000+02:00", "end": "2026-10-13T15:30:00.000+02:00"}
        ]}})))
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "status": "error", "error": {"code": "ConflictException",
            "message": "User either already has booking at this time or is not available"}})))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success", "data": [booking],
            "pagination": {"totalItems": 1, "remainingItems": 0, "hasNextPage": false}})))
        .mount(&fake)
        .await;
    fake
}

/// Retell's retry lands on a replica that cannot read the shared record
/// (its Redis is down) after the first attempt booked: Cal.com refuses the
/// slot, and the retry finds the call's own booking there (by the call id
/// in its metadata) and replays it. Another call asking for that slot is
/// still told it is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_without_the_shared_record_finds_its_booking_in_calcom() {
    let fake = fake_after_booking("call_first").await;
    let clock = FakeClock::at(now());
    let mut redis = tokio::task::spawn_blocking(testkit::RedisServer::start)
        .await
        .unwrap();
    let conn = RedisConnection::connect(&redis.url()).await.unwrap();
    let b = replica(&fake.uri(), &clock, Some((conn, "book".to_owned())));
    let redis = tokio::task::spawn_blocking(move || {
        redis.kill();
        redis
    })
    .await
    .unwrap();
    let retry = book(b.clone(), "call_first").await;
    assert_eq!(retry["status"], "booked", "{retry}");
    assert_eq!(retry["data"]["booking_id"], "uid-retry", "{retry}");
    assert_eq!(retry["data"]["idempotent_replay"], true, "{retry}");
    assert_eq!(
        retry["data"]["idempotency_record"], "unavailable",
        "{retry}"
    );
    let other = book(b, "call_other").await;
    assert_eq!(other["status"], "slot_taken", "{other}");
    assert_eq!(posts(&fake).await, 2, "both asked Cal.com to book");
    drop(redis);
}
