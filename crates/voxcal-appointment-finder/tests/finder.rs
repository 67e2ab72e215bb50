//! `find` end to end over an `InMemoryCalendar`: matches, alternatives,
//! adjustment, DST days, failures, tenant isolation, and the spoken answer.

mod common;

use chrono::{Duration, NaiveTime, TimeZone, Utc, Weekday};
use common::*;
use voxcal_appointment_finder::{
    AdjustReason, AlternativeFinder, BusinessHours, Closure, EventType, FakeClock, FindRequest,
    FinderConfig, InMemoryCalendar, Lang, OfferKind, OpeningInterval, Outcome, SlotCache,
    TimePreference, TimeRange, UserMessage,
};

fn finder<S: voxcal_appointment_finder::AvailabilitySource>(
    source: S,
    clock: &FakeClock,
) -> AlternativeFinder<S> {
    AlternativeFinder::new(SlotCache::memory(source, clock.clone()), clock.clone())
}

fn request(at: chrono::NaiveDateTime) -> FindRequest {
    FindRequest::new(consult(), at, Duration::minutes(30))
}

fn alternatives(outcome: &Outcome) -> Vec<(chrono::NaiveDateTime, OfferKind)> {
    outcome
        .alternatives()
        .iter()
        .map(|o| (o.local(), o.kind))
        .collect()
}

#[tokio::test]
async fn exact_match_is_available() {
    let (calendar, t, clock) = practice();
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 13, 10, 0)))
        .await;
    let Outcome::Available {
        offer,
        fuzzy,
        context,
    } = &outcome
    else {
        panic!("expected Available, got {outcome:?}");
    };
    assert!(!fuzzy);
    assert_eq!(offer.kind, OfferKind::Exact);
    assert_eq!(offer.local(), local(2026, 10, 13, 10, 0));
    assert_eq!(offer.iso_instant(), "2026-10-13T08:00:00Z");
    assert_eq!(context.adjustment, None);
    assert_eq!(
        outcome.speak(Lang::De),
        "Morgen um 10 Uhr ist noch frei. Soll ich den Termin für Sie eintragen?"
    );
    assert_eq!(
        outcome.speak(Lang::En),
        "Tomorrow at 10 am is available. Shall I book it for you?"
    );
}

