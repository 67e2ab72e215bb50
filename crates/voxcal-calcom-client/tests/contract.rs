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

/// The spec path template a concrete request path belongs to (`None` for a
/// request to an operation the contract tests do not know).
fn try_template_of(verb: &str, concrete: &str) -> Option<&'static str> {
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

/// What [`check_request`] found out about one request.
struct CheckedRequest {
    verb: String,
    template: &'static str,
    had_body: bool,
}

/// Checks one request the client sent against its spec operation: the operation
/// exists (method + path), `cal-api-version` is exactly the spec's required
/// default (or absent when the spec has no such header), every query parameter is
/// declared and every required one present, and the body validates against the
/// operation's request schema (required fields, types, enums, no unknown fields).
fn check_request(
    spec: &Value,
    validator: &Validator<'_>,
    request: &Request,
) -> Result<CheckedRequest, Vec<String>> {
    let verb = request.method.as_str().to_owned();
    let Some(template) = try_template_of(&verb, request.url.path()) else {
        return Err(vec![format!(
            "{verb} {}: not an operation the contract tests know",
            request.url.path()
        )]);
    };
    let op = &spec["paths"][template][verb.to_ascii_lowercase()];
    if !op.is_object() {
        return Err(vec![format!("spec has no {verb} {template}")]);
    }
    let mut errors = Vec::new();
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let version_param = params
        .iter()
        .find(|p| p["in"] == "header" && p["name"] == "cal-api-version");
    let sent = request
        .headers
        .get("cal-api-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let wanted = version_param.and_then(|p| p["schema"]["default"].as_str());
    if sent.as_deref() != wanted {
        errors.push(format!(
            "{verb} {template}: cal-api-version {sent:?}, spec wants {wanted:?}"
        ));
    }
    let declared: Vec<&str> = params
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    for (name, _) in request.url.query_pairs() {
        if !declared.contains(&name.as_ref()) {
            errors.push(format!("{verb} {template}: query {name} not in spec"));
        }
    }
    for p in params
        .iter()
        .filter(|p| p["in"] == "query" && p["required"] == true)
    {
        let name = p["name"].as_str().unwrap_or_default();
        if !request.url.query_pairs().any(|(n, _)| n == name) {
            errors.push(format!("{verb} {template}: required {name} missing"));
        }
    }
    let had_body = !request.body.is_empty();
    if had_body {
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        match serde_json::from_slice::<Value>(&request.body) {
            Err(err) => errors.push(format!("{verb} {template}: body is not JSON: {err}")),
            Ok(_) if !schema.is_object() => {
                errors.push(format!("{verb} {template}: no request schema"));
            }
            Ok(body) => {
                if let Err(violations) = validator.validate(schema, &body) {
                    errors.push(format!(
                        "{verb} {template}: body {body} violates the spec: {violations:?}"
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(CheckedRequest {
            verb,
            template,
            had_body,
        })
    } else {
        Err(errors)
    }
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
        let checked = check_request(&spec, &validator, request)
            .unwrap_or_else(|errors| panic!("request violates the spec: {errors:#?}"));
        *per_operation
            .entry((checked.verb, checked.template))
            .or_default() += 1;
        bodies += usize::from(checked.had_body);
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

// ---------------------------------------------------------------------------
// The example walk: every documented response of every operation the client
// calls, served by a mock, decoded by the client itself.
// ---------------------------------------------------------------------------

/// How deep example synthesis follows nested schemas.
const EXAMPLE_DEPTH: usize = 24;
/// At most this many examples per response (one per `oneOf` branch, varied one
/// property at a time).
const MAX_EXAMPLES: usize = 48;

fn resolve<'a>(spec: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => match spec.pointer(reference.trim_start_matches('#')) {
                Some(target) => schema = target,
                None => return &Value::Null,
            },
            None => return schema,
        }
    }
    &Value::Null
}

/// The examples a mock serving the spec answers with (what Prism's static mode
/// does): a schema's own `example`, else one example per `oneOf`/`anyOf` branch,
/// else an object built from its properties' examples (each property's
/// alternatives tried one at a time), else a placeholder of the schema's type.
fn examples(spec: &Value, schema: &Value, depth: usize) -> Vec<Value> {
    let schema = resolve(spec, schema);
    if depth > EXAMPLE_DEPTH {
        return vec![Value::Null];
    }
    if let Some(example) = schema.get("example") {
        return vec![example.clone()];
    }
    if let Some(Value::Array(list)) = schema.get("examples") {
        if !list.is_empty() {
            return list.clone();
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(members) = schema.get(key).and_then(Value::as_array) {
            let mut out: Vec<Value> = members
                .iter()
                .flat_map(|m| examples(spec, m, depth + 1))
                .collect();
            out.truncate(MAX_EXAMPLES);
            return out;
        }
    }
    if let Some(members) = schema.get("allOf").and_then(Value::as_array) {
        let parts: Vec<(String, Vec<Value>)> = members
            .iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), examples(spec, m, depth + 1)))
            .collect();
        return vary(&parts, |chosen| {
            let mut merged = serde_json::Map::new();
            for (_, value) in chosen {
                match *value {
                    Value::Object(map) => merged.extend(map.clone()),
                    other if merged.is_empty() => return other.clone(),
                    _ => {}
                }
            }
            Value::Object(merged)
        });
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return vec![first.clone()];
    }
    if let Some(default) = schema.get("default") {
        return vec![default.clone()];
    }
    let ty = schema.get("type").and_then(Value::as_str);
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let parts: Vec<(String, Vec<Value>)> = props
            .iter()
            .map(|(name, sub)| (name.clone(), examples(spec, sub, depth + 1)))
            .collect();
        return vary(&parts, |chosen| {
            Value::Object(
                chosen
                    .iter()
                    .map(|(name, value)| ((*name).clone(), (*value).clone()))
                    .collect(),
            )
        });
    }
    match ty {
        Some("array") => examples(spec, schema.get("items").unwrap_or(&Value::Null), depth + 1)
            .into_iter()
            .map(|item| json!([item]))
            .collect(),
        Some("object") => vec![json!({})],
        Some("string") if schema["format"] == "date-time" => vec![json!("2026-12-01T09:00:00Z")],
        Some("string") => vec![json!("string")],
        Some("number" | "integer") => vec![json!(0)],
        Some("boolean") => vec![json!(true)],
        _ => vec![Value::Null],
    }
}

