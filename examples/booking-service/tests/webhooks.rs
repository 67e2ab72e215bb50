//! The webhooks a deployment receives: Retell's call events (`call_ended`
//! releases the call's limits) and Cal.com's booking events (a booking made
//! outside the agent drops the cached day, on every replica sharing the
//! Redis slot cache).

use axum::body::Body;
use axum::Router;
use booking_service::{app, sign, AppState, ServiceConfig};
use chrono::{DateTime, TimeZone, Utc};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use voxcal_calcom_client::webhook;
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

const RETELL_KEY: &str = "key_retell_webhooks";
const CALCOM_SECRET: &str = "whsec_praxis_test";

/// A demo tenant signed with a Retell key, and a Cal.com tenant at `base_url`
/// with a webhook secret.
fn config(base_url: &str) -> ServiceConfig {
    let text = format!(
        r#"
[[tenants]]
id = "demo"
retell_api_key_env = "DEMO_RETELL_KEY"
[[tenants.services]]
event_type = "beratung"
name = "Beratung"
duration_minutes = 30

[[tenants]]
id = "praxis"
name = "Praxis Berg"
calendar = "calcom"
api_key_env = "PRAXIS_CALCOM_KEY"
calcom_webhook_secret_env = "PRAXIS_CALCOM_WEBHOOK_SECRET"
base_url = "{base_url}"
[[tenants.services]]
event_type = "beratung"
name = "Beratung"
duration_minutes = 30
event_type_id = 42
"#
    );
    ServiceConfig::from_toml("booking.toml", &text, |var| match var {
        "DEMO_RETELL_KEY" => Some(RETELL_KEY.to_owned()),
        "PRAXIS_CALCOM_KEY" => Some("cal_test_key".to_owned()),
        "PRAXIS_CALCOM_WEBHOOK_SECRET" => Some(CALCOM_SECRET.to_owned()),
        _ => None,
    })
    .unwrap()
}

