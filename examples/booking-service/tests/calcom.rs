//! A tenant on Cal.com, pointed at a fake Cal.com (wiremock) on loopback:
//! bookings go through `calcom-client`, every call through the tenant's
//! circuit breaker (`calcom:praxis`). The service has one clock, which the
//! test moves.

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

const UNAVAILABLE: &str = "nicht verfügbar";

fn config(base_url: &str) -> ServiceConfig {
    config_for(base_url, "praxis")
}

/// Tests in this binary share the metrics recorder: tenants that fail on
/// purpose get their own id, so their counters stay apart.
fn config_for(base_url: &str, tenant: &str) -> ServiceConfig {
    let text = format!(
        r#"
[[tenants]]
id = "{tenant}"
name = "Praxis Berg"
calendar = "calcom"
api_key_env = "PRAXIS_CALCOM_KEY"
base_url = "{base_url}"
[[tenants.services]]
event_type = "beratung"
name = "Beratung"
duration_minutes = 30
event_type_id = 42

[admin]
token_env = "PRAXIS_ADMIN_TOKEN"
"#
    );
    ServiceConfig::from_toml("booking.toml", &text, |var| match var {
        "PRAXIS_CALCOM_KEY" => Some("cal_test_key".to_owned()),
        "PRAXIS_ADMIN_TOKEN" => Some(ADMIN_TOKEN.to_owned()),
        _ => None,
    })
    .unwrap()
}

/// The admin routes (`/metrics`, `/api/health/detailed`) are on the
/// public router behind this token.
const ADMIN_TOKEN: &str = "admin-token-for-calcom-tests";

fn service(base_url: &str, clock: &FakeClock) -> Router {
    let registry = BreakerRegistry::new(MemoryStore::new());
    let state = AppState::builder(config(base_url))
        .clock(clock.clone())
        .breaker_registry(registry, "in-memory")
        .calcom_retry(RetryConfig::none())
        .build()
        .unwrap();
    app(state)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn call(app: &Router, call_id: &str, name: &str, args: Value) -> Value {
    let body = json!({"call": {"call_id": call_id}, "name": name, "args": args}).to_string();
    let request = Request::post("/api/retell/function")
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

async fn breaker(app: &Router) -> Value {
    let (status, text) = get(app, "/api/health/detailed").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let health: Value = serde_json::from_str(&text).unwrap();
    let breakers = health["checks"]["breakers"].as_array().unwrap().clone();
    assert_eq!(breakers.len(), 1, "{health}");
    assert!(breakers[0]["name"].as_str().unwrap().starts_with("calcom:"));
    let mut b = breakers[0].clone();
    b["overall"] = health["status"].clone();
    b["calendar_source"] = health["checks"]["calendars"][0]["source"].clone();
    b
}

fn slots_body() -> Value {
    json!({"status": "success", "data": {"2026-10-13": [
        {"start": "2026-10-13T14:30:00.000+02:00", "end": "2026-10-13T15:00:00.000+02:00"},
        {"start": "2026-10-13T15:00:00.000+02:00", "end": "2026-10-13T15:30:00.000+02:00"}
    ]}})
}

fn booking(uid: &str, start: &str, end: &str) -> Value {
    json!({"status": "success", "data": {
        "id": 7, "uid": uid, "status": "accepted", "start": start, "end": end,
        "attendees": [], "eventTypeId": 42
    }})
}

fn check_args() -> Value {
    json!({"datum": "13.10.2026", "uhrzeit": "14:30", "dienstleistung": "Beratung"})
}

async fn slot_requests(fake: &MockServer) -> usize {
    fake.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v2/slots")
        .count()
}

/// `POST at` is answered once, with `status` and the booking `uid` from
/// `start` to `end`.
async fn expect_booking_post(
    fake: &MockServer,
    at: &str,
    status: u16,
    uid: &str,
    start: &str,
    end: &str,
) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(status).set_body_json(booking(uid, start, end)))
        .expect(1)
        .mount(fake)
        .await;
}

