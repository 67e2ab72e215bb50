//! A typed, resilient client for the [Cal.com API v2](https://cal.com/docs/api-reference/v2).
//!
//! The voice agent asks for free slots, holds one while the caller confirms, and books
//! it. This crate does those calls with typed requests and responses, the right
//! `cal-api-version` per endpoint group, timeouts per operation class, retries with
//! back-off where repeating is safe, a booking path that cannot book twice after a
//! timeout, an optional client-side quota, and a [`CalcomError`] whose
//! [`user_message`](UserMessage::user_message) the agent can say out loud.
//!
//! # Example: from free slots to a booking
//!
//! ```
//! use voxcal_calcom_client::{
//!     Attendee, BookingLocation, CalcomClient, CreateBookingRequest, Credentials, Lang,
//!     SlotsQuery, UserMessage,
//! };
//! use chrono::NaiveDate;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use wiremock::{matchers::{method, path}, Mock, MockServer, ResponseTemplate};
//! # let cal = MockServer::start().await;
//! # Mock::given(method("GET")).and(path("/v2/slots"))
//! #     .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
//! #         "status": "success",
//! #         "data": {"2026-12-01": [{"start": "2026-12-01T10:00:00.000+01:00"}]}})))
//! #     .mount(&cal).await;
//! # Mock::given(method("POST")).and(path("/v2/bookings"))
//! #     .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
//! #         "status": "success",
//! #         "data": {"id": 1, "uid": "bk_1", "title": "Beratung", "status": "accepted",
//! #                  "start": "2026-12-01T09:00:00.000Z", "end": "2026-12-01T09:30:00.000Z",
//! #                  "duration": 30, "eventTypeId": 42, "attendees": []}})))
//! #     .mount(&cal).await;
//! # let base_url = cal.uri();
//! // One client per tenant; the API key comes from the tenant's configuration.
//! let client = CalcomClient::builder(Credentials::api_key("cal_live_…"))
//!     .base_url(base_url) // default: https://api.cal.com
//!     .build()?;
//!
//! let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
//! let query = SlotsQuery::for_dates(42, day, day).time_zone("Europe/Berlin");
//! let slots = client.slots(&query).await?;
//! let first = slots.iter().next().expect("a free slot");
//!
//! let attendee = Attendee::new("Max Müller", "Europe/Berlin").email("max@example.com");
//! let request = CreateBookingRequest::new(42, first.start, attendee)
//!     .location(BookingLocation::Phone)
//!     .metadata("call_id", "call_123");
//! match client.create_booking(&request).await {
//!     Ok(booking) => assert_eq!(booking.uid, "bk_1"),
//!     // Say something useful instead of a stack trace.
//!     Err(err) => println!("{}", err.user_message(Lang::De)),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! | method | endpoint | `cal-api-version` |
//! |---|---|---|
//! | [`slots`](CalcomClient::slots) | `GET /v2/slots` | `2024-09-04` |
//! | [`reserve_slot`](CalcomClient::reserve_slot) | `POST /v2/slots/reservations` | `2024-09-04` |
//! | [`release_slot`](CalcomClient::release_slot) | `DELETE /v2/slots/reservations/{uid}` | `2024-09-04` |
//! | [`create_booking`](CalcomClient::create_booking) | `POST /v2/bookings` | `2024-08-13` |
//! | [`booking`](CalcomClient::booking) | `GET /v2/bookings/{uid}` | `2024-08-13` |
//! | [`list_bookings`](CalcomClient::list_bookings), [`booking_pages`](CalcomClient::booking_pages), [`bookings_stream`](CalcomClient::bookings_stream) | `GET /v2/bookings` | `2024-08-13` |
//! | [`cancel_booking`](CalcomClient::cancel_booking) | `POST /v2/bookings/{uid}/cancel` | `2024-08-13` |
//! | [`reschedule_booking`](CalcomClient::reschedule_booking) | `POST /v2/bookings/{uid}/reschedule` | `2024-08-13` |
//! | [`event_types`](CalcomClient::event_types) | `GET /v2/event-types` | `2024-06-14` |
//! | [`event_type`](CalcomClient::event_type) | `GET /v2/event-types/{id}` | `2024-06-14` |
//! | [`me`](CalcomClient::me) | `GET /v2/me` | none |
//!
//! # Webhooks
//!
//! [`webhook`] checks Cal.com's `X-Cal-Signature-256` in constant time and decodes
//! booking webhooks into [`webhook::WebhookEvent`]; see the module for an example and
//! `examples/webhook_axum.rs` for an axum receiver.
//!
//! # Tolerant decoding
//!
//! Counts and durations are read from numbers or numeric strings (the spec documents
//! `"slotDuration": "30"`), `null` counts as missing, unknown booking statuses are
//! [`BookingStatus::Unknown`], unknown fields are ignored. Ids, instants, uids and the
//! slot map stay strict.
//!
//! # Resilience
//!
//! - [`TimeoutConfig`]: connect 2 s; slots 2 s, other reads 5 s, writes 10 s per attempt.
//! - [`RetryConfig`]: `GET`/`DELETE` are retried on 5xx, 429 and connection errors
//!   with exponential back-off and jitter; a 429's `Retry-After` (or Cal.com's
//!   `X-RateLimit-Reset-Default`) is waited for when it is short enough. Writes are
//!   retried only when the connection could not be made.
//! - [`CalcomClient::create_booking`] checks for the booking after a timeout before
//!   trying again.
//! - [`Quota`]: an optional token bucket per credential, below Cal.com's 120/min.
//! - Time goes through an injected [`Clock`] (the family's clock from `voxcal-core`,
//!   re-exported here with [`SystemClock`] and [`FakeClock`]): quotas and back-off read
//!   its monotonic time, `Retry-After` dates its wall time, and back-off sleeps through
//!   it, so tests with a [`FakeClock`] never wait. With the `breaker` feature the
//!   client's own breakers read the same clock.
//!
//! # Features
//!
//! No default features. TLS is `rustls` with the `ring` provider and webpki roots.
//!
//! - `breaker`: every attempt goes through a `voxcal_circuit_breaker::CircuitBreaker`, by
//!   default one per base URL + credentials
//!   ([`CalcomClientBuilder::circuit_breaker`] shares one). Outages (5xx, timeouts,
//!   network errors, Cal.com's 429) count as failures. While it is open, calls fail
//!   at once with [`ErrorKind::CircuitOpen`] and its retry time, without touching
//!   the network, and are not retried.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
#[cfg(feature = "breaker")]
mod breaker;
mod client;
pub mod decode;
mod error;
mod models;
mod quota;
mod retry;
pub mod webhook;

