//! Every endpoint against a real HTTP server on loopback (wiremock): method, path,
//! `cal-api-version`, auth headers, query encoding, body, and response decoding.

mod support;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use serde_json::json;
use support::*;
use voxcal_calcom_client::{
    Attendee, BookingLocation, BookingStatus, BookingsQuery, CalcomClient, CancelBookingRequest,
    CreateBookingRequest, Credentials, EventTypeTarget, EventTypesQuery, FakeClock,
    RescheduleBookingRequest, ReserveSlotRequest, RetryConfig, SlotsQuery,
};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn setup() -> (MockServer, CalcomClient) {
    let server = MockServer::start().await;
    let client = client_for(&server, &FakeClock::new(), RetryConfig::none());
    (server, client)
}

#[tokio::test]
async fn slots_by_id_sends_utc_instants_and_parses_offsets() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .and(header("cal-api-version", "2024-09-04"))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .and(query_param("eventTypeId", "42"))
        .and(query_param("start", "2026-12-01T00:00:00.000Z"))
        .and(query_param("end", "2026-12-02T00:00:00.000Z"))
        .and(query_param("timeZone", "Europe/Berlin"))
        .and(query_param("duration", "30"))
        .and(query_param_is_missing("format"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "2026-12-01": [
                {"start": "2026-12-01T10:30:00.000+01:00"},
                {"start": "2026-12-01T09:00:00.000+01:00", "extra": 1}
            ],
            "2026-12-02": []
        }))))
        .expect(1)
        .mount(&server)
        .await;
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let query = SlotsQuery::for_dates(42, day, day)
        .time_zone("Europe/Berlin")
        .duration(30);
    let slots = client.slots(&query).await.unwrap();
    let starts: Vec<DateTime<Utc>> = slots.iter().map(|s| s.start).collect();
    // Offsets converted to UTC and sorted.
    assert_eq!(
        starts,
        [at("2026-12-01T08:00:00Z"), at("2026-12-01T09:30:00Z")]
    );
    assert_eq!(slots.len(), 2);
    assert!(slots.iter().all(|s| s.end.is_none()));
    assert_eq!(slots.days.len(), 2);
}

#[tokio::test]
async fn slots_range_by_slug_and_raw_query_encoding() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .and(query_param("eventTypeSlug", "beratung"))
        .and(query_param("teamSlug", "praxis"))
        .and(query_param("organizationSlug", "org"))
        .and(query_param("format", "range"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "2026-12-01": [{"start": "2026-12-01T09:00:00.000Z", "end": "2026-12-01T09:30:00.000Z", "attendeesCount": 2, "bookingUid": "seat-1"}]
        }))))
        .expect(1)
        .mount(&server)
        .await;
    let target = EventTypeTarget::TeamSlug {
        slug: "beratung".to_owned(),
        team_slug: "praxis".to_owned(),
        organization_slug: Some("org".to_owned()),
    };
    // An instant that is not midnight, in a zone with an offset: sent as UTC.
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-12-01T08:15:00+01:00")
        .unwrap()
        .with_timezone(&Utc);
    let query = SlotsQuery::new(target, start, at("2026-12-01T18:00:00Z")).with_ends();
    let slots = client.slots(&query).await.unwrap();
    let slot = slots.iter().next().unwrap();
    assert_eq!(slot.end, Some(at("2026-12-01T09:30:00Z")));
    assert_eq!(slot.attendees_count, Some(2));
    assert_eq!(slot.booking_uid.as_deref(), Some("seat-1"));

    let requests = server.received_requests().await.unwrap();
    let raw_query = requests[0].url.query().unwrap().to_owned();
    // Colons percent-encoded, `Z` kept, never a `+` offset that could decode as a space.
    assert!(
        raw_query.contains("start=2026-12-01T07%3A15%3A00.000Z"),
        "{raw_query}"
    );
    assert!(!raw_query.contains('+'), "{raw_query}");
}