#[tokio::test]
async fn breaker_opens_after_five_failures_and_closes_after_probes() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "status": "error", "error": {"code": "INTERNAL_SERVER_ERROR", "message": "boom"}
        })))
        .mount(&fake)
        .await;
    let clock = FakeClock::at(now());
    let app = service(&fake.uri(), &clock);
    assert_eq!(breaker(&app).await["state"], "closed");

    for i in 0..5 {
        let reply = call(
            &app,
            &format!("call_{i}"),
            "check_availability",
            check_args(),
        )
        .await;
        assert_eq!(reply["success"], false, "{reply}");
        assert_eq!(reply["status"], "service_unavailable", "{reply}");
        let message = reply["message"].as_str().unwrap();
        assert!(message.contains(UNAVAILABLE), "{message}");
        assert_eq!(slot_requests(&fake).await, i + 1);
    }
    let open = breaker(&app).await;
    assert_eq!(open["state"], "open", "{open}");
    assert_eq!(open["status"], "degraded");
    assert_eq!(open["overall"], "degraded");
    assert_eq!(open["calendar_source"], "calcom");
    assert_eq!(open["time_until_half_open_ms"], 60_000, "{open}");

    // Open: the agent hears the same sentence, Cal.com hears nothing.
    for i in 5..8 {
        let reply = call(
            &app,
            &format!("call_{i}"),
            "check_availability",
            check_args(),
        )
        .await;
        assert_eq!(reply["status"], "service_unavailable", "{reply}");
        assert!(reply["message"].as_str().unwrap().contains(UNAVAILABLE));
    }
    assert_eq!(slot_requests(&fake).await, 5);
    // Bookings go through the same breaker: refused without a request.
    let book = call(
        &app,
        "call_book",
        "book_appointment",
        json!({"datum": "13.10.2026", "uhrzeit": "14:30", "dienstleistung": "Beratung",
               "name": "Max Müller", "email": "max@example.org"}),
    )
    .await;
    assert_eq!(book["status"], "service_unavailable", "{book}");
    assert!(book["message"].as_str().unwrap().contains(UNAVAILABLE));
    assert_eq!(fake.received_requests().await.unwrap().len(), 5);

    clock.advance(Duration::from_secs(20));
    let waiting = breaker(&app).await;
    assert_eq!(waiting["time_until_half_open_ms"], 40_000, "{waiting}");

    // Cal.com recovers; after the open duration the probes close it.
    fake.reset().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slots_body()))
        .mount(&fake)
        .await;
    clock.advance(Duration::from_secs(40));
    // Each probe asks for another day: the slot cache would answer a day
    // already fetched without asking Cal.com.
    let mut replies = Vec::new();
    for day in 13..16 {
        let args = json!({"datum": format!("{day}.10.2026"), "uhrzeit": "14:30",
                          "dienstleistung": "Beratung"});
        let reply = call(&app, &format!("probe_{day}"), "check_availability", args).await;
        assert_ne!(reply["status"], "service_unavailable", "{reply}");
        replies.push(reply);
        if breaker(&app).await["state"] == "closed" {
            break;
        }
    }
    let closed = breaker(&app).await;
    assert_eq!(closed["state"], "closed", "{closed} after {replies:?}");
    assert_eq!(closed["overall"], "healthy");
    // Two probes (the default `half_open_successes`) closed it.
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert!(slot_requests(&fake).await >= 2);
    let reply = call(&app, "after", "check_availability", check_args()).await;
    assert_eq!(reply["status"], "available", "{reply}");
    assert_eq!(reply["data"]["slot"]["time"], "14:30");

    let (_, metrics) = get(&app, "/metrics").await;
    for line in [
        r#"circuit_breaker_state{breaker="calcom:praxis",state="closed"} 1"#,
        r#"circuit_breaker_state{breaker="calcom:praxis",state="open"} 0"#,
        r#"circuit_breaker_transitions_total{breaker="calcom:praxis",from="closed",to="open"} 1"#,
        r#"circuit_breaker_transitions_total{breaker="calcom:praxis",from="open",to="half_open"} 1"#,
        r#"circuit_breaker_transitions_total{breaker="calcom:praxis",from="half_open",to="closed"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} missing in\n{metrics}");
    }
    assert!(
        metrics.contains(r#"circuit_breaker_rejections_total{breaker="calcom:praxis"}"#),
        "{metrics}"
    );
    // Every Cal.com slots request (cache miss) is counted and timed; the
    // misses the open breaker refused before the cache took a lock are
    // counted as `refused`.
    for line in [
        r#"slot_source_fetches_total{tenant="praxis",source="calcom",result="error"} 5"#,
        r#"slot_source_fetches_total{tenant="praxis",source="calcom",result="refused"} 3"#,
    ] {
        assert!(metrics.contains(line), "{line} missing in\n{metrics}");
    }
    assert!(
        metrics.contains(
            r#"upstream_request_seconds_count{tenant="praxis",source="calcom",operation="slots"}"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn books_cancels_and_reschedules_through_calcom() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slots_body()))
        .mount(&fake)
        .await;
    expect_booking_post(
        &fake,
        "/v2/bookings",
        201,
        "uid-1",
        "2026-10-13T12:30:00.000Z",
        "2026-10-13T13:00:00.000Z",
    )
    .await;
    expect_booking_post(
        &fake,
        "/v2/bookings/uid-1/reschedule",
        201,
        "uid-2",
        "2026-10-13T13:00:00.000Z",
        "2026-10-13T13:30:00.000Z",
    )
    .await;
    expect_booking_post(
        &fake,
        "/v2/bookings/uid-2/cancel",
        200,
        "uid-2",
        "2026-10-13T13:00:00.000Z",
        "2026-10-13T13:30:00.000Z",
    )
    .await;
    let app = service(&fake.uri(), &FakeClock::at(now()));

    let no_email = json!({"datum": "13.10.2026", "uhrzeit": "14:30",
                          "dienstleistung": "Beratung", "name": "Max Müller"});
    let refused = call(&app, "call_cal", "book_appointment", no_email).await;
    assert_eq!(refused["status"], "validation_error", "{refused}");
    assert!(refused.to_string().contains("email"), "{refused}");
    let args = json!({"datum": "13.10.2026", "uhrzeit": "14:30", "dienstleistung": "Beratung",
                      "name": "Max Müller", "email": "max@example.org"});
    let booked = call(&app, "call_cal", "book_appointment", args.clone()).await;
    assert_eq!(booked["status"], "booked", "{booked}");
    assert_eq!(booked["data"]["booking_id"], "uid-1");
    // Idempotent per call id + slot: no second POST (`expect(1)`).
    let again = call(&app, "call_cal", "book_appointment", args).await;
    assert_eq!(again["data"]["idempotent_replay"], true, "{again}");

    let sent = fake.received_requests().await.unwrap();
    let create = sent
        .iter()
        .find(|r| r.url.path() == "/v2/bookings")
        .unwrap();
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["eventTypeId"], 42);
    assert_eq!(body["start"], "2026-10-13T12:30:00.000Z");
    assert_eq!(body["attendee"]["timeZone"], "Europe/Berlin");
    assert_eq!(body["attendee"]["email"], "max@example.org");
    assert_eq!(
        create.headers.get("authorization").unwrap(),
        "Bearer cal_test_key"
    );

    let moved = call(
        &app,
        "call_cal",
        "reschedule_appointment",
        json!({"booking_id": "uid-1", "datum": "13.10.2026", "uhrzeit": "15:00"}),
    )
    .await;
    assert_eq!(moved["status"], "rescheduled", "{moved}");
    assert_eq!(moved["data"]["booking_id"], "uid-2");

    let cancelled = call(
        &app,
        "call_cal",
        "cancel_appointment",
        json!({"booking_id": "uid-2"}),
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let unknown = call(
        &app,
        "call_cal",
        "cancel_appointment",
        json!({"booking_id": "uid-1"}),
    )
    .await;
    assert_eq!(unknown["status"], "not_found", "{unknown}");
    fake.verify().await;
}

#[tokio::test]
async fn calcom_config_errors_name_the_key() {
    let base = r#"
[[tenants]]
id = "praxis"
calendar = "calcom"
"#;
    let service = "[[tenants.services]]\nevent_type = \"beratung\"\nname = \"Beratung\"\nduration_minutes = 30\n";
    let env = |var: &str| (var == "KEY").then(|| "k".to_owned());
    let cases = [
        (format!("{base}{service}"), "tenants[0].api_key_env"),
        (
            format!("{base}api_key_env = \"MISSING\"\n{service}"),
            "tenants[0].api_key_env",
        ),
        (
            format!("{base}api_key_env = \"KEY\"\n{service}"),
            "tenants[0].services[0].event_type_id",
        ),
        (
            format!(
                "{base}api_key_env = \"KEY\"\nbase_url = \"ftp://x\"\n{service}event_type_id = 1\n"
            ),
            "tenants[0].base_url",
        ),
    ];
    for (text, key) in cases {
        let err = ServiceConfig::from_toml("booking.toml", &text, env).unwrap_err();
        assert_eq!(err.key(), key, "{err}");
    }
    let ok = ServiceConfig::from_toml(
        "booking.toml",
        &format!("{base}api_key_env = \"KEY\"\n{service}event_type_id = 1\n"),
        env,
    )
    .unwrap();
    let debug = format!("{ok:?}");
    assert!(
        debug.contains("Calcom") && !debug.contains("\"k\""),
        "{debug}"
    );
}

#[test]
fn redis_settings_from_the_file_with_env_overrides() {
    use booking_service::{RedisTarget, DEFAULT_REDIS_PREFIX};
    let tenant = "[[tenants]]\nid = \"p\"\n[[tenants.services]]\nevent_type = \"b\"\nname = \"B\"\nduration_minutes = 30\n";
    let no_env = |_: &str| None;
    let file = format!("[redis]\nurl = \"redis://10.0.0.1:6379\"\nprefix = \"praxis\"\n{tenant}");
    let config = ServiceConfig::from_toml("booking.toml", &file, no_env).unwrap();
    let redis = config.redis.unwrap();
    assert_eq!(
        redis.target,
        RedisTarget::Standalone("redis://10.0.0.1:6379".into())
    );
    assert_eq!(redis.prefix, "praxis");
    assert_eq!(redis.timeout, std::time::Duration::from_millis(50));

    // The decision timeout comes from the file, and the environment wins.
    let timed = format!("[redis]\nurl = \"redis://10.0.0.1:6379\"\ntimeout_ms = 250\n{tenant}");
    let redis = ServiceConfig::from_toml("booking.toml", &timed, no_env)
        .unwrap()
        .redis
        .unwrap();
    assert_eq!(redis.timeout, std::time::Duration::from_millis(250));
    let env = |name: &str| (name == "BOOKING_REDIS_TIMEOUT_MS").then(|| "900".to_owned());
    let redis = ServiceConfig::from_toml("booking.toml", &timed, env)
        .unwrap()
        .redis
        .unwrap();
    assert_eq!(redis.timeout, std::time::Duration::from_millis(900));
    let env = |name: &str| (name == "BOOKING_REDIS_TIMEOUT_MS").then(|| "soon".to_owned());
    let err = ServiceConfig::from_toml("booking.toml", &timed, env).unwrap_err();
    assert!(
        err.to_string().contains("BOOKING_REDIS_TIMEOUT_MS"),
        "{err}"
    );

    // The environment wins over the file; the file's prefix stays.
    let env = |name: &str| {
        (name == "REDIS_CLUSTER_NODES").then(|| "redis://a:7000, redis://b:7001,".to_owned())
    };
    let redis = ServiceConfig::from_toml("booking.toml", &file, env)
        .unwrap()
        .redis
        .unwrap();
    assert_eq!(
        redis.target,
        RedisTarget::Cluster(vec!["redis://a:7000".into(), "redis://b:7001".into()])
    );
    assert_eq!(redis.prefix, "praxis");
    let env = |name: &str| (name == "BOOKING_REDIS_PREFIX").then(|| "other".to_owned());
    let redis = ServiceConfig::from_toml("booking.toml", &file, env)
        .unwrap()
        .redis
        .unwrap();
    assert_eq!(redis.prefix, "other");

    let cluster = format!("[redis]\ncluster_nodes = [\"redis://a:7000\"]\n{tenant}");
    let redis = ServiceConfig::from_toml("booking.toml", &cluster, no_env)
        .unwrap()
        .redis
        .unwrap();
    assert_eq!(
        redis.target,
        RedisTarget::Cluster(vec!["redis://a:7000".into()])
    );
    assert_eq!(redis.prefix, DEFAULT_REDIS_PREFIX);
    assert!(ServiceConfig::from_toml("booking.toml", tenant, no_env)
        .unwrap()
        .redis
        .is_none());

    for (text, key) in [
        ("[redis]\n", "redis"),
        (
            "[redis]\nurl = \"redis://a:1\"\ncluster_nodes = [\"redis://b:2\"]\n",
            "redis",
        ),
        ("[redis]\nurl = \"http://a:1\"\n", "redis.url"),
        ("[redis]\ncluster_nodes = []\n", "redis.cluster_nodes"),
        (
            "[redis]\nurl = \"redis://a:1\"\nprefix = \"a b\"\n",
            "redis.prefix",
        ),
        (
            "[redis]\nurl = \"redis://a:1\"\ntimeout_ms = 0\n",
            "redis.timeout_ms",
        ),
    ] {
        let err = ServiceConfig::from_toml("booking.toml", &format!("{text}{tenant}"), no_env)
            .unwrap_err();
        assert_eq!(err.key(), key, "{err}");
    }
    let both = |name: &str| match name {
        "REDIS_URL" => Some("redis://a:1".to_owned()),
        "REDIS_CLUSTER_NODES" => Some("redis://b:2".to_owned()),
        _ => None,
    };
    let err = ServiceConfig::from_toml("booking.toml", tenant, both).unwrap_err();
    assert_eq!(err.key(), "REDIS_URL");
}

/// Two replicas share the breaker through Redis: five failures on one open
/// it for both, and the other refuses without asking Cal.com.
#[tokio::test]
async fn breaker_state_is_shared_through_redis() {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&fake)
        .await;
    let clock = FakeClock::at(now());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let conn = RedisConnection::connect(redis.url()).await.unwrap();
        let store = voxcal_circuit_breaker::RedisStore::new(conn).with_prefix(redis.prefix());
        let registry = BreakerRegistry::new(store);
        let state = AppState::builder(config_for(&fake.uri(), "praxis-shared"))
            .clock(clock.clone())
            .breaker_registry(registry.clone(), "redis")
            .calcom_retry(RetryConfig::none())
            .build()
            .unwrap();
        replicas.push((app(state), registry));
    }
    let (a, registry_a) = &replicas[0];
    let (b, registry_b) = &replicas[1];
    for i in 0..5 {
        let reply = call(a, &format!("a_{i}"), "check_availability", check_args()).await;
        assert_eq!(reply["status"], "service_unavailable", "{reply}");
    }
    assert_eq!(breaker(a).await["state"], "open");
    assert!(registry_a.get("calcom:praxis-shared").synced().await);
    assert!(registry_b.get("calcom:praxis-shared").synced().await);
    let shared = breaker(b).await;
    assert_eq!(shared["state"], "open", "{shared}");
    assert_eq!(shared["backend"], "redis");
    let reply = call(b, "b_0", "check_availability", check_args()).await;
    assert_eq!(reply["status"], "service_unavailable", "{reply}");
    assert!(reply["message"].as_str().unwrap().contains(UNAVAILABLE));
    assert_eq!(slot_requests(&fake).await, 5);
}

