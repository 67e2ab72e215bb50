//! Request and response types of the endpoints the client covers.

mod bookings;
mod event_types;
pub(crate) mod lenient;
mod me;
mod slots;

pub use bookings::{
    Attendee, Booking, BookingAttendee, BookingHost, BookingLocation, BookingStatus, BookingsPage,
    BookingsQuery, CancelBookingRequest, CreateBookingRequest, EventTypeSummary, Pagination,
    RescheduleBookingRequest, SortOrder,
};
pub use event_types::{EventType, EventTypesQuery};
pub use me::Me;
pub use slots::{EventTypeTarget, ReserveSlotRequest, Slot, SlotReservation, Slots, SlotsQuery};

pub(crate) use bookings::BookingData;
pub(crate) use slots::SlotsData;

/// Formats an instant the way Cal.com documents it: UTC, milliseconds, `Z`.
pub(crate) fn instant(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Serializes a `DateTime<Utc>` as [`instant`].
pub(crate) mod utc_millis {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(
        at: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::instant(at))
    }
}

/// `Debug` stand-in for personal data.
pub(crate) struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Debug stand-in for optional personal data: shows whether it is present.
pub(crate) fn redacted_opt<T>(value: &Option<T>) -> Option<Redacted> {
    value.as_ref().map(|_| Redacted)
}
