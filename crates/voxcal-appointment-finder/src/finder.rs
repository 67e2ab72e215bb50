//! The finder: the wished time, a near match, or ranked alternatives.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use parking_lot::Mutex;

use voxcal_core::Clock;

use crate::cache::{BoxCacheStore, CacheStore, DaySlots, SlotCache};
use crate::hours::{AdjustReason, Adjusted, Adjustment, BusinessHours};
use crate::outcome::{Offer, OfferKind, Outcome, SearchContext, Unmet};
use crate::source::{AvailabilitySource, Slot, SourceError};
use crate::tenant::{EventTypeId, Tenant, TenantId};

/// The longest horizon searched, whatever the configuration says.
const MAX_HORIZON_DAYS: u32 = 366;

/// When in the day the caller would like the appointment.
///
/// A slot matches when its local start lies in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimePreference {
    /// "vormittags": 09:00–12:00.
    Vormittag,
    /// "mittags": 11:00–14:00.
    Mittag,
    /// "nachmittags": 12:00–18:00.
    Nachmittag,
    /// "abends": 18:00–22:00.
    Abends,
    /// "ab 15 Uhr": from this time to the end of the day.
    From(NaiveTime),
    /// "bis 11 Uhr": from the start of the day to this time.
    Until(NaiveTime),
    /// An explicit window `[from, to)`.
    Window(NaiveTime, NaiveTime),
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl TimePreference {
    /// Whether a slot starting at local `time` matches.
    ///
    /// ```
    /// use voxcal_appointment_finder::TimePreference;
    /// use chrono::NaiveTime;
    /// let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    /// assert!(TimePreference::Vormittag.contains(t(11)));
    /// assert!(!TimePreference::Vormittag.contains(t(12)));
    /// assert!(TimePreference::From(t(15)).contains(t(16)));
    /// ```
    pub fn contains(&self, time: NaiveTime) -> bool {
        let (from, to) = self.bounds();
        match to {
            Some(to) => from <= time && time < to,
            None => from <= time,
        }
    }

    /// `[from, to)`; `to` is `None` for "until the end of the day".
    pub fn bounds(&self) -> (NaiveTime, Option<NaiveTime>) {
        match *self {
            TimePreference::Vormittag => (hm(9, 0), Some(hm(12, 0))),
            TimePreference::Mittag => (hm(11, 0), Some(hm(14, 0))),
            TimePreference::Nachmittag => (hm(12, 0), Some(hm(18, 0))),
            TimePreference::Abends => (hm(18, 0), Some(hm(22, 0))),
            TimePreference::From(from) => (from, None),
            TimePreference::Until(to) => (NaiveTime::MIN, Some(to)),
            TimePreference::Window(from, to) => (from, Some(to)),
        }
    }
}

/// What the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindRequest {
    /// The wished local date and time (tenant's zone).
    pub wished: NaiveDateTime,
    /// Length of the appointment.
    pub duration: Duration,
    /// The event type to book.
    pub event_type: EventTypeId,
    /// An optional time-of-day preference for alternatives (for a window
    /// request: the time-of-day window).
    pub preference: Option<TimePreference>,
    /// How many alternatives to offer at most (default 2).
    pub max_alternatives: usize,
    /// The other reading of an ambiguous hour ("um 7" is 07:00 or 19:00).
    pub alternative_reading: Option<NaiveTime>,
    /// The last day of a window request ("nächste Woche"): any free slot
    /// from `wished` to the end of this day is as good as the next.
    pub window_end: Option<NaiveDate>,
}

impl FindRequest {
    /// A request for `event_type` at local `wished`, lasting `duration`.
    pub fn new(event_type: EventTypeId, wished: NaiveDateTime, duration: Duration) -> Self {
        FindRequest {
            wished,
            duration,
            event_type,
            preference: None,
            max_alternatives: 2,
            alternative_reading: None,
            window_end: None,
        }
    }

