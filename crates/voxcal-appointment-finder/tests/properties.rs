//! Property tests: every alternative is a verified free slot inside hours
//! and preference, in the future, unique, ranked and bounded; adjusting is
//! idempotent; nothing panics for any date 1970–2100 in 20 zones.

mod common;

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use voxcal_appointment_finder::{
    AlternativeFinder, BusinessHours, EventType, EventTypeId, FakeClock, FindRequest,
    InMemoryCalendar, OpeningInterval, Outcome, SlotCache, Tenant, TenantId, TimePreference,
    TimeRange,
};

const ZONES: [Tz; 20] = [
    chrono_tz::Europe::Berlin,
    chrono_tz::Europe::London,
    chrono_tz::Europe::Moscow,
    chrono_tz::America::New_York,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::America::Santiago,
    chrono_tz::America::Havana,
    chrono_tz::America::St_Johns,
    chrono_tz::America::Nuuk,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::Asia::Tehran,
    chrono_tz::Asia::Gaza,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Australia::Adelaide,
    chrono_tz::Pacific::Apia,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::Africa::Casablanca,
    chrono_tz::Antarctica::Troll,
];

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Up to two intervals per weekday, on quarter hours.
fn hours_strategy() -> impl Strategy<Value = Vec<Vec<(u32, u32)>>> {
    let interval =
        (0_u32..96, 1_u32..40).prop_map(|(start, len)| (start * 15, (start + len).min(96) * 15));
    prop::collection::vec(prop::collection::vec(interval, 0..3), 7)
}

fn build_hours(zone: Tz, week: &[Vec<(u32, u32)>]) -> BusinessHours {
    let mut hours = BusinessHours::closed(zone);
    for (day, intervals) in WEEK.iter().zip(week) {
        let ivs: Vec<_> = intervals
            .iter()
            .filter_map(|&(s, e)| OpeningInterval::new((s / 60, s % 60), (e / 60, e % 60)).ok())
            .collect();
        hours = hours.with_day(*day, ivs);
    }
    hours
}