/// The first alternative of every part, then each further alternative of each
/// part on its own.
fn vary<'a>(
    parts: &'a [(String, Vec<Value>)],
    build: impl Fn(&[(&'a String, &'a Value)]) -> Value,
) -> Vec<Value> {
    let base: Vec<(&String, &Value)> = parts
        .iter()
        .map(|(name, alternatives)| (name, alternatives.first().unwrap_or(&Value::Null)))
        .collect();
    let mut out = vec![build(&base)];
    for (i, (_, alternatives)) in parts.iter().enumerate() {
        for alternative in alternatives.iter().skip(1) {
            if out.len() >= MAX_EXAMPLES {
                return out;
            }
            let mut chosen = base.clone();
            chosen[i].1 = alternative;
            out.push(build(&chosen));
        }
    }
    out
}

/// Every documented response of one operation: (status, example body).
fn documented_responses(spec: &Value, verb: &str, template: &str) -> Vec<(u16, Value)> {
    let op = &spec["paths"][template][verb.to_ascii_lowercase()];
    let mut out = Vec::new();
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let Ok(code) = status.parse::<u16>() else {
            continue; // `default` or `4XX`: no concrete status to serve
        };
        let media = &resolve(spec, response)["content"]["application/json"];
        if let Some(example) = media.get("example") {
            out.push((code, example.clone()));
        } else if let Some(named) = media.get("examples").and_then(Value::as_object) {
            out.extend(named.values().map(|e| (code, e["value"].clone())));
        } else if let Some(schema) = media.get("schema") {
            out.extend(examples(spec, schema, 0).into_iter().map(|e| (code, e)));
        } else {
            out.push((code, Value::Null));
        }
    }
    out
}

/// The first booking of a booking example (`data` is one or a list).
fn first_booking(example: &Value) -> Option<&Value> {
    match &example["data"] {
        Value::Array(list) => list.first(),
        one @ Value::Object(_) => Some(one),
        _ => None,
    }
}

