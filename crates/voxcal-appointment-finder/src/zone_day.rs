//! Local time without a zone lookup on days the clocks do not change.
//!
//! A finder converts between UTC and the tenant's wall time for every slot
//! it checks; `chrono_tz` answers each conversion with a binary search over
//! the zone's transitions. Almost every day has one UTC offset from
//! midnight to midnight, so this module remembers, per thread, the offset of
//! the last few (zone, local day) pairs and converts with an addition.
//! Days with a clock change (or an offset this module cannot prove constant)
//! are never remembered and always take the zone lookup.

use std::cell::RefCell;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Days remembered per thread: a search looks at a handful of days, and
/// a tenant's callers at the next few weeks.
const DAYS_KEPT: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Day {
    zone: Tz,
    date: NaiveDate,
    /// Local minus UTC, all day long; `None` on a day the clocks change
    /// (remembered too, so such a day is not examined again and again).
    offset: Option<Duration>,
}

thread_local! {
    static DAYS: RefCell<Vec<Day>> = const { RefCell::new(Vec::new()) };
}

/// The offset of `zone` that holds through all of local day `date`, or
/// `None` when the clocks change that day (checked at every full hour and
/// at the day's last second: no zone's clocks change and change back
/// within one hour).
fn constant_offset(zone: Tz, date: NaiveDate) -> Option<Duration> {
    let at = |local: NaiveDateTime| {
        zone.offset_from_local_datetime(&local)
            .single()
            .map(|o| o.fix().local_minus_utc())
    };
    let first = at(date.and_time(NaiveTime::MIN))?;
    let hours = (1..24).map(|h| date.and_time(NaiveTime::MIN) + Duration::hours(h));
    let last = date.and_hms_opt(23, 59, 59)?;
    hours
        .chain(std::iter::once(last))
        .all(|local| at(local) == Some(first))
        .then(|| Duration::seconds(i64::from(first)))
}

fn remembered(zone: Tz, matches: impl Fn(&Day) -> bool) -> Option<Day> {
    DAYS.with(|days| {
        days.borrow()
            .iter()
            .rev()
            .find(|d| d.zone == zone && matches(d))
            .copied()
    })
}

fn remember(zone: Tz, date: NaiveDate) -> Day {
    let offset = constant_offset(zone, date);
    let day = Day { zone, date, offset };
    DAYS.with(|days| {
        let mut days = days.borrow_mut();
        if days.len() == DAYS_KEPT {
            days.remove(0);
        }
        days.push(day);
    });
    day
}

/// The wall time of `instant` in `zone`.
pub(crate) fn to_local(zone: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    let utc = instant.naive_utc();
    // A remembered day holds the instant when the instant's wall time under
    // that day's offset falls on that day.
    let holds = |d: &Day| d.offset.is_some_and(|o| (utc + o).date() == d.date);
    if let Some(offset) = remembered(zone, holds).and_then(|d| d.offset) {
        return utc + offset;
    }
    let local = instant.with_timezone(&zone).naive_local();
    let date = local.date();
    if remembered(zone, |d| d.date == date).is_none() {
        remember(zone, date);
    }
    local
}

/// The instant of wall time `local` in `zone`, when that day has one offset
/// (so `local` exists and is unambiguous); `None` sends the caller to the
/// zone lookup.
pub(crate) fn from_local(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let date = local.date();
    let day = remembered(zone, |d| d.date == date).unwrap_or_else(|| remember(zone, date));
    day.offset.map(|offset| (local - offset).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::offset::LocalResult;
    use proptest::prelude::*;

    const ZONES: [Tz; 6] = [
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Pacific::Apia,
        chrono_tz::Asia::Kathmandu,
        chrono_tz::America::Sao_Paulo,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn wall_times_agree_with_the_zone_lookup(
            zone in prop::sample::select(ZONES.to_vec()),
            secs in 0i64..4_102_444_800, // 1970 to 2100
            near in 0i64..(3 * 86_400),
        ) {
            // Two instants close together, so remembered days are reused.
            for s in [secs, secs + near] {
                let instant = DateTime::from_timestamp(s, 0).unwrap();
                prop_assert_eq!(
                    to_local(zone, instant),
                    instant.with_timezone(&zone).naive_local(),
                    "{} {}", zone, instant
                );
            }
        }

        #[test]
        fn instants_agree_with_the_zone_lookup_where_the_day_has_one_offset(
            zone in prop::sample::select(ZONES.to_vec()),
            secs in 0i64..4_102_444_800,
        ) {
            let local = DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
            match (from_local(zone, local), zone.from_local_datetime(&local)) {
                (Some(fast), LocalResult::Single(t)) => {
                    prop_assert_eq!(fast, t.with_timezone(&Utc), "{} {}", zone, local);
                }
                // Only a day with a clock change is left to the lookup.
                (None, _) => prop_assert!(
                    constant_offset(zone, local.date()).is_none(),
                    "{} {}", zone, local
                ),
                (Some(fast), other) => {
                    prop_assert!(false, "{zone} {local}: {fast} but the zone says {other:?}");
                }
            }
        }
    }

    #[test]
    fn clock_change_days_are_not_remembered() {
        let berlin = chrono_tz::Europe::Berlin;
        // 29 March 2026: 2:00 → 3:00; 25 October 2026: 3:00 → 2:00.
        for (m, d) in [(3, 29), (10, 25)] {
            let date = NaiveDate::from_ymd_opt(2026, m, d).unwrap();
            assert_eq!(constant_offset(berlin, date), None, "{date}");
            assert_eq!(
                from_local(berlin, date.and_hms_opt(12, 0, 0).unwrap()),
                None
            );
        }
        let plain = NaiveDate::from_ymd_opt(2026, 10, 26).unwrap();
        assert_eq!(constant_offset(berlin, plain), Some(Duration::hours(1)));
    }
}
