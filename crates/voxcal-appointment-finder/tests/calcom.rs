//! `CalcomSource` against a real HTTP server on loopback (wiremock): the
//! slots request it sends, the slots it returns, errors with Cal.com's user
//! message, and one client per tenant.
#![cfg(feature = "calcom")]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::json;
use voxcal_appointment_finder::{
    AlternativeFinder, AvailabilitySource, CalcomSource, EventTypeId, FindRequest, Lang, Outcome,
    SlotCache, SourceErrorKind, TimeRange, UserMessage,
};
use voxcal_calcom_client::{CalcomClient, Credentials, EventTypeTarget, RetryConfig};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer, key: &str) -> CalcomClient {
    CalcomClient::builder(Credentials::api_key(key))
        .base_url(server.uri())
        .retry(RetryConfig::none())
        .build()
        .unwrap()
}

fn slots_body(slots: &[(&str, &str)]) -> serde_json::Value {
    let list: Vec<_> = slots
        .iter()
        .map(|(start, end)| json!({"start": start, "end": end}))
        .collect();
    json!({"status": "success", "data": {"2026-10-13": list}})
}

#[tokio::test]
async fn asks_get_v2_slots_in_utc_and_returns_slots() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .and(query_param("eventTypeId", "42"))
        .and(query_param("start", "2026-10-12T22:00:00.000Z"))
        .and(query_param("end", "2026-10-13T22:00:00.000Z"))
        .and(query_param("format", "range"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slots_body(&[
            (
                "2026-10-13T09:00:00.000+02:00",
                "2026-10-13T09:30:00.000+02:00",
            ),
            (
                "2026-10-13T09:30:00.000+02:00",
                "2026-10-13T10:00:00.000+02:00",
            ),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let t = tenant("praxis", practice_hours());
    let source = CalcomSource::new().with_tenant(t.id().clone(), client(&server, "cal_test_a"));
    let range = TimeRange::new(
        Utc.with_ymd_and_hms(2026, 10, 12, 22, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 10, 13, 22, 0, 0).unwrap(),
    );
    let slots = source
        .free_slots(t.id(), &EventTypeId::from(42_u64), range)
        .await
        .unwrap();
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[0].start, berlin(2026, 10, 13, 9, 0));
    assert_eq!(slots[0].end, berlin(2026, 10, 13, 9, 30));
}

#[tokio::test]
async fn find_over_calcom_offers_alternatives() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slots_body(&[
            (
                "2026-10-13T13:00:00.000+02:00",
                "2026-10-13T13:30:00.000+02:00",
            ),
            (
                "2026-10-13T15:30:00.000+02:00",
                "2026-10-13T16:00:00.000+02:00",
            ),
        ])))
        .mount(&server)
        .await;
    let t = tenant("praxis", practice_hours());
    let (_, _, clock) = practice();
    let source = CalcomSource::new().with_tenant(t.id().clone(), client(&server, "cal_test_a"));
    let finder = AlternativeFinder::new(SlotCache::memory(source, clock.clone()), clock);
    let outcome = finder
        .find(
            &t,
            &FindRequest::new(
                EventTypeId::from(42_u64),
                local(2026, 10, 13, 14, 0),
                Duration::minutes(30),
            ),
        )
        .await;
    let starts: Vec<_> = outcome.alternatives().iter().map(|o| o.local()).collect();
    // The mock answers the same day for every request; only slots inside the
    // asked day count, so the alternatives are the two on Tuesday.
    assert_eq!(
        starts,
        vec![local(2026, 10, 13, 13, 0), local(2026, 10, 13, 15, 30)]
    );
    assert_eq!(
        outcome.speak(Lang::De),
        "Um 14 Uhr ist leider schon belegt. Ich kann Ihnen morgen um 13 Uhr oder um 15:30 Uhr anbieten. Welcher Termin passt Ihnen besser?"
    );
}

#[tokio::test]
async fn calcom_failure_becomes_source_unavailable_with_its_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "status": "error", "error": {"code": "SERVICE_UNAVAILABLE", "message": "down"}
        })))
        .mount(&server)
        .await;
    let t = tenant("praxis", practice_hours());
    let (_, _, clock) = practice();
    let source = CalcomSource::new().with_tenant(t.id().clone(), client(&server, "cal_test_a"));
    let finder = AlternativeFinder::new(SlotCache::memory(source, clock.clone()), clock);
    let outcome = finder
        .find(
            &t,
            &FindRequest::new(
                EventTypeId::from(42_u64),
                local(2026, 10, 13, 14, 0),
                Duration::minutes(30),
            ),
        )
        .await;
    let Outcome::SourceUnavailable { error, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(error.kind(), SourceErrorKind::Unavailable);
    // The sentence is calcom-client's own, as the client reports it.
    let direct = client(&server, "cal_test_a")
        .slots(&voxcal_calcom_client::SlotsQuery::new(
            42,
            berlin(2026, 10, 13, 0, 0),
            berlin(2026, 10, 14, 0, 0),
        ))
        .await
        .unwrap_err();
    assert_eq!(error.user_message(Lang::De), direct.user_message(Lang::De));
    assert_eq!(error.user_message(Lang::En), direct.user_message(Lang::En));
    assert!(outcome
        .speak(Lang::De)
        .starts_with(&*direct.user_message(Lang::De)));
    assert!(outcome
        .speak(Lang::De)
        .ends_with("Darf ich einen Rückruf für Sie notieren?"));
}

#[tokio::test]
async fn each_tenant_uses_its_own_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .and(header("authorization", "Bearer cal_key_a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slots_body(&[(
            "2026-10-13T09:00:00.000+02:00",
            "2026-10-13T09:30:00.000+02:00",
        )])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .and(header("authorization", "Bearer cal_key_b"))
        .respond_with(ResponseTemplate::new(200).set_body_json(slots_body(&[])))
        .mount(&server)
        .await;
    let a = tenant("a", practice_hours());
    let b = tenant("b", practice_hours());
    let unknown = tenant("c", practice_hours());
    let source = CalcomSource::new()
        .with_tenant(a.id().clone(), client(&server, "cal_key_a"))
        .with_tenant(b.id().clone(), client(&server, "cal_key_b"))
        .with_event_type(
            b.id(),
            EventTypeId::new("beratung").unwrap(),
            EventTypeTarget::user_slug("beratung", "praxis-b"),
        );
    let range = TimeRange::new(
        Utc.with_ymd_and_hms(2026, 10, 12, 22, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 10, 13, 22, 0, 0).unwrap(),
    );
    let same_id = EventTypeId::from(42_u64);
    assert_eq!(
        source
            .free_slots(a.id(), &same_id, range)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        source
            .free_slots(b.id(), &same_id, range)
            .await
            .unwrap()
            .len(),
        0
    );
    let by_slug = EventTypeId::new("beratung").unwrap();
    assert!(source.free_slots(b.id(), &by_slug, range).await.is_ok());
    // Unmapped slug for A, and an unknown tenant: NotFound, no request.
    let err = source
        .free_slots(a.id(), &by_slug, range)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), SourceErrorKind::NotFound);
    let err = source
        .free_slots(unknown.id(), &same_id, range)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), SourceErrorKind::NotFound);
}
