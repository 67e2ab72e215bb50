//! `find` end to end over an `InMemoryCalendar`: matches, alternatives,
//! adjustment, DST days, failures, tenant isolation, and the spoken answer.

mod common;

use chrono::{Duration, NaiveTime, TimeZone, Utc, Weekday};
use common::*;
use voxcal_appointment_finder::{
    AdjustReason, AlternativeFinder, BusinessHours, Closure, EventType, FakeClock, FindRequest,
    FinderConfig, InMemoryCalendar, Lang, OfferKind, OpeningInterval, Outcome, SlotCache,
    TimePreference, TimeRange, Unmet, UserMessage,
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
async fn off_grid_wish_gets_its_neighbours_never_belegt() {
    let (calendar, t, clock) = practice();
    let f = finder(calendar.clone(), &clock);
    // "viertel nach zehn", both neighbours free.
    let outcome = f.find(&t, &request(local(2026, 10, 13, 10, 15))).await;
    assert_eq!(outcome.unmet(), Some(Unmet::OffGrid));
    assert_eq!(
        alternatives(&outcome),
        vec![
            (local(2026, 10, 13, 10, 0), OfferKind::SameDay),
            (local(2026, 10, 13, 10, 30), OfferKind::SameDay),
        ]
    );
    assert_eq!(
        outcome.speak(Lang::De),
        "Um 10:15 Uhr vergeben wir keine Termine, sie beginnen bei uns zu festen Zeiten. \
         Ich kann Ihnen morgen um 10 Uhr oder um 10:30 Uhr anbieten. Welcher Termin passt Ihnen besser?"
    );
    // 10:00 taken: still off the grid (not "belegt"), the free neighbours.
    block(&calendar, &t, date(2026, 10, 13), (10, 0), (10, 30));
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 13, 10, 20)))
        .await;
    assert_eq!(outcome.unmet(), Some(Unmet::OffGrid));
    assert_eq!(
        alternatives(&outcome),
        vec![
            (local(2026, 10, 13, 9, 30), OfferKind::SameDay),
            (local(2026, 10, 13, 10, 30), OfferKind::SameDay),
        ]
    );
    assert!(!outcome.speak(Lang::De).contains("belegt"));
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
    // The nearest later slot that day (nothing earlier within two hours:
    // the lunch break), then the next open day at the same time; no
    // far-away filler although four were allowed.
    assert_eq!(
        alternatives(&outcome),
        vec![
            (local(2026, 10, 13, 15, 0), OfferKind::SameDay),
            (local(2026, 10, 14, 14, 0), OfferKind::NextOpenDay),
        ]
    );
    assert_eq!(outcome.unmet(), Some(Unmet::Taken));
    let scores: Vec<f64> = outcome.alternatives().iter().map(|o| o.score).collect();
    assert_eq!(scores, vec![1.0, 24.0]);
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
    // (wished, alternatives, reason, unmet)
    let table = [
        (
            local(2026, 10, 13, 8, 0),
            [local(2026, 10, 13, 9, 0), local(2026, 10, 13, 9, 30)],
            AdjustReason::BeforeOpening,
            Unmet::BeforeOpening,
        ),
        (
            local(2026, 10, 13, 19, 0),
            [local(2026, 10, 13, 17, 0), local(2026, 10, 13, 17, 30)],
            AdjustReason::AfterClosing,
            Unmet::AfterClosing,
        ),
        (
            local(2026, 10, 13, 12, 15),
            [local(2026, 10, 13, 11, 30), local(2026, 10, 13, 13, 0)],
            AdjustReason::InBreak,
            Unmet::AfterClosing,
        ),
        (
            local(2026, 10, 17, 10, 0),
            [local(2026, 10, 19, 10, 0), local(2026, 10, 20, 10, 0)],
            AdjustReason::Closed(Closure::Weekday),
            Unmet::ClosedDay,
        ),
    ];
    for (wished, found, reason, unmet) in table {
        let (calendar, t, clock) = practice();
        let outcome = finder(calendar, &clock).find(&t, &request(wished)).await;
        let got: Vec<_> = outcome.alternatives().iter().map(|o| o.local()).collect();
        assert_eq!(got, found, "{wished}");
        assert_eq!(outcome.adjustment().unwrap().reason, reason, "{wished}");
        assert_eq!(outcome.unmet(), Some(unmet), "{wished}");
    }
    let (calendar, t, clock) = practice();
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 17, 10, 0)))
        .await;
    assert_eq!(
        outcome.speak(Lang::De),
        "Samstags haben wir geschlossen. Ich kann Ihnen am Montag, dem 19. Oktober, um 10 Uhr oder \
         am Dienstag, dem 20. Oktober, um 10 Uhr anbieten. Welcher Termin passt Ihnen besser?"
    );
    let (calendar, t, clock) = practice();
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 12, 7, 30)))
        .await;
    assert_eq!(
        outcome.speak(Lang::De),
        "Um 7:30 Uhr haben wir noch nicht geöffnet. Ich kann Ihnen heute um 9 Uhr oder um 9:30 Uhr anbieten. \
         Welcher Termin passt Ihnen besser?"
    );
    let (calendar, t, clock) = practice();
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 10, 12, 21, 0)))
        .await;
    assert_eq!(
        outcome.speak(Lang::De),
        "Um 21 Uhr haben wir schon geschlossen. Ich kann Ihnen heute um 17 Uhr oder um 17:30 Uhr anbieten. \
         Welcher Termin passt Ihnen besser?"
    );
}