fn builder(base_url: &str, clock: &FakeClock) -> booking_service::AppStateBuilder {
    AppState::builder(config(base_url))
        .clock(clock.clone())
        .breaker_registry(BreakerRegistry::new(MemoryStore::new()), "in-memory")
        .calcom_retry(RetryConfig::none())
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

/// A Retell function call to the demo tenant, signed at the clock's now.
async fn function(app: &Router, clock: &FakeClock, call_id: &str) -> StatusCode {
    let body =
        json!({"call": {"call_id": call_id}, "name": "get_opening_hours", "args": {}}).to_string();
    let signature = sign(RETELL_KEY, body.as_bytes(), clock_ms(clock));
    let request = Request::post("/api/retell/function?tenant=demo")
        .header("content-type", "application/json")
        .header("x-retell-signature", signature)
        .body(Body::from(body))
        .unwrap();
    send(app, request).await.0
}

fn clock_ms(clock: &FakeClock) -> i64 {
    use voxcal_core::Clock;
    clock.now_utc().timestamp_millis()
}

fn retell_event(event: &str, call_id: &str) -> String {
    json!({"event": event, "call": {
        "call_id": call_id, "agent_id": "agent_1", "call_status": "ended",
        "start_timestamp": 1_791_000_000_000_i64, "end_timestamp": 1_791_000_095_000_i64,
        "disconnection_reason": "user_hangup",
        "transcript": "Agent: Wie ist Ihre Nummer? User: null eins fünf eins ...",
        "from_number": "+4915112345678"
    }})
    .to_string()
}

fn retell_webhook(body: &str, signature: Option<String>) -> Request<Body> {
    let mut request = Request::post("/api/webhooks/retell?tenant=demo")
        .header("content-type", "application/json");
    if let Some(signature) = signature {
        request = request.header("x-retell-signature", signature);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn call_ended_releases_the_calls_limits() {
    let clock = FakeClock::at(now());
    let app = app(builder("http://127.0.0.1:9", &clock).build().unwrap());
    // The default policy admits 10 calls of one function per call.
    for i in 0..10 {
        assert_eq!(
            function(&app, &clock, "call_end").await,
            StatusCode::OK,
            "call {i}"
        );
    }
    assert_eq!(
        function(&app, &clock, "call_end").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Unsigned, wrongly signed or stale events release nothing.
    let ended = retell_event("call_ended", "call_end");
    let ms = clock_ms(&clock);
    for (what, signature) in [
        ("unsigned", None),
        ("other key", Some(sign("key_other", ended.as_bytes(), ms))),
        (
            "stale",
            Some(sign(RETELL_KEY, ended.as_bytes(), ms - 6 * 60_000)),
        ),
        ("other body", Some(sign(RETELL_KEY, b"{}", ms))),
    ] {
        let (status, reply) = send(&app, retell_webhook(&ended, signature)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {reply}");
        assert_eq!(reply["status"], "invalid_signature", "{what}");
    }
    assert_eq!(
        function(&app, &clock, "call_end").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Other events are acknowledged and release nothing.
    for event in ["call_started", "call_analyzed", "some_future_event"] {
        let body = retell_event(event, "call_end");
        let signature = sign(RETELL_KEY, body.as_bytes(), ms);
        let (status, reply) = send(&app, retell_webhook(&body, Some(signature))).await;
        assert_eq!(status, StatusCode::OK, "{event}: {reply}");
        assert_eq!(reply["status"], "acknowledged", "{event}");
    }
    assert_eq!(
        function(&app, &clock, "call_end").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // A signed call_ended: the call starts fresh, another call keeps its count.
    for i in 0..3 {
        assert_eq!(
            function(&app, &clock, "call_other").await,
            StatusCode::OK,
            "other {i}"
        );
    }
    let signature = sign(RETELL_KEY, ended.as_bytes(), ms);
    let (status, reply) = send(&app, retell_webhook(&ended, Some(signature))).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["status"], "released");
    for i in 0..10 {
        assert_eq!(
            function(&app, &clock, "call_end").await,
            StatusCode::OK,
            "after release {i}"
        );
    }
    assert_eq!(
        function(&app, &clock, "call_end").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    for i in 3..10 {
        assert_eq!(
            function(&app, &clock, "call_other").await,
            StatusCode::OK,
            "other {i}"
        );
    }
    assert_eq!(
        function(&app, &clock, "call_other").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn retell_webhook_refuses_what_is_not_an_event() {
    let clock = FakeClock::at(now());
    let app = app(builder("http://127.0.0.1:9", &clock).build().unwrap());
    let ms = clock_ms(&clock);
    for body in [
        "",
        "not json",
        "{}",
        r#"{"event":"call_ended"}"#,
        r#"{"event":"call_ended","call":{}}"#,
    ] {
        let signature = sign(RETELL_KEY, body.as_bytes(), ms);
        let (status, reply) = send(&app, retell_webhook(body, Some(signature))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {reply}");
        assert_eq!(reply["status"], "malformed_event", "{body:?}");
    }
    let body = retell_event("call_ended", "c");
    let request = Request::post("/api/webhooks/retell?tenant=nobody")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(send(&app, request).await.0, StatusCode::NOT_FOUND);
}

// ----------------------------------------------------------------- Cal.com

/// Slots of Tuesday 2026-10-13 as the fake Cal.com serves them.
fn slots(starts: &[&str]) -> Value {
    let list: Vec<Value> = starts
        .iter()
        .map(|s| {
            let start = format!("2026-10-13T{s}:00.000+02:00");
            let end = DateTime::parse_from_rfc3339(&start).unwrap() + chrono::Duration::minutes(30);
            json!({"start": start, "end": end.to_rfc3339()})
        })
        .collect();
    json!({"status": "success", "data": {"2026-10-13": list}})
}

async fn serve_slots(fake: &MockServer, starts: &[&str]) {
    fake.reset().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slots(starts)))
        .mount(fake)
        .await;
}

async fn slot_requests(fake: &MockServer) -> usize {
    fake.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v2/slots")
        .count()
}

/// `check_availability` for Tuesday 14:30 at the Cal.com tenant.
async fn check(app: &Router, call_id: &str) -> Value {
    let body = json!({"call": {"call_id": call_id}, "name": "check_availability",
        "args": {"datum": "13.10.2026", "uhrzeit": "14:30", "dienstleistung": "Beratung"}})
    .to_string();
    let request = Request::post("/api/retell/function?tenant=praxis")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, reply) = send(app, request).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply
}

fn booking_event(trigger: &str, start: &str) -> String {
    let start = DateTime::parse_from_rfc3339(start).unwrap();
    let end = start + chrono::Duration::minutes(30);
    json!({"triggerEvent": trigger, "createdAt": "2026-10-12T06:01:00.000Z", "payload": {
        "uid": "web_booking_1", "bookingId": 991, "eventTypeId": 42,
        "startTime": start.to_rfc3339(), "endTime": end.to_rfc3339(),
        "title": "Beratung zwischen Praxis Berg und Erika Mustermann",
        "attendees": [{"name": "Erika Mustermann", "email": "erika@example.org", "timeZone": "Europe/Berlin"}],
        "status": "ACCEPTED"
    }})
    .to_string()
}

fn calcom_webhook(tenant: &str, body: &str, signature: Option<String>) -> Request<Body> {
    let mut request = Request::post(format!("/api/webhooks/calcom/{tenant}"))
        .header("content-type", "application/json")
        .header("x-cal-webhook-version", "2021-10-20");
    if let Some(signature) = signature {
        request = request.header("x-cal-signature-256", signature);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

/// Whether the reply offers Tuesday 14:30, as the slot or an alternative.
fn offered_1430(reply: &Value) -> bool {
    let data = &reply["data"];
    let offers =
        std::iter::once(&data["slot"]).chain(data["alternatives"].as_array().into_iter().flatten());
    offers
        .into_iter()
        .any(|o| o["date"] == "13.10.2026" && o["time"] == "14:30")
}

#[tokio::test]
async fn a_booking_made_on_the_website_is_not_offered_after_its_webhook() {
    let fake = MockServer::start().await;
    serve_slots(&fake, &["14:30", "15:00"]).await;
    let clock = FakeClock::at(now());
    let app = app(builder(&fake.uri(), &clock).build().unwrap());
    let first = check(&app, "call_web_1").await;
    assert_eq!(first["status"], "available", "{first}");
    assert!(offered_1430(&first), "{first}");

    // Someone books 14:30 on the website: Cal.com no longer offers it, but
    // the day is cached here.
    serve_slots(&fake, &["15:00"]).await;
    let cached = check(&app, "call_web_2").await;
    assert!(
        offered_1430(&cached),
        "the cache still holds the day: {cached}"
    );
    assert_eq!(slot_requests(&fake).await, 0, "answered from the cache");

    // Bad signatures, bodies and tenants change nothing.
    let body = booking_event("BOOKING_CREATED", "2026-10-13T14:30:00+02:00");
    let good = webhook::sign(CALCOM_SECRET, body.as_bytes());
    let cases = [
        (
            "unsigned",
            calcom_webhook("praxis", &body, None),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "other secret",
            calcom_webhook(
                "praxis",
                &body,
                Some(webhook::sign("other", body.as_bytes())),
            ),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "other body",
            calcom_webhook("praxis", "{}", Some(good.clone())),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "not json",
            calcom_webhook(
                "praxis",
                "nope",
                Some(webhook::sign(CALCOM_SECRET, b"nope")),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown tenant",
            calcom_webhook("nobody", &body, Some(good.clone())),
            StatusCode::NOT_FOUND,
        ),
        (
            "tenant without a webhook secret",
            calcom_webhook("demo", &body, Some(good.clone())),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (what, request, want) in cases {
        let (status, reply) = send(&app, request).await;
        assert_eq!(status, want, "{what}: {reply}");
    }
    // An unknown trigger is acknowledged and ignored.
    let ping = json!({"triggerEvent": "FORM_SUBMITTED", "createdAt": "2026-10-12T06:01:00Z",
                      "payload": {"responses": {"name": "Erika"}}})
    .to_string();
    let (status, reply) = send(
        &app,
        calcom_webhook(
            "praxis",
            &ping,
            Some(webhook::sign(CALCOM_SECRET, ping.as_bytes())),
        ),
    )
    .await;
    assert_eq!(
        (status, reply["status"].clone()),
        (StatusCode::OK, json!("ignored"))
    );
    let still = check(&app, "call_web_3").await;
    assert!(offered_1430(&still), "{still}");
    assert_eq!(slot_requests(&fake).await, 0);

    // The signed BOOKING_CREATED drops the day: 14:30 is gone.
    let (status, reply) = send(&app, calcom_webhook("praxis", &body, Some(good))).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["status"], "invalidated");
    let after = check(&app, "call_web_4").await;
    // The day is fetched again (and, 14:30 being gone, the days after it
    // for alternatives).
    assert!(slot_requests(&fake).await >= 1, "the day is fetched again");
    assert!(!offered_1430(&after), "{after}");
    assert!(after.to_string().contains("15:00"), "{after}");
}

/// Two replicas share the slot cache in Redis: the webhook lands on one,
/// the other stops offering the slot too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_on_one_replica_reaches_every_replica() {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let fake = MockServer::start().await;
    serve_slots(&fake, &["14:30", "15:00"]).await;
    let clock = FakeClock::at(now());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let conn = RedisConnection::connect(redis.url()).await.unwrap();
        let state = builder(&fake.uri(), &clock)
            .redis_slot_cache(conn, redis.key("slots"))
            .build()
            .unwrap();
        replicas.push(app(state));
    }
    let (a, b) = (&replicas[0], &replicas[1]);
    assert!(offered_1430(&check(a, "call_r1").await));
    serve_slots(&fake, &["15:00"]).await;
    // Replica B answers from the cache replica A filled.
    assert!(offered_1430(&check(b, "call_r2").await));
    assert_eq!(slot_requests(&fake).await, 0);

    let body = booking_event("BOOKING_CREATED", "2026-10-13T14:30:00+02:00");
    let signature = webhook::sign(CALCOM_SECRET, body.as_bytes());
    let (status, reply) = send(b, calcom_webhook("praxis", &body, Some(signature))).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let after = check(a, "call_r3").await;
    assert!(
        !offered_1430(&after),
        "replica A after B's webhook: {after}"
    );
    assert!(
        slot_requests(&fake).await >= 1,
        "replica A fetches the day again"
    );
}
