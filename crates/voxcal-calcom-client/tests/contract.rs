//! Contract tests against Cal.com's published OpenAPI v2 spec, read from
//! `$BOOKING_SHARED_DIR/calcom/openapi-v2.json` (skipped, with one stderr line, when
//! the variable is unset).
//!
//! - Every request the client produces (bodies, query parameter names,
//!   `cal-api-version`) matches the spec's operation.
//! - The spec's example responses decode into our types.
//! - The crate's own response fixtures match the spec's response schemas.
#![allow(clippy::print_stderr)]

#[path = "support/openapi.rs"]
mod openapi;
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use openapi::{Options, Validator};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use support::*;
use voxcal_calcom_client::{
    Attendee, BookingLocation, BookingsQuery, CancelBookingRequest, CreateBookingRequest,
    EventTypeTarget, EventTypesQuery, FakeClock, RescheduleBookingRequest, ReserveSlotRequest,
    RetryConfig, SlotsQuery,
};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The operations the client calls: (method, spec path).
const OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/v2/slots"),
    ("POST", "/v2/slots/reservations"),
    ("DELETE", "/v2/slots/reservations/{uid}"),
    ("POST", "/v2/bookings"),
    ("GET", "/v2/bookings"),
    ("GET", "/v2/bookings/{bookingUid}"),
    ("POST", "/v2/bookings/{bookingUid}/cancel"),
    ("POST", "/v2/bookings/{bookingUid}/reschedule"),
    ("GET", "/v2/event-types"),
    ("GET", "/v2/event-types/{eventTypeId}"),
    ("GET", "/v2/me"),
];

fn load_spec(test: &str) -> Option<Value> {
    let Some(dir) = std::env::var_os("BOOKING_SHARED_DIR") else {
        eprintln!("{test}: skipped, BOOKING_SHARED_DIR is not set");
        return None;
    };
    let file: PathBuf = [
        dir.as_os_str(),
        "calcom".as_ref(),
        "openapi-v2.json".as_ref(),
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|err| panic!("BOOKING_SHARED_DIR is set but {file:?}: {err}"));
    Some(serde_json::from_str(&text).expect("spec is JSON"))
}

fn operation<'a>(spec: &'a Value, verb: &str, template: &str) -> &'a Value {
    let op = &spec["paths"][template][verb.to_ascii_lowercase()];
    assert!(op.is_object(), "spec has no {verb} {template}");
    op
}

/// The spec path template a concrete request path belongs to.
fn template_of(verb: &str, concrete: &str) -> &'static str {
    let parts: Vec<&str> = concrete.trim_matches('/').split('/').collect();
    OPERATIONS
        .iter()
        .find(|(v, template)| {
            let t: Vec<&str> = template.trim_matches('/').split('/').collect();
            *v == verb
                && t.len() == parts.len()
                && t.iter()
                    .zip(&parts)
                    .all(|(t, p)| t.starts_with('{') || t == p)
        })
        .map(|(_, template)| *template)
        .unwrap_or_else(|| panic!("no spec operation for {verb} {concrete}"))
}

fn request_schema<'a>(spec: &'a Value, verb: &str, template: &str) -> &'a Value {
    let schema =
        &operation(spec, verb, template)["requestBody"]["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "no request schema for {verb} {template}"
    );
    schema
}

fn response_schema<'a>(spec: &'a Value, verb: &str, template: &str, status: &str) -> &'a Value {
    let schema = &operation(spec, verb, template)["responses"][status]["content"]
        ["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "no {status} schema for {verb} {template}"
    );
    schema
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A server that answers every operation with a fixture.
async fn accepting_server() -> MockServer {
    let server = MockServer::start().await;
    let one = booking(
        "bk-1",
        "2026-12-01T09:00:00.000Z",
        "2026-12-01T09:30:00.000Z",
        "max@example.com",
    );
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({}))))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/slots/reservations"))
        .respond_with(ResponseTemplate::new(201).set_body_json(success(reservation("r-1"))))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/v2/bookings(/[^/]+/(cancel|reschedule))?$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(success(one.clone())))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success", "data": [one.clone()], "pagination": pagination(1, 1, 1, 100, false)
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v2/bookings/[^/]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(one)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/event-types"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!([event_type(42)]))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v2/event-types/[0-9]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(event_type(42))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .mount(&server)
        .await;
    server
}