#[tokio::test]
async fn slots_accepts_the_bare_map_the_spec_schema_describes() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "2026-12-01": ["2026-12-01T09:00:00.000Z", "2026-12-01T10:00:00.000Z"]
        })))
        .mount(&server)
        .await;
    let query = SlotsQuery::new(
        EventTypeTarget::user_slug("beratung", "berg"),
        at("2026-12-01T00:00:00Z"),
        at("2026-12-02T00:00:00Z"),
    );
    let slots = client.slots(&query).await.unwrap();
    assert_eq!(slots.len(), 2);

    let empty = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({}))))
        .mount(&empty)
        .await;
    let client = client_for(&empty, &FakeClock::new(), RetryConfig::none());
    assert!(client.slots(&query).await.unwrap().is_empty());
}

#[tokio::test]
async fn reserve_and_release_slot() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v2/slots/reservations"))
        .and(header("cal-api-version", "2024-09-04"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "eventTypeId": 42,
            "slotStart": "2026-12-01T09:00:00.000Z",
            "reservationDuration": 5
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(success(reservation("res-1"))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/slots/reservations/res%2F1"))
        .and(header("cal-api-version", "2024-09-04"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "success"})))
        .expect(1)
        .mount(&server)
        .await;
    let mut request = ReserveSlotRequest::new(42, at("2026-12-01T09:00:00Z"));
    request.reservation_duration = Some(5);
    let held = client.reserve_slot(&request).await.unwrap();
    assert_eq!(held.reservation_uid, "res-1");
    assert_eq!(held.slot_end, at("2026-12-01T09:30:00Z"));
    assert_eq!(held.reservation_until, at("2026-12-01T08:35:00Z"));
    // A uid with a slash stays one path segment.
    client.release_slot("res/1").await.unwrap();
}

#[tokio::test]
async fn create_booking_sends_the_documented_body() {
    let (server, client) = setup().await;
    let expected = json!({
        "start": "2026-12-01T09:00:00.000Z",
        "attendee": {
            "name": "Max Müller",
            "email": "max@example.com",
            "timeZone": "Europe/Berlin",
            "phoneNumber": "+4930123456",
            "language": "de"
        },
        "eventTypeId": 42,
        "location": {"type": "integration", "integration": "cal-video"},
        "metadata": {"call_id": "call_1"},
        "bookingFieldsResponses": {"notes": "Rückruf erwünscht"}
    });
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .and(header("cal-api-version", "2024-08-13"))
        .and(body_json(expected))
        .respond_with(ResponseTemplate::new(201).set_body_json(success(booking(
            "bk-1",
            "2026-12-01T09:00:00.000Z",
            "2026-12-01T09:30:00.000Z",
            "max@example.com",
        ))))
        .expect(1)
        .mount(&server)
        .await;
    let attendee = Attendee::new("Max Müller", "Europe/Berlin")
        .email("max@example.com")
        .phone_number("+4930123456");
    let request = CreateBookingRequest::new(42, at("2026-12-01T09:00:00Z"), attendee)
        .location(BookingLocation::Integration {
            integration: "cal-video".to_owned(),
        })
        .metadata("call_id", "call_1")
        .booking_field("notes", "Rückruf erwünscht");
    let booking = client.create_booking(&request).await.unwrap();
    assert_eq!(booking.uid, "bk-1");
    assert_eq!(booking.status, BookingStatus::Accepted);
    assert_eq!(booking.event_type.as_ref().unwrap().slug, "beratung");
    assert_eq!(booking.attendees[0].email, "max@example.com");
    assert_eq!(booking.hosts[0].id, 5);
    assert_eq!(booking.duration, Some(30));
    // Debug of the result does not leak the attendee.
    assert!(!format!("{booking:?}").contains("max@example.com"));
}

#[tokio::test]
async fn get_booking_with_minimal_and_recurring_shapes() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings/bk-min"))
        .and(header("cal-api-version", "2024-08-13"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(success(minimal_booking(
                "bk-min",
                "2026-12-01T09:00:00Z",
                "2026-12-01T09:30:00Z",
            ))),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings/bk-rec"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!([
            minimal_booking("bk-rec", "2026-12-01T09:00:00Z", "2026-12-01T09:30:00Z"),
            minimal_booking("bk-rec-2", "2026-12-08T09:00:00Z", "2026-12-08T09:30:00Z")
        ]))))
        .mount(&server)
        .await;
    let booking = client.booking("bk-min").await.unwrap();
    assert_eq!(booking.uid, "bk-min");
    assert!(booking.attendees.is_empty());
    assert_eq!(booking.location, None);
    let first = client.booking("bk-rec").await.unwrap();
    assert_eq!(first.start, at("2026-12-01T09:00:00Z"));
}

