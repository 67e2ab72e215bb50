//! Decoding Cal.com v2 response bodies into typed values, exactly as
//! [`CalcomClient`](crate::CalcomClient) does after a response arrived.
//!
//! The client uses these functions itself; they are public so that tests, fuzz
//! targets and callers holding a Cal.com body from elsewhere (a recorded
//! response, a proxy) get the same results without a network round trip.
//! Success bodies use Cal.com's envelope `{"status": "success", "data": …}`;
//! error bodies go through [`error`].
//!
//! ```
//! use voxcal_calcom_client::{decode, ErrorKind};
//!
//! let body = br#"{"status":"success","data":{"2026-12-01":[{"start":"2026-12-01T10:00:00.000+01:00"}]}}"#;
//! let slots = decode::slots(body).unwrap();
//! assert_eq!(slots.len(), 1);
//!
//! let err = decode::error(
//!     reqwest::StatusCode::CONFLICT,
//!     br#"{"status":"error","error":{"code":"BadRequestException","message":"slot_not_available"}}"#,
//! );
//! assert_eq!(err.kind(), &ErrorKind::SlotTaken);
//! ```

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::CalcomError;
use crate::models::{Booking, BookingData, BookingsPage, Pagination, Slots, SlotsData};

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// The `data` of a success envelope, for endpoints that answer one plain value:
/// [`SlotReservation`](crate::SlotReservation), [`EventType`](crate::EventType),
/// `Vec<EventType>`, [`Me`](crate::Me).
///
/// # Errors
/// When the body is not JSON or `data` does not have `T`'s shape.
pub fn data<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice::<Envelope<T>>(body).map(|envelope| envelope.data)
}

/// The free slots of `GET /v2/slots`. Both the enveloped body the API sends and
/// the bare `{day: [slot, …]}` map of the published schema are accepted; slots
/// are sorted by start within each day.
///
/// # Errors
/// When neither form matches; the error is the one for the enveloped form.
pub fn slots(body: &[u8]) -> Result<Slots, serde_json::Error> {
    match data::<SlotsData>(body) {
        Ok(days) => Ok(days.into()),
        Err(enveloped) => serde_json::from_slice::<SlotsData>(body)
            .map(Slots::from)
            .map_err(|_| enveloped),
    }
}

/// The booking of `GET /v2/bookings/{uid}`, `POST /v2/bookings` and the
/// cancel/reschedule actions. For a recurring booking (`data` is a list) the
/// first occurrence; `None` when that list is empty.
///
/// # Errors
/// When the body is not JSON or `data` is neither a booking nor a list of them.
pub fn booking(body: &[u8]) -> Result<Option<Booking>, serde_json::Error> {
    data::<BookingData>(body).map(BookingData::into_first)
}

/// One page of `GET /v2/bookings`: `{"data": [booking, …], "pagination": {…}}`
/// (a missing `pagination` is the default).
///
/// # Errors
/// When the body is not JSON or does not have that shape.
pub fn bookings_page(body: &[u8]) -> Result<BookingsPage, serde_json::Error> {
    #[derive(Deserialize)]
    struct Page {
        data: Vec<Booking>,
        #[serde(default)]
        pagination: Pagination,
    }
    let page: Page = serde_json::from_slice(body)?;
    Ok(BookingsPage {
        bookings: page.data,
        pagination: page.pagination,
    })
}

/// The error the client returns for a non-success `status` with `body`: the
/// [`ErrorKind`](crate::ErrorKind) from the status (and, for 400/409/422, from
/// Cal.com's message when the slot is taken), with Cal.com's code, message and
/// field errors from `{"status":"error","error":{…}}` or `{"message": …}`.
/// Any body is accepted; one that is not JSON just carries no details. The
/// request id and a 429's wait come from response headers, so they are unset.
pub fn error(status: StatusCode, body: &[u8]) -> CalcomError {
    CalcomError::from_response(status, None, None, body)
}
