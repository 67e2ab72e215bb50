//! The finder: the wished time, a near match, or ranked alternatives.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use parking_lot::Mutex;

use voxcal_core::Clock;

use crate::cache::{BoxCacheStore, CacheStore, DaySlots, SlotCache};
use crate::hours::{Adjustment, BusinessHours};
use crate::outcome::{Offer, OfferKind, Outcome, SearchContext};
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
    /// An optional time-of-day preference for alternatives.
    pub preference: Option<TimePreference>,
    /// How many alternatives to offer at most (default 2).
    pub max_alternatives: usize,
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
        }
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
    /// A free slot this close to the wish counts as a match (default 15 min).
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

    /// Looks for `request` in `tenant`'s calendar.
    ///
    /// 1. Moves the wish into business hours (the outcome says how and why).
    /// 2. The wished time free: [`Outcome::Available`]; a free slot within
    ///    the fuzzy tolerance: `Available` with `fuzzy: true`.
    /// 3. Otherwise [`Outcome::Alternatives`]: same day nearest earlier and
    ///    later (within the same-day window, else the whole day), next open
    ///    day near the same time, same weekday next week, the first free slot
    ///    in the horizon; each a free slot of the source inside business
    ///    hours and the preference, not in the past or the notice, never the
    ///    wish itself, no duplicates; ranked by [`ScoreWeights`].
    /// 4. Nothing free: [`Outcome::NoAvailability`]; the source failed:
    ///    [`Outcome::SourceUnavailable`].
    pub async fn find(&self, tenant: &Tenant, request: &FindRequest) -> Outcome {
        let hours = tenant.hours();
        let now = self.clock.now_utc();
        let today = hours.local_date(now);
        let duration = request.duration.max(Duration::minutes(1));
        let Some(adjusted) = hours.adjust(request.wished, duration) else {
            return Outcome::NoAvailability {
                context: self.context(request, today, request.wished, None),
            };
        };
        let context = self.context(request, today, adjusted.local, adjusted.adjustment);
        let wished_day = adjusted.local.date();
        let last_day = wished_day
            .checked_add_signed(Duration::days(i64::from(
                self.config.horizon_days.min(MAX_HORIZON_DAYS),
            )))
            .unwrap_or(NaiveDate::MAX);
        let mut days = Days {
            finder: self,
            tenant,
            event_type: &request.event_type,
            duration,
            earliest: now + self.config.minimum_notice.max(Duration::zero()),
            last_day,
            fetched: Vec::with_capacity(4),
        };
        match self
            .search(&mut days, request, adjusted.instant, adjusted.local)
            .await
        {
            Ok(found) => found.into_outcome(context),
            Err(error) => {
                tracing::warn!(tenant = %tenant.id(), error = %error, "availability source failed");
                Outcome::SourceUnavailable { error, context }
            }
        }
    }

    fn context(
        &self,
        request: &FindRequest,
        today: NaiveDate,
        looked_for: NaiveDateTime,
        adjustment: Option<Adjustment>,
    ) -> SearchContext {
        SearchContext {
            requested: request.wished,
            looked_for,
            adjustment,
            today,
            horizon_days: self.config.horizon_days,
        }
    }

    async fn search(
        &self,
        days: &mut Days<'_, S, C>,
        request: &FindRequest,
        wished: DateTime<Utc>,
        wished_local: NaiveDateTime,
    ) -> Result<Found, SourceError> {
        let hours = days.tenant.hours();
        let last_day = days.last_day;
        let offer = |v: &Verified, kind: OfferKind| Offer {
            start: v.slot.start,
            end: v.slot.end,
            local_date: v.local.date(),
            local_time: v.local.time(),
            kind,
            score: self.config.weights.score(wished_local, v.local),
        };
        let wished_day = wished_local.date();
        let today_slots = days.get(wished_day).await?;

        // 2. exact or near match (business hours, not the preference).
        if let Some(v) = today_slots.iter().find(|v| v.slot.start == wished) {
            return Ok(Found::Available(offer(v, OfferKind::Exact), false));
        }
        let tolerance = self.config.fuzzy_tolerance;
        let near = today_slots
            .iter()
            .filter(|v| (v.slot.start - wished).abs() <= tolerance)
            .min_by_key(|v| ((v.slot.start - wished).abs(), v.slot.start));
        if let Some(v) = near {
            return Ok(Found::Available(offer(v, OfferKind::Near), true));
        }

        // 3. alternatives.
        let pref = request.preference;
        let fits = |v: &Verified| {
            v.slot.start != wished && pref.is_none_or(|p| p.contains(v.local.time()))
        };
        let mut picked: Vec<Offer> = Vec::with_capacity(5);
        let add = |v: &Verified, kind: OfferKind, picked: &mut Vec<Offer>| {
            if !picked.iter().any(|o| o.start == v.slot.start) {
                picked.push(offer(v, kind));
            }
        };

        // a. same day, nearest earlier and later.
        let window = self.config.same_day_window;
        let earlier = |limit: bool| {
            today_slots.iter().rev().find(|v| {
                fits(v) && v.slot.start < wished && (!limit || wished - v.slot.start <= window)
            })
        };
        let later = |limit: bool| {
            today_slots.iter().find(|v| {
                fits(v) && v.slot.start > wished && (!limit || v.slot.start - wished <= window)
            })
        };
        let (e, l) = match (earlier(true), later(true)) {
            (None, None) => (earlier(false), later(false)),
            pair => pair,
        };
        for v in [e, l].into_iter().flatten() {
            add(v, OfferKind::SameDay, &mut picked);
        }

        // b. next open day, near the same time; c. same weekday next week.
        let wished_tod = wished_local.time();
        let near_same_time = |slots: &[Verified]| {
            slots
                .iter()
                .filter(|v| fits(v))
                .min_by_key(|v| {
                    (
                        (v.local.time() - wished_tod).num_seconds().abs(),
                        v.slot.start,
                    )
                })
                .copied()
        };
        if let Some(next) = hours.next_open_day(wished_day).filter(|d| *d <= last_day) {
            let slots = days.get(next).await?;
            if let Some(v) = near_same_time(&slots) {
                add(&v, OfferKind::NextOpenDay, &mut picked);
            }
        }
        if let Some(week) = wished_day
            .checked_add_signed(Duration::days(7))
            .filter(|d| *d <= last_day && hours.is_open_on(*d))
        {
            let slots = days.get(week).await?;
            if let Some(v) = near_same_time(&slots) {
                add(&v, OfferKind::SameWeekdayNextWeek, &mut picked);
            }
        }

        // d. the first free slot in the horizon after the wished day.
        let mut day = wished_day;
        while let Some(next) = day.succ_opt().filter(|d| *d <= last_day) {
            day = next;
            if !hours.is_open_on(day) {
                continue;
            }
            let slots = days.get(day).await?;
            if let Some(v) = slots.iter().find(|v| fits(v)) {
                add(v, OfferKind::FirstFree, &mut picked);
                break;
            }
        }

        if picked.is_empty() {
            return Ok(Found::Nothing);
        }
        picked.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.start.cmp(&b.start)));
        picked.truncate(request.max_alternatives);
        Ok(Found::Alternatives(picked))
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