#[tokio::test]
async fn list_bookings_encodes_filters() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .and(header("cal-api-version", "2024-08-13"))
        .and(query_param("status", "upcoming,unconfirmed"))
        .and(query_param("attendeeEmail", "max+test@example.com"))
        .and(query_param("eventTypeIds", "42,43"))
        .and(query_param("afterStart", "2026-12-01T00:00:00.000Z"))
        .and(query_param("beforeEnd", "2026-12-31T00:00:00.000Z"))
        .and(query_param("sortStart", "desc"))
        .and(query_param("take", "10"))
        .and(query_param("skip", "20"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": [booking("bk-1", "2026-12-01T09:00:00.000Z", "2026-12-01T09:30:00.000Z", "max+test@example.com")],
            "pagination": pagination(1, 21, 3, 10, false)
        })))
        .expect(1)
        .mount(&server)
        .await;
    let query = BookingsQuery {
        status: vec!["upcoming".to_owned(), "unconfirmed".to_owned()],
        attendee_email: Some("max+test@example.com".to_owned()),
        event_type_ids: vec![42, 43],
        sort_start: Some(voxcal_calcom_client::SortOrder::Desc),
        skip: Some(20),
        ..BookingsQuery::new()
            .between(at("2026-12-01T00:00:00Z"), at("2026-12-31T00:00:00Z"))
            .take(10)
    };
    let page = client.list_bookings(&query).await.unwrap();
    assert_eq!(page.bookings.len(), 1);
    assert_eq!(page.pagination.total_items, 21);
    assert!(!page.pagination.has_next_page);
    // `+` in the e-mail must arrive as `+`, not as a space.
    let raw = server.received_requests().await.unwrap()[0]
        .url
        .query()
        .unwrap()
        .to_owned();
    assert!(
        raw.contains("attendeeEmail=max%2Btest%40example.com"),
        "{raw}"
    );
}

fn page_responder(total: usize, per_page: usize) -> impl Fn(&Request) -> ResponseTemplate {
    move |request: &Request| {
        let skip: usize = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "skip")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let end = (skip + per_page).min(total);
        let data: Vec<_> = (skip..end)
            .map(|i| {
                minimal_booking(
                    &format!("bk-{i}"),
                    "2026-12-01T09:00:00Z",
                    "2026-12-01T09:30:00Z",
                )
            })
            .collect();
        let page = (skip / per_page) as u64 + 1;
        ResponseTemplate::new(200).set_body_json(json!({
            "status": "success",
            "data": data,
            "pagination": pagination((end - skip) as u64, total as u64, page, per_page as u64, end < total)
        }))
    }
}

#[tokio::test]
async fn pages_and_stream_walk_every_booking_once() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(page_responder(7, 3))
        .mount(&server)
        .await;
    let mut pages = client.booking_pages(BookingsQuery::new().take(3));
    let mut sizes = Vec::new();
    while let Some(page) = pages.next_page().await {
        sizes.push(page.unwrap().bookings.len());
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert!(pages.next_page().await.is_none());

    let uids: Vec<String> = client
        .bookings_stream(BookingsQuery::new().take(3))
        .map(|b| b.unwrap().uid)
        .collect()
        .await;
    let expected: Vec<String> = (0..7).map(|i| format!("bk-{i}")).collect();
    assert_eq!(uids, expected);
    // 3 pages for the iterator + 3 for the stream.
    assert_eq!(server.received_requests().await.unwrap().len(), 6);
}

#[tokio::test]
async fn stream_ends_after_an_error() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let items: Vec<_> = client.bookings_stream(BookingsQuery::new()).collect().await;
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
}

