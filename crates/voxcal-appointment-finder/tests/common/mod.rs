//! Shared test fixtures: a Berlin practice, a counting/gated source.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use voxcal_appointment_finder::{
    AvailabilitySource, Bundesland, BusinessHours, EventType, EventTypeId, FakeClock,
    InMemoryCalendar, OpeningInterval, Slot, SourceError, SourceErrorKind, Tenant, TenantId,
    TimeRange,
};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_opt(h, min, 0).unwrap()
}

/// A Berlin wall time as an instant (earliest when ambiguous).
pub fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Berlin
        .from_local_datetime(&local(y, m, d, h, min))
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// Mon–Fri 09–12 and 13–18, Berlin holidays.
pub fn practice_hours() -> BusinessHours {
    BusinessHours::closed(Berlin)
        .with_weekdays(
            [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            [
                OpeningInterval::new((9, 0), (12, 0)).unwrap(),
                OpeningInterval::new((13, 0), (18, 0)).unwrap(),
            ],
        )
        .with_public_holidays(Bundesland::Berlin)
}

pub fn tenant(id: &str, hours: BusinessHours) -> Tenant {
    Tenant::new(TenantId::new(id).unwrap(), hours)
}

pub fn consult() -> EventTypeId {
    EventTypeId::from(30_u64)
}

/// A calendar with one tenant and a 30-minute event type; the clock stands
/// at Monday 2026-10-12 07:00 Berlin.
pub fn practice() -> (InMemoryCalendar, Tenant, FakeClock) {
    let clock = FakeClock::at(berlin(2026, 10, 12, 7, 0));
    let calendar = InMemoryCalendar::new(clock.clone());
    let t = tenant("praxis", practice_hours());
    calendar.add_tenant(&t);
    calendar
        .add_event_type(t.id(), consult(), EventType::new(Duration::minutes(30)))
        .unwrap();
    (calendar, t, clock)
}

/// Blocks a Berlin wall-time range of a day.
pub fn block(
    calendar: &InMemoryCalendar,
    t: &Tenant,
    day: NaiveDate,
    from: (u32, u32),
    to: (u32, u32),
) {
    let (y, m, d) = (
        chrono::Datelike::year(&day),
        chrono::Datelike::month(&day),
        chrono::Datelike::day(&day),
    );
    calendar
        .block(
            t.id(),
            TimeRange::new(berlin(y, m, d, from.0, from.1), berlin(y, m, d, to.0, to.1)),
        )
        .unwrap();
}

/// Wraps a source: counts calls, can hold them at a gate, can fail.
#[derive(Debug, Clone)]
pub struct Probe<S> {
    pub inner: S,
    pub calls: Arc<AtomicUsize>,
    pub gate: Arc<tokio::sync::Semaphore>,
    pub gated: Arc<AtomicBool>,
    pub failing: Arc<AtomicBool>,
    /// Says in advance that calls would fail (`known_failure`), like an open breaker.
    pub refusing: Arc<AtomicBool>,
}

impl<S> Probe<S> {
    pub fn new(inner: S) -> Self {
        Probe {
            inner,
            calls: Arc::new(AtomicUsize::new(0)),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
            gated: Arc::new(AtomicBool::new(false)),
            failing: Arc::new(AtomicBool::new(false)),
            refusing: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// From now on calls wait until [`open_gate`](Self::open_gate).
    pub fn close_gate(&self) {
        self.gated.store(true, Ordering::SeqCst);
    }

    pub fn open_gate(&self) {
        self.gated.store(false, Ordering::SeqCst);
        self.gate.add_permits(10_000);
    }

    pub fn fail(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }

    /// Refuses in advance (an open breaker) from now on, or stops refusing.
    #[allow(dead_code)] // not every test binary uses it
    pub fn refuse(&self, on: bool) {
        self.refusing.store(on, Ordering::SeqCst);
    }
}

impl<S: AvailabilitySource> AvailabilitySource for Probe<S> {
    async fn free_slots(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<Slot>, SourceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.gated.load(Ordering::SeqCst) {
            let _permit = self.gate.acquire().await.unwrap();
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(
                SourceError::new(SourceErrorKind::Unavailable, "test outage").with_user_messages(
                    "Der Kalender ist gerade nicht erreichbar.",
                    "The calendar cannot be reached.",
                ),
            );
        }
        self.inner.free_slots(tenant, event_type, range).await
    }

    fn known_failure(&self, _tenant: &TenantId) -> Option<SourceError> {
        self.refusing.load(Ordering::SeqCst).then(|| {
            SourceError::new(SourceErrorKind::Unavailable, "breaker open")
                .with_user_messages("Der Kalender ist gerade nicht verfügbar.", "Unavailable.")
        })
    }
}
