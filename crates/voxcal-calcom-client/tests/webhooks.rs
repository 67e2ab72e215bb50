//! Webhook deliveries written from the shapes in Cal.com's webhook documentation
//! (`tests/fixtures/webhooks/*.json`; copies seed the `calcom_webhook` fuzz target
//! in `fuzz/seeds/calcom_webhook/`): each decodes into the typed event, verifies with its signature and
//! with nothing else.

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use voxcal_calcom_client::webhook::{
    self, TriggerEvent, WebhookErrorKind, WebhookEvent, WebhookHeaders, WebhookPayload,
};
use voxcal_calcom_client::{BookingStatus, Lang, UserMessage};

const SECRET: &str = "whsec_praxis_berg";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn delivery(body: &[u8], signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "X-Cal-Signature-256",
        HeaderValue::from_str(signature).unwrap(),
    );
    headers.insert(
        "X-Cal-Webhook-Version",
        HeaderValue::from_static("2021-10-20"),
    );
    headers.insert("content-length", HeaderValue::from(body.len()));
    headers
}

#[test]
fn every_booking_trigger_decodes_with_uid_event_type_times_and_attendees() {
    let cases = [
        (
            "booking_created.json",
            TriggerEvent::BookingCreated,
            "bk_7Hq2",
            "2026-12-01T09:00:00Z",
            BookingStatus::Accepted,
        ),
        (
            "booking_rescheduled.json",
            TriggerEvent::BookingRescheduled,
            "bk_9Zx1",
            "2026-12-02T10:00:00Z",
            BookingStatus::Accepted,
        ),
        (
            "booking_cancelled.json",
            TriggerEvent::BookingCancelled,
            "bk_7Hq2",
            "2026-12-01T09:00:00Z",
            BookingStatus::Cancelled,
        ),
        (
            "booking_requested.json",
            TriggerEvent::BookingRequested,
            "bk_7Hq2",
            "2026-12-01T09:00:00Z",
            BookingStatus::Pending,
        ),
        (
            "booking_rejected.json",
            TriggerEvent::BookingRejected,
            "bk_7Hq2",
            "2026-12-01T09:00:00Z",
            BookingStatus::Rejected,
        ),
    ];
    for (file, trigger, uid, start, status) in cases {
        let body = fixture(file);
        let headers = WebhookHeaders::from_headers(&delivery(&body, &webhook::sign(SECRET, &body)));
        assert_eq!(headers.version.as_deref(), Some("2021-10-20"));
        let event = webhook::verify_and_decode(SECRET, &headers, &body)
            .unwrap_or_else(|err| panic!("{file}: {err}"));
        assert_eq!(event.trigger_event, trigger, "{file}");
        assert_eq!(event.created_at, at("2026-11-27T08:00:00.538Z"));
        let booking = event.booking().unwrap();
        assert_eq!(booking.uid, uid, "{file}");
        assert_eq!(booking.event_type_id, Some(42));
        assert_eq!(booking.start, at(start));
        assert_eq!(booking.end - booking.start, chrono::Duration::minutes(30));
        assert_eq!(booking.status, Some(status), "{file}");
        assert_eq!(booking.length, Some(30));
        assert_eq!(booking.attendees.len(), 1);
        let attendee = &booking.attendees[0];
        assert_eq!(attendee.email, "max@example.com");
        assert_eq!(attendee.name, "Max Müller");
        assert_eq!(attendee.time_zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(attendee.language.as_deref(), Some("de"));
        assert_eq!(booking.organizer.as_ref().unwrap().id, Some(5));
        // Debug never shows personal data.
        let debug = format!("{event:?}");
        assert!(
            !debug.contains("max@example.com") && !debug.contains("Müller"),
            "{debug}"
        );
    }
    let rescheduled = WebhookEvent::from_slice(&fixture("booking_rescheduled.json")).unwrap();
    assert_eq!(
        rescheduled.booking().unwrap().reschedule_uid.as_deref(),
        Some("bk_7Hq2")
    );
    let cancelled = WebhookEvent::from_slice(&fixture("booking_cancelled.json")).unwrap();
    assert_eq!(
        cancelled.booking().unwrap().cancellation_reason.as_deref(),
        Some("verhindert")
    );
    let rejected = WebhookEvent::from_slice(&fixture("booking_rejected.json")).unwrap();
    assert_eq!(
        rejected.booking().unwrap().rejection_reason.as_deref(),
        Some("Praxis geschlossen")
    );
}

#[test]
fn loose_shapes_are_tolerated_where_they_do_not_matter() {
    let event = WebhookEvent::from_slice(&fixture("booking_created_loose.json")).unwrap();
    let booking = event.booking().unwrap();
    assert_eq!(booking.length, Some(30), "a length sent as \"30\"");
    assert_eq!(booking.title, None, "title: null");
    assert_eq!(
        booking.location, None,
        "a location object where a string was documented"
    );
    assert_eq!(
        booking.status,
        Some(BookingStatus::Unknown),
        "AWAITING_HOST"
    );
    assert_eq!(booking.event_type_id, None, "eventTypeId: null");
    assert_eq!(booking.booking_id, None, "bookingId left out");
    assert!(booking.organizer.is_none() && booking.metadata.is_empty());
    assert_eq!(booking.attendees[0].language.as_deref(), Some("de"));
}

#[test]
fn unknown_triggers_are_kept_with_their_payload() {
    for (file, name) in [
        ("meeting_ended.json", "MEETING_ENDED"),
        ("ping.json", "PING"),
    ] {
        let event = WebhookEvent::from_slice(&fixture(file)).unwrap();
        assert_eq!(event.trigger_event, TriggerEvent::Other(name.to_owned()));
        assert_eq!(event.trigger_event.as_str(), name);
        assert!(!event.trigger_event.is_booking());
        assert!(event.booking().is_none());
        let WebhookPayload::Other(payload) = &event.payload else {
            panic!("{file}: not kept as is");
        };
        assert!(payload.is_object());
    }
}

#[test]
fn strict_where_it_matters() {
    let good: serde_json::Value = serde_json::from_slice(&fixture("booking_created.json")).unwrap();
    let mutate = |pointer: &str, value: Option<serde_json::Value>| {
        let mut json = good.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = json.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        match value {
            Some(value) => target.insert(key.to_owned(), value),
            None => target.remove(key),
        };
        serde_json::to_vec(&json).unwrap()
    };
    let rejected = [
        ("/payload/uid", None),
        ("/payload/uid", Some(serde_json::json!(7))),
        ("/payload/startTime", None),
        ("/payload/startTime", Some(serde_json::json!("morgen"))),
        ("/payload/endTime", Some(serde_json::json!(null))),
        ("/payload/eventTypeId", Some(serde_json::json!("42"))),
        ("/payload/eventTypeId", Some(serde_json::json!(4.2))),
        ("/payload/bookingId", Some(serde_json::json!(-1))),
        ("/createdAt", None),
        ("/createdAt", Some(serde_json::json!("2026-13-01"))),
        ("/triggerEvent", None),
        ("/triggerEvent", Some(serde_json::json!(1))),
    ];
    for (pointer, value) in rejected {
        let body = mutate(pointer, value.clone());
        let err = WebhookEvent::from_slice(&body).unwrap_err();
        assert_eq!(
            err.kind(),
            WebhookErrorKind::Decode,
            "{pointer} = {value:?}"
        );
        assert_eq!(err.status().as_u16(), 400);
        assert!(err
            .user_message(Lang::De)
            .starts_with("Terminbuchungssystem:"));
    }
    assert!(WebhookEvent::from_slice(b"").is_err());
    assert!(WebhookEvent::from_slice(b"[]").is_err());
}

#[test]
fn signatures_verify_only_the_exact_body_under_the_exact_secret() {
    let body = fixture("booking_created.json");
    let signature = webhook::sign(SECRET, &body);
    assert_eq!(signature.len(), 64);
    assert!(signature
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let read = |headers: &HeaderMap| WebhookHeaders::from_headers(headers);

    read(&delivery(&body, &signature))
        .verify(SECRET, &body)
        .unwrap();
    let cases = [
        (
            read(&delivery(&body, &signature)).verify("whsec_other", &body),
            WebhookErrorKind::InvalidSignature,
        ),
        (
            read(&delivery(&body, &signature)).verify(SECRET, &body[1..]),
            WebhookErrorKind::InvalidSignature,
        ),
        (
            read(&delivery(&body, webhook::NO_SECRET_PROVIDED)).verify(SECRET, &body),
            WebhookErrorKind::NoSecretProvided,
        ),
        (
            read(&delivery(&body, &signature.to_uppercase())).verify(SECRET, &body),
            WebhookErrorKind::MalformedSignature,
        ),
        (
            read(&delivery(&body, &signature)).verify("", &body),
            WebhookErrorKind::SecretNotConfigured,
        ),
        (
            read(&HeaderMap::new()).verify(SECRET, &body),
            WebhookErrorKind::MissingSignature,
        ),
    ];
    for (n, (result, kind)) in cases.into_iter().enumerate() {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), kind, "case {n}");
        assert!(err
            .user_message(Lang::De)
            .starts_with("Terminbuchungssystem:"));
        assert!(!err.to_string().contains(SECRET));
    }
    // A body that verifies but does not decode is a decode error, after the check.
    let junk = b"{\"triggerEvent\":\"BOOKING_CREATED\"}";
    let headers = read(&delivery(junk, &webhook::sign(SECRET, junk)));
    assert_eq!(
        webhook::verify_and_decode(SECRET, &headers, junk)
            .unwrap_err()
            .kind(),
        WebhookErrorKind::Decode
    );
    let headers = read(&delivery(junk, &signature));
    assert_eq!(
        webhook::verify_and_decode(SECRET, &headers, junk)
            .unwrap_err()
            .kind(),
        WebhookErrorKind::InvalidSignature
    );
}
