//! Business hours in the tenant's time zone.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;
use voxcal_core::{Lang, UserMessage};

use crate::holidays::{holiday_on, nationwide_holiday_on, Bundesland, Holiday};

/// How many days [`BusinessHours`] looks ahead for the next open day.
const OPEN_DAY_SEARCH_DAYS: i64 = 400;

/// Minutes in a day; an interval may end at 24:00.
const DAY_MINUTES: u16 = 24 * 60;

/// Why an opening interval was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HoursError {
    /// Hour or minute out of range (hours 0–24, minutes 0–59, 24 only as 24:00).
    #[error("{hour:02}:{minute:02} is not a time of day")]
    InvalidTime {
        /// The hour given.
        hour: u32,
        /// The minute given.
        minute: u32,
    },
    /// The interval ends before or when it starts.
    #[error("an opening interval must end after it starts")]
    EmptyInterval,
}

/// A sentence the agent can say.
///
/// ```
/// use voxcal_appointment_finder::{Lang, OpeningInterval, UserMessage};
/// let err = OpeningInterval::new((9, 75), (12, 0)).unwrap_err();
/// assert_eq!(err.user_message(Lang::De), "9 Uhr 75 ist keine gültige Uhrzeit.");
/// ```
impl UserMessage for HoursError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        match (lang, self) {
            (Lang::En, HoursError::InvalidTime { hour, minute }) => {
                format!("{hour}:{minute:02} is not a time of day.").into()
            }
            (Lang::En, _) => "An opening interval must end after it starts.".into(),
            (_, HoursError::InvalidTime { hour, minute }) => {
                format!("{hour} Uhr {minute} ist keine gültige Uhrzeit.").into()
            }
            (_, _) => "Eine Öffnungszeit muss nach ihrem Beginn enden.".into(),
        }
    }
}

/// One opening interval of a weekday in local wall time, e.g. 09:00–12:30.
/// The end may be 24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpeningInterval {
    start: u16,
    end: u16,
}

fn minutes(hour: u32, minute: u32) -> Result<u16, HoursError> {
    let bad = HoursError::InvalidTime { hour, minute };
    if minute > 59 || hour > 24 || (hour == 24 && minute != 0) {
        return Err(bad);
    }
    u16::try_from(hour * 60 + minute).map_err(|_| bad)
}

impl OpeningInterval {
    /// An interval from `start` to `end`, each `(hour, minute)`; `(24, 0)`
    /// is allowed as the end.
    ///
    /// ```
    /// use voxcal_appointment_finder::OpeningInterval;
    /// let morning = OpeningInterval::new((9, 0), (12, 30)).unwrap();
    /// assert_eq!(morning.to_string(), "09:00–12:30");
    /// assert!(OpeningInterval::new((12, 0), (9, 0)).is_err());
    /// ```
    pub fn new(start: (u32, u32), end: (u32, u32)) -> Result<Self, HoursError> {
        let start = minutes(start.0, start.1)?;
        let end = minutes(end.0, end.1)?;
        if end <= start || start >= DAY_MINUTES {
            return Err(HoursError::EmptyInterval);
        }
        Ok(OpeningInterval { start, end })
    }

    /// Start of the interval.
    pub fn start(&self) -> NaiveTime {
        time_of(self.start)
    }

    /// Start in minutes after midnight.
    pub fn start_minutes(&self) -> u16 {
        self.start
    }

    /// End in minutes after midnight (1440 for 24:00).
    pub fn end_minutes(&self) -> u16 {
        self.end
    }

    /// The interval's bounds on `date` as instants, resolved in `zone`
    /// (a start inside a DST gap moves to the end of the gap; an ambiguous
    /// wall time takes its earlier instant).
    pub(crate) fn on(&self, date: NaiveDate, zone: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = resolve_local(zone, date.and_time(time_of(self.start)))?.0;
        let end_local = if self.end == DAY_MINUTES {
            date.succ_opt()?.and_time(NaiveTime::MIN)
        } else {
            date.and_time(time_of(self.end))
        };
        let end = resolve_local(zone, end_local)?.0;
        (end > start).then_some((start, end))
    }
}