pub use auth::Credentials;
pub use client::{
    BookingPages, CalcomClient, CalcomClientBuilder, TimeoutConfig, BOOKINGS_API_VERSION,
    DEFAULT_BASE_URL, EVENT_TYPES_API_VERSION, SLOTS_API_VERSION,
};
pub use error::{ApiErrorBody, CalcomError, ErrorKind, FieldError};
pub use models::{
    Attendee, Booking, BookingAttendee, BookingHost, BookingLocation, BookingStatus, BookingsPage,
    BookingsQuery, CancelBookingRequest, CreateBookingRequest, EventType, EventTypeSummary,
    EventTypeTarget, EventTypesQuery, Me, Pagination, RescheduleBookingRequest, ReserveSlotRequest,
    Slot, SlotReservation, Slots, SlotsQuery, SortOrder,
};
pub use quota::Quota;
pub use retry::RetryConfig;
pub use voxcal_core::{Clock, FakeClock, Lang, SystemClock, UserMessage};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<CalcomClient>();
        assert_send_sync::<CalcomError>();
        assert_send_sync::<Credentials>();
        assert_send_sync::<BookingPages>();
        assert_send_sync::<FakeClock>();
    }

    #[test]
    fn operation_futures_are_send() {
        // axum handlers need `Send` futures.
        let client = CalcomClient::builder(Credentials::api_key("cal_x"))
            .build()
            .unwrap();
        let start = "2026-12-01T09:00:00Z".parse().unwrap();
        let request = CreateBookingRequest::new(1, start, Attendee::new("A", "UTC"));
        assert_send(&client.create_booking(&request));
        let query = SlotsQuery::new(1, start, start);
        assert_send(&client.slots(&query));
        assert_send(&client.booking_pages(BookingsQuery::new()).next_page());
        assert_send(&client.bookings_stream(BookingsQuery::new()));
        assert_send(&client.me());
    }
}