/// Calls the client method for one operation and checks what it decoded
/// against the served example. `Err` is the client's own error.
async fn call_operation(
    client: &voxcal_calcom_client::CalcomClient,
    verb: &str,
    template: &str,
    example: &Value,
) -> Result<Result<(), String>, voxcal_calcom_client::CalcomError> {
    let start = at("2026-12-01T00:00:00Z");
    let expect_uid = |uid: &str| match first_booking(example).and_then(|b| b["uid"].as_str()) {
        Some(want) if want != uid => Err(format!("uid {uid}, example has {want}")),
        _ => Ok(()),
    };
    Ok(match (verb, template) {
        ("GET", "/v2/slots") => {
            let slots = client
                .slots(&SlotsQuery::new(42, start, start + chrono::Duration::days(2)).with_ends())
                .await?;
            let served: usize = example["data"]
                .as_object()
                .map(|days| {
                    days.values()
                        .filter_map(Value::as_array)
                        .map(Vec::len)
                        .sum()
                })
                .unwrap_or(0);
            (slots.len() == served)
                .then_some(())
                .ok_or_else(|| format!("{} slots, example has {served}", slots.len()))
        }
        ("POST", "/v2/slots/reservations") => {
            let reservation = client
                .reserve_slot(&ReserveSlotRequest {
                    slot_duration: Some(30),
                    reservation_duration: Some(5),
                    ..ReserveSlotRequest::new(42, at("2026-12-01T09:00:00Z"))
                })
                .await?;
            let want = &example["data"]["slotDuration"];
            let want: Option<u32> = want
                .as_u64()
                .or_else(|| want.as_str().and_then(|s| s.parse().ok()))
                .and_then(|n| u32::try_from(n).ok());
            (Some(reservation.slot_duration) == want
                && Some(reservation.reservation_uid.as_str())
                    == example["data"]["reservationUid"].as_str())
            .then_some(())
            .ok_or_else(|| format!("{reservation:?} is not the example"))
        }
        ("DELETE", "/v2/slots/reservations/{uid}") => {
            client.release_slot("r-1").await?;
            Ok(())
        }
        ("POST", "/v2/bookings") => {
            let request = CreateBookingRequest::new(
                42,
                at("2026-12-01T09:00:00Z"),
                Attendee::new("Max Müller", "Europe/Berlin").email("max@example.com"),
            )
            .location(BookingLocation::Phone);
            expect_uid(&client.create_booking(&request).await?.uid)
        }
        ("GET", "/v2/bookings") => {
            let page = client
                .list_bookings(&BookingsQuery::new().between(start, start).take(10))
                .await?;
            match page.bookings.first() {
                Some(booking) => expect_uid(&booking.uid),
                None if first_booking(example).is_none() => Ok(()),
                None => Err("no booking decoded".to_owned()),
            }
        }
        ("GET", "/v2/bookings/{bookingUid}") => expect_uid(&client.booking("bk-1").await?.uid),
        ("POST", "/v2/bookings/{bookingUid}/cancel") => expect_uid(
            &client
                .cancel_booking("bk-1", &CancelBookingRequest::with_reason("verhindert"))
                .await?
                .uid,
        ),
        ("POST", "/v2/bookings/{bookingUid}/reschedule") => expect_uid(
            &client
                .reschedule_booking(
                    "bk-1",
                    &RescheduleBookingRequest::new(at("2026-12-02T10:00:00Z")).reason("Termin"),
                )
                .await?
                .uid,
        ),
        ("GET", "/v2/event-types") => {
            let types = client.event_types(&EventTypesQuery::default()).await?;
            let served = example["data"].as_array().map_or(0, Vec::len);
            (types.len() == served)
                .then_some(())
                .ok_or_else(|| format!("{} event types, example has {served}", types.len()))
        }
        ("GET", "/v2/event-types/{eventTypeId}") => {
            let event_type = client.event_type(1).await?;
            (Some(event_type.id) == example["data"]["id"].as_u64())
                .then_some(())
                .ok_or_else(|| format!("id {}", event_type.id))
        }
        ("GET", "/v2/me") => {
            let me = client.me().await?;
            (Some(me.id) == example["data"]["id"].as_u64())
                .then_some(())
                .ok_or_else(|| format!("id {}", me.id))
        }
        _ => Err(format!("the walk has no call for {verb} {template}")),
    })
}