#[tokio::test]
async fn holiday_moves_to_next_open_day_and_says_why() {
    let (calendar, t, clock) = practice();
    clock.set(berlin(2026, 12, 21, 8, 0));
    block(&calendar, &t, date(2026, 12, 28), (9, 0), (10, 0));
    let outcome = finder(calendar, &clock)
        .find(&t, &request(local(2026, 12, 25, 9, 0)))
        .await;
    let adj = *outcome.adjustment().unwrap();
    assert_eq!(adj.to, local(2026, 12, 28, 9, 0));
    assert!(
        matches!(adj.reason, AdjustReason::Closed(Closure::Holiday(h)) if h.name == "1. Weihnachtstag")
    );
    assert_eq!(outcome.unmet(), Some(Unmet::Holiday));
    // The wished 9:00 on each of the next open days (the nearest free one
    // on Monday, where 9–10 is taken).
    assert_eq!(
        outcome.speak(Lang::De),
        "Am 25. Dezember ist der 1. Weihnachtstag, da haben wir geschlossen. \
         Ich kann Ihnen am Montag, dem 28. Dezember, um 10 Uhr oder am Dienstag, dem 29. Dezember, um 9 Uhr anbieten. \
         Welcher Termin passt Ihnen besser?"
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
    let offers = outcome.alternatives();
    assert_eq!(offers.len(), 2, "{outcome:?}");
    assert_eq!(offers[0].local(), local(2026, 3, 29, 1, 30));
    assert_eq!(offers[0].iso_instant(), "2026-03-29T00:30:00Z");
    assert_eq!(offers[1].local(), local(2026, 3, 29, 3, 0));
    assert_eq!(offers[1].iso_instant(), "2026-03-29T01:00:00Z");
    assert_eq!(
        outcome.adjustment().unwrap().reason,
        AdjustReason::NonexistentTime
    );
    assert_eq!(outcome.unmet(), Some(Unmet::OffGrid));
    assert!(outcome
        .speak(Lang::De)
        .starts_with("Wegen der Zeitumstellung gibt es morgen 2:30 Uhr nicht."));

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
    assert_eq!(got[0], (local(2026, 3, 29, 1, 30), OfferKind::SameDay));
    assert_eq!(got[1], (local(2026, 3, 29, 4, 0), OfferKind::SameDay));
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
        "Um 10 Uhr ist leider schon belegt. In den nächsten 14 Tagen ist leider kein Termin mehr frei. \
         Darf ich einen Rückruf für Sie notieren?"
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

#[tokio::test]
async fn an_ambiguous_hour_is_read_in_the_opening_hours() {
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    // (literal, other reading, looked for, unmet) — Tuesday 2026-10-13,
    // practice hours 09–12 and 13–18.
    let table = [
        // "um 5": only 17:00 is open.
        (5, 17, local(2026, 10, 13, 17, 0), None),
        // "um 10": only 10:00 is open (22:00 is not).
        (10, 22, local(2026, 10, 13, 10, 0), None),
        // "um 7": neither is open: the literal reading, and why.
        (7, 19, local(2026, 10, 13, 7, 0), Some(Unmet::BeforeOpening)),
        // "um 12": 12:00 is the lunch break, 00:00 closed: literal.
        (12, 0, local(2026, 10, 13, 12, 0), Some(Unmet::AfterClosing)),
    ];
    for (literal, other, looked_for, unmet) in table {
        let (calendar, tenant, clock) = practice();
        let request = request(local(2026, 10, 13, literal, 0)).with_alternative_reading(t(other));
        let outcome = finder(calendar, &clock).find(&tenant, &request).await;
        assert_eq!(outcome.context().requested, looked_for, "{literal}/{other}");
        assert_eq!(outcome.unmet(), unmet, "{literal}/{other}: {outcome:?}");
        if unmet.is_none() {
            let Outcome::Available { offer, .. } = &outcome else {
                panic!("{outcome:?}");
            };
            assert_eq!(offer.local(), looked_for);
        }
        // The reason names the reading looked for, never the other one.
        let said = outcome.speak(Lang::De);
        if unmet.is_some() {
            assert!(said.starts_with(&format!("Um {literal} Uhr")), "{said}");
            assert!(!said.contains(&format!("Um {other} Uhr")), "{said}");
        }
    }
}

#[tokio::test]
async fn a_window_offers_its_first_free_slots() {
    let (calendar, t, clock) = practice();
    // Next week Monday morning is taken up to 10:00.
    block(&calendar, &t, date(2026, 10, 19), (9, 0), (10, 0));
    let f = finder(calendar, &clock);
    let request = FindRequest::window(
        consult(),
        date(2026, 10, 19),
        date(2026, 10, 23),
        Duration::minutes(30),
    )
    .with_preference(TimePreference::Vormittag)
    .with_max_alternatives(3);
    let outcome = f.find(&t, &request).await;
    assert_eq!(
        outcome
            .alternatives()
            .iter()
            .map(|o| o.local())
            .collect::<Vec<_>>(),
        vec![
            local(2026, 10, 19, 10, 0),
            local(2026, 10, 19, 10, 30),
            local(2026, 10, 19, 11, 0)
        ]
    );
    assert_eq!(outcome.unmet(), None);
    assert!(!matches!(outcome, Outcome::Available { .. }));
    assert_eq!(
        outcome.speak(Lang::De),
        "Ich kann Ihnen am Montag, dem 19. Oktober, um 10 Uhr, um 10:30 Uhr oder um 11 Uhr anbieten. \
         Welcher Termin passt Ihnen besser?"
    );
    // A window with one free morning slot left still answers at least the
    // two it can: the next day's first.
    let (calendar, t, clock) = practice();
    block(&calendar, &t, date(2026, 10, 19), (9, 0), (11, 30));
    let request = FindRequest::window(
        consult(),
        date(2026, 10, 19),
        date(2026, 10, 20),
        Duration::minutes(30),
    )
    .with_preference(TimePreference::Vormittag)
    .with_max_alternatives(1);
    let outcome = finder(calendar, &clock).find(&t, &request).await;
    let got: Vec<_> = outcome.alternatives().iter().map(|o| o.local()).collect();
    assert_eq!(
        got,
        vec![local(2026, 10, 19, 11, 30), local(2026, 10, 20, 9, 0)]
    );
}

#[tokio::test]
async fn a_window_from_a_wished_time_starts_there() {
    let (calendar, t, clock) = practice();
    let f = finder(calendar, &clock);
    // "The next free slot from 14:30 on": nothing earlier that day counts,
    // and the following days start at their opening.
    let mut request = FindRequest::window(
        consult(),
        date(2026, 10, 19),
        date(2026, 10, 20),
        Duration::minutes(30),
    )
    .with_max_alternatives(3);
    request.wished = local(2026, 10, 19, 14, 30);
    let offered =
        |outcome: Outcome| -> Vec<_> { outcome.alternatives().iter().map(|o| o.local()).collect() };
    let got = offered(f.find(&t, &request).await);
    assert_eq!(
        got,
        vec![
            local(2026, 10, 19, 14, 30),
            local(2026, 10, 19, 15, 0),
            local(2026, 10, 19, 15, 30)
        ]
    );
    // Late on the first day: the rest comes from the next day's morning.
    request.wished = local(2026, 10, 19, 17, 30);
    let got = offered(f.find(&t, &request).await);
    assert!(
        got.iter().all(|l| *l >= local(2026, 10, 19, 17, 30)),
        "{got:?}"
    );
    assert_eq!(
        got.last().map(|l| l.date()),
        Some(date(2026, 10, 20)),
        "{got:?}"
    );
}
