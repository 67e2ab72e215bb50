//! `voxcal_calcom_client::decode` on arbitrary response bodies: every success decoder
//! (slots, booking, bookings page, reservation, event types, me) and the error
//! decoder for the statuses the client maps.
//!
//! Checked:
//! - no panic, including in the `Debug` output of decoded values;
//! - decoded slots are sorted by start within each day, and `len` matches
//!   the iterator;
//! - the error kind follows the status (401, 403, 404, 429, 498 and 5xx are
//!   fixed; 400/409/422 are validation, conflict or slot taken), the status
//!   is kept, and there is a user message in both languages.
#![no_main]

use voxcal_calcom_client::{
    decode, BookingsPage, ErrorKind, EventType, Lang, Me, SlotReservation, Slots, UserMessage,
};
use http::StatusCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(slots) = decode::slots(body) {
        check_slots(&slots);
    }
    if let Ok(booking) = decode::booking(body) {
        let _ = format!("{booking:?}");
    }
    if let Ok(page) = decode::bookings_page(body) {
        let BookingsPage {
            bookings,
            pagination,
        } = &page;
        let _ = format!("{bookings:?} {pagination:?}");
    }
    if let Ok(reservation) = decode::data::<SlotReservation>(body) {
        let _ = format!("{reservation:?}");
    }
    if let Ok(event_type) = decode::data::<EventType>(body) {
        let _ = format!("{event_type:?}");
    }
    if let Ok(event_types) = decode::data::<Vec<EventType>>(body) {
        let _ = format!("{event_types:?}");
    }
    if let Ok(me) = decode::data::<Me>(body) {
        let _ = format!("{me:?}");
    }
    for status in [400, 401, 403, 404, 409, 422, 429, 498, 500, 503, 302] {
        check_error(StatusCode::from_u16(status).expect("a valid status"), body);
    }
});

fn check_slots(slots: &Slots) {
    for day in slots.days.values() {
        assert!(
            day.windows(2).all(|w| w[0].start <= w[1].start),
            "slots not sorted"
        );
    }
    assert_eq!(slots.len(), slots.iter().count());
    assert_eq!(slots.is_empty(), slots.iter().next().is_none());
}

fn check_error(status: StatusCode, body: &[u8]) {
    let err = decode::error(status, body);
    assert_eq!(err.status(), Some(status));
    let kind = err.kind();
    let expected_fixed = match status.as_u16() {
        401 => Some(ErrorKind::Unauthorized),
        403 => Some(ErrorKind::Forbidden),
        404 => Some(ErrorKind::NotFound),
        429 => Some(ErrorKind::RateLimited { retry_after: None }),
        498 => Some(ErrorKind::TokenExpired),
        500..=599 => Some(ErrorKind::Server),
        400 | 409 | 422 => None,
        _ => Some(ErrorKind::UnexpectedStatus),
    };
    match expected_fixed {
        Some(expected) => assert_eq!(kind, &expected),
        None => assert!(
            matches!(
                kind,
                ErrorKind::Validation | ErrorKind::Conflict | ErrorKind::SlotTaken
            ),
            "unexpected kind {kind:?} for {status}"
        ),
    }
    for lang in [Lang::De, Lang::En] {
        assert!(!err.user_message(lang).is_empty());
    }
    let _ = format!("{err} {err:?} {:?}", err.field_errors());
}