#[tokio::test]
async fn cancel_and_reschedule() {
    let (server, client) = setup().await;
    let mut cancelled = booking(
        "bk-1",
        "2026-12-01T09:00:00.000Z",
        "2026-12-01T09:30:00.000Z",
        "max@example.com",
    );
    cancelled["status"] = json!("cancelled");
    cancelled["cancellationReason"] = json!("Kunde verhindert");
    Mock::given(method("POST"))
        .and(path("/v2/bookings/bk-1/cancel"))
        .and(header("cal-api-version", "2024-08-13"))
        .and(body_json(json!({"cancellationReason": "Kunde verhindert"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(cancelled)))
        .expect(1)
        .mount(&server)
        .await;
    let mut moved = booking(
        "bk-2",
        "2026-12-02T10:00:00.000Z",
        "2026-12-02T10:30:00.000Z",
        "max@example.com",
    );
    moved["rescheduledFromUid"] = json!("bk-1");
    Mock::given(method("POST"))
        .and(path("/v2/bookings/bk-1/reschedule"))
        .and(header("cal-api-version", "2024-08-13"))
        .and(body_json(
            json!({"start": "2026-12-02T10:00:00.000Z", "reschedulingReason": "Terminwunsch"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(success(moved)))
        .expect(1)
        .mount(&server)
        .await;
    let booking = client
        .cancel_booking(
            "bk-1",
            &CancelBookingRequest::with_reason("Kunde verhindert"),
        )
        .await
        .unwrap();
    assert_eq!(booking.status, BookingStatus::Cancelled);
    assert_eq!(
        booking.cancellation_reason.as_deref(),
        Some("Kunde verhindert")
    );
    let new = client
        .reschedule_booking(
            "bk-1",
            &RescheduleBookingRequest::new(at("2026-12-02T10:00:00Z")).reason("Terminwunsch"),
        )
        .await
        .unwrap();
    assert_eq!(new.uid, "bk-2");
    assert_eq!(new.rescheduled_from_uid.as_deref(), Some("bk-1"));
}

#[tokio::test]
async fn event_types_and_me() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/event-types"))
        .and(header("cal-api-version", "2024-06-14"))
        .and(query_param("username", "berg"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(success(json!([event_type(42), {
                "id": 43, "lengthInMinutes": 60, "title": "Lang", "slug": "lang"
            }]))),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/event-types/42"))
        .and(header("cal-api-version", "2024-06-14"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(event_type(42))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .expect(1)
        .mount(&server)
        .await;
    let query = EventTypesQuery {
        username: Some("berg".to_owned()),
        ..EventTypesQuery::default()
    };
    let types = client.event_types(&query).await.unwrap();
    assert_eq!(types.len(), 2);
    assert_eq!(types[0].length_in_minutes_options, [15, 30]);
    assert_eq!(types[0].minimum_booking_notice, Some(120));
    assert!(types[1].locations.is_empty());
    let one = client.event_type(42).await.unwrap();
    assert_eq!(one.slug, "beratung");
    let me = client.me().await.unwrap();
    assert_eq!(me.username, "berg");
    assert_eq!(me.name, None);
    assert!(!format!("{me:?}").contains("berg@praxis"));
    let requests = server.received_requests().await.unwrap();
    let me_request = requests.iter().find(|r| r.url.path() == "/v2/me").unwrap();
    assert!(!me_request.headers.contains_key("cal-api-version"));
}

#[tokio::test]
async fn platform_client_headers_and_shared_pool_clients() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .and(header("x-cal-client-id", "client-7"))
        .and(header("x-cal-secret-key", "s3cret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .and(header("authorization", "Bearer cal_other_tenant"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .expect(1)
        .mount(&server)
        .await;
    let platform = CalcomClient::builder(Credentials::platform_client("client-7", "s3cret"))
        .base_url(server.uri())
        .build()
        .unwrap();
    platform.me().await.unwrap();
    let other = platform
        .with_credentials(Credentials::api_key("cal_other_tenant"))
        .unwrap();
    other.me().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert!(!requests[0].headers.contains_key("authorization"));
    assert!(!requests[1].headers.contains_key("x-cal-secret-key"));
    assert!(requests
        .iter()
        .all(|r| r.headers.contains_key("user-agent")));
    // Debug of the clients never shows a secret.
    for text in [format!("{platform:?}"), format!("{other:?}")] {
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains("cal_other_tenant"), "{text}");
    }
}

#[tokio::test]
async fn base_url_with_a_path_prefix() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/proxy/cal/v2/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .expect(1)
        .mount(&server)
        .await;
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(format!("{}/proxy/cal/", server.uri()))
        .build()
        .unwrap();
    client.me().await.unwrap();
    assert!(CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url("mailto:x@example.com")
        .build()
        .is_err());
}