#[tokio::test]
async fn near_slot_within_tolerance_is_fuzzy() {
    let (calendar, t, clock) = practice();
    block(&calendar, &t, date(2026, 10, 13), (10, 0), (10, 30));
    let f = finder(calendar, &clock);
    let outcome = f.find(&t, &request(local(2026, 10, 13, 10, 20))).await;
    let Outcome::Available { offer, fuzzy, .. } = &outcome else {
        panic!("expected Available, got {outcome:?}");
    };
    assert!(fuzzy);
    assert_eq!(offer.kind, OfferKind::Near);
    assert_eq!(offer.local(), local(2026, 10, 13, 10, 30));
    assert_eq!(
        outcome.speak(Lang::De),
        "Um 10:20 Uhr ist leider schon belegt. Ich kann Ihnen aber morgen um halb elf anbieten. Passt Ihnen das?"
    );
    // A tighter tolerance turns the same wish into alternatives.
    let strict = f.with_config(FinderConfig {
        fuzzy_tolerance: Duration::minutes(5),
        ..FinderConfig::default()
    });
    let outcome = strict.find(&t, &request(local(2026, 10, 13, 10, 20))).await;
    assert!(
        matches!(outcome, Outcome::Alternatives { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn taken_slot_gets_ranked_alternatives_of_every_kind() {
    let (calendar, t, clock) = practice();
    block(&calendar, &t, date(2026, 10, 13), (13, 0), (15, 0));
    let outcome = finder(calendar, &clock)
        .find(
            &t,
            &request(local(2026, 10, 13, 14, 0)).with_max_alternatives(4),
        )
        .await;
    assert_eq!(
        alternatives(&outcome),
        vec![
            (local(2026, 10, 13, 15, 0), OfferKind::SameDay),
            (local(2026, 10, 14, 14, 0), OfferKind::NextOpenDay),
            (local(2026, 10, 14, 9, 0), OfferKind::FirstFree),
            (local(2026, 10, 20, 14, 0), OfferKind::SameWeekdayNextWeek),
        ]
    );
    let scores: Vec<f64> = outcome.alternatives().iter().map(|o| o.score).collect();
    assert_eq!(scores, vec![1.0, 24.0, 30.5, 168.0]);
}

#[tokio::test]
async fn default_two_alternatives_and_the_german_sentence() {
    let (calendar, t, clock) = practice();
    block(&calendar, &t, date(2026, 10, 13), (13, 0), (15, 0));
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 13, 14, 0)))
        .await;
    assert_eq!(outcome.alternatives().len(), 2);
    assert_eq!(
        outcome.speak(Lang::De),
        "Um 14 Uhr ist leider schon belegt. Ich kann Ihnen morgen um 15 Uhr oder übermorgen um 14 Uhr anbieten. Welcher Termin passt Ihnen besser?"
    );
    assert_eq!(
        outcome.speak(Lang::En),
        "Unfortunately, 2 pm is already taken. I can offer you tomorrow at 3 pm or the day after tomorrow at 2 pm. Which one suits you better?"
    );
}

#[tokio::test]
async fn same_day_falls_back_to_the_whole_day_outside_the_window() {
    let (calendar, t, clock) = practice();
    block(&calendar, &t, date(2026, 10, 13), (11, 0), (18, 0));
    let outcome = finder(calendar, &clock)
        .find(
            &t,
            &request(local(2026, 10, 13, 15, 0)).with_max_alternatives(5),
        )
        .await;
    let got = alternatives(&outcome);
    assert_eq!(got[0], (local(2026, 10, 13, 10, 30), OfferKind::SameDay));
    assert!(got.iter().all(|(at, _)| *at != local(2026, 10, 13, 15, 0)));
}

#[tokio::test]
async fn preference_restricts_every_alternative() {
    let (calendar, t, clock) = practice();
    block(&calendar, &t, date(2026, 10, 13), (13, 0), (15, 0));
    let outcome = finder(calendar, &clock)
        .find(
            &t,
            &request(local(2026, 10, 13, 14, 0))
                .with_preference(TimePreference::Vormittag)
                .with_max_alternatives(5),
        )
        .await;
    let got = alternatives(&outcome);
    assert_eq!(
        got,
        vec![
            (local(2026, 10, 13, 11, 30), OfferKind::SameDay),
            (local(2026, 10, 14, 11, 30), OfferKind::NextOpenDay),
            (local(2026, 10, 14, 9, 0), OfferKind::FirstFree),
            (local(2026, 10, 20, 11, 30), OfferKind::SameWeekdayNextWeek),
        ]
    );
    let from_15 = TimePreference::From(NaiveTime::from_hms_opt(15, 0, 0).unwrap());
    let (calendar, t, clock) = practice();
    block(&calendar, &t, date(2026, 10, 13), (13, 0), (15, 0));
    let outcome = finder(calendar, &clock)
        .find(
            &t,
            &request(local(2026, 10, 13, 14, 0)).with_preference(from_15),
        )
        .await;
    assert!(outcome
        .alternatives()
        .iter()
        .all(|o| o.local_time >= NaiveTime::from_hms_opt(15, 0, 0).unwrap()));
    assert_eq!(outcome.alternatives().len(), 2);
}

#[tokio::test]
async fn adjustment_rules_through_find() {
    // (wished, found, reason)
    let table = [
        (
            local(2026, 10, 13, 8, 0),
            local(2026, 10, 13, 9, 0),
            AdjustReason::BeforeOpening,
        ),
        (
            local(2026, 10, 13, 19, 0),
            local(2026, 10, 14, 9, 0),
            AdjustReason::AfterClosing,
        ),
        (
            local(2026, 10, 13, 12, 15),
            local(2026, 10, 13, 13, 0),
            AdjustReason::InBreak,
        ),
        (
            local(2026, 10, 17, 10, 0),
            local(2026, 10, 19, 9, 0),
            AdjustReason::Closed(Closure::Weekday),
        ),
    ];
    for (wished, found, reason) in table {
        let (calendar, t, clock) = practice();
        let outcome = finder(calendar, &clock).find(&t, &request(wished)).await;
        let Outcome::Available { offer, .. } = &outcome else {
            panic!("{wished}: {outcome:?}");
        };
        assert_eq!(offer.local(), found, "{wished}");
        let adj = outcome.adjustment().unwrap();
        assert_eq!((adj.from, adj.to, adj.reason), (wished, found, reason));
    }
    let (calendar, t, clock) = practice();
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 17, 10, 0)))
        .await;
    assert_eq!(
        outcome.speak(Lang::De),
        "Am Samstag haben wir geschlossen. Nächste Woche Montag um 9 Uhr ist noch frei. Soll ich den Termin für Sie eintragen?"
    );
    let (calendar, t, clock) = practice();
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 12, 7, 30)))
        .await;
    assert_eq!(
        outcome.speak(Lang::De),
        "Wir öffnen heute erst um 9 Uhr. Heute um 9 Uhr ist noch frei. Soll ich den Termin für Sie eintragen?"
    );
}

