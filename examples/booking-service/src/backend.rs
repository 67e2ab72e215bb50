//! Where a tenant's bookings are made: the [`BookingBackend`] trait, with
//! the demo calendar in memory ([`DemoBackend`]) and Cal.com
//! ([`CalcomBackend`]) as its implementations.
//!
//! A backend only talks to its calendar. What every booking needs besides
//! (the idempotency record, this process's index of bookings, the slot
//! cache, the caller's sentence) stays in the function handlers, written
//! once for every backend.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use voxcal_appointment_finder::{CalendarError, EventTypeId, InMemoryCalendar, Tenant, TenantId};
use voxcal_calcom_client::{
    Attendee, BookingStatus, CalcomClient, CalcomError, CancelBookingRequest, CreateBookingRequest,
    ErrorKind as CalcomErrorKind, EventTypeTarget, RescheduleBookingRequest,
};
use voxcal_circuit_breaker::CircuitBreaker;
use voxcal_core::{Lang, UserMessage};

use crate::state::{BookingHandle, BookingRecord, Service};

/// A backend's answer, later.
pub(crate) type BackendFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// Why a backend could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BackendError {
    /// The slot is not free (taken meanwhile, or no slot start).
    SlotTaken,
    /// The booking is not this backend's (or not this tenant's).
    NotFound,
    /// The calendar failed: the German sentence for the caller.
    Unavailable(String),
}

/// Who books (from `collect_appointment` / `book_appointment`).
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) name: String,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
}

/// A booking to make.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewBooking<'a> {
    pub(crate) tenant: &'a Tenant,
    pub(crate) service: &'a Service,
    pub(crate) start: DateTime<Utc>,
    pub(crate) customer: Option<&'a Customer>,
    /// Kept with the booking where the calendar can (Cal.com metadata), so
    /// a retry can find its own booking.
    pub(crate) call_id: &'a str,
}

/// A booking made.
#[derive(Debug, Clone)]
pub(crate) struct Made {
    pub(crate) handle: BookingHandle,
    /// The call's own earlier booking of this slot, found again (a retry
    /// whose first attempt booked): not booked anew.
    pub(crate) recovered: bool,
}

/// Where a tenant's bookings are made.
pub(crate) trait BookingBackend: Send + Sync + fmt::Debug {
    /// For `/api/health/detailed`.
    fn label(&self) -> &'static str;

    /// The breaker in front of the calendar, if there is one.
    fn breaker(&self) -> Option<&CircuitBreaker> {
        None
    }

    /// Whether a booking needs the caller's e-mail address.
    fn needs_email(&self) -> bool {
        false
    }

    /// Whether every replica sees the same bookings: then the idempotency
    /// record and the slot cache may be shared through Redis. A calendar in
    /// one process's memory is not.
    fn shared(&self) -> bool;

    /// Books `booking`.
    fn create<'a>(&'a self, booking: NewBooking<'a>) -> BackendFuture<'a, Made>;

    /// Cancels `handle` of `tenant`.
    fn cancel<'a>(
        &'a self,
        tenant: &'a TenantId,
        handle: &'a BookingHandle,
    ) -> BackendFuture<'a, ()>;

    /// Moves `handle` to `start`, answering the moved booking's handle;
    /// `None` when the calendar cannot move bookings (the handler then books
    /// anew and cancels the old one).
    fn reschedule<'a>(
        &'a self,
        tenant: &'a TenantId,
        handle: &'a BookingHandle,
        start: DateTime<Utc>,
    ) -> Option<BackendFuture<'a, BookingHandle>>;

    /// A live booking `booking_id` of one of `services`, asked of the
    /// calendar itself (made through another replica, or before a restart);
    /// `Ok(None)` when there is none.
    fn lookup<'a>(
        &'a self,
        tenant: &'a TenantId,
        booking_id: &'a str,
        services: &'a [Service],
    ) -> BackendFuture<'a, Option<BookingRecord>>;
}

/// The demo calendar, in this process's memory.
#[derive(Debug, Clone)]
pub(crate) struct DemoBackend {
    calendar: InMemoryCalendar,
}

impl DemoBackend {
    pub(crate) fn new(calendar: InMemoryCalendar) -> Self {
        DemoBackend { calendar }
    }
}