impl fmt::Display for OpeningInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}–{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

fn time_of(minutes: u16) -> NaiveTime {
    NaiveTime::from_hms_opt(u32::from(minutes / 60) % 24, u32::from(minutes % 60), 0)
        .unwrap_or(NaiveTime::MIN)
}

/// Resolves a local wall time to an instant: the earlier of two for an
/// ambiguous time (no duplicate at the repeated hour), and the first existing
/// time after a DST gap for a nonexistent one (`true` in the second field).
pub(crate) fn resolve_local(zone: Tz, local: NaiveDateTime) -> Option<(DateTime<Utc>, bool)> {
    if let Some(instant) = crate::zone_day::from_local(zone, local) {
        return Some((instant, false));
    }
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some((t.with_timezone(&Utc), false)),
        LocalResult::Ambiguous(a, b) => Some((a.min(b).with_timezone(&Utc), false)),
        LocalResult::None => {
            // Walk forward out of the gap (gaps last up to a whole day, e.g.
            // Samoa 2011), then back minute by minute to the first instant
            // after it.
            let mut probe = local;
            for _ in 0..(4 * 48) {
                probe = probe.checked_add_signed(Duration::minutes(15))?;
                if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) =
                    zone.from_local_datetime(&probe)
                {
                    let mut first = t.with_timezone(&Utc);
                    while let Some(prev) = first.checked_sub_signed(Duration::minutes(1)) {
                        if prev.with_timezone(&zone).naive_local() < local {
                            break;
                        }
                        first = prev;
                    }
                    return Some((first, true));
                }
            }
            None
        }
    }
}

/// Why a date is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Closure {
    /// No opening intervals on this weekday.
    Weekday,
    /// A public holiday of the configured Bundesland.
    Holiday(Holiday),
    /// A date closed explicitly (vacation, training day).
    ClosedDate,
}

/// Why the wished time was moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdjustReason {
    /// Before the first opening of that day: moved to the opening time.
    BeforeOpening,
    /// In a break between two opening intervals (or too late in an interval
    /// to finish before it ends): moved to the next interval of that day.
    InBreak,
    /// At or after closing (or too late to finish before closing): moved to
    /// the opening of the next open day.
    AfterClosing,
    /// The day is closed: moved to the opening of the next open day.
    Closed(Closure),
    /// The wall time does not exist (DST gap): moved to the first time after
    /// the gap.
    NonexistentTime,
}

/// A move of the wished time into business hours, with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjustment {
    /// The wished local time.
    pub from: NaiveDateTime,
    /// The local time it was moved to.
    pub to: NaiveDateTime,
    /// Why.
    pub reason: AdjustReason,
}

/// The wished time after [`BusinessHours::adjust`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adjusted {
    /// The local time to look for.
    pub local: NaiveDateTime,
    /// The same as an instant.
    pub instant: DateTime<Utc>,
    /// Set when the wish was moved.
    pub adjustment: Option<Adjustment>,
}

/// A tenant's opening hours: time zone, weekly intervals (several per day),
/// closed dates and, optionally, the public holidays of a Bundesland.
///
/// The default is Europe/Berlin, Monday to Friday 09:00–18:00, no holidays.
///
/// ```
/// use voxcal_appointment_finder::{BusinessHours, Bundesland, OpeningInterval};
/// use chrono::{NaiveDate, Weekday};
///
/// let hours = BusinessHours::closed(chrono_tz::Europe::Berlin)
///     .with_weekdays(
///         [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
///         [
///             OpeningInterval::new((9, 0), (12, 0)).unwrap(),
///             OpeningInterval::new((13, 0), (18, 0)).unwrap(),
///         ],
///     )
///     .with_public_holidays(Bundesland::Bayern);
/// let good_friday = NaiveDate::from_ymd_opt(2026, 4, 3).unwrap();
/// assert!(!hours.is_open_on(good_friday));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    zone: Tz,
    week: [Vec<OpeningInterval>; 7],
    closed_dates: BTreeSet<NaiveDate>,
    holidays: Option<Bundesland>,
    nationwide: bool,
}

impl Default for BusinessHours {
    fn default() -> Self {
        let day = OpeningInterval {
            start: 9 * 60,
            end: 18 * 60,
        };
        let mut hours = BusinessHours::closed(chrono_tz::Europe::Berlin);
        for weekday in 0..5 {
            hours.week[weekday] = vec![day];
        }
        hours
    }
}

impl BusinessHours {
    /// Hours in `zone` with every day closed; add days with
    /// [`with_day`](Self::with_day).
    pub fn closed(zone: Tz) -> Self {
        BusinessHours {
            zone,
            week: Default::default(),
            closed_dates: BTreeSet::new(),
            holidays: None,
            nationwide: false,
        }
    }