fn preference_strategy() -> impl Strategy<Value = Option<TimePreference>> {
    let t = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    prop_oneof![
        Just(None),
        Just(Some(TimePreference::Vormittag)),
        Just(Some(TimePreference::Mittag)),
        Just(Some(TimePreference::Nachmittag)),
        Just(Some(TimePreference::Abends)),
        (6_u32..20).prop_map(move |h| Some(TimePreference::From(t(h)))),
        (8_u32..20).prop_map(move |h| Some(TimePreference::Until(t(h)))),
        (6_u32..14, 1_u32..8)
            .prop_map(move |(h, len)| Some(TimePreference::Window(t(h), t(h + len)))),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn alternatives_are_verified_and_ranked(
        zone_index in 0_usize..ZONES.len(),
        week in hours_strategy(),
        blocks in prop::collection::vec((0_i64..17, 0_i64..1440, 15_i64..900), 0..60),
        wish_day in 0_i64..15,
        wish_minute in (0_u32..288).prop_map(|m| m * 5),
        now_offset_minutes in 0_i64..(3 * 1440),
        length in prop_oneof![Just(15_i64), Just(30), Just(45), Just(60)],
        interval in prop_oneof![Just(15_i64), Just(30), Just(60)],
        preference in preference_strategy(),
        max in 0_usize..6,
    ) {
        let zone = ZONES[zone_index];
        let hours = build_hours(zone, &week);
        let base = Utc.with_ymd_and_hms(2026, 10, 11, 0, 0, 0).unwrap();
        let clock = FakeClock::at(base + Duration::minutes(now_offset_minutes));
        let calendar = InMemoryCalendar::new(clock.clone());
        let tenant = Tenant::new(TenantId::new("prop").unwrap(), hours.clone());
        let et = EventTypeId::from(7_u64);
        calendar.add_tenant(&tenant);
        calendar.add_event_type(
            tenant.id(),
            et.clone(),
            EventType::new(Duration::minutes(length)).with_slot_interval(Duration::minutes(interval)),
        ).unwrap();
        for (day, minute, len) in blocks {
            let start = base + Duration::days(day) + Duration::minutes(minute);
            calendar.block(tenant.id(), TimeRange::new(start, start + Duration::minutes(len))).unwrap();
        }
        let wished = NaiveDate::from_ymd_opt(2026, 10, 11).unwrap()
            .checked_add_signed(Duration::days(wish_day)).unwrap()
            .and_time(NaiveTime::MIN) + Duration::minutes(i64::from(wish_minute));
        let mut request = FindRequest::new(et.clone(), wished, Duration::minutes(length))
            .with_max_alternatives(max);
        request.preference = preference;
        let finder = AlternativeFinder::new(SlotCache::memory(calendar.clone(), clock.clone()), clock.clone());
        let outcome = runtime().block_on(finder.find(&tenant, &request));
        let now = voxcal_appointment_finder::Clock::now_utc(&clock);
        let is_free = |start| {
            calendar
                .free_slots_now(tenant.id(), &et, TimeRange::new(start, start + Duration::seconds(1)))
                .unwrap()
                .iter()
                .any(|s| s.start == start)
        };
        // The free slots a receptionist could offer: inside hours and the
        // preference, from now on, on the wished day or the 14 after it.
        let last_day = wished.date() + Duration::days(14);
        let horizon = TimeRange::new(
            base + Duration::days(wish_day - 2),
            base + Duration::days(wish_day + 17),
        );
        let offerable: Vec<_> = calendar
            .free_slots_now(tenant.id(), &et, horizon)
            .unwrap()
            .into_iter()
            .filter(|s| s.start >= now && hours.contains(s.start, Duration::minutes(length)))
            .filter(|s| {
                let local = hours.local(s.start);
                local.date() >= wished.date()
                    && local.date() <= last_day
                    && preference.is_none_or(|p| p.contains(local.time()))
            })
            .collect();
        match &outcome {
            Outcome::Available { offer, fuzzy, context } => {
                // Available is the wished slot itself, nothing else.
                prop_assert!(!fuzzy);
                prop_assert_eq!(offer.local(), wished);
                prop_assert_eq!(context.adjustment, None);
                prop_assert_eq!(outcome.unmet(), None);
                prop_assert!(is_free(offer.start));
                prop_assert!(hours.contains(offer.start, Duration::minutes(length)));
                prop_assert!(offer.start >= now);
                let local = offer.start.with_timezone(&zone).naive_local();
                prop_assert_eq!(local, offer.local());
            }
            Outcome::Alternatives { alternatives, context } => {
                prop_assert!(alternatives.len() <= max);
                prop_assert!(outcome.unmet().is_some());
                // Two free slots in the horizon: at least two are offered.
                if offerable.len() >= 2 && max >= 2 {
                    prop_assert!(alternatives.len() >= 2, "{} offered, {} free", alternatives.len(), offerable.len());
                }
                let literal = hours.zone().from_local_datetime(&wished).single().map(|t| t.with_timezone(&Utc));
                for (i, alt) in alternatives.iter().enumerate() {
                    prop_assert!(is_free(alt.start), "not free: {alt:?}");
                    prop_assert!(hours.contains(alt.start, Duration::minutes(length)), "outside hours: {alt:?}");
                    prop_assert!(alt.start >= now, "in the past: {alt:?}");
                    if context.adjustment.is_none() {
                        prop_assert!(Some(alt.start) != literal, "the wish itself: {alt:?}");
                    }
                    // Converted to UTC right: the instant is the local wall
                    // time in the tenant's zone.
                    let local = alt.start.with_timezone(&zone).naive_local();
                    prop_assert_eq!(local, alt.local());
                    if let Some(p) = preference {
                        prop_assert!(p.contains(alt.local_time), "outside preference: {alt:?}");
                    }
                    prop_assert!(alternatives[..i].iter().all(|o| o.start != alt.start), "duplicate");
                    if i > 0 {
                        prop_assert!(alternatives[i - 1].start < alt.start, "not in time order");
                    }
                }
            }
            Outcome::NoAvailability { .. } => {
                prop_assert!(offerable.is_empty() || max == 0, "{} free but none offered", offerable.len());
            }
            other => prop_assert!(false, "unexpected {other:?}"),
        }
        // No message holds a numeric "d.m." date.
        for lang in [voxcal_appointment_finder::Lang::De, voxcal_appointment_finder::Lang::En] {
            let said = outcome.speak(lang);
            prop_assert!(!voxcal_appointment_finder::speak::has_numeric_date(&said), "{said}");
        }
        // Speaking never panics and never returns nothing.
        prop_assert!(!outcome.speak(voxcal_appointment_finder::Lang::De).is_empty());
        prop_assert!(!outcome.speak(voxcal_appointment_finder::Lang::En).is_empty());
    }

    #[test]
    fn adjusting_is_idempotent(
        zone_index in 0_usize..ZONES.len(),
        week in hours_strategy(),
        days in 0_i64..(131 * 366),
        minute in 0_i64..1440,
        length in 1_i64..240,
    ) {
        let hours = build_hours(ZONES[zone_index], &week);
        let wished = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap().and_time(NaiveTime::MIN)
            + Duration::days(days) + Duration::minutes(minute);
        let duration = Duration::minutes(length);
        if let Some(first) = hours.adjust(wished, duration) {
            let again = hours.adjust(first.local, duration).unwrap();
            prop_assert_eq!(again.local, first.local);
            prop_assert_eq!(again.instant, first.instant);
            prop_assert_eq!(again.adjustment, None);
            prop_assert!(hours.contains(first.instant, duration));
            prop_assert!(first.instant >= hours.zone().from_utc_datetime(&wished).with_timezone(&Utc) - Duration::days(2));
        }
    }

    #[test]
    fn nothing_panics_from_1970_to_2100(
        zone_index in 0_usize..ZONES.len(),
        week in hours_strategy(),
        days in 0_i64..(131 * 366),
        minute in 0_i64..1440,
        holidays in prop::option::of(0_usize..16),
    ) {
        let zone = ZONES[zone_index];
        let mut hours = build_hours(zone, &week);
        if let Some(i) = holidays {
            hours = hours.with_public_holidays(voxcal_appointment_finder::Bundesland::ALL[i]);
        }
        let wished = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap().and_time(NaiveTime::MIN)
            + Duration::days(days) + Duration::minutes(minute);
        let clock = FakeClock::at(Utc.from_utc_datetime(&wished) - Duration::days(1));
        let calendar = InMemoryCalendar::new(clock.clone());
        let tenant = Tenant::new(TenantId::new("any").unwrap(), hours.clone());
        let et = EventTypeId::from(1_u64);
        calendar.add_tenant(&tenant);
        calendar.add_event_type(tenant.id(), et.clone(), EventType::new(Duration::minutes(30))).unwrap();
        let finder = AlternativeFinder::new(SlotCache::memory(calendar, clock.clone()), clock);
        let outcome = runtime().block_on(finder.find(&tenant, &FindRequest::new(et, wished, Duration::minutes(30))));
        if let Outcome::Available { offer, .. } = &outcome {
            prop_assert!(hours.contains(offer.start, Duration::minutes(30)));
        }
        prop_assert!(!outcome.speak(voxcal_appointment_finder::Lang::De).is_empty());
        let _ = hours.next_open_day(wished.date());
    }
}