/// The calendar failed: its sentence for the caller.
fn unavailable(error: &impl UserMessage) -> BackendError {
    BackendError::Unavailable(error.user_message(Lang::De).into_owned())
}

fn calendar_error(error: &CalendarError) -> BackendError {
    match error {
        CalendarError::SlotNotFree => BackendError::SlotTaken,
        other => unavailable(other),
    }
}

impl BookingBackend for DemoBackend {
    fn label(&self) -> &'static str {
        "demo (in-memory)"
    }

    fn shared(&self) -> bool {
        false
    }

    fn create<'a>(&'a self, booking: NewBooking<'a>) -> BackendFuture<'a, Made> {
        let made = self
            .calendar
            .book(
                booking.tenant.id(),
                &booking.service.event_type,
                booking.start,
            )
            .map(|id| Made {
                handle: BookingHandle::Demo(id),
                recovered: false,
            })
            .map_err(|e| calendar_error(&e));
        Box::pin(std::future::ready(made))
    }

    fn cancel<'a>(
        &'a self,
        tenant: &'a TenantId,
        handle: &'a BookingHandle,
    ) -> BackendFuture<'a, ()> {
        let done = match handle {
            BookingHandle::Demo(id) => self
                .calendar
                .cancel(tenant, *id)
                .map_err(|e| calendar_error(&e)),
            BookingHandle::Calcom(_) => Err(BackendError::NotFound),
        };
        Box::pin(std::future::ready(done))
    }

    fn reschedule<'a>(
        &'a self,
        _: &'a TenantId,
        _: &'a BookingHandle,
        _: DateTime<Utc>,
    ) -> Option<BackendFuture<'a, BookingHandle>> {
        None
    }

    fn lookup<'a>(
        &'a self,
        _: &'a TenantId,
        _: &'a str,
        _: &'a [Service],
    ) -> BackendFuture<'a, Option<BookingRecord>> {
        // Every demo booking is in this process's index already.
        Box::pin(std::future::ready(Ok(None)))
    }
}

/// A tenant's Cal.com account.
#[derive(Debug, Clone)]
pub(crate) struct CalcomBackend {
    client: CalcomClient,
    breaker: CircuitBreaker,
    /// Cal.com event type id per service event type.
    event_types: HashMap<EventTypeId, u64>,
}

impl CalcomBackend {
    pub(crate) fn new(
        client: CalcomClient,
        breaker: CircuitBreaker,
        event_types: HashMap<EventTypeId, u64>,
    ) -> Self {
        CalcomBackend {
            client,
            breaker,
            event_types,
        }
    }
}

/// A Cal.com failure (or its open breaker) as the caller's sentence.
fn calcom_error(error: &CalcomError) -> BackendError {
    match error.kind() {
        CalcomErrorKind::SlotTaken | CalcomErrorKind::Conflict => BackendError::SlotTaken,
        CalcomErrorKind::NotFound => BackendError::NotFound,
        kind => {
            tracing::warn!(?kind, "cal.com request failed");
            unavailable(error)
        }
    }
}

fn record_upstream(tenant: &TenantId, operation: &'static str, started: std::time::Instant) {
    metrics::histogram!(
        "upstream_request_seconds",
        "tenant" => tenant.to_string(),
        "source" => "calcom",
        "operation" => operation
    )
    .record(started.elapsed().as_secs_f64());
}