    /// A request for the first free slots in a window of days (`from` to
    /// `to`, both included), optionally at a time of day (`preference`):
    /// "nächste Woche vormittags". The answer is
    /// [`Outcome::Alternatives`] with the first free slots in the window
    /// (at least two when there are), never an exact match.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use voxcal_appointment_finder::*;
    /// use chrono::{Duration, NaiveDate, TimeZone, Utc};
    /// let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap());
    /// let tenant = Tenant::new(TenantId::new("t").unwrap(), BusinessHours::default());
    /// let calendar = InMemoryCalendar::new(clock.clone());
    /// calendar.add_tenant(&tenant);
    /// calendar.add_event_type(tenant.id(), EventTypeId::from(1_u64), EventType::new(Duration::minutes(30))).unwrap();
    /// let finder = AlternativeFinder::new(SlotCache::memory(calendar, clock.clone()), clock);
    /// let d = |day| NaiveDate::from_ymd_opt(2026, 10, day).unwrap();
    /// let request = FindRequest::window(EventTypeId::from(1_u64), d(19), d(23), Duration::minutes(30))
    ///     .with_preference(TimePreference::Nachmittag);
    /// let outcome = finder.find(&tenant, &request).await;
    /// let got: Vec<String> = outcome.alternatives().iter().map(|o| o.local().to_string()).collect();
    /// assert_eq!(got, ["2026-10-19 12:00:00", "2026-10-19 12:30:00"]);
    /// assert_eq!(outcome.unmet(), None);
    /// # });
    /// ```
    pub fn window(
        event_type: EventTypeId,
        from: NaiveDate,
        to: NaiveDate,
        duration: Duration,
    ) -> Self {
        let mut request = FindRequest::new(event_type, from.and_time(NaiveTime::MIN), duration);
        request.window_end = Some(to.max(from));
        request
    }

    /// Restricts alternatives to a time of day.
    pub fn with_preference(mut self, preference: TimePreference) -> Self {
        self.preference = Some(preference);
        self
    }

    /// Offers at most `max` alternatives.
    pub fn with_max_alternatives(mut self, max: usize) -> Self {
        self.max_alternatives = max;
        self
    }

    /// The other reading of an ambiguous hour: the finder looks for the
    /// reading that lies in the tenant's opening hours on the wished day
    /// when exactly one does, otherwise for the literal `wished`. Either
    /// way it only names a time the caller said.
    ///
    /// ```
    /// use voxcal_appointment_finder::{BusinessHours, EventTypeId, FindRequest};
    /// use chrono::{Duration, NaiveDate, NaiveTime};
    /// let friday = NaiveDate::from_ymd_opt(2026, 10, 16).unwrap();
    /// // "um 5": 05:00 literally, 17:00 the other reading.
    /// let request = FindRequest::new(EventTypeId::from(1_u64), friday.and_hms_opt(5, 0, 0).unwrap(), Duration::minutes(30))
    ///     .with_alternative_reading(NaiveTime::from_hms_opt(17, 0, 0).unwrap());
    /// let hours = BusinessHours::default(); // Mon–Fri 09–18
    /// assert_eq!(request.reading(&hours), friday.and_hms_opt(17, 0, 0).unwrap());
    /// ```
    pub fn with_alternative_reading(mut self, time: NaiveTime) -> Self {
        self.alternative_reading = Some(time);
        self
    }

    /// The wished local time the finder looks for: `wished`, or its
    /// alternative reading when only that one lies in `hours` on the wished
    /// day (see [`with_alternative_reading`](Self::with_alternative_reading)).
    pub fn reading(&self, hours: &BusinessHours) -> NaiveDateTime {
        let Some(other) = self.alternative_reading else {
            return self.wished;
        };
        let other = self.wished.date().and_time(other);
        let duration = self.duration.max(Duration::minutes(1));
        let inside = |at: NaiveDateTime| {
            hours
                .adjust(at, duration)
                .is_some_and(|a| a.adjustment.is_none())
        };
        if !inside(self.wished) && inside(other) {
            other
        } else {
            self.wished
        }
    }
}

/// Weights of the alternative ranking score. Lower scores rank first:
///
/// ```text
/// score = per_hour        * |time of day of slot - wished time of day| (hours)
///       + per_day         * |days between slot date and wished date|
///       + other_half_day  * (1 if one is before 12:00 and the other not)
/// ```
///
/// Ties go to the earlier slot. With the defaults (1.0, 24.0, 1.5) every
/// slot on the wished day ranks before any slot of a later day (no time of
/// day is 24 hours away), closer days before farther ones, and within a day
/// the closer time wins, with a 1.5-hour handicap for the other half of the
/// day (a caller who wished 11:00 hears 09:30 before 12:30).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreWeights {
    /// Per hour of difference in time of day.
    pub per_hour: f64,
    /// Per day of difference in date.
    pub per_day: f64,
    /// When morning/afternoon differ from the wish.
    pub other_half_day: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights {
            per_hour: 1.0,
            per_day: 24.0,
            other_half_day: 1.5,
        }
    }
}