/// `[calcom_breaker]` sets when the breakers open and for how long.
#[tokio::test]
async fn breaker_settings_from_the_file() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&fake)
        .await;
    let mut config = config_for(&fake.uri(), "praxis-short");
    let file = ServiceConfig::from_toml(
        "booking.toml",
        "[calcom_breaker]\nconsecutive_failures = 2\nopen_seconds = 5\n[[tenants]]\nid = \"x\"\n[[tenants.services]]\nevent_type = \"b\"\nname = \"B\"\nduration_minutes = 30\n",
        |_| None,
    )
    .unwrap();
    config.calcom_breaker = file.calcom_breaker;
    assert_eq!(config.calcom_breaker.consecutive_failures, 2);
    let clock = FakeClock::at(now());
    let state = AppState::builder(config)
        .clock(clock.clone())
        .breaker_registry(BreakerRegistry::new(MemoryStore::new()), "in-memory")
        .calcom_retry(RetryConfig::none())
        .build()
        .unwrap();
    let app = app(state);
    for i in 0..2 {
        let reply = call(&app, &format!("s_{i}"), "check_availability", check_args()).await;
        assert_eq!(reply["status"], "service_unavailable", "{reply}");
    }
    let open = breaker(&app).await;
    assert_eq!(open["state"], "open", "{open}");
    assert_eq!(open["time_until_half_open_ms"], 5_000, "{open}");
    assert_eq!(slot_requests(&fake).await, 2);

    for (text, key) in [
        (
            "consecutive_failures = 0",
            "calcom_breaker.consecutive_failures",
        ),
        ("open_seconds = 0", "calcom_breaker.open_seconds"),
        ("open_seconds = 7200", "calcom_breaker.open_seconds"),
    ] {
        let toml = format!("[calcom_breaker]\n{text}\n[[tenants]]\nid = \"x\"\n[[tenants.services]]\nevent_type = \"b\"\nname = \"B\"\nduration_minutes = 30\n");
        let err = ServiceConfig::from_toml("booking.toml", &toml, |_| None).unwrap_err();
        assert_eq!(err.key(), key, "{err}");
    }
}