fn create_variants() -> Vec<CreateBookingRequest> {
    let start = at("2026-12-01T09:00:00Z");
    let full = Attendee::new("Max Müller", "Europe/Berlin")
        .email("max@example.com")
        .phone_number("+4930123456")
        .language("en");
    let phone_only = Attendee::new("Erika Muster", "Europe/Berlin").phone_number("+4930111");
    let locations = [
        BookingLocation::Address,
        BookingLocation::AttendeeAddress {
            address: "Hauptstr. 1, Berlin".to_owned(),
        },
        BookingLocation::AttendeeDefined {
            location: "Café am Markt".to_owned(),
        },
        BookingLocation::AttendeePhone {
            phone: "+4930123456".to_owned(),
        },
        BookingLocation::Integration {
            integration: "cal-video".to_owned(),
        },
        BookingLocation::Link,
        BookingLocation::Phone,
        BookingLocation::OrganizersDefaultApp,
    ];
    let mut out = vec![
        CreateBookingRequest::new(42, start, phone_only.clone()),
        CreateBookingRequest::new(
            EventTypeTarget::user_slug("beratung", "berg"),
            start,
            full.clone(),
        )
        .length_in_minutes(60)
        .metadata("call_id", "call_1")
        .booking_field("notes", "Rückruf")
        .booking_field("count", 3),
        CreateBookingRequest::new(
            EventTypeTarget::UserSlug {
                slug: "beratung".to_owned(),
                username: "berg".to_owned(),
                organization_slug: Some("org".to_owned()),
            },
            start,
            full.clone(),
        ),
        CreateBookingRequest::new(
            EventTypeTarget::team_slug("beratung", "praxis"),
            start,
            phone_only,
        ),
    ];
    for location in locations {
        let mut request = CreateBookingRequest::new(42, start, full.clone()).location(location);
        request.guests = vec!["gast@example.com".to_owned()];
        out.push(request);
    }
    out
}

