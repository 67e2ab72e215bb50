//! Shared helpers and the crate's own response fixtures (written from the spec's shapes,
//! with unknown extra fields and with optional fields left out).
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use serde_json::{json, Value};
use voxcal_calcom_client::{CalcomClient, Credentials, FakeClock, RetryConfig, TimeoutConfig};
use wiremock::MockServer;

pub const API_KEY: &str = "cal_test_0123456789abcdef";

/// Retries without jitter so delays can be asserted exactly.
pub fn exact_retries(max_retries: u32) -> RetryConfig {
    RetryConfig {
        max_retries,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        jitter: false,
        max_retry_after: Duration::from_secs(30),
    }
}

pub fn client_for(server: &MockServer, clock: &FakeClock, retry: RetryConfig) -> CalcomClient {
    CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .clock(clock.clone())
        .retry(retry)
        .build()
        .unwrap()
}

/// Timeouts short enough to hit on purpose (slots, writes) yet long enough that a
/// loaded CI machine does not hit them by accident; reads stay generous because the
/// no-double-booking check must not time out. Slow responses use [`SLOW`].
pub fn short_timeouts() -> TimeoutConfig {
    TimeoutConfig {
        connect: Duration::from_secs(5),
        slots: Duration::from_secs(1),
        reads: Duration::from_secs(10),
        writes: Duration::from_secs(2),
    }
}

/// A server delay far beyond every timeout in [`short_timeouts`].
pub const SLOW: Duration = Duration::from_secs(60);

pub fn success(data: Value) -> Value {
    json!({"status": "success", "data": data})
}

pub fn error_body(code: &str, message: &str) -> Value {
    json!({
        "status": "error",
        "timestamp": "2026-12-01T09:00:00.000Z",
        "path": "/v2/bookings",
        "error": {"code": code, "message": message}
    })
}

/// A full booking as `BookingOutput_2024_08_13` describes it, plus fields the spec
/// does not know.
pub fn booking(uid: &str, start: &str, end: &str, email: &str) -> Value {
    json!({
        "id": 9001,
        "uid": uid,
        "title": "Beratung zwischen Praxis und Max Müller",
        "description": "",
        "hosts": [{"id": 5, "name": "Dr. Berg", "email": "berg@praxis.example", "displayEmail": "berg@praxis.example", "username": "berg", "timeZone": "Europe/Berlin", "newHostField": 1}],
        "status": "accepted",
        "start": start,
        "end": end,
        "duration": 30,
        "eventTypeId": 42,
        "eventType": {"id": 42, "slug": "beratung"},
        "meetingUrl": "https://cal.example/video/abc",
        "location": "https://cal.example/video/abc",
        "absentHost": false,
        "createdAt": "2026-11-27T08:00:00.000Z",
        "updatedAt": "2026-11-27T08:00:00.000Z",
        "metadata": {"call_id": "call_1"},
        "icsUid": "ics-1",
        "attendees": [{"name": "Max Müller", "email": email, "displayEmail": email, "timeZone": "Europe/Berlin", "language": "de", "absent": false, "phoneNumber": "+4930123456", "bookingSeatUid": null}],
        "guests": [],
        "bookingFieldsResponses": {"name": "Max Müller", "email": email},
        "someFutureField": {"nested": [1, 2, 3]}
    })
}

/// A booking with only the fields our types need (optional ones left out).
pub fn minimal_booking(uid: &str, start: &str, end: &str) -> Value {
    json!({"id": 1, "uid": uid, "status": "accepted", "start": start, "end": end})
}

pub fn pagination(returned: u64, total: u64, page: u64, per_page: u64, has_next: bool) -> Value {
    json!({
        "totalItems": total,
        "remainingItems": total.saturating_sub(page * per_page),
        "returnedItems": returned,
        "itemsPerPage": per_page,
        "currentPage": page,
        "totalPages": total.div_ceil(per_page),
        "hasNextPage": has_next,
        "hasPreviousPage": page > 1
    })
}

pub fn event_type(id: u64) -> Value {
    json!({
        "id": id,
        "lengthInMinutes": 30,
        "lengthInMinutesOptions": [15, 30],
        "title": "Beratung",
        "slug": "beratung",
        "description": "Erstgespräch",
        "locations": [{"type": "phone", "phone": "+4930999", "public": true}],
        "bookingFields": [],
        "disableGuests": false,
        "slotInterval": null,
        "minimumBookingNotice": 120,
        "beforeEventBuffer": 0,
        "afterEventBuffer": 10,
        "recurrence": null,
        "metadata": {},
        "price": 0,
        "currency": "eur",
        "lockTimeZoneToggleOnBookingPage": false,
        "seatsPerTimeSlot": null,
        "forwardParamsSuccessRedirect": null,
        "successRedirectUrl": null,
        "isInstantEvent": false,
        "scheduleId": null,
        "hidden": false,
        "bookingRequiresAuthentication": false,
        "ownerId": 5,
        "users": ["berg"],
        "bookingUrl": "https://cal.example/berg/beratung",
        "unknownLater": "ignored"
    })
}

pub fn me() -> Value {
    json!({
        "id": 5,
        "username": "berg",
        "email": "berg@praxis.example",
        "name": null,
        "avatarUrl": null,
        "bio": null,
        "timeFormat": 24,
        "defaultScheduleId": null,
        "weekStart": "Monday",
        "timeZone": "Europe/Berlin",
        "organizationId": null,
        "extra": true
    })
}

pub fn reservation(uid: &str) -> Value {
    json!({
        "eventTypeId": 42,
        "slotStart": "2026-12-01T09:00:00.000Z",
        "slotEnd": "2026-12-01T09:30:00.000Z",
        "slotDuration": 30,
        "reservationUid": uid,
        "reservationDuration": 5,
        "reservationUntil": "2026-12-01T08:35:00.000Z",
        "later": "x"
    })
}