impl BookingBackend for CalcomBackend {
    fn label(&self) -> &'static str {
        "calcom"
    }

    fn breaker(&self) -> Option<&CircuitBreaker> {
        Some(&self.breaker)
    }

    /// Cal.com needs an attendee e-mail address for every booking.
    fn needs_email(&self) -> bool {
        true
    }

    fn shared(&self) -> bool {
        true
    }

    fn create<'a>(&'a self, booking: NewBooking<'a>) -> BackendFuture<'a, Made> {
        Box::pin(async move {
            let Some(cal_id) = self.event_types.get(&booking.service.event_type) else {
                return Err(unavailable(&CalendarError::UnknownEventType(
                    booking.service.event_type.clone(),
                )));
            };
            let zone = booking.tenant.hours().zone().name();
            let customer = booking.customer;
            let name = customer.map_or("Anrufer", |c| c.name.as_str());
            let mut attendee = Attendee::new(name, zone).language("de");
            if let Some(email) = customer.and_then(|c| c.email.as_deref()) {
                attendee = attendee.email(email);
            }
            if let Some(phone) = customer.and_then(|c| c.phone.as_deref()) {
                attendee = attendee.phone_number(phone);
            }
            let request =
                CreateBookingRequest::new(EventTypeTarget::Id(*cal_id), booking.start, attendee)
                    .metadata("call_id", booking.call_id);
            let started = std::time::Instant::now();
            let result = self.client.create_booking(&request).await;
            record_upstream(booking.tenant.id(), "bookings.create", started);
            match result {
                Ok(made) => Ok(Made {
                    handle: BookingHandle::Calcom(made.uid),
                    recovered: false,
                }),
                Err(e) => match calcom_error(&e) {
                    BackendError::SlotTaken => {
                        // A retry whose first attempt booked while the shared
                        // record was unreadable: Cal.com knows the booking by
                        // the call id in its metadata.
                        let own = crate::recover::own_booking(
                            &self.client,
                            booking.call_id,
                            booking.start,
                            booking.service.duration,
                        )
                        .await;
                        own.map(|uid| Made {
                            handle: BookingHandle::Calcom(uid),
                            recovered: true,
                        })
                        .ok_or(BackendError::SlotTaken)
                    }
                    // A 404 on create is no "booking not found".
                    BackendError::NotFound => Err(unavailable(&e)),
                    other => Err(other),
                },
            }
        })
    }

    fn cancel<'a>(
        &'a self,
        tenant: &'a TenantId,
        handle: &'a BookingHandle,
    ) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            let BookingHandle::Calcom(uid) = handle else {
                return Err(BackendError::NotFound);
            };
            let started = std::time::Instant::now();
            let result = self
                .client
                .cancel_booking(
                    uid,
                    &CancelBookingRequest::with_reason("Vom Anrufer storniert"),
                )
                .await;
            record_upstream(tenant, "bookings.cancel", started);
            result.map(drop).map_err(|e| match calcom_error(&e) {
                // Cancelling: whatever Cal.com refused, the caller hears
                // that it could not be done now.
                BackendError::SlotTaken | BackendError::NotFound => unavailable(&e),
                other => other,
            })
        })
    }

    fn reschedule<'a>(
        &'a self,
        tenant: &'a TenantId,
        handle: &'a BookingHandle,
        start: DateTime<Utc>,
    ) -> Option<BackendFuture<'a, BookingHandle>> {
        Some(Box::pin(async move {
            let BookingHandle::Calcom(uid) = handle else {
                return Err(BackendError::NotFound);
            };
            let started = std::time::Instant::now();
            let result = self
                .client
                .reschedule_booking(uid, &RescheduleBookingRequest::new(start))
                .await;
            record_upstream(tenant, "bookings.reschedule", started);
            match result {
                Ok(booking) => Ok(BookingHandle::Calcom(booking.uid)),
                Err(e) => Err(match calcom_error(&e) {
                    BackendError::NotFound => unavailable(&e),
                    other => other,
                }),
            }
        }))
    }

    /// A Cal.com booking counts only if it is live and of one of this
    /// tenant's event types, so a uid of another tenant on the same Cal.com
    /// account stays "not found".
    fn lookup<'a>(
        &'a self,
        tenant: &'a TenantId,
        booking_id: &'a str,
        services: &'a [Service],
    ) -> BackendFuture<'a, Option<BookingRecord>> {
        Box::pin(async move {
            let started = std::time::Instant::now();
            let result = self.client.booking(booking_id).await;
            record_upstream(tenant, "bookings.get", started);
            let booking = match result {
                Ok(booking) => booking,
                Err(e) => {
                    return match calcom_error(&e) {
                        BackendError::NotFound => Ok(None),
                        BackendError::SlotTaken => Err(unavailable(&e)),
                        other => Err(other),
                    }
                }
            };
            let live = matches!(
                booking.status,
                BookingStatus::Accepted | BookingStatus::Pending
            );
            let service = booking.event_type_id.and_then(|id| {
                services
                    .iter()
                    .position(|s| self.event_types.get(&s.event_type) == Some(&id))
            });
            Ok(service.filter(|_| live).map(|service| BookingRecord {
                id: BookingHandle::Calcom(booking.uid),
                service,
                start: booking.start,
            }))
        })
    }
}