#[tokio::test]
async fn every_request_the_client_produces_matches_the_spec() {
    let Some(spec) = load_spec("every_request_the_client_produces_matches_the_spec") else {
        return;
    };
    let server = accepting_server().await;
    let client = client_for(&server, &FakeClock::new(), RetryConfig::none());
    let start = at("2026-12-01T00:00:00Z");
    let end = at("2026-12-02T00:00:00Z");

    // Reads with every query parameter the client can set.
    let mut slots = SlotsQuery::new(
        EventTypeTarget::TeamSlug {
            slug: "beratung".to_owned(),
            team_slug: "praxis".to_owned(),
            organization_slug: Some("org".to_owned()),
        },
        start,
        end,
    )
    .time_zone("Europe/Berlin")
    .duration(30)
    .with_ends();
    slots.booking_uid_to_reschedule = Some("bk-0".to_owned());
    client.slots(&slots).await.unwrap();
    client
        .slots(&SlotsQuery::new(42, start, end))
        .await
        .unwrap();
    client
        .slots(&SlotsQuery::new(
            EventTypeTarget::user_slug("b", "berg"),
            start,
            end,
        ))
        .await
        .unwrap();
    let list = BookingsQuery {
        status: vec!["upcoming".to_owned(), "past".to_owned()],
        attendee_email: Some("max@example.com".to_owned()),
        attendee_name: Some("Max".to_owned()),
        event_type_ids: vec![42, 43],
        sort_start: Some(voxcal_calcom_client::SortOrder::Asc),
        skip: Some(10),
        ..BookingsQuery::new().between(start, end).take(10)
    };
    client.list_bookings(&list).await.unwrap();
    client.booking("bk-1").await.unwrap();
    client
        .event_types(&EventTypesQuery {
            username: Some("berg".to_owned()),
            event_slug: Some("beratung".to_owned()),
            org_slug: Some("org".to_owned()),
            org_id: Some(7),
        })
        .await
        .unwrap();
    client.event_type(42).await.unwrap();
    client.me().await.unwrap();

    // Writes in every shape.
    client
        .reserve_slot(&ReserveSlotRequest::new(42, at("2026-12-01T09:00:00Z")))
        .await
        .unwrap();
    client
        .reserve_slot(&ReserveSlotRequest {
            slot_duration: Some(30),
            reservation_duration: Some(10),
            ..ReserveSlotRequest::new(42, at("2026-12-01T09:00:00Z"))
        })
        .await
        .unwrap();
    client.release_slot("r-1").await.unwrap();
    let creates = create_variants();
    for request in &creates {
        client.create_booking(request).await.unwrap();
    }
    for cancel in [
        CancelBookingRequest::default(),
        CancelBookingRequest::with_reason("verhindert"),
        CancelBookingRequest {
            cancellation_reason: Some("Serie endet".to_owned()),
            cancel_subsequent_bookings: Some(true),
        },
    ] {
        client.cancel_booking("bk-1", &cancel).await.unwrap();
    }
    for reschedule in [
        RescheduleBookingRequest::new(at("2026-12-02T10:00:00Z")),
        RescheduleBookingRequest {
            rescheduled_by: Some("berg@praxis.example".to_owned()),
            ..RescheduleBookingRequest::new(at("2026-12-02T10:00:00Z")).reason("Terminwunsch")
        },
    ] {
        client
            .reschedule_booking("bk-1", &reschedule)
            .await
            .unwrap();
    }

    let validator = Validator::new(&spec, Options::request_body());
    let requests: Vec<Request> = server.received_requests().await.unwrap();
    let mut per_operation: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let mut bodies = 0;
    for request in &requests {
        let verb = request.method.as_str().to_owned();
        let template = template_of(&verb, request.url.path());
        let op = operation(&spec, &verb, template);
        *per_operation.entry((verb.clone(), template)).or_default() += 1;
        let params = op["parameters"].as_array().cloned().unwrap_or_default();

        // cal-api-version: exactly the spec's required default, or absent when the
        // spec has no such header.
        let version_param = params
            .iter()
            .find(|p| p["in"] == "header" && p["name"] == "cal-api-version");
        let sent = request
            .headers
            .get("cal-api-version")
            .map(|v| v.to_str().unwrap().to_owned());
        match version_param {
            Some(p) => assert_eq!(
                sent.as_deref(),
                p["schema"]["default"].as_str(),
                "{verb} {template}"
            ),
            None => assert_eq!(sent, None, "{verb} {template}"),
        }

        // Every query parameter is one the operation declares.
        let declared: Vec<&str> = params
            .iter()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        for (name, _) in request.url.query_pairs() {
            assert!(
                declared.contains(&name.as_ref()),
                "{verb} {template}: query {name} not in spec"
            );
        }
        // Required query parameters are present.
        for p in params
            .iter()
            .filter(|p| p["in"] == "query" && p["required"] == true)
        {
            let name = p["name"].as_str().unwrap();
            assert!(
                request.url.query_pairs().any(|(n, _)| n == name),
                "{verb} {template}: required {name} missing"
            );
        }

        if !request.body.is_empty() {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let schema = request_schema(&spec, &verb, template);
            if let Err(errors) = validator.validate(schema, &body) {
                panic!("{verb} {template}: body {body} violates the spec: {errors:#?}");
            }
            bodies += 1;
        }
    }
    // Every operation was exercised, and every write had its body checked.
    assert_eq!(per_operation.len(), OPERATIONS.len(), "{per_operation:?}");
    assert_eq!(bodies, 2 + creates.len() + 3 + 2);
}

fn attendee_strategy() -> impl Strategy<Value = Attendee> {
    (
        // A name has at least one letter (an all-blank name is rejected client-side).
        "[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß .'-]{0,39}",
        proptest::option::of("[a-z0-9.+]{1,12}@[a-z]{1,10}\\.(de|com)"),
        proptest::option::of("\\+49[0-9]{6,11}"),
        prop::sample::select(vec!["Europe/Berlin", "Europe/Vienna", "UTC"]),
        prop::sample::select(vec!["de", "en", "fr"]),
    )
        .prop_map(|(name, email, phone, tz, lang)| {
            let mut attendee = Attendee::new(name, tz).language(lang);
            attendee.email = email;
            attendee.phone_number = phone;
            attendee
        })
}