impl ScoreWeights {
    /// The score of a slot at local `slot` for a wish at local `wished`.
    pub fn score(&self, wished: NaiveDateTime, slot: NaiveDateTime) -> f64 {
        let tod = |t: NaiveDateTime| f64::from(t.num_seconds_from_midnight()) / 3600.0;
        let hours = (tod(slot) - tod(wished)).abs();
        let days = (slot.date() - wished.date()).num_days().abs();
        let half = |t: NaiveDateTime| t.hour() < 12;
        let other_half = if half(slot) == half(wished) { 0.0 } else { 1.0 };
        #[allow(clippy::cast_precision_loss)]
        let days = days as f64;
        self.per_hour * hours + self.per_day * days + self.other_half_day * other_half
    }
}

/// Finder settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FinderConfig {
    /// Kept for configuration compatibility; no longer used: a free slot
    /// near the wish is offered as an alternative (its neighbours), never
    /// answered as the wish itself (default 15 min).
    pub fuzzy_tolerance: Duration,
    /// Same-day alternatives are first looked for this close (default 2 h).
    pub same_day_window: Duration,
    /// How many days after the wished day are searched (default 14, at
    /// most 366).
    pub horizon_days: u32,
    /// Nothing starting sooner than this from now is offered (default 0;
    /// sources apply their own notice too).
    pub minimum_notice: Duration,
    /// Ranking weights.
    pub weights: ScoreWeights,
}

impl Default for FinderConfig {
    fn default() -> Self {
        FinderConfig {
            fuzzy_tolerance: Duration::minutes(15),
            same_day_window: Duration::hours(2),
            horizon_days: 14,
            minimum_notice: Duration::zero(),
            weights: ScoreWeights::default(),
        }
    }
}

/// Finds the wished appointment or the best verified alternatives.
///
/// See the [crate docs](crate) for the steps and an example.
#[derive(Debug)]
pub struct AlternativeFinder<S, C = BoxCacheStore> {
    cache: SlotCache<S, C>,
    clock: Arc<dyn Clock>,
    config: FinderConfig,
    verified: VerifiedCache,
}

/// Most days whose verified slots a finder keeps; when full it starts over.
const MAX_VERIFIED_DAYS: usize = 1024;

/// (tenant, event type, day, appointment length).
type VerifiedKey = (TenantId, EventTypeId, NaiveDate, Duration);

/// The slots of a day that passed the business-hours check, kept while the
/// slot cache answers the same slots for that day, so a request does not
/// verify them again. Keys carry the tenant, and an entry is only used
/// under the hours and raw slots it was made from.
#[derive(Debug, Default)]
struct VerifiedCache(Mutex<HashMap<VerifiedKey, VerifiedDay>>);

#[derive(Debug)]
struct VerifiedDay {
    hours: BusinessHours,
    raw: DaySlots,
    /// In start order, not yet cut at the earliest allowed start.
    slots: Arc<[Verified]>,
}

impl VerifiedCache {
    fn get(
        &self,
        key: &VerifiedKey,
        hours: &BusinessHours,
        raw: &DaySlots,
    ) -> Option<Arc<[Verified]>> {
        let map = self.0.lock();
        let day = map.get(key)?;
        let same_raw = Arc::ptr_eq(&day.raw, raw) || day.raw[..] == raw[..];
        (same_raw && day.hours == *hours).then(|| Arc::clone(&day.slots))
    }

    fn put(&self, key: VerifiedKey, day: VerifiedDay) {
        let mut map = self.0.lock();
        if map.len() >= MAX_VERIFIED_DAYS && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, day);
    }
}

/// The verified slots of a day from the earliest allowed start on.
#[derive(Debug, Clone)]
struct DayView {
    slots: Arc<[Verified]>,
    from: usize,
}