    /// Replaces the time zone.
    pub fn with_zone(mut self, zone: Tz) -> Self {
        self.zone = zone;
        self
    }

    /// Sets the opening intervals of one weekday (overlapping or touching
    /// intervals are merged; an empty list closes the day).
    pub fn with_day(
        mut self,
        weekday: chrono::Weekday,
        intervals: impl IntoIterator<Item = OpeningInterval>,
    ) -> Self {
        let mut list: Vec<OpeningInterval> = intervals.into_iter().collect();
        list.sort();
        let mut merged: Vec<OpeningInterval> = Vec::with_capacity(list.len());
        for iv in list {
            match merged.last_mut() {
                Some(last) if iv.start <= last.end => last.end = last.end.max(iv.end),
                _ => merged.push(iv),
            }
        }
        self.week[weekday.num_days_from_monday() as usize] = merged;
        self
    }

    /// Sets the same intervals on several weekdays.
    pub fn with_weekdays(
        mut self,
        weekdays: impl IntoIterator<Item = chrono::Weekday>,
        intervals: impl IntoIterator<Item = OpeningInterval> + Clone,
    ) -> Self {
        for weekday in weekdays {
            self = self.with_day(weekday, intervals.clone());
        }
        self
    }

    /// Closes one date.
    pub fn with_closed_date(mut self, date: NaiveDate) -> Self {
        self.closed_dates.insert(date);
        self
    }

    /// Closes on the public holidays of `land` (off by default).
    pub fn with_public_holidays(mut self, land: Bundesland) -> Self {
        self.holidays = Some(land);
        self
    }

    /// Closes on the public holidays all of Germany keeps
    /// ([`nationwide_holiday_on`]): Neujahr, Karfreitag, Ostermontag, Tag der
    /// Arbeit, Christi Himmelfahrt, Pfingstmontag, Tag der Deutschen
    /// Einheit, both Weihnachtstage. For a business that has not said where
    /// it is; [`with_public_holidays`](Self::with_public_holidays) adds a
    /// Bundesland's own.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use voxcal_appointment_finder::BusinessHours;
    /// let hours = BusinessHours::default().with_nationwide_holidays();
    /// let new_year = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(); // a Friday
    /// assert!(!hours.is_open_on(new_year));
    /// let epiphany = NaiveDate::from_ymd_opt(2027, 1, 6).unwrap(); // only in BW, BY, ST
    /// assert!(hours.is_open_on(epiphany));
    /// ```
    pub fn with_nationwide_holidays(mut self) -> Self {
        self.nationwide = true;
        self
    }

    /// Whether the nationwide holidays close the business.
    pub fn nationwide_holidays(&self) -> bool {
        self.nationwide
    }

    /// The time zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The Bundesland whose holidays close the business, if any.
    pub fn public_holidays(&self) -> Option<Bundesland> {
        self.holidays
    }

    /// The configured intervals of a weekday.
    pub fn weekday_intervals(&self, weekday: chrono::Weekday) -> &[OpeningInterval] {
        &self.week[weekday.num_days_from_monday() as usize]
    }

    /// Why `date` is closed, or `None` when it is open.
    pub fn closure(&self, date: NaiveDate) -> Option<Closure> {
        if self.closed_dates.contains(&date) {
            return Some(Closure::ClosedDate);
        }
        let holiday = self
            .holidays
            .and_then(|land| holiday_on(date, land))
            .or_else(|| {
                self.nationwide
                    .then(|| nationwide_holiday_on(date))
                    .flatten()
            });
        if let Some(holiday) = holiday {
            return Some(Closure::Holiday(holiday));
        }
        if self.weekday_intervals(date.weekday()).is_empty() {
            return Some(Closure::Weekday);
        }
        None
    }