fn target_strategy() -> impl Strategy<Value = EventTypeTarget> {
    prop_oneof![
        (1u64..1_000_000).prop_map(EventTypeTarget::Id),
        ("[a-z-]{1,20}", "[a-z]{1,12}").prop_map(|(s, u)| EventTypeTarget::user_slug(s, u)),
        ("[a-z-]{1,20}", "[a-z]{1,12}").prop_map(|(s, t)| EventTypeTarget::team_slug(s, t)),
    ]
}

fn location_strategy() -> impl Strategy<Value = Option<BookingLocation>> {
    proptest::option::of(prop_oneof![
        Just(BookingLocation::Address),
        Just(BookingLocation::Phone),
        Just(BookingLocation::Link),
        ".{0,30}".prop_map(|address| BookingLocation::AttendeeAddress { address }),
        "\\+49[0-9]{6,10}".prop_map(|phone| BookingLocation::AttendeePhone { phone }),
        prop::sample::select(vec!["cal-video", "google-meet", "zoom"]).prop_map(|i| {
            BookingLocation::Integration {
                integration: i.to_owned(),
            }
        }),
    ])
}

#[test]
fn generated_create_bodies_match_the_spec() {
    let Some(spec) = load_spec("generated_create_bodies_match_the_spec") else {
        return;
    };
    let validator = Validator::new(&spec, Options::request_body());
    let schema = request_schema(&spec, "POST", "/v2/bookings");
    let strategy = (
        target_strategy(),
        0i64..4_000_000_000,
        attendee_strategy(),
        location_strategy(),
        proptest::collection::btree_map("[a-z_]{1,40}", ".{0,50}", 0..6),
        proptest::option::of(5u32..240),
        proptest::collection::vec("[a-z]{1,8}@example\\.com", 0..3),
    );
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::with_cases(256)
    });
    runner
        .run(
            &strategy,
            |(target, secs, attendee, location, metadata, length, guests)| {
                let start = DateTime::from_timestamp(secs, 0).unwrap();
                let mut request = CreateBookingRequest::new(target, start, attendee);
                request.location = location;
                request.metadata = metadata;
                request.length_in_minutes = length;
                request.guests = guests;
                prop_assert!(request.validate().is_ok());
                let body = serde_json::to_value(&request).unwrap();
                let verdict = validator.validate(schema, &body);
                prop_assert!(verdict.is_ok(), "{} -> {:?}", body, verdict);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn the_contract_check_rejects_a_misspelt_body() {
    let Some(spec) = load_spec("the_contract_check_rejects_a_misspelt_body") else {
        return;
    };
    let validator = Validator::new(&spec, Options::request_body());
    let schema = request_schema(&spec, "POST", "/v2/bookings");
    let good = serde_json::to_value(&create_variants()[1]).unwrap();
    assert!(validator.validate(schema, &good).is_ok());
    let mut misspelt = good.clone();
    let attendee = misspelt
        .as_object_mut()
        .unwrap()
        .remove("attendee")
        .unwrap();
    misspelt["atendee"] = attendee;
    assert!(validator.validate(schema, &misspelt).is_err());
    let mut wrong_type = good;
    wrong_type["attendee"]["language"] = json!("klingonisch");
    assert!(validator.validate(schema, &wrong_type).is_err());
}

#[tokio::test]
async fn spec_examples_decode_into_our_types() {
    let Some(spec) = load_spec("spec_examples_decode_into_our_types") else {
        return;
    };
    let slots_schema = response_schema(&spec, "GET", "/v2/slots", "200");
    let examples: Vec<Value> = slots_schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|branch| branch.get("example").cloned())
        .collect();
    assert_eq!(
        examples.len(),
        2,
        "the spec has a default and a range example"
    );
    for (n, example) in examples.iter().enumerate() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v2/slots"))
            .respond_with(ResponseTemplate::new(200).set_body_json(example.clone()))
            .mount(&server)
            .await;
        let client = client_for(&server, &FakeClock::new(), RetryConfig::none());
        let slots = client
            .slots(&SlotsQuery::new(
                42,
                at("2050-09-05T00:00:00Z"),
                at("2050-09-07T00:00:00Z"),
            ))
            .await
            .unwrap();
        let expected: usize = example["data"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_array().unwrap().len())
            .sum();
        assert_eq!(slots.len(), expected);
        // "2050-09-05T09:00:00.000+02:00" is 07:00Z.
        assert_eq!(
            slots.iter().next().unwrap().start,
            at("2050-09-05T07:00:00Z")
        );
        assert_eq!(slots.iter().all(|s| s.end.is_some()), n == 1);
    }

    let delete_example =
        response_schema(&spec, "DELETE", "/v2/slots/reservations/{uid}", "200")["example"].clone();
    assert!(delete_example.is_object());
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(delete_example))
        .expect(1)
        .mount(&server)
        .await;
    client_for(&server, &FakeClock::new(), RetryConfig::none())
        .release_slot("r-1")
        .await
        .unwrap();
}