impl Deref for DayView {
    type Target = [Verified];

    fn deref(&self) -> &[Verified] {
        self.slots.get(self.from..).unwrap_or_default()
    }
}

/// A free slot of the source that lies inside business hours and after
/// the earliest allowed start, with its local wall time.
#[derive(Debug, Clone, Copy)]
struct Verified {
    slot: Slot,
    local: NaiveDateTime,
}

/// The days fetched during one `find`, each asked once and verified once.
struct Days<'a, S, C> {
    finder: &'a AlternativeFinder<S, C>,
    tenant: &'a Tenant,
    event_type: &'a EventTypeId,
    duration: Duration,
    earliest: DateTime<Utc>,
    last_day: NaiveDate,
    fetched: Vec<(NaiveDate, DayView)>,
}

impl<S: AvailabilitySource, C: CacheStore> Days<'_, S, C> {
    async fn get(&mut self, day: NaiveDate) -> Result<DayView, SourceError> {
        if let Some((_, slots)) = self.fetched.iter().find(|(d, _)| *d == day) {
            return Ok(slots.clone());
        }
        let hours = self.tenant.hours();
        let raw: DaySlots = self
            .finder
            .cache
            .day_slots(self.tenant.id(), self.event_type, day, hours.zone())
            .await?;
        let key = (
            self.tenant.id().clone(),
            self.event_type.clone(),
            day,
            self.duration,
        );
        let verified = match self.finder.verified.get(&key, hours, &raw) {
            Some(slots) => slots,
            None => {
                let slots = self.verify(day, &raw);
                // Cut at `earliest` below needs start order (the slot cache
                // sorts; a source behind a custom cache might not).
                if !slots.windows(2).all(|w| w[0].slot.start <= w[1].slot.start) {
                    let earliest = self.earliest;
                    let view = DayView {
                        slots: slots
                            .iter()
                            .filter(|v| v.slot.start >= earliest)
                            .copied()
                            .collect(),
                        from: 0,
                    };
                    self.fetched.push((day, view.clone()));
                    return Ok(view);
                }
                self.finder.verified.put(
                    key,
                    VerifiedDay {
                        hours: hours.clone(),
                        raw,
                        slots: Arc::clone(&slots),
                    },
                );
                slots
            }
        };
        let from = verified.partition_point(|v| v.slot.start < self.earliest);
        let view = DayView {
            slots: verified,
            from,
        };
        self.fetched.push((day, view.clone()));
        Ok(view)
    }

    /// The slots of `raw` inside business hours on `day`, with their local
    /// times (not yet cut at the earliest allowed start).
    fn verify(&self, day: NaiveDate, raw: &[Slot]) -> Arc<[Verified]> {
        let Some(first) = raw.first() else {
            return Arc::new([]);
        };
        let hours = self.tenant.hours();
        // The opening instants of the day, resolved once.
        let open: Vec<(DateTime<Utc>, DateTime<Utc>)> = hours.instants_on(day).collect();
        let duration = self.duration;
        let (first, last) = raw.iter().fold((first.start, first.start), |(lo, hi), s| {
            (lo.min(s.start), hi.max(s.start))
        });
        let span = hours.local_span(first, last);
        raw.iter()
            .filter(|s| {
                s.start
                    .checked_add_signed(duration)
                    .is_some_and(|end| open.iter().any(|&(o, c)| o <= s.start && end <= c))
            })
            .map(|s| Verified {
                slot: *s,
                local: span.local(s.start),
            })
            .filter(|v| v.local.date() == day)
            .collect()
    }
}

impl<S: AvailabilitySource, C: CacheStore> AlternativeFinder<S, C> {
    /// A finder over `cache`, reading the time ([`Clock::now_utc`]) from
    /// `clock`.
    pub fn new(cache: SlotCache<S, C>, clock: impl Clock) -> Self {
        AlternativeFinder {
            cache,
            clock: Arc::new(clock),
            config: FinderConfig::default(),
            verified: VerifiedCache::default(),
        }
    }

    /// Replaces the settings.
    pub fn with_config(mut self, config: FinderConfig) -> Self {
        self.config = config;
        self
    }

    /// The settings.
    pub fn config(&self) -> &FinderConfig {
        &self.config
    }