#[tokio::test]
async fn holiday_moves_to_next_open_day_and_says_why() {
    let (calendar, t, clock) = practice();
    clock.set(berlin(2026, 12, 21, 8, 0));
    block(&calendar, &t, date(2026, 12, 28), (9, 0), (10, 0));
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 12, 25, 10, 0)))
        .await;
    let adj = *outcome.adjustment().unwrap();
    assert_eq!(adj.to, local(2026, 12, 28, 9, 0));
    assert!(
        matches!(adj.reason, AdjustReason::Closed(Closure::Holiday(h)) if h.name == "1. Weihnachtstag")
    );
    assert_eq!(
        outcome.speak(Lang::De),
        "Am Freitag ist Feiertag (1. Weihnachtstag), da haben wir geschlossen. \
         Nächste Woche Montag um 9 Uhr ist leider schon belegt. Ich kann Ihnen nächste Woche Montag um 10 Uhr \
         oder nächste Woche Dienstag um 9 Uhr anbieten. Welcher Termin passt Ihnen besser?"
    );
}

fn round_the_clock(clock: &FakeClock) -> (InMemoryCalendar, voxcal_appointment_finder::Tenant) {
    let all_day = OpeningInterval::new((0, 0), (24, 0)).unwrap();
    let hours = BusinessHours::closed(chrono_tz::Europe::Berlin).with_weekdays(
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ],
        [all_day],
    );
    let calendar = InMemoryCalendar::new(clock.clone());
    let t = tenant("nachtdienst", hours);
    calendar.add_tenant(&t);
    calendar
        .add_event_type(t.id(), consult(), EventType::new(Duration::minutes(30)))
        .unwrap();
    (calendar, t)
}

#[tokio::test]
async fn spring_forward_day_has_no_0230() {
    let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap());
    let (calendar, t) = round_the_clock(&clock);
    // 02:30 does not exist on 2026-03-29: moved to 03:00 CEST.
    let f = finder(calendar.clone(), &clock);
    let outcome = f.find(&t, &request(local(2026, 3, 29, 2, 30))).await;
    let Outcome::Available { offer, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(offer.local(), local(2026, 3, 29, 3, 0));
    assert_eq!(offer.iso_instant(), "2026-03-29T01:00:00Z");
    assert_eq!(
        outcome.adjustment().unwrap().reason,
        AdjustReason::NonexistentTime
    );

    // With 03:00–04:00 taken the neighbours are 04:00 and 01:30 CET (half
    // an hour before 03:00 CEST in real time); nothing sits in the gap.
    calendar
        .block(
            t.id(),
            TimeRange::new(berlin(2026, 3, 29, 3, 0), berlin(2026, 3, 29, 4, 0)),
        )
        .unwrap();
    let f = finder(calendar, &clock);
    let outcome = f
        .find(
            &t,
            &request(local(2026, 3, 29, 3, 0)).with_max_alternatives(6),
        )
        .await;
    let got = alternatives(&outcome);
    assert_eq!(got[0], (local(2026, 3, 29, 4, 0), OfferKind::SameDay));
    assert_eq!(got[1], (local(2026, 3, 29, 1, 30), OfferKind::SameDay));
    assert!(got
        .iter()
        .all(|(at, _)| chrono::Timelike::hour(at) != 2 || at.date() != date(2026, 3, 29)));
}

#[tokio::test]
async fn fall_back_day_offers_the_repeated_hour_once() {
    let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 24, 12, 0, 0).unwrap());
    let (calendar, t) = round_the_clock(&clock);
    let outcome = finder(calendar.clone(), &clock)
        .find(&t, &request(local(2026, 10, 25, 2, 30)))
        .await;
    let Outcome::Available { offer, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    // The first (CEST) 02:30.
    assert_eq!(offer.iso_instant(), "2026-10-25T00:30:00Z");
    assert_eq!(outcome.adjustment(), None);

    // Taken: the same-day neighbours are distinct wall times.
    calendar
        .block(
            t.id(),
            TimeRange::new(
                Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap(),
            ),
        )
        .unwrap();
    let outcome = finder(calendar, &clock)
        .find(
            &t,
            &request(local(2026, 10, 25, 2, 30)).with_max_alternatives(6),
        )
        .await;
    let got = alternatives(&outcome);
    assert_eq!(got[0], (local(2026, 10, 25, 2, 0), OfferKind::SameDay));
    assert_eq!(got[1], (local(2026, 10, 25, 3, 0), OfferKind::SameDay));
    let mut walls: Vec<_> = got.iter().map(|(at, _)| *at).collect();
    walls.sort();
    walls.dedup();
    assert_eq!(walls.len(), got.len());
}