/// A booking made through one replica (or before a restart) is found on
/// Cal.com by another: it cancels and reschedules it. Bookings of other
/// event types (another tenant on the same account) or already cancelled
/// ones stay "not found".
#[tokio::test]
async fn another_replica_cancels_and_reschedules_through_calcom() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slots_body()))
        .mount(&fake)
        .await;
    let get = |uid: &str, body: Value| {
        Mock::given(method("GET"))
            .and(path(format!("/v2/bookings/{uid}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    get(
        "uid-a",
        booking(
            "uid-a",
            "2026-10-13T12:30:00.000Z",
            "2026-10-13T13:00:00.000Z",
        ),
    )
    .mount(&fake)
    .await;
    get(
        "uid-b",
        booking(
            "uid-b",
            "2026-10-13T13:00:00.000Z",
            "2026-10-13T13:30:00.000Z",
        ),
    )
    .mount(&fake)
    .await;
    let mut foreign = booking(
        "uid-x",
        "2026-10-13T12:30:00.000Z",
        "2026-10-13T13:00:00.000Z",
    );
    foreign["data"]["eventTypeId"] = json!(999);
    get("uid-x", foreign).mount(&fake).await;
    let mut gone = booking(
        "uid-c",
        "2026-10-13T12:30:00.000Z",
        "2026-10-13T13:00:00.000Z",
    );
    gone["data"]["status"] = json!("cancelled");
    get("uid-c", gone).mount(&fake).await;
    expect_booking_post(
        &fake,
        "/v2/bookings/uid-a/cancel",
        200,
        "uid-a",
        "2026-10-13T12:30:00.000Z",
        "2026-10-13T13:00:00.000Z",
    )
    .await;
    expect_booking_post(
        &fake,
        "/v2/bookings/uid-b/reschedule",
        201,
        "uid-b2",
        "2026-10-13T12:30:00.000Z",
        "2026-10-13T13:00:00.000Z",
    )
    .await;
    // A replica that never saw these bookings.
    let app = service(&fake.uri(), &FakeClock::at(now()));
    let cancelled = call(
        &app,
        "call_other_replica",
        "cancel_appointment",
        json!({"booking_id": "uid-a"}),
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["data"]["slot"]["time"], "14:30", "{cancelled}");
    let moved = call(
        &app,
        "call_other_replica",
        "reschedule_appointment",
        json!({"booking_id": "uid-b", "datum": "13.10.2026", "uhrzeit": "14:30"}),
    )
    .await;
    assert_eq!(moved["status"], "rescheduled", "{moved}");
    assert_eq!(moved["data"]["booking_id"], "uid-b2");
    for uid in ["uid-x", "uid-c", "uid-unknown"] {
        let reply = call(
            &app,
            "call_other_replica",
            "cancel_appointment",
            json!({"booking_id": uid}),
        )
        .await;
        assert_eq!(reply["status"], "not_found", "{uid}: {reply}");
    }
    let sent = fake.received_requests().await.unwrap();
    assert!(
        !sent
            .iter()
            .any(|r| r.url.path().starts_with("/v2/bookings/uid-x/")
                || r.url.path().starts_with("/v2/bookings/uid-c/")),
        "nothing was sent for a foreign or cancelled booking"
    );
    fake.verify().await;
}
