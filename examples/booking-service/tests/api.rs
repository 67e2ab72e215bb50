//! The service through `app(state)` and `oneshot`, with a fixed clock.

use axum::body::Body;
use axum::Router;
use booking_service::{admin_app, app, sign, AppState, ServiceConfig, TenantConfig};
use chrono::{DateTime, TimeZone, Utc};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use voxcal_core::FakeClock;

/// Monday 2026-10-12, 08:00 in Berlin. The demo blocks 10:00–11:00 and
/// 14:00–14:30 on every open day.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap()
}

fn demo_state() -> AppState {
    AppState::builder(ServiceConfig::demo())
        .clock(FakeClock::at(now()))
        .build()
        .unwrap()
}

fn demo() -> Router {
    app(demo_state())
}

/// The demo on a clock the test moves.
fn demo_on_a_clock() -> (FakeClock, Router) {
    let clock = FakeClock::at(now());
    let state = AppState::builder(ServiceConfig::demo())
        .clock(clock.clone())
        .build()
        .unwrap();
    (clock, app(state))
}

fn body(call_id: &str, name: &str, args: Value) -> String {
    json!({"call": {"call_id": call_id, "agent_id": "agent_1"}, "name": name, "args": args})
        .to_string()
}

async fn send(app: &Router, path: &str, body: String) -> (StatusCode, Value) {
    let request = Request::post(path)
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

async fn call(app: &Router, call_id: &str, name: &str, args: Value) -> Value {
    let (status, json) = send(app, "/api/retell/function", body(call_id, name, args)).await;
    assert_eq!(status, StatusCode::OK, "{name}: {json}");
    assert!(
        json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{json}"
    );
    json
}

#[tokio::test]
async fn whole_call_books_and_cancels() {
    let app = demo();
    // Tomorrow 10:00 is taken in the demo calendar.
    let check = call(
        &app,
        "call_whole",
        "check_availability",
        json!({"datum": "morgen", "uhrzeit": "10 Uhr", "dienstleistung": "Beratung"}),
    )
    .await;
    assert_eq!(check["status"], "unavailable", "{check}");
    assert_eq!(check["data"]["available"], false);
    let alternatives = check["data"]["alternatives"].as_array().unwrap();
    assert!(!alternatives.is_empty());
    let alt = &alternatives[0];
    for field in ["start", "date", "time", "spoken"] {
        assert!(alt[field].is_string(), "{field} in {alt}");
    }
    assert_ne!(alt["time"], "10:00");
    let (date, time) = (alt["date"].as_str().unwrap(), alt["time"].as_str().unwrap());

    // Collect the alternative: first it asks for confirmation.
    let args = json!({"datum": date, "uhrzeit": time, "dienstleistung": "Beratung",
                      "name": "Max Müller", "telefonnummer": "0171 1234567"});
    let collect = call(&app, "call_whole", "collect_appointment", args.clone()).await;
    assert_eq!(collect["status"], "awaiting_confirmation", "{collect}");
    assert_eq!(collect["data"]["slot"]["start"], alt["start"]);
    assert!(collect["message"].as_str().unwrap().contains("buchen"));

    // Confirmed: booked.
    let mut confirmed = args.clone();
    confirmed["bestaetigung"] = json!(true);
    let booked = call(&app, "call_whole", "collect_appointment", confirmed).await;
    assert_eq!(booked["status"], "booked", "{booked}");
    assert_eq!(booked["success"], true);
    let booking_id = booked["data"]["booking_id"].as_str().unwrap().to_owned();

    // The slot is gone.
    let again = call(
        &app,
        "call_whole",
        "check_availability",
        json!({"datum": date, "uhrzeit": time, "dienstleistung": "Beratung"}),
    )
    .await;
    assert_eq!(again["status"], "unavailable", "{again}");
    assert!(again["data"]["alternatives"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["start"] != alt["start"]));

    // Cancel: the slot is back.
    let cancel = call(
        &app,
        "call_whole",
        "cancel_appointment",
        json!({"booking_id": booking_id}),
    )
    .await;
    assert_eq!(cancel["status"], "cancelled", "{cancel}");
    let back = call(
        &app,
        "call_whole",
        "check_availability",
        json!({"datum": date, "uhrzeit": time, "dienstleistung": "Beratung"}),
    )
    .await;
    assert_eq!(back["status"], "available", "{back}");
    assert_eq!(back["data"]["slot"]["start"], alt["start"]);

    // Cancelling twice finds nothing.
    let twice = call(
        &app,
        "call_whole",
        "cancel_appointment",
        json!({"booking_id": booking_id}),
    )
    .await;
    assert_eq!(twice["status"], "not_found");
    assert_eq!(twice["success"], false);
}

#[tokio::test]
async fn book_is_idempotent_per_call_and_slot() {
    let app = demo();
    let args = json!({"datum": "13.10.2026", "uhrzeit": "15:30", "name": "Erika Muster",
                      "dienstleistung": "Kontrolle"});
    let first = call(&app, "call_idem_a", "book_appointment", args.clone()).await;
    assert_eq!(first["status"], "booked", "{first}");
    assert_eq!(first["data"]["idempotent_replay"], false);
    let second = call(&app, "call_idem_a", "book_appointment_v2", args.clone()).await;
    assert_eq!(second["status"], "booked", "{second}");
    assert_eq!(second["data"]["booking_id"], first["data"]["booking_id"]);
    assert_eq!(second["data"]["idempotent_replay"], true);

    // Another call wants the same slot: taken, with alternatives.
    let other = call(&app, "call_idem_b", "book_appointment", args).await;
    assert_eq!(other["status"], "slot_taken", "{other}");
    assert_eq!(other["success"], false);
    assert!(!other["data"]["alternatives"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn reschedule_moves_the_booking() {
    let app = demo();
    let booked = call(
        &app,
        "call_resched",
        "book_appointment",
        json!({"datum": "14.10.2026", "uhrzeit": "9 Uhr", "name": "Max"}),
    )
    .await;
    assert_eq!(booked["status"], "booked", "{booked}");
    let old = booked["data"]["booking_id"].as_str().unwrap();
    let moved = call(
        &app,
        "call_resched",
        "reschedule_appointment",
        json!({"booking_id": old, "datum": "14.10.2026", "uhrzeit": "11:30"}),
    )
    .await;
    assert_eq!(moved["status"], "rescheduled", "{moved}");
    assert_eq!(moved["data"]["previous_booking_id"], old);
    assert_eq!(moved["data"]["slot"]["time"], "11:30");
    // The old slot is free again, the new one is not.
    let nine = call(
        &app,
        "call_resched",
        "check_availability",
        json!({"datum": "14.10.2026", "uhrzeit": "9:00"}),
    )
    .await;
    assert_eq!(nine["status"], "available", "{nine}");
    let half_twelve = call(
        &app,
        "call_resched",
        "check_availability",
        json!({"datum": "14.10.2026", "uhrzeit": "11:30"}),
    )
    .await;
    assert_eq!(half_twelve["status"], "unavailable", "{half_twelve}");
    // Rescheduling into a taken slot offers alternatives.
    let taken = call(
        &app,
        "call_resched",
        "reschedule_appointment",
        json!({"booking_id": moved["data"]["booking_id"], "datum": "14.10.2026", "uhrzeit": "10 Uhr"}),
    )
    .await;
    assert_eq!(taken["status"], "slot_taken", "{taken}");
}

#[tokio::test]
async fn collect_statuses() {
    let app = demo();
    let status = |v: &Value| v["status"].as_str().unwrap().to_owned();
    let invalid = call(
        &app,
        "call_st",
        "collect_appointment",
        json!({"datum": "gestern"}),
    )
    .await;
    assert_eq!(status(&invalid), "validation_error");
    assert!(invalid["data"]["errors"]["datum"].is_array(), "{invalid}");
    let unknown_field = call(
        &app,
        "call_st",
        "collect_appointment",
        json!({"datum": "morgen", "hack": "<script>"}),
    )
    .await;
    assert_eq!(status(&unknown_field), "validation_error");
    let past = call(
        &app,
        "call_st",
        "collect_appointment",
        json!({"datum": "heute", "uhrzeit": "07:30"}),
    )
    .await;
    assert_eq!(status(&past), "past_time", "{past}");
    let unavailable = call(
        &app,
        "call_st",
        "collect_appointment",
        json!({"datum": "morgen", "uhrzeit": "14 Uhr"}),
    )
    .await;
    assert_eq!(status(&unavailable), "unavailable", "{unavailable}");
    assert!(!unavailable["data"]["alternatives"]
        .as_array()
        .unwrap()
        .is_empty());
    let no_name = call(
        &app,
        "call_st",
        "collect_appointment",
        json!({"datum": "morgen", "uhrzeit": "16 Uhr", "bestaetigung": true}),
    )
    .await;
    assert_eq!(status(&no_name), "validation_error", "{no_name}");
    assert!(no_name["data"]["errors"]["name"].is_array());
    let service = call(
        &app,
        "call_st",
        "collect_appointment",
        json!({"datum": "morgen", "dienstleistung": "Tätowierung"}),
    )
    .await;
    assert_eq!(status(&service), "validation_error");
    assert!(service["message"].as_str().unwrap().contains("Beratung"));
    // Saturday is closed: the finder moves the wish, nothing is offered on Saturday.
    let weekend = call(
        &app,
        "call_st",
        "check_availability",
        json!({"datum": "17.10.2026", "uhrzeit": "10 Uhr"}),
    )
    .await;
    assert_ne!(weekend["data"]["slot"]["date"], "17.10.2026", "{weekend}");
}

#[tokio::test]
async fn every_function_on_its_dashed_route() {
    let app = demo();
    let cases = [
        (
            "check-availability",
            json!({"datum": "morgen", "uhrzeit": "16 Uhr"}),
            "available",
        ),
        (
            "collect-appointment",
            json!({"datum": "morgen", "uhrzeit": "16 Uhr"}),
            "awaiting_confirmation",
        ),
        (
            "book-appointment",
            json!({"datum": "morgen", "uhrzeit": "16 Uhr", "name": "Max"}),
            "booked",
        ),
        (
            "cancel-appointment",
            json!({"booking_id": "b999999"}),
            "not_found",
        ),
        (
            "reschedule-appointment",
            json!({"booking_id": "b999999", "datum": "morgen", "uhrzeit": "9 Uhr"}),
            "not_found",
        ),
        (
            "get-alternatives",
            json!({"datum": "morgen", "uhrzeit": "10 Uhr"}),
            "alternatives",
        ),
        (
            "find-next-available",
            json!({"dienstleistung": "Behandlung"}),
            "available",
        ),
        ("get-opening-hours", json!({}), "opening_hours"),
        ("list-services", json!({}), "services"),
    ];
    for (route, args, expected) in cases {
        let name = route.replace('-', "_");
        let (code, json) = send(
            &app,
            &format!("/api/retell/{route}"),
            body("call_routes", &name, args),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{route}: {json}");
        assert_eq!(json["status"], expected, "{route}: {json}");
    }
    let (_, hours) = send(
        &app,
        "/api/retell/get-opening-hours",
        body("call_x", "get_opening_hours", json!({})),
    )
    .await;
    assert_eq!(
        hours["message"],
        "Wir haben Montag bis Freitag von 9 bis 18 Uhr geöffnet."
    );
    assert_eq!(hours["data"]["time_zone"], "Europe/Berlin");
    let (_, services) = send(
        &app,
        "/api/retell/list-services",
        body("call_x", "list_services", json!({})),
    )
    .await;
    assert_eq!(services["data"]["services"].as_array().unwrap().len(), 3);
    // Next available for 08:00 Monday: 09:00 today.
    let (_, next) = send(
        &app,
        "/api/retell/find-next-available",
        body("call_y", "find_next_available", json!({})),
    )
    .await;
    assert_eq!(next["data"]["slot"]["date"], "12.10.2026", "{next}");
    assert_eq!(next["data"]["slot"]["time"], "09:00");
}

#[tokio::test]
async fn protocol_errors() {
    let app = demo();
    let (code, json) = send(&app, "/api/retell/function", "{not json".to_owned()).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{json}");
    let (code, _) = send(
        &app,
        "/api/retell/function",
        json!({"name": "list_services", "args": {}}).to_string(),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, _) = send(
        &app,
        "/api/retell/function",
        body("undefined", "list_services", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, json) = send(
        &app,
        "/api/retell/function",
        body("call_p", "order_pizza", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(json["status"], "unknown_function");
    let (code, _) = send(
        &app,
        "/api/retell/order-pizza",
        body("call_p", "order_pizza", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = send(
        &app,
        "/api/retell/list_services",
        body("call_p", "list_services", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, json) = send(
        &app,
        "/api/retell/function?tenant=nobody",
        body("call_p", "list_services", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{json}");
    assert_eq!(json["status"], "unknown_tenant");
    let (code, _) = send(
        &app,
        "/api/retell/function?tenant=demo",
        body("call_p", "list_services", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let huge = body(
        "call_p",
        "list_services",
        json!({"notiz": "x".repeat(100_000)}),
    );
    let (code, _) = send(&app, "/api/retell/function", huge.clone()).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    // The same body streamed in chunks without a Content-Length.
    let chunks: Vec<Result<http_body::Frame<bytes::Bytes>, std::io::Error>> = huge
        .into_bytes()
        .chunks(8 * 1024)
        .map(|c| Ok(http_body::Frame::data(bytes::Bytes::copy_from_slice(c))))
        .collect();
    let streamed = Body::new(http_body_util::StreamBody::new(futures_util::stream::iter(
        chunks,
    )));
    let request = Request::post("/api/retell/function")
        .header("content-type", "application/json")
        .body(streamed)
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn thirty_concurrent_calls_admit_exactly_ten() {
    let app = demo();
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                send(
                    &app,
                    "/api/retell/function",
                    body(
                        "call_loop",
                        "check_availability",
                        json!({"datum": "morgen", "uhrzeit": "16 Uhr"}),
                    ),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut limited = 0;
    for task in tasks {
        let (code, json) = task.await.unwrap();
        match code {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(json["status"], "rate_limited");
                limited += 1;
            }
            other => panic!("unexpected {other}: {json}"),
        }
    }
    assert_eq!((ok, limited), (10, 20));
    // The call is cooling down: another function is refused too, with Retry-After.
    let request = Request::post("/api/retell/function")
        .body(Body::from(body("call_loop", "list_services", json!({}))))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // Another call is unaffected.
    let (code, _) = send(
        &app,
        "/api/retell/function",
        body("call_other", "list_services", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    // Rejections are counted by the limit that refused them (the recorder is
    // shared by every test in this binary, hence "at least").
    let response = admin_app(demo_state())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let count = |limit: &str| -> u64 {
        let prefix = format!("rate_limit_rejections_total{{limit=\"{limit}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map_or(0, |v| v.trim().parse().unwrap())
    };
    assert!(count("per_function") >= 20, "{text}");
    assert!(count("cooldown") >= 1, "{text}");
}

fn signed_app() -> Router {
    let mut config = ServiceConfig::demo();
    let mut other = TenantConfig::demo("signed");
    other.retell_api_key = Some("key_retell_test".to_owned());
    config.tenants.push(other);
    let state = AppState::builder(config)
        .clock(FakeClock::at(now()))
        .build()
        .unwrap();
    app(state)
}

async fn send_signed(
    app: &Router,
    tenant: &str,
    body: String,
    signature: Option<String>,
) -> StatusCode {
    let mut request = Request::post("/api/retell/function").header("x-tenant-id", tenant);
    if let Some(signature) = signature {
        request = request.header("x-retell-signature", signature);
    }
    app.clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn signatures_are_checked_for_tenants_with_a_key() {
    let app = signed_app();
    let ms = now().timestamp_millis();
    let b = body("call_sig", "list_services", json!({}));
    let key = "key_retell_test";
    let cases = [
        (
            "valid",
            b.clone(),
            Some(sign(key, b.as_bytes(), ms)),
            StatusCode::OK,
        ),
        ("missing", b.clone(), None, StatusCode::UNAUTHORIZED),
        (
            "tampered",
            b.replace("call_sig", "call_sih"),
            Some(sign(key, b.as_bytes(), ms)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "wrong key",
            b.clone(),
            Some(sign("key_other", b.as_bytes(), ms)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "stale",
            b.clone(),
            Some(sign(key, b.as_bytes(), ms - 6 * 60_000)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "no timestamp",
            b.clone(),
            Some(format!(
                "d={}",
                sign(key, b.as_bytes(), ms).split("d=").nth(1).unwrap()
            )),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (name, body, signature, expected) in cases {
        assert_eq!(
            send_signed(&app, "signed", body, signature).await,
            expected,
            "{name}"
        );
    }
    // The demo tenant has no key: no signature needed.
    assert_eq!(send_signed(&app, "demo", b, None).await, StatusCode::OK);
    // Two tenants and none named: 400.
    let (code, _) = send(
        &app,
        "/api/retell/function",
        body("call_sig", "list_services", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tenants_do_not_see_each_others_bookings() {
    let mut config = ServiceConfig::demo();
    config.tenants.push(TenantConfig::demo("zweite"));
    let app = app(AppState::builder(config)
        .clock(FakeClock::at(now()))
        .build()
        .unwrap());
    let args = json!({"datum": "morgen", "uhrzeit": "16 Uhr", "name": "Max"});
    let (_, booked) = send(
        &app,
        "/api/retell/function?tenant=demo",
        body("call_t", "book_appointment", args),
    )
    .await;
    assert_eq!(booked["status"], "booked");
    let check = json!({"datum": "morgen", "uhrzeit": "16 Uhr"});
    let (_, demo) = send(
        &app,
        "/api/retell/function?tenant=demo",
        body("call_t2", "check_availability", check.clone()),
    )
    .await;
    assert_eq!(demo["status"], "unavailable");
    let (_, other) = send(
        &app,
        "/api/retell/function?tenant=zweite",
        body("call_t2", "check_availability", check),
    )
    .await;
    assert_eq!(other["status"], "available");
    // The other tenant cannot cancel it either.
    let (_, cancel) = send(
        &app,
        "/api/retell/function?tenant=zweite",
        body(
            "call_t2",
            "cancel_appointment",
            json!({"booking_id": booked["data"]["booking_id"]}),
        ),
    )
    .await;
    assert_eq!(cancel["status"], "not_found");
}

#[tokio::test]
async fn health_and_metrics() {
    let public = demo();
    let admin = admin_app(demo_state());
    let get = |app: &Router, path: &'static str| {
        let app = app.clone();
        async move {
            let response = app
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let request_id = response.headers().get("x-request-id").cloned();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                String::from_utf8(bytes.to_vec()).unwrap(),
                request_id,
            )
        }
    };
    for app in [&public, &admin] {
        let (code, text, request_id) = get(app, "/api/health").await;
        assert_eq!(code, StatusCode::OK);
        assert!(text.contains("ok"));
        assert!(request_id.is_some());
    }
    // The operator's routes are not on the port Retell calls.
    for path in ["/api/health/detailed", "/metrics"] {
        let (code, text, _) = get(&public, path).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{path}: {text}");
    }
    let (code, text, _) = get(&admin, "/api/health/detailed").await;
    assert_eq!(code, StatusCode::OK);
    let detailed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(detailed["status"], "healthy");
    assert_eq!(detailed["checks"]["rate_limiter"]["backend"], "in-memory");
    assert_eq!(detailed["checks"]["calendars"][0]["tenant"], "demo");
    call(&public, "call_metrics", "list_services", json!({})).await;
    let (code, text, _) = get(&admin, "/metrics").await;
    assert_eq!(code, StatusCode::OK);
    assert!(text.contains("booking_requests_total"), "{text}");
    for app in [&public, &admin] {
        let (code, _, _) = get(app, "/nowhere").await;
        assert_eq!(code, StatusCode::NOT_FOUND);
    }
    // The admin listener serves no function and no webhook.
    let (code, _) = send(
        &admin,
        "/api/retell/function",
        body("call_admin", "list_services", json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

/// With `[admin] token_env`, the operator's routes are also on the public
/// port, for `Authorization: Bearer <token>` only.
#[tokio::test]
async fn admin_routes_on_the_public_port_need_the_token() {
    let text = "[admin]\nbind = \"off\"\ntoken_env = \"TEST_ADMIN_TOKEN\"\n[[tenants]]\nid = \"demo\"\n[[tenants.services]]\nevent_type = \"b\"\nname = \"B\"\nduration_minutes = 30\n";
    let token = "s3cret-admin-token-0123";
    let config = ServiceConfig::from_toml("booking.toml", text, |var| {
        (var == "TEST_ADMIN_TOKEN").then(|| token.to_owned())
    })
    .unwrap();
    assert_eq!(config.admin.address(config.bind), None);
    assert!(
        !format!("{config:?}").contains(token),
        "Debug shows the token"
    );
    let app = app(AppState::builder(config)
        .clock(FakeClock::at(now()))
        .build()
        .unwrap());
    for path in ["/api/health/detailed", "/metrics"] {
        for (what, header, want) in [
            ("no token", None, StatusCode::UNAUTHORIZED),
            (
                "another token",
                Some("Bearer s3cret-admin-token-0124".to_owned()),
                StatusCode::UNAUTHORIZED,
            ),
            (
                "a prefix",
                Some("Bearer s3cret".to_owned()),
                StatusCode::UNAUTHORIZED,
            ),
            (
                "no scheme",
                Some(token.to_owned()),
                StatusCode::UNAUTHORIZED,
            ),
            ("the token", Some(format!("Bearer {token}")), StatusCode::OK),
        ] {
            let mut request = Request::get(path);
            if let Some(header) = header {
                request = request.header("authorization", header);
            }
            let response = app
                .clone()
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), want, "{path} with {what}");
            if want == StatusCode::UNAUTHORIZED {
                assert_eq!(response.headers()["www-authenticate"], "Bearer");
            }
        }
    }
    // A short token or an unset variable is a config error naming the key.
    for (env, problem) in [(Some("short"), "shorter than 16"), (None, "is not set")] {
        let err = ServiceConfig::from_toml("booking.toml", text, |_| env.map(str::to_owned))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("admin.token_env") && err.contains(problem),
            "{err}"
        );
    }
    // The default admin address: loopback at the public port + 1.
    let demo = ServiceConfig::demo();
    assert_eq!(
        demo.admin.address(demo.bind),
        Some("127.0.0.1:8081".parse().unwrap())
    );
    assert_eq!(
        demo.admin.address("0.0.0.0:0".parse().unwrap()),
        Some("127.0.0.1:0".parse().unwrap())
    );
}

#[tokio::test]
async fn cooldown_ends_after_five_minutes_on_the_service_clock() {
    // The one clock of the service is the in-memory limiter's clock too.
    let (clock, app) = demo_on_a_clock();
    let list = || body("call_cool", "list_services", json!({}));
    for _ in 0..10 {
        assert_eq!(
            send(&app, "/api/retell/function", list()).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        send(&app, "/api/retell/function", list()).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    clock.advance(std::time::Duration::from_secs(299));
    assert_eq!(
        send(
            &app,
            "/api/retell/function",
            body("call_cool", "get_opening_hours", json!({}))
        )
        .await
        .0,
        StatusCode::TOO_MANY_REQUESTS
    );
    clock.advance(std::time::Duration::from_secs(2));
    assert_eq!(
        send(
            &app,
            "/api/retell/function",
            body("call_cool", "get_opening_hours", json!({}))
        )
        .await
        .0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_with_the_same_event_types_stay_apart_with_the_redis_cache() {
    let redis = tokio::task::spawn_blocking(testkit::TestRedis::new)
        .await
        .unwrap();
    let conn = voxcal_core::redis::RedisConnection::connect(redis.url())
        .await
        .unwrap();
    let mut config = ServiceConfig::demo();
    // Same event type ids ("beratung", …), different calendars.
    config.tenants.push(TenantConfig::demo("zweite"));
    let state = AppState::builder(config)
        .clock(FakeClock::at(now()))
        .redis_slot_cache(conn.clone(), redis.key("slots"))
        .build()
        .unwrap();
    let app = app(state);
    let check = json!({"datum": "morgen", "uhrzeit": "16 Uhr"});
    // Both tenants fill the cache for the same day and event type.
    for tenant in ["demo", "zweite"] {
        let (_, r) = send(
            &app,
            &format!("/api/retell/function?tenant={tenant}"),
            body("call_rc", "check_availability", check.clone()),
        )
        .await;
        assert_eq!(r["status"], "available", "{tenant}: {r}");
    }
    let (_, booked) = send(
        &app,
        "/api/retell/function?tenant=demo",
        body(
            "call_rc",
            "book_appointment",
            json!({"datum": "morgen", "uhrzeit": "16 Uhr", "name": "Max"}),
        ),
    )
    .await;
    assert_eq!(booked["status"], "booked", "{booked}");
    let (_, demo) = send(
        &app,
        "/api/retell/function?tenant=demo",
        body("call_rc2", "check_availability", check.clone()),
    )
    .await;
    assert_eq!(demo["status"], "unavailable", "{demo}");
    let (_, other) = send(
        &app,
        "/api/retell/function?tenant=zweite",
        body("call_rc2", "check_availability", check),
    )
    .await;
    assert_eq!(other["status"], "available", "{other}");
    // The cache really is in Redis, one key set per tenant.
    let mut conn = conn;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", redis.key("slots")))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(keys.iter().any(|k| k.contains("{demo}")), "{keys:?}");
    assert!(keys.iter().any(|k| k.contains("{zweite}")), "{keys:?}");
}

#[tokio::test]
async fn metrics_count_slot_cache_hits_and_misses_per_tenant() {
    // A tenant of its own: the metrics recorder is global to the process.
    let mut config = ServiceConfig::demo();
    config.tenants = vec![TenantConfig::demo("cachecount")];
    let state = AppState::builder(config)
        .clock(FakeClock::at(now()))
        .build()
        .unwrap();
    let admin = admin_app(state.clone());
    let app = app(state);
    let scrape = || async {
        let response = admin
            .clone()
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let value = |text: &str, name: &str| -> u64 {
        let prefix = format!("{name}{{tenant=\"cachecount\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map_or_else(
                || panic!("{name} missing in {text}"),
                |v| v.trim().parse().unwrap(),
            )
    };
    let check = |call_id: &'static str| {
        call(
            &app,
            call_id,
            "check_availability",
            json!({"datum": "morgen", "uhrzeit": "11 Uhr", "dienstleistung": "Beratung"}),
        )
    };
    check("call_cache_1").await;
    let first = scrape().await;
    let (hits, misses) = (
        value(&first, "slot_cache_hits_total"),
        value(&first, "slot_cache_misses_total"),
    );
    assert!(
        misses >= 1,
        "the first look at a day asks the calendar: {first}"
    );
    // The same question again is answered from the cache only.
    check("call_cache_2").await;
    let second = scrape().await;
    assert_eq!(
        value(&second, "slot_cache_misses_total"),
        misses,
        "{second}"
    );
    assert!(value(&second, "slot_cache_hits_total") > hits, "{second}");
    assert_eq!(value(&second, "slot_source_errors_total"), 0);
}

/// The embedded demo tenant closes on the nationwide public holidays
/// (issue #16): New Year's Day 2027, a Friday, is not offered.
#[tokio::test]
async fn the_demo_tenant_is_closed_on_new_years_day() {
    let app = demo();
    let reply = call(
        &app,
        "call_neujahr",
        "check_availability",
        json!({"datum": "01.01.2027", "uhrzeit": "10 Uhr", "dienstleistung": "Beratung"}),
    )
    .await;
    assert_ne!(reply["status"], "available", "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("Neujahr"),
        "{reply}"
    );
    let offered = reply["data"]["alternatives"].as_array().unwrap();
    assert!(!offered.is_empty(), "{reply}");
    for offer in offered {
        assert_ne!(offer["date"], "01.01.2027", "{reply}");
    }
    let hours = call(&app, "call_neujahr", "get_opening_hours", json!({})).await;
    assert_eq!(hours["data"]["public_holidays"], "DE", "{hours}");
}

/// `available` and `exact` only for the wished slot itself; a wish moved
/// into business hours is an alternative, with its reason (issue #16).
#[tokio::test]
async fn a_wish_out_of_hours_is_no_exact_match() {
    let app = demo();
    // Friday 2026-10-16 and Saturday 2026-10-17; every slot of the demo is
    // on the half hour within Mon–Fri 09:00–18:00.
    for (datum, uhrzeit, reason) in [
        ("16.10.2026", "21 Uhr", "after_closing"),
        ("17.10.2026", "10 Uhr", "closed_day"),
        // A Sunday that is also a holiday: the holiday is named.
        ("03.10.2027", "10 Uhr", "holiday"),
        ("25.12.2026", "10 Uhr", "holiday"),
    ] {
        let reply = call(
            &app,
            "call_hours",
            "check_availability",
            json!({"datum": datum, "uhrzeit": uhrzeit, "dienstleistung": "Beratung"}),
        )
        .await;
        let what = format!("{datum} {uhrzeit}: {reply}");
        assert_eq!(reply["status"], "unavailable", "{what}");
        assert_eq!(reply["data"]["available"], false, "{what}");
        assert_eq!(reply["data"]["exact"], false, "{what}");
        assert_eq!(reply["data"]["reason"], reason, "{what}");
        assert!(reply["data"]["slot"].is_null(), "{what}");
        let alternatives = reply["data"]["alternatives"].as_array().unwrap();
        assert!(!alternatives.is_empty(), "{what}");
        // After closing, that day's last free slots come first; a closed
        // day offers other days only.
        if reason != "after_closing" {
            for offer in alternatives {
                assert_ne!(offer["date"], datum, "{what}");
            }
        }
    }
    // The wished slot itself, free: available and exact, no reason.
    let reply = call(
        &app,
        "call_hours",
        "check_availability",
        json!({"datum": "16.10.2026", "uhrzeit": "16:30", "dienstleistung": "Beratung"}),
    )
    .await;
    assert_eq!(reply["status"], "available", "{reply}");
    assert_eq!(reply["data"]["exact"], true, "{reply}");
    assert!(reply["data"].get("reason").is_none(), "{reply}");
}

/// A tenant with many services: `list_services` would answer more than
/// Retell's 15,000 characters; the reply is cut to fit and stays JSON.
#[tokio::test]
async fn replies_stay_under_retells_cap() {
    let mut config = ServiceConfig::demo();
    let mut big = TenantConfig::demo("big");
    big.services = (0..150)
        .map(|i| booking_service::ServiceOffer {
            event_type: format!("service-{i:03}"),
            name: format!("Ausführliche Beratung Nummer {i:03}"),
            duration_minutes: 30,
        })
        .collect();
    config.tenants.push(big);
    let state = AppState::builder(config)
        .clock(FakeClock::at(now()))
        .build()
        .unwrap();
    let request = Request::post("/api/retell/function")
        .header("x-tenant-id", "big")
        .body(Body::from(body("call_cap", "list_services", json!({}))))
        .unwrap();
    let response = app(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = std::str::from_utf8(&bytes).unwrap();
    let chars = text.chars().count();
    assert!(chars <= 15_000, "{chars} characters");
    let reply: Value = serde_json::from_str(text).unwrap();
    assert_eq!(reply["data"]["truncated"], true, "{reply}");
    let kept = reply["data"]["services"].as_array().unwrap().len();
    assert!((1..150).contains(&kept), "kept {kept}");
    assert_eq!(reply["data"]["services"][0]["id"], "service-000");

    // The demo's own answers are not touched.
    let small = call(&demo(), "call_cap2", "list_services", json!({})).await;
    assert!(small["data"].get("truncated").is_none(), "{small}");
}

/// Functions configured as GET or DELETE in Retell arrive without a body:
/// the signature covers the empty string, the call id is in
/// `X-Retell-Call-Id`, the arguments in the query.
#[tokio::test]
async fn bodyless_get_and_delete_functions_are_accepted() {
    let app = signed_app();
    let ms = now().timestamp_millis();
    let key = "key_retell_test";
    let request = |method: &str, uri: &str, call_id: Option<&str>, signature: Option<String>| {
        let mut r = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-tenant-id", "signed");
        if let Some(id) = call_id {
            r = r.header("x-retell-call-id", id);
        }
        if let Some(s) = signature {
            r = r.header("x-retell-signature", s);
        }
        r.body(Body::empty()).unwrap()
    };
    let read = |response: axum::response::Response| async move {
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
        )
    };
    for method in ["GET", "DELETE"] {
        let signed = Some(sign(key, b"", ms));
        let (status, reply) = read(
            app.clone()
                .oneshot(request(
                    method,
                    "/api/retell/list-services",
                    Some("call_get"),
                    signed.clone(),
                ))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{method}: {reply}");
        assert_eq!(reply["status"], "services", "{method}: {reply}");

        // Arguments from the query reach the function.
        let (status, reply) = read(
            app.clone()
                .oneshot(request(
                    method,
                    "/api/retell/check-availability?datum=morgen&uhrzeit=10%20Uhr",
                    Some("call_get"),
                    signed.clone(),
                ))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{method}: {reply}");
        assert_eq!(reply["status"], "unavailable", "{method}: {reply}");

        // The empty body is signed like any other: unsigned is refused.
        let (status, _) = read(
            app.clone()
                .oneshot(request(
                    method,
                    "/api/retell/list-services",
                    Some("call_get"),
                    None,
                ))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method}");
        // Without a call id: 400, not a panic.
        let (status, reply) = read(
            app.clone()
                .oneshot(request(method, "/api/retell/list-services", None, signed))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method}: {reply}");
    }
    // A POST still needs its JSON body.
    let (status, _) = read(
        app.clone()
            .oneshot(request(
                "POST",
                "/api/retell/list-services",
                Some("call_get"),
                Some(sign(key, b"", ms)),
            ))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// A request whose body never arrives ends with a 408 and a German sentence
/// once the service clock is past the request timeout (10 s by default), and
/// not before. The clock is moved; the test only waits for the sweeper
/// thread, which looks every 100 ms.
#[tokio::test]
async fn a_request_whose_body_never_arrives_times_out_on_the_service_clock() {
    let (clock, app) = demo_on_a_clock();
    // A body stream that stays open and sends nothing.
    let never = futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    let request = Request::post("/api/retell/function")
        .header("content-type", "application/json")
        .body(Body::from_stream(never))
        .unwrap();
    let mut response = Box::pin(app.oneshot(request));
    // 9.9 s on the service clock and 300 ms of real time (three sweeps): no
    // answer yet.
    assert!(futures_util::poll!(response.as_mut()).is_pending());
    clock.advance(std::time::Duration::from_millis(9_900));
    let early =
        tokio::time::timeout(std::time::Duration::from_millis(300), response.as_mut()).await;
    assert!(early.is_err(), "answered before the timeout: {early:?}");
    clock.advance(std::time::Duration::from_millis(100));
    // Bounded by 10 s of real time: 100 sweeps, room for a loaded machine.
    let response = tokio::time::timeout(std::time::Duration::from_secs(10), response)
        .await
        .expect("no 408 within 10 s after the deadline")
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json["status"], "timeout", "{json}");
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.contains("zu lange")),
        "{json}"
    );
}