#[tokio::test]
async fn nothing_free_in_the_horizon() {
    let (calendar, t, clock) = practice();
    calendar
        .block(
            t.id(),
            TimeRange::new(berlin(2026, 10, 12, 0, 0), berlin(2026, 11, 1, 0, 0)),
        )
        .unwrap();
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 13, 10, 0)))
        .await;
    assert!(
        matches!(outcome, Outcome::NoAvailability { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.speak(Lang::De),
        "In den nächsten 14 Tagen ist leider kein Termin mehr frei. Darf ich einen Rückruf für Sie notieren?"
    );
}

#[tokio::test]
async fn source_failure_carries_its_user_message() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    probe.fail(true);
    let outcome = finder(probe.clone(), &clock)
        .find(&t, &request(local(2026, 10, 13, 10, 0)))
        .await;
    let Outcome::SourceUnavailable { error, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        error.user_message(Lang::De),
        "Der Kalender ist gerade nicht erreichbar."
    );
    assert_eq!(
        outcome.speak(Lang::De),
        "Der Kalender ist gerade nicht erreichbar. Darf ich einen Rückruf für Sie notieren?"
    );
    assert_eq!(
        outcome.speak(Lang::En),
        "The calendar cannot be reached. May I arrange a call back for you?"
    );
    // Failures are not cached: the next call succeeds.
    probe.fail(false);
    let f = finder(probe, &clock);
    let outcome = f.find(&t, &request(local(2026, 10, 13, 10, 0))).await;
    assert!(matches!(outcome, Outcome::Available { .. }));
}

#[tokio::test]
async fn nothing_in_the_past_or_inside_the_notice() {
    let (calendar, t, clock) = practice();
    clock.set(berlin(2026, 10, 13, 14, 20));
    let f = finder(calendar, &clock);
    // 14:00 today has passed.
    let outcome = f
        .find(
            &t,
            &request(local(2026, 10, 13, 14, 0)).with_max_alternatives(5),
        )
        .await;
    assert!(
        matches!(outcome, Outcome::Alternatives { .. }),
        "{outcome:?}"
    );
    for offer in outcome.alternatives() {
        assert!(offer.start >= berlin(2026, 10, 13, 14, 20), "{offer:?}");
    }
    assert_eq!(
        outcome.alternatives()[0].local(),
        local(2026, 10, 13, 14, 30)
    );

    let f = f.with_config(FinderConfig {
        minimum_notice: Duration::hours(2),
        ..FinderConfig::default()
    });
    let outcome = f
        .find(
            &t,
            &request(local(2026, 10, 13, 15, 0)).with_max_alternatives(5),
        )
        .await;
    for offer in outcome.alternatives() {
        assert!(offer.start >= berlin(2026, 10, 13, 16, 20), "{offer:?}");
    }
    assert_eq!(
        outcome.alternatives()[0].local(),
        local(2026, 10, 13, 16, 30)
    );
}

#[tokio::test]
async fn tenants_never_see_each_others_slots() {
    let clock = FakeClock::at(berlin(2026, 10, 12, 7, 0));
    let calendar = InMemoryCalendar::new(clock.clone());
    let a = tenant("tenant-a", practice_hours());
    let b = tenant("tenant-b", practice_hours());
    for t in [&a, &b] {
        calendar.add_tenant(t);
        // The same event type id for both.
        calendar
            .add_event_type(t.id(), consult(), EventType::new(Duration::minutes(30)))
            .unwrap();
    }
    // B is fully booked on Tuesday, A is free.
    block(&calendar, &b, date(2026, 10, 13), (0, 0), (23, 0));
    let f = finder(calendar.clone(), &clock);
    let wish = request(local(2026, 10, 13, 10, 0));
    // Warm the cache with A first, then ask for B, then A again.
    assert!(matches!(f.find(&a, &wish).await, Outcome::Available { .. }));
    let for_b = f.find(&b, &wish).await;
    assert!(matches!(for_b, Outcome::Alternatives { .. }), "{for_b:?}");
    assert!(for_b
        .alternatives()
        .iter()
        .all(|o| o.local_date != date(2026, 10, 13)));
    assert!(matches!(f.find(&a, &wish).await, Outcome::Available { .. }));
    let zone = a.hours().zone();
    let day_a = f
        .cache()
        .day_slots(a.id(), &consult(), date(2026, 10, 13), zone)
        .await
        .unwrap();
    let day_b = f
        .cache()
        .day_slots(b.id(), &consult(), date(2026, 10, 13), zone)
        .await
        .unwrap();
    assert_eq!(day_a.len(), 16);
    assert_eq!(day_b.len(), 0);
}