#[test]
fn our_fixtures_match_the_spec_response_schemas() {
    let Some(spec) = load_spec("our_fixtures_match_the_spec_response_schemas") else {
        return;
    };
    let validator = Validator::new(&spec, Options::response_body());
    let one = booking(
        "bk-1",
        "2026-12-01T09:00:00.000Z",
        "2026-12-01T09:30:00.000Z",
        "max@example.com",
    );
    let cases: Vec<(&str, &str, &str, Value)> = vec![
        ("POST", "/v2/bookings", "201", success(one.clone())),
        (
            "GET",
            "/v2/bookings/{bookingUid}",
            "200",
            success(one.clone()),
        ),
        (
            "POST",
            "/v2/bookings/{bookingUid}/cancel",
            "200",
            success(one.clone()),
        ),
        (
            "POST",
            "/v2/bookings/{bookingUid}/reschedule",
            "201",
            success(one.clone()),
        ),
        (
            "GET",
            "/v2/bookings",
            "200",
            json!({"status": "success", "data": [one], "pagination": pagination(1, 11, 2, 10, false)}),
        ),
        (
            "GET",
            "/v2/event-types",
            "200",
            success(json!([event_type(42)])),
        ),
        (
            "GET",
            "/v2/event-types/{eventTypeId}",
            "200",
            success(event_type(42)),
        ),
        ("GET", "/v2/me", "200", success(me())),
        (
            "POST",
            "/v2/slots/reservations",
            "201",
            success(reservation("r-1")),
        ),
        // The spec's slots schema is the bare `data` map (its envelope is missing).
        (
            "GET",
            "/v2/slots",
            "200",
            json!({"2026-12-01": [{"start": "2026-12-01T09:00:00.000Z", "end": "2026-12-01T09:30:00.000Z"}]}),
        ),
    ];
    let count = cases.len();
    for (verb, template, status, body) in cases {
        let schema = response_schema(&spec, verb, template, status);
        if let Err(errors) = validator.validate(schema, &body) {
            panic!("fixture for {verb} {template} {status} violates the spec: {errors:#?}");
        }
    }
    assert_eq!(count, 10);
    // And a fixture with a required field removed does not pass.
    let mut broken = booking(
        "bk-1",
        "2026-12-01T09:00:00.000Z",
        "2026-12-01T09:30:00.000Z",
        "m@x.de",
    );
    broken.as_object_mut().unwrap().remove("uid");
    let schema = response_schema(&spec, "GET", "/v2/bookings/{bookingUid}", "200");
    assert!(validator.validate(schema, &success(broken)).is_err());
}

#[test]
fn the_spec_file_is_the_one_documented() {
    let Some(spec) = load_spec("the_spec_file_is_the_one_documented") else {
        return;
    };
    assert_eq!(spec["openapi"], "3.0.0");
    for (verb, template) in OPERATIONS {
        operation(&spec, verb, template);
    }
    // The client's constants are the spec's defaults.
    let default_of = |verb: &str, template: &str| -> String {
        operation(&spec, verb, template)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "cal-api-version")
            .unwrap()["schema"]["default"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        default_of("GET", "/v2/slots"),
        voxcal_calcom_client::SLOTS_API_VERSION
    );
    assert_eq!(
        default_of("POST", "/v2/bookings"),
        voxcal_calcom_client::BOOKINGS_API_VERSION
    );
    assert_eq!(
        default_of("GET", "/v2/event-types"),
        voxcal_calcom_client::EVENT_TYPES_API_VERSION
    );
}