/// The kind an error response must decode into.
fn kind_matches(status: u16, kind: &voxcal_calcom_client::ErrorKind) -> bool {
    use voxcal_calcom_client::ErrorKind as K;
    match status {
        401 => *kind == K::Unauthorized,
        403 => *kind == K::Forbidden,
        404 => *kind == K::NotFound,
        400 | 422 => matches!(kind, K::Validation | K::SlotTaken),
        409 => matches!(kind, K::Conflict | K::SlotTaken),
        429 => matches!(kind, K::RateLimited { .. }),
        498 => *kind == K::TokenExpired,
        500..=599 => *kind == K::Server,
        _ => *kind == K::UnexpectedStatus,
    }
}

#[derive(Debug, Default)]
struct WalkReport {
    operations: usize,
    success_examples: usize,
    error_examples: usize,
    requests_checked: usize,
}

/// Walks every operation in [`OPERATIONS`] through a mock serving `spec`'s
/// examples: each success example must decode into the typed model (and match
/// the example), each error example must become the right [`ErrorKind`] with a
/// German `user_message`, and every request the client sent for it must pass
/// [`check_request`]. `extra_errors` are served as error responses of every
/// operation too (for a spec that documents none). Collects every failure.
async fn walk(spec: &Value, extra_errors: &[(u16, Value)]) -> Result<WalkReport, Vec<String>> {
    use voxcal_calcom_client::{Lang, UserMessage};
    let validator = Validator::new(spec, Options::request_body());
    let mut report = WalkReport::default();
    let mut failures = Vec::new();
    for (verb, template) in OPERATIONS {
        let op = &spec["paths"][template][verb.to_ascii_lowercase()];
        if !op.is_object() {
            failures.push(format!(
                "the client calls {verb} {template}, the spec has no such operation"
            ));
            continue;
        }
        report.operations += 1;
        let documented = documented_responses(spec, verb, template);
        if !documented
            .iter()
            .any(|(status, _)| (200..300).contains(status))
        {
            failures.push(format!("{verb} {template}: no documented success response"));
        }
        let extra = extra_errors.iter().map(|(s, e)| (*s, e.clone(), false));
        let cases = documented
            .into_iter()
            .map(|(s, e)| (s, e, true))
            .chain(extra);
        for (status, example, from_spec) in cases {
            let server = MockServer::start().await;
            let mut response = ResponseTemplate::new(status);
            if !example.is_null() {
                response = response.set_body_json(&example);
            }
            Mock::given(wiremock::matchers::any())
                .respond_with(response)
                .mount(&server)
                .await;
            let client = client_for(&server, &FakeClock::new(), RetryConfig::none());
            let label = format!("{verb} {template} {status}");
            let outcome = call_operation(&client, verb, template, &example).await;
            match (status, outcome) {
                (200..=299, Ok(Ok(()))) => report.success_examples += usize::from(from_spec),
                (200..=299, Ok(Err(mismatch))) => failures.push(format!("{label}: {mismatch}")),
                (200..=299, Err(err)) => failures.push(format!(
                    "{label}: documented example does not decode: {err} ({:?}): {example}",
                    std::error::Error::source(&err).map(ToString::to_string)
                )),
                (_, Ok(_)) => failures.push(format!("{label}: an error response was accepted")),
                (_, Err(err)) => {
                    let german = err.user_message(Lang::De);
                    if !kind_matches(status, err.kind())
                        || err.status().map(|s| s.as_u16()) != Some(status)
                    {
                        failures.push(format!("{label}: decoded as {:?} ({err})", err.kind()));
                    } else if !german.starts_with("Terminbuchungssystem")
                        || german == err.user_message(Lang::En)
                    {
                        failures.push(format!("{label}: no German user message: {german}"));
                    } else {
                        report.error_examples += usize::from(from_spec);
                    }
                }
            }
            for request in server.received_requests().await.unwrap_or_default() {
                match check_request(spec, &validator, &request) {
                    Ok(_) => report.requests_checked += 1,
                    Err(errors) => {
                        failures.extend(errors.into_iter().map(|e| format!("{label}: {e}")))
                    }
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(report)
    } else {
        Err(failures)
    }
}

/// The error bodies Cal.com sends (`{"status":"error","error":{…}}`), for the
/// statuses the client maps: served for every operation because the spec
/// documents no error responses.
fn error_fixtures() -> Vec<(u16, Value)> {
    vec![
        (
            400,
            error_body("BadRequestException", "attendee.email must be an email"),
        ),
        (
            400,
            error_body("BadRequestException", "no_available_users_found_error"),
        ),
        (401, error_body("UnauthorizedException", "Invalid API key")),
        (403, error_body("ForbiddenException", "Forbidden resource")),
        (
            404,
            error_body("NotFoundException", "Booking with uid=bk-1 was not found"),
        ),
        (
            409,
            error_body(
                "ConflictException",
                "User either already has booking at this time or is not available",
            ),
        ),
        (
            422,
            json!({"status": "error", "error": {"code": "UnprocessableEntity", "details": {"errors": [{"property": "timeZone", "constraints": {"isTimeZone": "timeZone must be a valid IANA time zone"}}]}}}),
        ),
        (
            429,
            json!({"message": "ThrottlerException: Too Many Requests"}),
        ),
        (
            498,
            error_body("TokenExpiredException", "ACCESS_TOKEN_IS_EXPIRED"),
        ),
        (
            500,
            error_body("InternalServerErrorException", "Internal server error"),
        ),
        (503, Value::Null),
    ]
}

#[tokio::test]
async fn every_documented_example_decodes_with_the_clients_own_decoders() {
    let Some(spec) = load_spec("every_documented_example_decodes_with_the_clients_own_decoders")
    else {
        return;
    };
    let extra = error_fixtures();
    let report = match walk(&spec, &extra).await {
        Ok(report) => report,
        Err(failures) => panic!("{} failures:\n{}", failures.len(), failures.join("\n")),
    };
    eprintln!(
        "example walk: {} operations, {} documented success examples, {} documented error \
         examples, {} error fixtures per operation, {} requests checked against the spec",
        report.operations,
        report.success_examples,
        report.error_examples,
        extra.len(),
        report.requests_checked
    );
    assert_eq!(report.operations, OPERATIONS.len());
    // Every operation has at least one example; the booking ones one per `oneOf`
    // branch of `data`.
    assert!(
        report.success_examples >= OPERATIONS.len() + 8,
        "{report:?}"
    );
    // Each served case (documented and fixture) sent at least one request.
    assert!(
        report.requests_checked >= report.success_examples + extra.len() * OPERATIONS.len(),
        "{report:?}"
    );
}

/// A spec built from the crate's own fixtures, with the client's versions and a
/// documented error example per operation: exercises the walk itself, without
/// `BOOKING_SHARED_DIR`.
fn fixture_spec() -> Value {
    let one = booking(
        "bk-1",
        "2026-12-01T09:00:00.000Z",
        "2026-12-01T09:30:00.000Z",
        "max@example.com",
    );
    let mut paths = serde_json::Map::new();
    for (verb, template) in OPERATIONS {
        let version = match *template {
            t if t.starts_with("/v2/slots") => Some(voxcal_calcom_client::SLOTS_API_VERSION),
            t if t.starts_with("/v2/bookings") => Some(voxcal_calcom_client::BOOKINGS_API_VERSION),
            t if t.starts_with("/v2/event-types") => {
                Some(voxcal_calcom_client::EVENT_TYPES_API_VERSION)
            }
            _ => None,
        };
        let success = match (*verb, *template) {
            ("GET", "/v2/slots") => {
                json!({"status": "success", "data": {"2026-12-01": [{"start": "2026-12-01T09:00:00.000Z", "end": "2026-12-01T09:30:00.000Z"}]}})
            }
            ("POST", "/v2/slots/reservations") => success(json!({
                "eventTypeId": 42, "slotStart": "2026-12-01T09:00:00.000Z", "slotEnd": "2026-12-01T09:30:00.000Z",
                "slotDuration": "30", "reservationUid": "r-1", "reservationDuration": 5.0,
                "reservationUntil": "2026-12-01T08:35:00.000Z"
            })),
            ("DELETE", _) => json!({"status": "success"}),
            ("GET", "/v2/bookings") => {
                json!({"status": "success", "data": [one.clone()], "pagination": pagination(1, 1, 1, 10, false)})
            }
            ("GET", "/v2/event-types") => success(json!([event_type(42), event_type(43)])),
            ("GET", "/v2/event-types/{eventTypeId}") => success(event_type(42)),
            ("GET", "/v2/me") => success(me()),
            _ => success(one.clone()),
        };
        let mut op = json!({
            "parameters": [],
            "responses": {
                "200": {"content": {"application/json": {"example": success}}},
                "404": {"content": {"application/json": {"example": error_body("NotFoundException", "not found")}}},
                "default": {"description": "ignored: no concrete status"}
            }
        });
        let query: &[&str] = match (*verb, *template) {
            ("GET", "/v2/slots") => &["eventTypeId", "start", "end", "format"],
            ("GET", "/v2/bookings") => &["afterStart", "beforeEnd", "take"],
            _ => &[],
        };
        let mut params: Vec<Value> = query
            .iter()
            .map(|name| json!({"name": name, "in": "query", "required": true, "schema": {"type": "string"}}))
            .collect();
        if let Some(version) = version {
            params.push(json!({"name": "cal-api-version", "in": "header", "required": true, "schema": {"type": "string", "default": version}}));
        }
        op["parameters"] = Value::Array(params);
        if *verb == "POST" {
            op["requestBody"] =
                json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        paths
            .entry((*template).to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap()
            .insert(verb.to_ascii_lowercase(), op);
    }
    json!({"openapi": "3.0.0", "paths": paths, "components": {"schemas": {}}})
}

#[tokio::test]
async fn the_walk_decodes_documented_errors_and_reports_what_is_missing() {
    let spec = fixture_spec();
    let report = walk(&spec, &[]).await.unwrap_or_else(|f| panic!("{f:#?}"));
    assert_eq!(report.operations, OPERATIONS.len());
    assert_eq!(report.success_examples, OPERATIONS.len());
    assert_eq!(report.error_examples, OPERATIONS.len());

    // An operation the client calls that the spec lacks fails the walk.
    let mut without_me = spec.clone();
    without_me["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/v2/me");
    let failures = walk(&without_me, &[]).await.unwrap_err();
    assert!(
        failures
            .iter()
            .any(|f| f.contains("GET /v2/me") && f.contains("no such operation")),
        "{failures:?}"
    );

    // A different cal-api-version in the spec fails the request check.
    let mut other_version = spec.clone();
    other_version["paths"]["/v2/slots"]["get"]["parameters"][4]["schema"]["default"] =
        json!("2099-01-01");
    let failures = walk(&other_version, &[]).await.unwrap_err();
    assert!(
        failures.iter().any(|f| f.contains("cal-api-version")),
        "{failures:?}"
    );

    // A success example that does not decode, and an error example that is
    // accepted as a success, are both reported.
    let mut broken = spec.clone();
    broken["paths"]["/v2/me"]["get"]["responses"]["200"]["content"]["application/json"]
        ["example"]["data"]["id"] = json!("5");
    broken["paths"]["/v2/event-types"]["get"]["responses"]["404"] =
        json!({"content": {"application/json": {"example": {"status": "success", "data": []}}}});
    broken["paths"]["/v2/event-types"]["get"]["responses"]["201"] = json!({"content": {"application/json": {"example": {"status": "success", "data": [{"id": 1}]}}}});
    let failures = walk(&broken, &[]).await.unwrap_err();
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("GET /v2/me 200") && f.contains("does not decode")),
        "{failures:?}"
    );
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("GET /v2/event-types 201")),
        "{failures:?}"
    );
    assert_eq!(failures.len(), 2, "{failures:?}");
}

#[test]
fn example_synthesis_covers_every_one_of_branch() {
    let spec = json!({"components": {"schemas": {
        "A": {"type": "object", "properties": {"kind": {"type": "string", "example": "a"}, "n": {"type": "number", "example": "30"}}},
        "B": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["b", "c"]}, "at": {"type": "string", "format": "date-time"}}},
        "Out": {"type": "object", "properties": {
            "status": {"type": "string", "enum": ["success", "error"]},
            "data": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "array", "items": {"$ref": "#/components/schemas/B"}}]}
        }}
    }}});
    let got = examples(&spec, &json!({"$ref": "#/components/schemas/Out"}), 0);
    assert_eq!(
        got,
        [
            json!({"status": "success", "data": {"kind": "a", "n": "30"}}),
            json!({"status": "success", "data": [{"kind": "b", "at": "2026-12-01T09:00:00Z"}]}),
        ]
    );
}
