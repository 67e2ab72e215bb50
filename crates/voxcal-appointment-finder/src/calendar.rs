//! An in-memory calendar: business hours + bookings -> free slots.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use parking_lot::RwLock;
use voxcal_core::{Clock, Lang, UserMessage};

use crate::hours::{resolve_local, BusinessHours};
use crate::source::{AvailabilitySource, Slot, SourceError, SourceErrorKind, TimeRange};
use crate::tenant::{EventTypeId, Tenant, TenantId};

/// How an event type's slots are laid out, as Cal.com configures them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    length: Duration,
    interval: Duration,
    buffer_before: Duration,
    buffer_after: Duration,
    minimum_notice: Duration,
}

impl EventType {
    /// An event type of `length`; slots start every `length` from each
    /// opening, without buffers or notice. Lengths under a minute count as
    /// one minute.
    pub fn new(length: Duration) -> Self {
        let length = length.max(Duration::minutes(1));
        EventType {
            length,
            interval: length,
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            minimum_notice: Duration::zero(),
        }
    }

    /// Slots start every `interval` (at least one minute) from each opening.
    pub fn with_slot_interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::minutes(1));
        self
    }

    /// Time kept free before and after each appointment.
    pub fn with_buffers(mut self, before: Duration, after: Duration) -> Self {
        self.buffer_before = before.max(Duration::zero());
        self.buffer_after = after.max(Duration::zero());
        self
    }

    /// Slots starting sooner than this from now are not offered.
    pub fn with_minimum_notice(mut self, notice: Duration) -> Self {
        self.minimum_notice = notice.max(Duration::zero());
        self
    }

    /// Length of an appointment.
    pub fn length(&self) -> Duration {
        self.length
    }

    /// Minimum booking notice.
    pub fn minimum_notice(&self) -> Duration {
        self.minimum_notice
    }
}

/// Identifies a booking in an [`InMemoryCalendar`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BookingId(u64);

impl fmt::Display for BookingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}", self.0)
    }
}

/// Why the calendar refused a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The tenant was never added.
    #[error("unknown tenant {0}")]
    UnknownTenant(TenantId),
    /// The tenant has no such event type.
    #[error("unknown event type {0}")]
    UnknownEventType(EventTypeId),
    /// The requested start is not a free slot (taken, outside hours, too soon).
    #[error("the slot is not free")]
    SlotNotFree,
    /// No booking with this id.
    #[error("unknown booking {0}")]
    UnknownBooking(BookingId),
}