    /// The cache (for [`invalidate`](SlotCache::invalidate) after a booking).
    pub fn cache(&self) -> &SlotCache<S, C> {
        &self.cache
    }

    /// Looks for `request` in `tenant`'s calendar, as a good receptionist
    /// would answer:
    ///
    /// 1. Takes the reading of an ambiguous hour that lies in the opening
    ///    hours ([`FindRequest::reading`]) and moves the wish into business
    ///    hours (the outcome says how and why).
    /// 2. The wished slot itself free: [`Outcome::Available`]; nothing else
    ///    is ever "available".
    /// 3. Otherwise [`Outcome::Alternatives`], in time order, chosen by why
    ///    the wish cannot be met ([`SearchContext::unmet`]):
    ///    - taken, or not on the slot grid ("10:15" with slots on the half
    ///      hour), or in a break, or a wall time skipped by the clock change:
    ///      the nearest free slots before and after it that day (within the
    ///      same-day window when there are), then the next open day near
    ///      the same time;
    ///    - before opening: that day's first free slots; after closing: that
    ///      day's last free slots; then the next open day's first;
    ///    - a closed day or holiday: the wished time of day (or the nearest
    ///      free slot to it) on each of the next open days;
    ///    - then the first free slots of the horizon, up to
    ///      `max_alternatives` (at least two whenever two are free).
    ///
    ///    Each is a free slot of the source inside business hours and the
    ///    preference, not in the past or the notice, no duplicates.
    /// 4. Nothing free: [`Outcome::NoAvailability`]; the source failed:
    ///    [`Outcome::SourceUnavailable`].
    ///
    /// A [window request](FindRequest::window) answers the first free
    /// slots of the window.
    pub async fn find(&self, tenant: &Tenant, request: &FindRequest) -> Outcome {
        let hours = tenant.hours();
        let now = self.clock.now_utc();
        let today = hours.local_date(now);
        let duration = request.duration.max(Duration::minutes(1));
        let wished = request.reading(hours);
        let horizon = i64::from(self.config.horizon_days.min(MAX_HORIZON_DAYS));
        let days_for = |last_day: NaiveDate| Days {
            finder: self,
            tenant,
            event_type: &request.event_type,
            duration,
            earliest: now + self.config.minimum_notice.max(Duration::zero()),
            last_day,
            fetched: Vec::with_capacity(4),
        };
        if let Some(end) = request.window_end {
            let first = wished.date().max(today);
            let last = end.min(
                first
                    .checked_add_signed(Duration::days(horizon))
                    .unwrap_or(NaiveDate::MAX),
            );
            let context = self.context(wished, today, wished, None, None);
            let mut days = days_for(last);
            return match self.search_window(&mut days, request, wished, first).await {
                Ok(found) => found.into_outcome(context),
                Err(error) => {
                    tracing::warn!(tenant = %tenant.id(), error = %error, "availability source failed");
                    Outcome::SourceUnavailable { error, context }
                }
            };
        }
        let Some(adjusted) = hours.adjust(wished, duration) else {
            return Outcome::NoAvailability {
                context: self.context(wished, today, wished, None, None),
            };
        };
        let mut context = self.context(wished, today, adjusted.local, adjusted.adjustment, None);
        context.closes_at = hours.intervals_on(wished.date()).last().and_then(|iv| {
            let end = iv.end_minutes();
            NaiveTime::from_hms_opt(u32::from(end / 60), u32::from(end % 60), 0)
        });
        let last_day = wished
            .date()
            .checked_add_signed(Duration::days(horizon))
            .unwrap_or(NaiveDate::MAX);
        let mut days = days_for(last_day);
        match self.search(&mut days, request, wished, &adjusted).await {
            Ok((found, unmet)) => {
                context.unmet = unmet;
                found.into_outcome(context)
            }
            Err(error) => {
                tracing::warn!(tenant = %tenant.id(), error = %error, "availability source failed");
                context.unmet = adjusted.adjustment.map(|a| Unmet::of_adjustment(a.reason));
                Outcome::SourceUnavailable { error, context }
            }
        }
    }

