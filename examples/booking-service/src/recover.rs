//! Finding a call's own booking in Cal.com when the shared idempotency
//! record could not say (Redis down): Retell retried `book_appointment` on
//! another replica, the first attempt had booked, and Cal.com now refuses
//! the slot as taken. The service puts the call id in every booking's
//! metadata, so the retry asks Cal.com who holds the slot.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use voxcal_calcom_client::{Booking, BookingStatus, BookingsQuery, CalcomClient};

/// The uid of the live booking that call `call_id` holds at `start`, if
/// Cal.com has one; `None` when the slot belongs to someone else, or when
/// Cal.com cannot be asked (the caller then hears that the slot is taken,
/// as without this lookup).
pub(crate) async fn own_booking(
    client: &CalcomClient,
    call_id: &str,
    start: DateTime<Utc>,
    duration: Duration,
) -> Option<String> {
    let query = BookingsQuery::new()
        .between(start, start + duration)
        .take(20);
    match client.list_bookings(&query).await {
        Ok(page) => page
            .bookings
            .into_iter()
            .find(|b| held_by(b, call_id, start))
            .map(|b| b.uid),
        Err(e) => {
            tracing::warn!(error = %e, "could not ask Cal.com who holds a slot it refused");
            None
        }
    }
}

/// Whether `booking` is a live booking at `start` made for call `call_id`.
fn held_by(booking: &Booking, call_id: &str, start: DateTime<Utc>) -> bool {
    booking.start == start
        && !matches!(
            booking.status,
            BookingStatus::Cancelled | BookingStatus::Rejected
        )
        && booking.metadata.get("call_id").and_then(Value::as_str) == Some(call_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn booking(status: &str, start: &str, call_id: Option<&str>) -> Booking {
        let mut raw = json!({
            "id": 7, "uid": "bk_7", "title": "Beratung", "status": status,
            "start": start, "end": "2026-12-10T13:30:00Z",
            "attendees": [], "hosts": [],
        });
        if let Some(call_id) = call_id {
            raw["metadata"] = json!({"call_id": call_id});
        }
        serde_json::from_value(raw).expect("a booking as Cal.com lists it")
    }

    #[test]
    fn only_a_live_booking_of_this_call_at_this_start_is_its_own() {
        let start = Utc.with_ymd_and_hms(2026, 12, 10, 13, 0, 0).unwrap();
        let at = "2026-12-10T13:00:00Z";
        assert!(held_by(
            &booking("accepted", at, Some("call_a")),
            "call_a",
            start
        ));
        assert!(held_by(
            &booking("pending", at, Some("call_a")),
            "call_a",
            start
        ));
        assert!(!held_by(
            &booking("accepted", at, Some("call_b")),
            "call_a",
            start
        ));
        assert!(!held_by(&booking("accepted", at, None), "call_a", start));
        assert!(!held_by(
            &booking("cancelled", at, Some("call_a")),
            "call_a",
            start
        ));
        assert!(!held_by(
            &booking("rejected", at, Some("call_a")),
            "call_a",
            start
        ));
        assert!(!held_by(
            &booking("accepted", "2026-12-10T13:30:00Z", Some("call_a")),
            "call_a",
            start
        ));
    }
}