/// A sentence the agent can say.
impl UserMessage for CalendarError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        Cow::Borrowed(match (lang, self) {
            (Lang::En, CalendarError::SlotNotFree) => "This time is no longer available.",
            (Lang::En, CalendarError::UnknownBooking(_)) => "I cannot find this appointment.",
            (Lang::En, _) => "I cannot find a calendar for this appointment.",
            (_, CalendarError::SlotNotFree) => "Dieser Termin ist leider nicht mehr frei.",
            (_, CalendarError::UnknownBooking(_)) => "Diesen Termin kann ich leider nicht finden.",
            (_, _) => "Für diesen Termin finde ich leider keinen Kalender.",
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Busy {
    id: BookingId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug)]
struct TenantCalendar {
    hours: BusinessHours,
    event_types: HashMap<EventTypeId, EventType>,
    /// Blocked ranges (appointments with their buffers), sorted by start.
    busy: Vec<Busy>,
    /// Longest blocked range, to bound the overlap search.
    longest: Duration,
}

impl TenantCalendar {
    fn insert(&mut self, busy: Busy) {
        let at = self.busy.partition_point(|b| b.start <= busy.start);
        self.longest = self.longest.max(busy.end - busy.start);
        self.busy.insert(at, busy);
    }

    fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        let upto = self.busy.partition_point(|b| b.start < end);
        self.busy[..upto]
            .iter()
            .rev()
            .take_while(|b| b.start + self.longest > start)
            .any(|b| b.end > start)
    }

    fn free(&self, et: &EventType, range: TimeRange, now: DateTime<Utc>) -> Vec<Slot> {
        let zone = self.hours.zone();
        let earliest = now + et.minimum_notice;
        let mut out = Vec::new();
        let Some(first) = self.hours.local_date(range.start).pred_opt() else {
            return out;
        };
        let last = self.hours.local_date(range.end);
        let mut date: NaiveDate = first;
        while date <= last {
            for iv in self.hours.intervals_on(date) {
                let Some((open, close)) = iv.on(date, zone) else {
                    continue;
                };
                let mut offset = Duration::minutes(i64::from(iv.start_minutes()));
                let end_offset = Duration::minutes(i64::from(iv.end_minutes()));
                while offset < end_offset {
                    let wall = date.and_time(chrono::NaiveTime::MIN) + offset;
                    offset += et.interval;
                    // A wall time in a DST gap does not exist: no slot.
                    let Some((start, false)) = resolve_local(zone, wall) else {
                        continue;
                    };
                    let end = start + et.length;
                    if start < open || end > close || !range.contains(start) || start < earliest {
                        continue;
                    }
                    if self.overlaps(start - et.buffer_before, end + et.buffer_after) {
                        continue;
                    }
                    out.push(Slot { start, end });
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// A calendar kept in memory: per tenant business hours, event types and
/// bookings; free slots are computed from them the way Cal.com does (slot
/// interval, before/after buffers, minimum booking notice).
///
/// Used by tests, benches and the demo service.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use voxcal_appointment_finder::{
///     AvailabilitySource, BusinessHours, EventType, EventTypeId, FakeClock, InMemoryCalendar,
///     Tenant, TenantId, TimeRange,
/// };
/// use chrono::{Duration, TimeZone, Utc};
///
/// let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap());
/// let calendar = InMemoryCalendar::new(clock);
/// let tenant = Tenant::new(TenantId::new("praxis").unwrap(), BusinessHours::default());
/// let consult = EventTypeId::from(30_u64);
/// calendar.add_tenant(&tenant);
/// calendar.add_event_type(tenant.id(), consult.clone(), EventType::new(Duration::minutes(30))).unwrap();
///
/// // Monday 2026-10-12, 09:00–18:00 Berlin (07:00–16:00 UTC): 18 half-hour slots.
/// let day = TimeRange::new(
///     Utc.with_ymd_and_hms(2026, 10, 11, 22, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2026, 10, 12, 22, 0, 0).unwrap(),
/// );
/// let slots = calendar.free_slots(tenant.id(), &consult, day).await.unwrap();
/// assert_eq!(slots.len(), 18);
/// calendar.book(tenant.id(), &consult, slots[0].start).unwrap();
/// assert_eq!(calendar.free_slots(tenant.id(), &consult, day).await.unwrap().len(), 17);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct InMemoryCalendar {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    clock: Box<dyn Clock>,
    tenants: RwLock<HashMap<TenantId, TenantCalendar>>,
    next_id: AtomicU64,
}

impl InMemoryCalendar {
    /// An empty calendar reading the time ([`Clock::now_utc`]) from `clock`.
    pub fn new(clock: impl Clock) -> Self {
        InMemoryCalendar {
            inner: Arc::new(Inner {
                clock: Box::new(clock),
                tenants: RwLock::new(HashMap::new()),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// Adds a tenant with its business hours (or replaces its hours, keeping
    /// event types and bookings).
    pub fn add_tenant(&self, tenant: &Tenant) {
        let mut tenants = self.inner.tenants.write();
        tenants
            .entry(tenant.id().clone())
            .and_modify(|t| t.hours = tenant.hours().clone())
            .or_insert_with(|| TenantCalendar {
                hours: tenant.hours().clone(),
                event_types: HashMap::new(),
                busy: Vec::new(),
                longest: Duration::zero(),
            });
    }

    /// Adds (or replaces) an event type of a tenant.
    pub fn add_event_type(
        &self,
        tenant: &TenantId,
        id: EventTypeId,
        event_type: EventType,
    ) -> Result<(), CalendarError> {
        let mut tenants = self.inner.tenants.write();
        let cal = tenants
            .get_mut(tenant)
            .ok_or_else(|| CalendarError::UnknownTenant(tenant.clone()))?;
        cal.event_types.insert(id, event_type);
        Ok(())
    }

    /// Books the free slot of `event_type` starting at `start`.
    pub fn book(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        start: DateTime<Utc>,
    ) -> Result<BookingId, CalendarError> {
        let now = self.inner.clock.now_utc();
        let mut tenants = self.inner.tenants.write();
        let cal = tenants
            .get_mut(tenant)
            .ok_or_else(|| CalendarError::UnknownTenant(tenant.clone()))?;
        let et = *cal
            .event_types
            .get(event_type)
            .ok_or_else(|| CalendarError::UnknownEventType(event_type.clone()))?;
        let probe = TimeRange::new(start, start + Duration::seconds(1));
        if !cal.free(&et, probe, now).iter().any(|s| s.start == start) {
            return Err(CalendarError::SlotNotFree);
        }
        let id = BookingId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        cal.insert(Busy {
            id,
            start: start - et.buffer_before,
            end: start + et.length + et.buffer_after,
        });
        tracing::debug!(tenant = %tenant, booking = %id, "booked");
        Ok(id)
    }

    /// Blocks a time range of a tenant (another calendar's appointment,
    /// a meeting), whatever the business hours say.
    pub fn block(&self, tenant: &TenantId, range: TimeRange) -> Result<BookingId, CalendarError> {
        let mut tenants = self.inner.tenants.write();
        let cal = tenants
            .get_mut(tenant)
            .ok_or_else(|| CalendarError::UnknownTenant(tenant.clone()))?;
        let id = BookingId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        cal.insert(Busy {
            id,
            start: range.start,
            end: range.end.max(range.start),
        });
        Ok(id)
    }

    /// Cancels a booking or block.
    pub fn cancel(&self, tenant: &TenantId, booking: BookingId) -> Result<(), CalendarError> {
        let mut tenants = self.inner.tenants.write();
        let cal = tenants
            .get_mut(tenant)
            .ok_or_else(|| CalendarError::UnknownTenant(tenant.clone()))?;
        let at = cal
            .busy
            .iter()
            .position(|b| b.id == booking)
            .ok_or(CalendarError::UnknownBooking(booking))?;
        cal.busy.remove(at);
        tracing::debug!(tenant = %tenant, booking = %booking, "cancelled");
        Ok(())
    }

    /// Free slots right now, synchronously (what
    /// [`free_slots`](AvailabilitySource::free_slots) answers).
    pub fn free_slots_now(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<Slot>, SourceError> {
        let now = self.inner.clock.now_utc();
        let tenants = self.inner.tenants.read();
        let cal = tenants.get(tenant).ok_or_else(|| {
            SourceError::new(
                SourceErrorKind::NotFound,
                format!("unknown tenant {tenant}"),
            )
        })?;
        let et = cal.event_types.get(event_type).ok_or_else(|| {
            SourceError::new(
                SourceErrorKind::NotFound,
                format!("unknown event type {event_type}"),
            )
        })?;
        Ok(cal.free(et, range, now))
    }
}

impl AvailabilitySource for InMemoryCalendar {
    async fn free_slots(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<Slot>, SourceError> {
        self.free_slots_now(tenant, event_type, range)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Weekday};

    use voxcal_core::FakeClock;

    use super::*;
    use crate::hours::OpeningInterval;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn setup(
        et: EventType,
        hours: BusinessHours,
    ) -> (InMemoryCalendar, TenantId, EventTypeId, FakeClock) {
        let clock = FakeClock::at(utc(2026, 10, 1, 0, 0));
        let cal = InMemoryCalendar::new(clock.clone());
        let tenant = Tenant::new(TenantId::new("t1").unwrap(), hours);
        cal.add_tenant(&tenant);
        let id = EventTypeId::from(1_u64);
        cal.add_event_type(tenant.id(), id.clone(), et).unwrap();
        (cal, tenant.id().clone(), id, clock)
    }

    fn berlin_day(y: i32, m: u32, d: u32) -> TimeRange {
        let zone = chrono_tz::Europe::Berlin;
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let start = zone
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
            .unwrap();
        let end = zone
            .from_local_datetime(&date.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap())
            .unwrap();
        TimeRange::new(start.with_timezone(&Utc), end.with_timezone(&Utc))
    }

    #[test]
    fn buffers_and_interval() {
        let et = EventType::new(Duration::minutes(30))
            .with_slot_interval(Duration::minutes(15))
            .with_buffers(Duration::minutes(15), Duration::minutes(15));
        let (cal, t, e, _clock) = setup(et, BusinessHours::default());
        let day = berlin_day(2026, 10, 12);
        let all = cal.free_slots_now(&t, &e, day).unwrap();
        // 09:00..=17:30 every 15 minutes.
        assert_eq!(all.len(), 35);
        // Book 10:00 Berlin (08:00 UTC); blocked 09:45–10:45 with buffers.
        cal.book(&t, &e, utc(2026, 10, 12, 8, 0)).unwrap();
        let free = cal.free_slots_now(&t, &e, day).unwrap();
        let starts: Vec<_> = free.iter().map(|s| s.start).collect();
        // A new slot needs its own 15 min buffers: 09:00 ends 09:30+15 = 09:45 ok.
        assert!(starts.contains(&utc(2026, 10, 12, 7, 0)));
        assert!(!starts.contains(&utc(2026, 10, 12, 7, 15)));
        assert!(!starts.contains(&utc(2026, 10, 12, 8, 45)));
        assert!(starts.contains(&utc(2026, 10, 12, 9, 0)));
        assert_eq!(
            cal.book(&t, &e, utc(2026, 10, 12, 8, 15)),
            Err(CalendarError::SlotNotFree)
        );
    }

    #[test]
    fn minimum_notice_and_cancel() {
        let et = EventType::new(Duration::minutes(60)).with_minimum_notice(Duration::hours(2));
        let (cal, t, e, clock) = setup(et, BusinessHours::default());
        clock.set(utc(2026, 10, 12, 8, 30)); // 10:30 Berlin
        let free = cal
            .free_slots_now(&t, &e, berlin_day(2026, 10, 12))
            .unwrap();
        // 09..17 hourly; now+2h = 12:30 Berlin -> 13..17 remain.
        let hours: Vec<u32> = free
            .iter()
            .map(|s| chrono::Timelike::hour(&s.start.with_timezone(&chrono_tz::Europe::Berlin)))
            .collect();
        assert_eq!(hours, vec![13, 14, 15, 16, 17]);
        let id = cal.book(&t, &e, free[0].start).unwrap();
        assert_eq!(
            cal.free_slots_now(&t, &e, berlin_day(2026, 10, 12))
                .unwrap()
                .len(),
            4
        );
        cal.cancel(&t, id).unwrap();
        assert_eq!(
            cal.free_slots_now(&t, &e, berlin_day(2026, 10, 12))
                .unwrap()
                .len(),
            5
        );
        assert_eq!(cal.cancel(&t, id), Err(CalendarError::UnknownBooking(id)));
    }

    #[test]
    fn dst_days_have_no_missing_or_duplicate_slots() {
        let hours = BusinessHours::closed(chrono_tz::Europe::Berlin).with_day(
            Weekday::Sun,
            [OpeningInterval::new((0, 0), (24, 0)).unwrap()],
        );
        let et = EventType::new(Duration::minutes(30));
        let (cal, t, e, clock) = setup(et, hours);
        clock.set(utc(2026, 1, 1, 0, 0));
        let spring = cal.free_slots_now(&t, &e, berlin_day(2026, 3, 29)).unwrap();
        // 23 real hours, no 02:00/02:30 wall times.
        assert_eq!(spring.len(), 46);
        let walls: Vec<String> = spring
            .iter()
            .map(|s| {
                s.start
                    .with_timezone(&chrono_tz::Europe::Berlin)
                    .format("%H:%M")
                    .to_string()
            })
            .collect();
        assert!(!walls.iter().any(|w| w.starts_with("02:")));
        let autumn = cal
            .free_slots_now(&t, &e, berlin_day(2026, 10, 25))
            .unwrap();
        let mut walls: Vec<String> = autumn
            .iter()
            .map(|s| {
                s.start
                    .with_timezone(&chrono_tz::Europe::Berlin)
                    .format("%H:%M")
                    .to_string()
            })
            .collect();
        let n = walls.len();
        walls.dedup();
        assert_eq!(walls.len(), n, "no wall time twice");
        assert_eq!(n, 48);
        for pair in autumn.windows(2) {
            assert!(pair[0].start < pair[1].start);
        }
    }

    #[test]
    fn unknown_tenant_and_event_type() {
        let (cal, t, _e, _clock) = setup(
            EventType::new(Duration::minutes(30)),
            BusinessHours::default(),
        );
        let other = TenantId::new("nobody").unwrap();
        let err = cal
            .free_slots_now(&other, &EventTypeId::from(1_u64), berlin_day(2026, 10, 12))
            .unwrap_err();
        assert_eq!(err.kind(), SourceErrorKind::NotFound);
        let err = cal
            .book(&t, &EventTypeId::from(9_u64), utc(2026, 10, 12, 8, 0))
            .unwrap_err();
        assert_eq!(
            err,
            CalendarError::UnknownEventType(EventTypeId::from(9_u64))
        );
        assert!(err.user_message(Lang::De).contains("Kalender"));
    }
}