    fn context(
        &self,
        requested: NaiveDateTime,
        today: NaiveDate,
        looked_for: NaiveDateTime,
        adjustment: Option<Adjustment>,
        unmet: Option<Unmet>,
    ) -> SearchContext {
        SearchContext {
            requested,
            looked_for,
            adjustment,
            unmet,
            today,
            horizon_days: self.config.horizon_days,
            closes_at: None,
        }
    }

    fn offer(&self, wished: NaiveDateTime, v: &Verified, kind: OfferKind) -> Offer {
        Offer {
            start: v.slot.start,
            end: v.slot.end,
            local_date: v.local.date(),
            local_time: v.local.time(),
            kind,
            score: self.config.weights.score(wished, v.local),
        }
    }

    /// The first free slots of a window request.
    async fn search_window(
        &self,
        days: &mut Days<'_, S, C>,
        request: &FindRequest,
        wished: NaiveDateTime,
        first: NaiveDate,
    ) -> Result<Found, SourceError> {
        let hours = days.tenant.hours();
        let want = request.max_alternatives.max(2);
        let pref = request.preference;
        let mut picked = Vec::with_capacity(want);
        let mut day = first;
        while day <= days.last_day && picked.len() < want {
            if hours.is_open_on(day) {
                let slots = days.get(day).await?;
                for v in slots
                    .iter()
                    .filter(|v| v.local >= wished)
                    .filter(|v| pref.is_none_or(|p| p.contains(v.local.time())))
                    .take(want - picked.len())
                {
                    picked.push(self.offer(wished, v, OfferKind::FirstFree));
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        Ok(if picked.is_empty() {
            Found::Nothing
        } else {
            Found::Alternatives(picked)
        })
    }

    async fn search(
        &self,
        days: &mut Days<'_, S, C>,
        request: &FindRequest,
        wished: NaiveDateTime,
        adjusted: &Adjusted,
    ) -> Result<(Found, Option<Unmet>), SourceError> {
        let hours = days.tenant.hours();
        let last_day = days.last_day;
        let max = request.max_alternatives;
        let offer = |v: &Verified, kind: OfferKind| self.offer(wished, v, kind);
        let pref = request.preference;
        let fits = |v: &Verified| pref.is_none_or(|p| p.contains(v.local.time()));
        let mut picked: Vec<Offer> = Vec::with_capacity(max.max(3));
        let add = |v: &Verified, kind: OfferKind, picked: &mut Vec<Offer>| {
            if !picked.iter().any(|o| o.start == v.slot.start) {
                picked.push(offer(v, kind));
            }
        };
        let wished_day = wished.date();
        let reason = adjusted.adjustment.map(|a| a.reason);
        let mut unmet = reason.map(Unmet::of_adjustment);
        // Where to look for neighbours, for a wish inside the day's hours.
        let mut pivot = None;
        match reason {
            None => {
                let slots = days.get(wished_day).await?;
                let at = adjusted.instant;
                if let Some(v) = slots.iter().find(|v| v.slot.start == at) {
                    return Ok((Found::Available(offer(v, OfferKind::Exact), false), None));
                }
                unmet = Some(if at < days.earliest {
                    Unmet::Past
                } else if off_grid(&slots.slots, adjusted.local) {
                    Unmet::OffGrid
                } else {
                    Unmet::Taken
                });
                if at >= days.earliest {
                    pivot = Some(at);
                }
            }
            Some(AdjustReason::InBreak) => {
                // The literal wish (in the break), not the interval it was
                // moved to: its neighbours are on both sides of the break.
                pivot = Some(
                    hours
                        .zone()
                        .from_local_datetime(&wished)
                        .earliest()
                        .map_or(adjusted.instant, |t| t.to_utc()),
                );
            }
            Some(AdjustReason::NonexistentTime) => pivot = Some(adjusted.instant),
            Some(AdjustReason::BeforeOpening) => {
                let slots = days.get(wished_day).await?;
                for v in slots.iter().filter(|v| fits(v)).take(2) {
                    add(v, OfferKind::SameDay, &mut picked);
                }
            }
            Some(AdjustReason::AfterClosing) => {
                let slots = days.get(wished_day).await?;
                let fitting: Vec<&Verified> = slots.iter().filter(|v| fits(v)).collect();
                for v in fitting.iter().rev().take(2).rev() {
                    add(v, OfferKind::SameDay, &mut picked);
                }
            }
            Some(AdjustReason::Closed(_)) => {
                // The wished time of day on each of the next open days.
                let wished_tod = wished.time();
                let mut day = wished_day;
                let mut open_days = 0;
                while open_days < max.max(2) {
                    let Some(next) = hours.next_open_day(day).filter(|d| *d <= last_day) else {
                        break;
                    };
                    day = next;
                    open_days += 1;
                    let slots = days.get(day).await?;
                    if let Some(v) = nearest_time(&slots, wished_tod, &fits) {
                        add(&v, OfferKind::NextOpenDay, &mut picked);
                    }
                }
            }
        }

        if let Some(pivot) = pivot {
            let day = hours.local_date(pivot);
            let slots = days.get(day).await?;
            let window = self.config.same_day_window;
            let earlier = |limit: bool| {
                slots.iter().rev().find(|v| {
                    fits(v) && v.slot.start < pivot && (!limit || pivot - v.slot.start <= window)
                })
            };
            let later = |limit: bool| {
                slots.iter().find(|v| {
                    fits(v) && v.slot.start >= pivot && (!limit || v.slot.start - pivot <= window)
                })
            };
            let (e, l) = match (earlier(true), later(true)) {
                (None, None) => (earlier(false), later(false)),
                pair => pair,
            };
            for v in [e, l].into_iter().flatten() {
                add(v, OfferKind::SameDay, &mut picked);
            }
        }

        // The next open day: near the same time for a neighbour search, its
        // first free slot after a before-opening or after-closing wish.
        if !matches!(reason, Some(AdjustReason::Closed(_))) && picked.len() < max {
            if let Some(next) = hours.next_open_day(wished_day).filter(|d| *d <= last_day) {
                let slots = days.get(next).await?;
                let v = if pivot.is_some() {
                    nearest_time(&slots, wished.time(), &fits)
                } else {
                    slots.iter().find(|v| fits(v)).copied()
                };
                if let Some(v) = v {
                    add(&v, OfferKind::NextOpenDay, &mut picked);
                }
            }
        }

        // Fill up to two (when `max` allows) with the first free slots of
        // the horizon.
        let least = max.min(2);
        let mut day = wished_day;
        while picked.len() < least && day <= last_day {
            if hours.is_open_on(day) {
                let slots = days.get(day).await?;
                for v in slots.iter().filter(|v| fits(v)) {
                    if picked.len() >= least {
                        break;
                    }
                    add(v, OfferKind::FirstFree, &mut picked);
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }

        if picked.is_empty() {
            return Ok((Found::Nothing, unmet));
        }
        picked.truncate(max);
        picked.sort_by_key(|o| o.start);
        Ok((Found::Alternatives(picked), unmet))
    }
}

/// The fitting slot whose local time of day is nearest to `time` (the
/// earlier one on a tie).
fn nearest_time(
    slots: &[Verified],
    time: NaiveTime,
    fits: &impl Fn(&Verified) -> bool,
) -> Option<Verified> {
    slots
        .iter()
        .filter(|v| fits(v))
        .min_by_key(|v| ((v.local.time() - time).num_seconds().abs(), v.slot.start))
        .copied()
}

/// Whether local time `at` is off the grid the day's free slots lie on:
/// the grid step is the greatest common divisor of their local times of
/// day (slots at 13:00 and 15:30 lie on a 30-minute grid). With fewer than
/// two free slots nothing can be told: `false` (the wish counts as taken).
fn off_grid(slots: &[Verified], at: NaiveDateTime) -> bool {
    if slots.len() < 2 {
        return false;
    }
    let secs = |t: NaiveDateTime| i64::from(t.time().num_seconds_from_midnight());
    let step = slots.iter().map(|v| secs(v.local)).fold(0_i64, gcd);
    step > 0 && secs(at) % step != 0
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

enum Found {
    Available(Offer, bool),
    Alternatives(Vec<Offer>),
    Nothing,
}

impl Found {
    fn into_outcome(self, context: SearchContext) -> Outcome {
        match self {
            Found::Available(offer, fuzzy) => Outcome::Available {
                offer,
                fuzzy,
                context,
            },
            Found::Alternatives(alternatives) => Outcome::Alternatives {
                alternatives,
                context,
            },
            Found::Nothing => Outcome::NoAvailability { context },
        }
    }
}
