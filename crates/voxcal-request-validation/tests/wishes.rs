//! Table tests of the context-aware readings: both readings of an ambiguous
//! hour (`parse_clock`, `ClockTime::pick`), time-of-day windows, windows of
//! days, whole wishes and their use in `AppointmentRequest`.

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use serde_json::json;
use voxcal_request_validation::{
    parse_clock, parse_date_window, parse_time, parse_time_window, parse_time_wish, parse_wish,
    parse_wish_in, AppointmentRequest, ClockTime, DateWindow, PartOfDay, TimeWindowKind, TimeWish,
    ValidationContext, ValidationError, END_OF_DAY,
};

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

/// Friday, 27 November 2026, 10:00 in Berlin.
fn friday() -> ValidationContext {
    ValidationContext::new(
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(),
        chrono_tz::Europe::Berlin,
    )
}

/// Wednesday, 25 November 2026, 10:00 in Berlin.
fn wednesday() -> ValidationContext {
    ValidationContext::new(
        Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap(),
        chrono_tz::Europe::Berlin,
    )
}

fn open_9_to_18(time: NaiveTime) -> bool {
    t(9, 0) <= time && time < t(18, 0)
}

#[test]
fn clock_readings() {
    // (input, literal, alternative)
    type Case = (&'static str, (u32, u32), Option<(u32, u32)>);
    let cases: &[Case] = &[
        ("um 7", (7, 0), Some((19, 0))),
        ("7 Uhr", (7, 0), Some((19, 0))),
        ("7", (7, 0), Some((19, 0))),
        ("halb acht", (7, 30), Some((19, 30))),
        ("um 3", (3, 0), Some((15, 0))),
        ("viertel nach zwei", (2, 15), Some((14, 15))),
        ("viertel vor fünf", (4, 45), Some((16, 45))),
        ("fünf vor halb vier", (3, 25), Some((15, 25))),
        ("um 10", (10, 0), Some((22, 0))),
        ("zwölf", (12, 0), Some((0, 0))),
        ("halb eins", (0, 30), Some((12, 30))),
        ("9:30", (9, 30), Some((21, 30))),
        ("7 Uhr abends", (19, 0), None),
        ("um 3 nachmittags", (15, 0), None),
        ("morgens um 7", (7, 0), None),
        ("um 7 morgens", (7, 0), None),
        ("halb neun vormittags", (8, 30), None),
        ("um eins mittags", (13, 0), None),
        ("19 Uhr", (19, 0), None),
        ("07:30", (7, 30), None),
        ("14:00", (14, 0), None),
        ("0 Uhr", (0, 0), None),
        ("Mitternacht", (0, 0), None),
        ("mittags", (12, 0), None),
        ("vierundzwanzig Uhr", (0, 0), None),
    ];
    for (input, (lh, lm), alt) in cases {
        let c = parse_clock(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(c.literal, t(*lh, *lm), "{input}");
        assert_eq!(c.alternative, alt.map(|(h, m)| t(h, m)), "{input}");
        assert_eq!(c.is_ambiguous(), alt.is_some(), "{input}");
    }
    for bad in ["", "Kuchen", "25 Uhr", "13 Uhr morgens", "halb"] {
        assert_eq!(parse_clock(bad), Err(ValidationError::InvalidTime), "{bad}");
    }
    assert_eq!(
        parse_clock("{{uhrzeit}}"),
        Err(ValidationError::UnfilledPlaceholder)
    );
    // parse_time keeps its business reading.
    assert_eq!(parse_time("um 7"), Ok(t(19, 0)));
    assert_eq!(parse_time("halb drei"), Ok(t(14, 30)));
}

#[test]
fn pick_in_opening_hours() {
    let pick = |s: &str| parse_clock(s).unwrap().pick(open_9_to_18);
    // Neither 07:00 nor 19:00 is open: the literal reading, as said.
    assert_eq!(pick("7"), t(7, 0));
    assert_eq!(pick("um 7"), t(7, 0));
    // 02:30 closed, 14:30 open.
    assert_eq!(pick("halb drei"), t(14, 30));
    assert_eq!(pick("um 3"), t(15, 0));
    // 10:00 open, 22:00 closed.
    assert_eq!(pick("um 10"), t(10, 0));
    // One reading: kept even when closed.
    assert_eq!(pick("7 Uhr abends"), t(19, 0));
    // Both readings open (a business open around the clock): literal.
    assert_eq!(parse_clock("um 3").unwrap().pick(|_| true), t(3, 0));
    // Only the literal one open.
    assert_eq!(parse_clock("um 8").unwrap().pick(|x| x == t(8, 0)), t(8, 0));
    assert_eq!(
        ClockTime::exact(t(6, 0)).pick(open_9_to_18),
        t(6, 0),
        "an exact time is never moved"
    );
}

#[test]
fn time_windows() {
    // (input, start, end, kind); end None = END_OF_DAY.
    use TimeWindowKind::{Between, From, Part, Until};
    type Case = (&'static str, (u32, u32), Option<(u32, u32)>, TimeWindowKind);
    let cases: &[Case] = &[
        ("früh", (7, 0), Some((10, 0)), Part(PartOfDay::Morgen)),
        ("morgens", (7, 0), Some((10, 0)), Part(PartOfDay::Morgen)),
        ("am Morgen", (7, 0), Some((10, 0)), Part(PartOfDay::Morgen)),
        (
            "vormittags",
            (9, 0),
            Some((12, 0)),
            Part(PartOfDay::Vormittag),
        ),
        (
            "am Vormittag",
            (9, 0),
            Some((12, 0)),
            Part(PartOfDay::Vormittag),
        ),
        ("mittags", (11, 0), Some((14, 0)), Part(PartOfDay::Mittag)),
        (
            "gegen Mittag",
            (11, 0),
            Some((14, 0)),
            Part(PartOfDay::Mittag),
        ),
        (
            "über Mittag",
            (11, 0),
            Some((14, 0)),
            Part(PartOfDay::Mittag),
        ),
        (
            "nachmittags",
            (12, 0),
            Some((18, 0)),
            Part(PartOfDay::Nachmittag),
        ),
        (
            "am Nachmittag",
            (12, 0),
            Some((18, 0)),
            Part(PartOfDay::Nachmittag),
        ),
        (
            "am frühen Nachmittag",
            (12, 0),
            Some((15, 0)),
            Part(PartOfDay::FruehNachmittag),
        ),
        (
            "später Nachmittag",
            (15, 0),
            Some((18, 0)),
            Part(PartOfDay::SpaetNachmittag),
        ),
        (
            "spätnachmittags",
            (15, 0),
            Some((18, 0)),
            Part(PartOfDay::SpaetNachmittag),
        ),
        ("abends", (18, 0), Some((22, 0)), Part(PartOfDay::Abend)),
        ("am Abend", (18, 0), Some((22, 0)), Part(PartOfDay::Abend)),
        ("nach 16 Uhr", (16, 0), None, From),
        ("ab 16 Uhr", (16, 0), None, From),
        ("ab halb drei", (14, 30), None, From),
        ("vor 10", (0, 0), Some((10, 0)), Until),
        ("bis 10 Uhr", (0, 0), Some((10, 0)), Until),
        ("zwischen 14 und 16 Uhr", (14, 0), Some((16, 0)), Between),
        ("von 14 bis 16 Uhr", (14, 0), Some((16, 0)), Between),
        ("zwischen zwei und vier", (14, 0), Some((16, 0)), Between),
    ];
    for (input, (sh, sm), end, kind) in cases {
        let w = parse_time_window(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(w.start, t(*sh, *sm), "{input}");
        assert_eq!(w.end, end.map_or(END_OF_DAY, |(h, m)| t(h, m)), "{input}");
        assert_eq!(w.kind, *kind, "{input}");
        assert!(w.start < w.end, "{input}");
        // The same through parse_time_wish.
        assert_eq!(parse_time_wish(input), Ok(TimeWish::Window(w)), "{input}");
    }
    // The finder's TimePreference bounds for the words both know.
    for (part, (s, e)) in [
        (PartOfDay::Vormittag, (9, 12)),
        (PartOfDay::Mittag, (11, 14)),
        (PartOfDay::Nachmittag, (12, 18)),
        (PartOfDay::Abend, (18, 22)),
    ] {
        assert_eq!(part.bounds(), (t(s, 0), t(e, 0)), "{part:?}");
    }
}

#[test]
fn date_windows() {
    let cases = [
        // Said on Wednesday 2026-11-25.
        ("nächste Woche", d(11, 30), d(12, 6)),
        ("Anfang nächster Woche", d(11, 30), d(12, 2)),
        ("Ende nächster Woche", d(12, 3), d(12, 6)),
        ("diese Woche", d(11, 25), d(11, 29)),
        ("so bald wie möglich", d(11, 25), d(12, 9)),
        ("möglichst bald", d(11, 25), d(12, 9)),
        ("schnellstmöglich", d(11, 25), d(12, 9)),
        ("egal wann", d(11, 25), d(12, 9)),
        ("am Montag", d(11, 30), d(11, 30)),
        ("Mittwoch", d(12, 2), d(12, 2)),
        ("übermorgen", d(11, 27), d(11, 27)),
        (
            "am 25. Januar",
            NaiveDate::from_ymd_opt(2027, 1, 25).unwrap(),
            NaiveDate::from_ymd_opt(2027, 1, 25).unwrap(),
        ),
    ];
    for (input, from, to) in cases {
        assert_eq!(
            parse_date_window(input, &wednesday()),
            Ok(DateWindow { from, to }),
            "{input}"
        );
    }
    assert_eq!(
        parse_date_window("gestern", &wednesday()),
        Err(ValidationError::InvalidDate)
    );
    assert_eq!(
        parse_date_window("1.1.2020", &wednesday()),
        Err(ValidationError::PastDate)
    );
    assert_eq!(
        parse_date_window("{{datum}}", &wednesday()),
        Err(ValidationError::UnfilledPlaceholder)
    );
}

#[test]
fn wishes_from_datum_and_uhrzeit() {
    let ctx = friday();
    let window = |p: PartOfDay| TimeWish::Window(p.window());
    let cases: Vec<(Option<&str>, Option<&str>, DateWindow, TimeWish)> = vec![
        (
            Some("morgen vormittag"),
            None,
            DateWindow::day(d(11, 28)),
            window(PartOfDay::Vormittag),
        ),
        (
            Some("nächste Woche nachmittags"),
            None,
            DateWindow {
                from: d(11, 30),
                to: d(12, 6),
            },
            window(PartOfDay::Nachmittag),
        ),
        (
            Some("Montag früh"),
            None,
            DateWindow::day(d(11, 30)),
            window(PartOfDay::Morgen),
        ),
        (
            Some("heute Abend"),
            None,
            DateWindow::day(d(11, 27)),
            window(PartOfDay::Abend),
        ),
        (
            Some("morgen früh"),
            None,
            DateWindow::day(d(11, 28)),
            window(PartOfDay::Morgen),
        ),
        (
            Some("heute morgen"),
            None,
            DateWindow::day(d(11, 27)),
            window(PartOfDay::Morgen),
        ),
        (
            Some("am Montag"),
            Some("später Nachmittag"),
            DateWindow::day(d(11, 30)),
            window(PartOfDay::SpaetNachmittag),
        ),
        (
            Some("morgen"),
            Some("egal"),
            DateWindow::day(d(11, 28)),
            TimeWish::Any,
        ),
        (
            Some("morgen"),
            None,
            DateWindow::day(d(11, 28)),
            TimeWish::Any,
        ),
        (
            None,
            None,
            DateWindow {
                from: d(11, 27),
                to: d(12, 11),
            },
            TimeWish::Any,
        ),
        (
            None,
            Some("vormittags"),
            DateWindow {
                from: d(11, 27),
                to: d(12, 11),
            },
            window(PartOfDay::Vormittag),
        ),
        (
            Some("morgen"),
            Some("14 Uhr"),
            DateWindow::day(d(11, 28)),
            TimeWish::At(ClockTime::exact(t(14, 0))),
        ),
        (
            Some("morgen um 15 Uhr"),
            None,
            DateWindow::day(d(11, 28)),
            TimeWish::At(ClockTime::exact(t(15, 0))),
        ),
        (
            Some("morgen 10"),
            None,
            DateWindow::day(d(11, 28)),
            TimeWish::At(ClockTime {
                literal: t(10, 0),
                alternative: Some(t(22, 0)),
            }),
        ),
        (
            Some("Montag früh"),
            Some("um 7"),
            DateWindow::day(d(11, 30)),
            TimeWish::At(ClockTime::exact(t(7, 0))),
        ),
        (
            Some("morgen nachmittag"),
            Some("um 3"),
            DateWindow::day(d(11, 28)),
            TimeWish::At(ClockTime::exact(t(15, 0))),
        ),
        (
            Some("morgen"),
            Some("um 7"),
            DateWindow::day(d(11, 28)),
            TimeWish::At(ClockTime {
                literal: t(7, 0),
                alternative: Some(t(19, 0)),
            }),
        ),
        (
            Some("so bald wie möglich"),
            Some("vormittags"),
            DateWindow {
                from: d(11, 27),
                to: d(12, 11),
            },
            window(PartOfDay::Vormittag),
        ),
    ];
    for (datum, uhrzeit, days, time) in cases {
        let wish = parse_wish(datum, uhrzeit, &ctx)
            .unwrap_or_else(|e| panic!("{datum:?} {uhrzeit:?}: {e:?}"));
        assert_eq!(wish.days, days, "{datum:?} {uhrzeit:?}");
        assert_eq!(wish.time, time, "{datum:?} {uhrzeit:?}");
    }
    // Windows with a time inside datum.
    let w = parse_wish(Some("am Donnerstag von 9 bis 11"), None, &ctx).unwrap();
    assert_eq!(w.days, DateWindow::day(d(12, 3)));
    let tw = w.time.window().unwrap();
    assert_eq!((tw.start, tw.end), (t(9, 0), t(11, 0)));

    let e = parse_wish(Some("gestern"), Some("Kuchen"), &ctx).unwrap_err();
    assert!(
        e.has("datum", "invalid_date") && e.has("uhrzeit", "invalid_time"),
        "{e:?}"
    );
    let e = parse_wish(Some("26.11.2026 nachmittags"), None, &ctx).unwrap_err();
    assert!(e.has("datum", "past_date"), "{e:?}");
    let e = parse_wish(Some("morgen"), Some("{{uhrzeit}}"), &ctx).unwrap_err();
    assert!(e.has("uhrzeit", "unfilled_placeholder"), "{e:?}");
}

#[test]
fn wish_window_bounds_use_the_given_hours() {
    let ctx = friday();
    let evening = |x: NaiveTime| t(16, 0) <= x && x < t(23, 0);
    let w = parse_wish_in(None, Some("ab 7"), &ctx, evening).unwrap();
    assert_eq!(w.time.window().unwrap().start, t(19, 0));
    let w = parse_wish_in(None, Some("ab 7"), &ctx, open_9_to_18).unwrap();
    assert_eq!(
        w.time.window().unwrap().start,
        t(7, 0),
        "neither open: literal"
    );
    let w = parse_wish_in(None, Some("ab halb drei"), &ctx, open_9_to_18).unwrap();
    assert_eq!(w.time.window().unwrap().start, t(14, 30));
    // Exact times keep both readings whatever the hours.
    let w = parse_wish_in(None, Some("um 7"), &ctx, evening).unwrap();
    assert_eq!(w.time.clock().unwrap().alternative, Some(t(19, 0)));
}

#[test]
fn requests_carry_the_wish() {
    let ctx = friday();
    let r = AppointmentRequest::parse(&json!({"datum": "morgen", "uhrzeit": "vormittags"}), &ctx)
        .unwrap();
    assert_eq!(r.date, d(11, 28));
    assert_eq!(r.time, None);
    assert_eq!(r.wish.time, TimeWish::Window(PartOfDay::Vormittag.window()));

    // Exact times keep parse_time's value in `time`; the wish has both readings.
    let r =
        AppointmentRequest::parse(&json!({"datum": "morgen", "uhrzeit": "um 7"}), &ctx).unwrap();
    assert_eq!(r.time, Some(t(19, 0)));
    assert_eq!(
        r.wish.time,
        TimeWish::At(ClockTime {
            literal: t(7, 0),
            alternative: Some(t(19, 0))
        })
    );
    let r = AppointmentRequest::parse(&json!({"datum": "morgen", "uhrzeit": "halb drei"}), &ctx)
        .unwrap();
    assert_eq!(r.time, Some(t(14, 30)));

    // A window of days: `date` is its first day.
    let r = AppointmentRequest::parse(
        &json!({"datum": "nächste Woche", "uhrzeit": "zwischen 14 und 16 Uhr"}),
        &ctx,
    )
    .unwrap();
    assert_eq!(r.date, d(11, 30));
    assert_eq!(
        r.wish.days,
        DateWindow {
            from: d(11, 30),
            to: d(12, 6)
        }
    );
    assert_eq!(r.time, None);
    let value = serde_json::to_value(&r).unwrap();
    assert_eq!(value["wish"]["time"]["start"], "14:00");
    assert_eq!(value["wish"]["to"], "2026-12-06");

    // A time inside datum.
    let r = AppointmentRequest::parse(&json!({"datum": "morgen um 15 Uhr"}), &ctx).unwrap();
    assert_eq!((r.date, r.time), (d(11, 28), Some(t(15, 0))));

    // Errors keep their fields and order.
    let e = AppointmentRequest::parse(&json!({"datum": "gestern", "uhrzeit": "Kuchen"}), &ctx)
        .unwrap_err();
    assert_eq!(e.errors()[0].field(), "datum");
    assert_eq!(e.errors()[1].field(), "uhrzeit");
    let e = AppointmentRequest::parse(&json!({"uhrzeit": "vormittags"}), &ctx).unwrap_err();
    assert!(e.has("datum", "required"));
    assert_eq!(e.errors().len(), 1);
}