    /// Whether the business opens at all on `date`.
    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        self.closure(date).is_none()
    }

    /// The opening intervals on `date` (empty when closed).
    pub fn intervals_on(&self, date: NaiveDate) -> &[OpeningInterval] {
        if self.closure(date).is_some() {
            &[]
        } else {
            self.weekday_intervals(date.weekday())
        }
    }

    /// The opening intervals on `date` as instants.
    pub(crate) fn instants_on(
        &self,
        date: NaiveDate,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        self.intervals_on(date)
            .iter()
            .filter_map(move |iv| iv.on(date, self.zone))
    }

    /// The first open day strictly after `date`, within about a year.
    pub fn next_open_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut day = date;
        for _ in 0..OPEN_DAY_SEARCH_DAYS {
            day = day.succ_opt()?;
            if self.is_open_on(day) {
                return Some(day);
            }
        }
        None
    }

    /// Whether an appointment of `duration` starting at `start` lies wholly
    /// inside one opening interval.
    pub fn contains(&self, start: DateTime<Utc>, duration: Duration) -> bool {
        let date = self.local_date(start);
        let Some(end) = start.checked_add_signed(duration) else {
            return false;
        };
        self.instants_on(date)
            .any(|(open, close)| open <= start && end <= close)
    }

    /// The local date of an instant in this zone.
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        self.local(instant).date()
    }

    /// The local wall time of an instant in this zone.
    pub fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        crate::zone_day::to_local(self.zone, instant)
    }

    /// A converter to local wall time for instants in `[first, last]`: when
    /// the zone's UTC offset is the same at both ends (any day without a
    /// clock change), each conversion is an addition instead of a zone
    /// lookup.
    pub(crate) fn local_span(&self, first: DateTime<Utc>, last: DateTime<Utc>) -> LocalSpan {
        let offset = |t: DateTime<Utc>| t.with_timezone(&self.zone).offset().fix();
        let at_first = offset(first);
        LocalSpan {
            zone: self.zone,
            fixed: (at_first == offset(last))
                .then(|| Duration::seconds(i64::from(at_first.local_minus_utc()))),
        }
    }

    /// The first interval start at or after `from` that leaves room for
    /// `duration`, within about a year.
    fn next_opening(&self, from: DateTime<Utc>, duration: Duration) -> Option<DateTime<Utc>> {
        let mut date = self.local_date(from);
        for _ in 0..OPEN_DAY_SEARCH_DAYS {
            let found = self.instants_on(date).find(|&(open, close)| {
                open >= from
                    && open
                        .checked_add_signed(duration)
                        .is_some_and(|e| e <= close)
            });
            if let Some((open, _)) = found {
                return Some(open);
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// Moves a wished local time into business hours, as the finder's first
    /// step does:
    ///
    /// - inside an interval with room for `duration`: unchanged;
    /// - before the first opening of the day: that opening;
    /// - in a break: the next interval of the day;
    /// - at or after closing: the opening of the next open day;
    /// - closed day, closed date or holiday: the opening of the next open day;
    /// - a wall time in a DST gap: first the end of the gap, then the above.
    ///
    /// `None` when no opening is found within about a year. Adjusting an
    /// adjusted time changes nothing.
    ///
    /// ```
    /// use voxcal_appointment_finder::{AdjustReason, BusinessHours};
    /// use chrono::{Duration, NaiveDate};
    /// let hours = BusinessHours::default(); // Berlin, Mon–Fri 09–18
    /// let monday_8 = NaiveDate::from_ymd_opt(2026, 10, 12).unwrap().and_hms_opt(8, 0, 0).unwrap();
    /// let adjusted = hours.adjust(monday_8, Duration::minutes(30)).unwrap();
    /// assert_eq!(adjusted.local.to_string(), "2026-10-12 09:00:00");
    /// assert_eq!(adjusted.adjustment.unwrap().reason, AdjustReason::BeforeOpening);
    /// ```
    pub fn adjust(&self, wished: NaiveDateTime, duration: Duration) -> Option<Adjusted> {
        let (instant, shifted) = resolve_local(self.zone, wished)?;
        let date = self.local_date(instant);
        let mut reason = shifted.then_some(AdjustReason::NonexistentTime);
        let target = if let Some(closure) = self.closure(date) {
            reason = Some(AdjustReason::Closed(closure));
            self.next_opening(instant, duration)?
        } else {
            let end = instant.checked_add_signed(duration)?;
            let inside = self
                .instants_on(date)
                .any(|(open, close)| open <= instant && end <= close);
            if inside {
                instant
            } else {
                let target = self.next_opening(instant, duration)?;
                let first_open = self.instants_on(date).next().map(|(open, _)| open);
                reason = Some(
                    if first_open.is_some_and(|open| instant < open)
                        && self.local_date(target) == date
                    {
                        AdjustReason::BeforeOpening
                    } else if self.local_date(target) == date {
                        AdjustReason::InBreak
                    } else {
                        AdjustReason::AfterClosing
                    },
                );
                target
            }
        };
        let local = self.local(target);
        let adjustment = reason.map(|reason| Adjustment {
            from: wished,
            to: local,
            reason,
        });
        if let Some(adj) = &adjustment {
            tracing::debug!(from = %adj.from, to = %adj.to, reason = ?adj.reason, "wished time adjusted to business hours");
        }
        Some(Adjusted {
            local,
            instant: target,
            adjustment,
        })
    }
}

/// See [`BusinessHours::local_span`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalSpan {
    zone: Tz,
    fixed: Option<Duration>,
}

impl LocalSpan {
    /// The local wall time of `instant` (which lies in the span).
    pub(crate) fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        match self.fixed {
            Some(offset) => instant.naive_utc() + offset,
            None => instant.with_timezone(&self.zone).naive_local(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;

    use super::*;

    #[test]
    fn a_local_span_agrees_with_the_zone_on_every_day_of_a_year() {
        for zone in [chrono_tz::Europe::Berlin, chrono_tz::America::New_York] {
            let hours = BusinessHours::closed(zone);
            let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let mut fixed_days = 0;
            while day.year() == 2026 {
                // The slots of a day: every 20 minutes of its UTC span and a
                // little beyond, so clock changes fall inside.
                let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(6);
                let slots: Vec<_> = (0..90).map(|i| start + Duration::minutes(20 * i)).collect();
                let span = hours.local_span(slots[0], slots[89]);
                fixed_days += usize::from(span.fixed.is_some());
                for t in &slots {
                    assert_eq!(span.local(*t), hours.local(*t), "{zone} {t}");
                }
                day = day.succ_opt().unwrap();
            }
            // Only the days around the two clock changes take the slow path.
            assert!((360..=364).contains(&fixed_days), "{zone}: {fixed_days}");
        }
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn lunch_break_hours() -> BusinessHours {
        BusinessHours::closed(chrono_tz::Europe::Berlin)
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
            .with_closed_date(NaiveDate::from_ymd_opt(2026, 10, 16).unwrap())
    }

    #[test]
    fn adjustment_table() {
        let hours = lunch_break_hours();
        let half_hour = Duration::minutes(30);
        // (wished, expected, reason) — 2026-10-12 is a Monday.
        let table: Vec<(NaiveDateTime, NaiveDateTime, Option<AdjustReason>)> = vec![
            (at(2026, 10, 12, 10, 0), at(2026, 10, 12, 10, 0), None),
            (
                at(2026, 10, 12, 8, 0),
                at(2026, 10, 12, 9, 0),
                Some(AdjustReason::BeforeOpening),
            ),
            (
                at(2026, 10, 12, 0, 0),
                at(2026, 10, 12, 9, 0),
                Some(AdjustReason::BeforeOpening),
            ),
            (
                at(2026, 10, 12, 12, 15),
                at(2026, 10, 12, 13, 0),
                Some(AdjustReason::InBreak),
            ),
            (
                at(2026, 10, 12, 11, 45),
                at(2026, 10, 12, 13, 0),
                Some(AdjustReason::InBreak),
            ),
            (
                at(2026, 10, 12, 19, 0),
                at(2026, 10, 13, 9, 0),
                Some(AdjustReason::AfterClosing),
            ),
            (
                at(2026, 10, 12, 18, 0),
                at(2026, 10, 13, 9, 0),
                Some(AdjustReason::AfterClosing),
            ),
            (
                at(2026, 10, 12, 17, 45),
                at(2026, 10, 13, 9, 0),
                Some(AdjustReason::AfterClosing),
            ),
            (at(2026, 10, 12, 17, 30), at(2026, 10, 12, 17, 30), None),
            (
                at(2026, 10, 17, 10, 0),
                at(2026, 10, 19, 9, 0),
                Some(AdjustReason::Closed(Closure::Weekday)),
            ),
            (
                at(2026, 10, 16, 10, 0),
                at(2026, 10, 19, 9, 0),
                Some(AdjustReason::Closed(Closure::ClosedDate)),
            ),
            // Friday after closing -> Monday.
            (
                at(2026, 10, 9, 18, 30),
                at(2026, 10, 12, 9, 0),
                Some(AdjustReason::AfterClosing),
            ),
        ];
        for (wished, expected, reason) in table {
            let got = hours.adjust(wished, half_hour).unwrap();
            assert_eq!(got.local, expected, "{wished}");
            assert_eq!(got.adjustment.map(|a| a.reason), reason, "{wished}");
            if let Some(adj) = got.adjustment {
                assert_eq!(adj.from, wished);
                assert_eq!(adj.to, expected);
            }
        }
    }

    #[test]
    fn holiday_moves_to_next_open_day() {
        let hours = lunch_break_hours();
        // Good Friday 2026-04-03 and Easter Monday 2026-04-06 -> Tuesday 04-07.
        let got = hours
            .adjust(at(2026, 4, 3, 10, 0), Duration::minutes(30))
            .unwrap();
        assert_eq!(got.local, at(2026, 4, 7, 9, 0));
        match got.adjustment.unwrap().reason {
            AdjustReason::Closed(Closure::Holiday(h)) => assert_eq!(h.name, "Karfreitag"),
            other => panic!("unexpected {other:?}"),
        }
        // Christmas Eve is a Thursday and open; 25th/26th closed, 27th Sunday.
        let got = hours
            .adjust(at(2026, 12, 24, 18, 30), Duration::minutes(30))
            .unwrap();
        assert_eq!(got.local, at(2026, 12, 28, 9, 0));
    }

    #[test]
    fn dst_days_in_berlin() {
        let hours = BusinessHours::closed(chrono_tz::Europe::Berlin).with_weekdays(
            [Weekday::Sun],
            [OpeningInterval::new((0, 0), (24, 0)).unwrap()],
        );
        // 2026-03-29 02:30 does not exist in Berlin: moved to 03:00 CEST.
        let got = hours
            .adjust(at(2026, 3, 29, 2, 30), Duration::minutes(30))
            .unwrap();
        assert_eq!(got.local, at(2026, 3, 29, 3, 0));
        assert_eq!(
            got.adjustment.unwrap().reason,
            AdjustReason::NonexistentTime
        );
        assert_eq!(got.instant.to_rfc3339(), "2026-03-29T01:00:00+00:00");
        // 2026-10-25 02:30 exists twice: the earlier (CEST) instant.
        let got = hours
            .adjust(at(2026, 10, 25, 2, 30), Duration::minutes(30))
            .unwrap();
        assert_eq!(got.adjustment, None);
        assert_eq!(got.instant.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        // The 24-hour Sunday lasts 23 and 25 real hours.
        let spring: Vec<_> = hours
            .instants_on(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap())
            .collect();
        assert_eq!(spring[0].1 - spring[0].0, Duration::hours(23));
        let autumn: Vec<_> = hours
            .instants_on(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap())
            .collect();
        assert_eq!(autumn[0].1 - autumn[0].0, Duration::hours(25));
    }

    #[test]
    fn intervals_merge_and_validate() {
        let hours = BusinessHours::closed(chrono_tz::UTC).with_day(
            Weekday::Mon,
            [
                OpeningInterval::new((13, 0), (15, 0)).unwrap(),
                OpeningInterval::new((9, 0), (12, 0)).unwrap(),
                OpeningInterval::new((11, 0), (13, 0)).unwrap(),
            ],
        );
        assert_eq!(
            hours.weekday_intervals(Weekday::Mon),
            &[OpeningInterval::new((9, 0), (15, 0)).unwrap()]
        );
        assert_eq!(
            OpeningInterval::new((9, 60), (10, 0)),
            Err(HoursError::InvalidTime {
                hour: 9,
                minute: 60
            })
        );
        assert_eq!(
            OpeningInterval::new((24, 0), (24, 0)),
            Err(HoursError::EmptyInterval)
        );
        assert!(OpeningInterval::new((0, 0), (24, 0)).is_ok());
    }

    #[test]
    fn contains_checks_the_whole_appointment() {
        let hours = lunch_break_hours();
        let zone = hours.zone();
        let inst = |ndt: NaiveDateTime| zone.from_local_datetime(&ndt).unwrap().with_timezone(&Utc);
        assert!(hours.contains(inst(at(2026, 10, 12, 11, 30)), Duration::minutes(30)));
        assert!(!hours.contains(inst(at(2026, 10, 12, 11, 45)), Duration::minutes(30)));
        assert!(!hours.contains(inst(at(2026, 10, 12, 12, 0)), Duration::minutes(30)));
        assert!(!hours.contains(inst(at(2026, 10, 17, 10, 0)), Duration::minutes(30)));
    }
}
