//! German date/time corpora: Duckling's `Time_DE_Corpus.hs` and chrono's
//! German tests, converted by the loaders below and checked against
//! `parse_date` / `parse_time` with each corpus's reference time.
//!
//! Booking-relevant cases are single days (`Day` grain) and clock times
//! (`Hour`/`Minute` grain). Months, weeks, quarters, years, intervals,
//! holidays and "now" (`Second` grain) are not something a caller books and
//! are counted as out of scope. Days before the reference day must be
//! rejected (bookings are never in the past). Every other case must parse to
//! the corpus's value unless it is listed in an exclusion table with its
//! reason; a listed case that starts to pass, or that is not in the corpus,
//! fails the test so the tables stay honest.

mod common;

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use voxcal_request_validation::{
    parse_clock, parse_date, parse_time, parse_wish, DateWindow, TimeWish, ValidationContext,
    ValidationError, Wish, END_OF_DAY,
};

fn context(y: i32, m: u32, d: u32, h: u32, min: u32) -> ValidationContext {
    ValidationContext::new(
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap(),
        chrono_tz::UTC,
    )
}

#[derive(Debug)]
enum Expect {
    Day(NaiveDate),
    Clock(NaiveTime),
}

// ---------------------------------------------------------------- Duckling ---

/// Duckling phrases the parser does not support, grouped by reason.
const DUCKLING_EXCLUDED: &[(&str, &[&str])] = &[
    (
        "nth weekday or day of a month and holiday arithmetic: not a way callers name an appointment day; not supported",
        &[
            "letzter montag im märz",
            "letzter sonntag im märz 2014",
            "dritter tag im oktober",
            "letzter tag im oktober 2015",
            "erster dienstag im oktober",
            "dritter dienstag im september 2014",
            "erster mittwoch im oktober 2014",
            "zweiter mittwoch im oktober 2014",
            "dritter dienstag nach weihnachten 2014",
            "ein jahr nach weihnachten",
        ],
    ),
    ("vague reference to the present, not a day", &["zu dieser zeit"]),
    (
        "business-hours reading: an hour from 1 to 7 without a modifier is the afternoon (Duckling picks 03:xx)",
        &["3:18", "3:30"],
    ),
    (
        "date and time in one phrase: parse_date / parse_time read one of them only (parse_wish reads both)",
        &[
            "01.04. gegen 18Uhr",
            "pünktlich um 17 uhr morgen",
            "heute abend um 20 Uhr",
            "heute um 20:00",
            "um 19:30 am fr, 20. Sept.",
            "am samstag um 9 Uhr",
            "Fr, 18. Juli 2014 7 uhr abends",
            "1:30 am Sa, 21. Sept",
            "donnerstag 8:00 GMT",
            "donnerstag 8:00 gmt",
            "heute um 14 Uhr",
            "morgen um 15 Uhr",
            "morgen so um 15 Uhr",
        ],
    ),
    (
        "offsets from now in hours or days as a clock time: uhrzeit takes a clock time (in 7 tagen parses as a date, 2013-02-19)",
        &[
            "in einer stunde",
            "in zwei stunden",
            "in ein paar stunden",
            "in 24 stunden",
            "in 7 tagen",
            "vor 7 tagen",
            "vor 14 tagen",
        ],
    ),
    (
        "explicit time zones: times are always in the tenant's zone",
        &["16 Uhr CET"],
    ),
];

/// `(expected, phrase)` for every `examples (datetime (…) Grain) [ … ]` block
/// with a `Day`, `Hour` or `Minute` grain; the other blocks are counted.
fn duckling_cases(src: &str) -> (Vec<(Expect, String)>, usize) {
    let mut cases = Vec::new();
    let mut out_of_scope = 0;
    let mut rest = src;
    while let Some(pos) = rest.find("examples (") {
        let block = &rest[pos + "examples (".len()..];
        let list_start = block.find('[').unwrap();
        let list_end = block.find(']').unwrap();
        let header = &block[..list_start];
        let phrases: Vec<String> = {
            let mut v = Vec::new();
            let list = &block[list_start + 1..list_end];
            let mut i = 0;
            while let Some(q) = list[i..].find('"') {
                let (value, len) = common::string_literal(&list[i + q..]);
                v.push(value.unwrap());
                i += q + len;
            }
            v
        };
        rest = &block[list_end..];
        let expect = header.strip_prefix("datetime (").and_then(|h| {
            let close = h.find(')')?;
            let nums: Vec<i64> = h[..close]
                .split(',')
                .map(|n| n.trim().parse().unwrap())
                .collect();
            let grain = h[close + 1..].trim().trim_end_matches(')').trim();
            let date = NaiveDate::from_ymd_opt(nums[0] as i32, nums[1] as u32, nums[2] as u32);
            match grain {
                "Day" => Some(Expect::Day(date?)),
                "Hour" | "Minute" => Some(Expect::Clock(NaiveTime::from_hms_opt(
                    nums[3] as u32,
                    nums[4] as u32,
                    0,
                )?)),
                _ => None,
            }
        });
        match expect {
            Some(e) => {
                for p in phrases {
                    let e = match &e {
                        Expect::Day(d) => Expect::Day(*d),
                        Expect::Clock(t) => Expect::Clock(*t),
                    };
                    cases.push((e, p));
                }
            }
            None => out_of_scope += phrases.len(),
        }
    }
    (cases, out_of_scope)
}

struct Tally {
    matched: usize,
    past_rejected: usize,
    excluded: usize,
    failures: Vec<String>,
    used_exclusions: BTreeSet<String>,
}

fn check(
    ctx: &ValidationContext,
    phrase: &str,
    expect: &Expect,
    excluded: &[(&str, &[&str])],
    tally: &mut Tally,
) {
    let is_excluded = excluded.iter().any(|(_, list)| list.contains(&phrase));
    let ok = match expect {
        Expect::Day(day) if *day < ctx.today() => {
            let rejected = matches!(
                parse_date(phrase, ctx),
                Err(ValidationError::PastDate | ValidationError::InvalidDate)
            );
            if rejected && !is_excluded {
                tally.past_rejected += 1;
                return;
            }
            rejected
        }
        Expect::Day(day) => parse_date(phrase, ctx).ok() == Some(*day),
        Expect::Clock(time) => parse_time(phrase).ok() == Some(*time),
    };
    match (ok, is_excluded) {
        (true, false) => tally.matched += 1,
        (false, true) => {
            tally.excluded += 1;
            tally.used_exclusions.insert(phrase.to_owned());
        }
        (true, true) => tally.failures.push(format!(
            "{phrase:?} is excluded but passes now: remove it from the list"
        )),
        (false, false) => tally.failures.push(format!(
            "{phrase:?}: expected {expect:?}, date {:?}, time {:?}",
            parse_date(phrase, ctx),
            parse_time(phrase)
        )),
    }
}

#[test]
fn duckling_time_de_corpus() {
    let Some(dir) = common::testdata("duckling_time_de_corpus", "duckling-de") else {
        return;
    };
    let (cases, out_of_scope) = duckling_cases(&common::read(&dir.join("Time_DE_Corpus.hs")));
    // Duckling's reference time: Tuesday 2013-02-12 04:30.
    let ctx = context(2013, 2, 12, 4, 30);
    let mut tally = Tally {
        matched: 0,
        past_rejected: 0,
        excluded: 0,
        failures: Vec::new(),
        used_exclusions: BTreeSet::new(),
    };
    for (expect, phrase) in &cases {
        check(&ctx, phrase, expect, DUCKLING_EXCLUDED, &mut tally);
    }
    for (reason, list) in DUCKLING_EXCLUDED {
        for phrase in *list {
            assert!(
                tally.used_exclusions.contains(*phrase),
                "excluded phrase {phrase:?} ({reason}) is not a failing corpus case"
            );
        }
    }
    println!(
        "duckling Time_DE_Corpus: {} booking-relevant phrases: {} parsed as expected, {} past days rejected, \
         {} excluded (listed); {out_of_scope} phrases out of scope (month/week/quarter/year/interval/holiday/now)",
        cases.len(),
        tally.matched,
        tally.past_rejected,
        tally.excluded
    );
    assert!(
        tally.failures.is_empty(),
        "duckling mismatches:\n{}",
        tally.failures.join("\n")
    );
}

// ------------------------------------------------------------- chrono-node ---

/// chrono (German) phrases the parser does not support, grouped by reason.
const CHRONO_EXCLUDED: &[(&str, &[&str])] = &[
    ("\"now\" is not an appointment day", &["jetzt"]),
    (
        "the test names no matched text, so the input is a whole sentence",
        &["Die Deadline ist morgen"],
    ),
    (
        "date and time (or part of day) in one phrase: parse_date reads a day only (parse_wish reads these: chrono_node_de_wishes)",
        &[
            "letzte Nacht",
            "gestern Nacht",
            "heute Morgen",
            "heute Nachmittag",
            "heute Abend",
            "heute 17 Uhr",
            "heute um 17 Uhr",
            "heute Nacht",
            "heute Nacht um 20 Uhr",
            "heute Abend um 8",
            "gestern Nachmittag",
            "morgen Morgen",
            "uebermorgen Abend",
            "vorgestern Vormittag",
        ],
    ),
    (
        "ranges: a booking has one day and one start time",
        &[
            "heute - nächsten Freitag",
            "10. - 22. August 2012",
            "10. bis 22. Oktober 2012",
            "10. Oktober - 12. Dezember",
            "10. August - 12. Oktober 2013",
            "18:10 - 22.32",
            "von 6:30 bis 23:00",
            "von 6h30 bis 23h00",
            "von 6h30 morgens bis 11 am Abend",
        ],
    ),
    (
        "the weekday contradicts the date (10 January 2013 is a Thursday): refused rather than guessed",
        &["am Dienstag, den 10. Januar", "Di, 10. Januar"],
    ),
    (
        "weeks, years, seconds and minutes relative to now are not an appointment day or clock time",
        &["kommende Woche", "kommendes Jahr", "folgenden 90 sekunden", "letzten acht Minuten"],
    ),
    (
        "documented weekday reading: a bare weekday is the next such day strictly after today (Duckling's); chrono picks the nearest, possibly past or today",
        &["Montag", "am Donnerstag"],
    ),
];

struct ChronoCase {
    file: String,
    phrase: String,
    reference: Option<(i32, u32, u32, u32, u32)>,
    expect: Option<Expect>,
}

fn js_number(expr: &str) -> i64 {
    // Small integer arithmetic as the tests write it: `8 - 1`, `2012`.
    let mut total = 0;
    let mut sign = 1;
    for token in expr.split_whitespace() {
        match token {
            "-" => sign = -1,
            "+" => sign = 1,
            n => {
                total += sign * n.parse::<i64>().unwrap_or_else(|_| panic!("number {n:?}"));
                sign = 1;
            }
        }
    }
    total
}

fn expected_get(body: &str, field: &str) -> Option<i64> {
    let needle = format!("expect(result.start.get(\"{field}\")).toBe(");
    let pos = body.find(&needle)?;
    // Skip commented-out expectations.
    let line_start = body[..pos].rfind('\n').map_or(0, |p| p + 1);
    if body[line_start..pos].trim_start().starts_with("//") {
        return None;
    }
    let rest = &body[pos + needle.len()..];
    Some(js_number(&rest[..rest.find(')').unwrap()]))
}

fn chrono_cases(file: &str, src: &str) -> Vec<ChronoCase> {
    let mut out = Vec::new();
    let marker = "testSingleCase(chrono.de, ";
    let starts: Vec<usize> = src.match_indices(marker).map(|(i, _)| i).collect();
    for (n, start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(src.len());
        let call = &src[start + marker.len()..end];
        let (input, len) = common::string_literal(call);
        let input = input.unwrap();
        let after = call[len..].trim_start_matches([',', ' ']);
        let reference = after.strip_prefix("new Date(").map(|args| {
            let args = &args[..args.find(')').unwrap()];
            let v: Vec<i64> = args.split(',').map(js_number).collect();
            let get = |i: usize| v.get(i).copied().unwrap_or(0);
            (
                get(0) as i32,
                get(1) as u32 + 1,
                get(2) as u32,
                get(3) as u32,
                get(4) as u32,
            )
        });
        // The matched text when the test names it as a literal, else the input.
        let phrase = call
            .find("expect(result.text).toBe(")
            .map(|p| &call[p + "expect(result.text).toBe(".len()..])
            .filter(|lit| lit.starts_with(['"', '\'']))
            .map(|lit| common::string_literal(lit).0.unwrap())
            .unwrap_or(input);
        let (y, mo, d) = (
            expected_get(call, "year"),
            expected_get(call, "month"),
            expected_get(call, "day"),
        );
        let (h, mi) = (expected_get(call, "hour"), expected_get(call, "minute"));
        // chrono copies the reference clock into day-only results; such an
        // hour is not part of the phrase.
        let implied = reference
            .is_some_and(|r| h == Some(i64::from(r.3)) && mi.is_none_or(|m| m == i64::from(r.4)));
        let h = if implied { None } else { h };
        let expect = match (h, y, mo, d) {
            (Some(h), ..) => {
                NaiveTime::from_hms_opt(h as u32, mi.unwrap_or(0) as u32, 0).map(Expect::Clock)
            }
            (None, Some(y), Some(mo), Some(d)) => {
                NaiveDate::from_ymd_opt(y as i32, mo as u32, d as u32).map(Expect::Day)
            }
            _ => None,
        };
        out.push(ChronoCase {
            file: file.to_owned(),
            phrase: phrase.trim().to_owned(),
            reference,
            expect,
        });
    }
    out
}

#[test]
fn chrono_node_de_tests() {
    let Some(dir) = common::testdata("chrono_node_de_tests", "chrono-node-de") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .collect();
    files.sort();
    let mut tally = Tally {
        matched: 0,
        past_rejected: 0,
        excluded: 0,
        failures: Vec::new(),
        used_exclusions: BTreeSet::new(),
    };
    let (mut total, mut no_reference, mut no_value) = (0, 0, 0);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for case in chrono_cases(&name, &common::read(path)) {
            total += 1;
            let Some((y, m, d, h, min)) = case.reference else {
                // Without a reference date the result depends on the day the
                // test runs.
                no_reference += 1;
                continue;
            };
            let Some(expect) = &case.expect else {
                // Only weekday/meridiem/timezone or range expectations.
                no_value += 1;
                continue;
            };
            let ctx = context(y, m, d, h, min);
            let before = tally.failures.len();
            check(&ctx, &case.phrase, expect, CHRONO_EXCLUDED, &mut tally);
            if tally.failures.len() > before {
                let last = tally.failures.pop().unwrap();
                tally.failures.push(format!("{}: {last}", case.file));
            }
        }
    }
    for (reason, list) in CHRONO_EXCLUDED {
        for phrase in *list {
            assert!(
                tally.used_exclusions.contains(*phrase),
                "excluded phrase {phrase:?} ({reason}) is not a failing corpus case"
            );
        }
    }
    println!(
        "chrono-node-de: {total} cases in {} files: {} parsed as expected, {} past days rejected, \
         {} excluded (listed); {no_reference} without a reference date and {no_value} without a day or \
         clock value skipped",
        files.len(),
        tally.matched,
        tally.past_rejected,
        tally.excluded
    );
    assert!(
        tally.failures.is_empty(),
        "chrono mismatches:\n{}",
        tally.failures.join("\n")
    );
}

// ------------------------------------------------- wishes: windows of time ---

/// One `examples (…) [ … ]` block of a Duckling corpus: the header and the
/// phrases.
fn duckling_blocks(src: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut rest = src;
    while let Some(pos) = rest.find("examples (") {
        let block = &rest[pos + "examples (".len()..];
        let list_start = block.find('[').unwrap();
        let list_end = block.find(']').unwrap();
        let header = block[..list_start]
            .trim()
            .trim_end_matches(')')
            .trim()
            .to_owned();
        let list = &block[list_start + 1..list_end];
        let mut phrases = Vec::new();
        let mut i = 0;
        while let Some(q) = list[i..].find('"') {
            let (value, len) = common::string_literal(&list[i + q..]);
            phrases.push(value.unwrap());
            i += q + len;
        }
        rest = &block[list_end..];
        blocks.push((header, phrases));
    }
    blocks
}

/// `(y, m, d, h, mi, s)` tuples in `text`, in order.
fn tuples(text: &str) -> Vec<[i64; 6]> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match c {
            '(' => start = Some(i + 1),
            ')' => {
                if let Some(s) = start.take() {
                    let nums: Vec<i64> = text[s..i]
                        .split(',')
                        .filter_map(|n| n.trim().parse().ok())
                        .collect();
                    if let [y, m, d, h, mi, sec] = nums.as_slice() {
                        out.push([*y, *m, *d, *h, *mi, *sec]);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn date_of(t: [i64; 6]) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(t[0] as i32, t[1] as u32, t[2] as u32)
}

fn hm(h: i64, m: i64) -> String {
    format!("{h:02}:{m:02}")
}

/// Our wish as one comparable line: `<days> <time>`, days `2013-02-12`,
/// `2013-02-18..2013-02-24` or `soon` (the default window, no day named),
/// time `09:00-12:00`, `at 07:00/19:00` or `any`.
fn describe(wish: &Wish, today: NaiveDate) -> String {
    let days = if wish.days == DateWindow::soon(today) {
        "soon".to_owned()
    } else if let Some(day) = wish.days.single_day() {
        day.to_string()
    } else {
        format!("{}..{}", wish.days.from, wish.days.to)
    };
    let clock = |t: NaiveTime| {
        if t == END_OF_DAY {
            "24:00".to_owned()
        } else {
            t.format("%H:%M").to_string()
        }
    };
    let time = match wish.time {
        TimeWish::Any => "any".to_owned(),
        TimeWish::At(c) => match c.alternative {
            Some(a) => format!("at {}/{}", clock(c.literal), clock(a)),
            None => format!("at {}", clock(c.literal)),
        },
        TimeWish::Window(w) => format!("{}-{}", clock(w.start), clock(w.end)),
    };
    format!("{days} {time}")
}

/// What Duckling expects, in [`describe`]'s form, for the block kinds the
/// wish parser covers: time-of-day intervals and open intervals (`Hour` /
/// `Minute` grain) and weeks. `None` for every other block.
fn duckling_window(header: &str, phrase: &str) -> Option<(NaiveDate, String)> {
    let t = tuples(header);
    let grain = header.split_whitespace().last()?;
    if !matches!(grain, "Hour" | "Minute" | "Week") {
        return None;
    }
    if let Some(rest) = header.strip_prefix("datetimeOpenInterval ") {
        if grain == "Week" {
            return None;
        }
        let [p] = t.as_slice() else { return None };
        let day = date_of(*p)?;
        return Some(if rest.starts_with("After") {
            (day, format!("{day} {}-24:00", hm(p[3], p[4])))
        } else if (p[3], p[4]) == (0, 0) {
            let day = day.pred_opt()?;
            (day, format!("{day} 00:00-24:00"))
        } else {
            (day, format!("{day} 00:00-{}", hm(p[3], p[4])))
        });
    }
    if header.starts_with("datetimeInterval ") {
        if grain == "Week" {
            return None;
        }
        let [a, b] = t.as_slice() else { return None };
        let (da, db) = (date_of(*a)?, date_of(*b)?);
        let (mut eh, mut em) = (b[3], b[4]);
        let end_of_day = db == da.succ_opt()? && (eh, em) == (0, 0);
        if db != da && !end_of_day {
            return Some((da, format!("{da} {}..{db} {}", hm(a[3], a[4]), hm(eh, em))));
        }
        if end_of_day {
            (eh, em) = (24, 0);
        }
        // Duckling closes a spoken range after its last hour or minute
        // ("von 9 bis 11" ends 12:00, "9:30 - 11:00" ends 11:01); a part of
        // the day ("am abend") ends where it ends.
        let lower = phrase.to_lowercase();
        let spoken_range = [" bis ", "-", "zwischen", " und ", " vor ", "/"]
            .iter()
            .any(|w| lower.contains(w));
        if spoken_range && !end_of_day {
            let minutes = eh * 60 + em - if grain == "Hour" { 60 } else { 1 };
            (eh, em) = (minutes / 60, minutes % 60);
        }
        return Some((da, format!("{da} {}-{}", hm(a[3], a[4]), hm(eh, em))));
    }
    if let Some(rest) = header.strip_prefix("datetime ") {
        if grain != "Week" || rest.starts_with("Interval") {
            return None;
        }
        let [p] = t.as_slice() else { return None };
        let monday = date_of(*p)?;
        let sunday = monday.checked_add_days(chrono::Days::new(6))?;
        return Some((monday, format!("{monday}..{sunday} any")));
    }
    None
}

/// Duckling phrases of the covered kinds the wish parser does not read.
const DUCKLING_WISH_UNSUPPORTED: &[(&str, &[&str])] = &[
    (
        "the nth week of a month: not a way callers name a window of days; not supported",
        &[
            "erste woche im oktober 2014",
            "letzte woche im september 2014",
        ],
    ),
    (
        "minutes or hours relative to now: a booking wish names a time of day, not an offset",
        &[
            "letzte 2 minuten",
            "letzten zwei minuten",
            "nächste 3 minuten",
            "nächsten drei minuten",
            "nächste 3 stunden",
            "nächsten drei stunden",
        ],
    ),
    (
        "relative to a meal or the day's end: no clock bound is named; not supported",
        &["bis zum ende des tages", "nach dem mittagessen"],
    ),
    (
        "a slash between two times: not a spoken form",
        &["18:30h/19:00h"],
    ),
];

/// Duckling phrases the wish parser reads differently on purpose:
/// `(reason, [(phrase, our reading)])`.
const DUCKLING_WISH_DIFFERENT: &[(&str, &[(&str, &str)])] = &[
    (
        "abends is 18:00-22:00 (the finder's TimePreference::Abends), not to midnight: nobody books a 23:00 appointment by saying \"abends\"",
        &[
            ("heute abend", "2013-02-12 18:00-22:00"),
            ("am abend", "soon 18:00-22:00"),
            ("morgen abend", "2013-02-13 18:00-22:00"),
        ],
    ),
    (
        "mittags is 11:00-14:00 (the finder's TimePreference::Mittag), Duckling's is 12:00-14:00",
        &[
            ("morgen mittag", "2013-02-13 11:00-14:00"),
            ("morgen zu mittag", "2013-02-13 11:00-14:00"),
        ],
    ),
    (
        "morgens is the bookable early morning 07:00-10:00 (vormittags 09:00-12:00 is its own window); Duckling's morning is 03:00-12:00",
        &[
            ("montag morgens", "2013-02-18 07:00-10:00"),
            ("morgens am 15. februar", "2013-02-15 07:00-10:00"),
            ("15. februar morgens", "2013-02-15 07:00-10:00"),
            ("am morgen des 15. februar", "2013-02-15 07:00-10:00"),
        ],
    ),
    (
        "nachmittags ends 18:00 (the finder's TimePreference::Nachmittag), Duckling's at 19:00; a phrase naming no day is the next days (so bald wie möglich), which include today",
        &[("am nachmittag", "soon 12:00-18:00")],
    ),
    (
        "a weekend is Saturday and Sunday, any time; Duckling's starts Friday 18:00",
        &[("dieses wochenende", "2013-02-16..2013-02-17 any")],
    ),
    (
        "diese Woche starts today: days before today cannot be booked",
        &[("diese woche", "2013-02-12..2013-02-17 any")],
    ),
    (
        "kommende Woche is the next week, as nächste Woche and as chrono reads it (kommende Woche from a Friday is a day of the next week); Duckling reads this week",
        &[("kommende woche", "2013-02-18..2013-02-24 any")],
    ),
];

#[test]
fn duckling_time_windows_and_weeks() {
    let Some(dir) = common::testdata("duckling_time_windows_and_weeks", "duckling-de") else {
        return;
    };
    let src = common::read(&dir.join("Time_DE_Corpus.hs"));
    // Duckling's reference time: Tuesday 2013-02-12 04:30.
    let ctx = context(2013, 2, 12, 4, 30);
    let today = ctx.today();
    let (mut matched, mut different, mut unsupported, mut past, mut out_of_scope) = (0, 0, 0, 0, 0);
    let mut used = BTreeSet::new();
    let mut failures = Vec::new();
    for (header, phrases) in duckling_blocks(&src) {
        for phrase in phrases {
            let Some((day, expected)) = duckling_window(&header, &phrase) else {
                out_of_scope += 1;
                continue;
            };
            let parsed = parse_wish(Some(&phrase), None, &ctx);
            let ours = parsed.as_ref().map(|w| describe(w, today));
            let listed_unsupported = DUCKLING_WISH_UNSUPPORTED
                .iter()
                .any(|(_, list)| list.contains(&phrase.as_str()));
            let listed_different = DUCKLING_WISH_DIFFERENT
                .iter()
                .flat_map(|(_, list)| list.iter())
                .find(|(p, _)| *p == phrase);
            let in_past = expected
                .split(['.', ' '])
                .filter_map(|s| s.parse::<NaiveDate>().ok())
                .all(|d| d < today);
            // A phrase naming no day is read as "soon"; today is in it.
            let same = match &ours {
                Ok(o) => {
                    *o == expected
                        || (day == today
                            && o.strip_prefix("soon ") == expected.strip_prefix(&format!("{day} ")))
                }
                Err(_) => false,
            };
            if in_past && !listed_unsupported && listed_different.is_none() {
                if parsed.is_err() {
                    past += 1;
                } else {
                    failures.push(format!(
                        "{phrase:?} lies in the past but parsed as {ours:?}"
                    ));
                }
                continue;
            }
            match (same, listed_unsupported, listed_different) {
                (true, false, None) => matched += 1,
                (false, true, None) if parsed.is_err() => {
                    unsupported += 1;
                    used.insert(phrase.clone());
                }
                (false, false, Some((_, listed))) if ours.as_deref() == Ok(*listed) => {
                    different += 1;
                    used.insert(phrase.clone());
                }
                _ => failures.push(format!(
                    "{phrase:?}: Duckling {expected:?}, ours {ours:?} (listed unsupported: {listed_unsupported}, listed different: {listed_different:?})"
                )),
            }
        }
    }
    for (reason, list) in DUCKLING_WISH_UNSUPPORTED {
        for phrase in *list {
            assert!(
                used.contains(*phrase),
                "{phrase:?} ({reason}) is not a failing corpus case"
            );
        }
    }
    for (reason, list) in DUCKLING_WISH_DIFFERENT {
        for (phrase, _) in *list {
            assert!(
                used.contains(*phrase),
                "{phrase:?} ({reason}) is not a differing corpus case"
            );
        }
    }
    println!(
        "duckling Time_DE_Corpus windows: {matched} read as Duckling does, {different} deliberately different (listed), \
         {unsupported} unsupported (listed), {past} in the past rejected; {out_of_scope} phrases of other kinds"
    );
    assert!(matched >= 10, "only {matched} phrases matched");
    assert!(
        failures.is_empty(),
        "duckling window mismatches:\n{}",
        failures.join("\n")
    );
}

/// chrono phrases the wish parser reads differently from chrono, or not at
/// all, among those `parse_date` / `parse_time` alone do not read as chrono
/// does: `(reason, [phrase])`.
const CHRONO_WISH_EXCLUDED: &[(&str, &[&str])] = &[
    (
        "not a day or time of day a caller books (now, a whole sentence, a year, seconds or minutes relative to now)",
        &["jetzt", "Die Deadline ist morgen", "kommendes Jahr", "folgenden 90 sekunden", "letzten acht Minuten"],
    ),
    (
        "yesterday and before: past days are refused (the corpus gives these only a clock time)",
        &["letzte Nacht", "gestern Nacht", "gestern Nachmittag", "vorgestern Vormittag"],
    ),
    ("the night is not a bookable part of the day", &["heute Nacht"]),
    (
        "ranges of days: not supported (a wish is one named window of days)",
        &[
            "heute - nächsten Freitag",
            "10. - 22. August 2012",
            "10. bis 22. Oktober 2012",
            "10. Oktober - 12. Dezember",
            "10. August - 12. Oktober 2013",
        ],
    ),
    (
        "morgens is 07:00-10:00; chrono's representative 06:00 lies before it",
        &["heute Morgen", "morgen Morgen"],
    ),
    (
        "an hour without a modifier is read against typical business hours (07:00-19:00): 6:30 is 18:30 there",
        &["von 6:30 bis 23:00", "von 6h30 bis 23h00"],
    ),
    (
        "documented weekday reading: the next such day strictly after today (chrono picks the nearest, here today)",
        &["am Donnerstag"],
    ),
    (
        "the weekday contradicts the date: refused rather than guessed",
        &["am Dienstag, den 10. Januar", "Di, 10. Januar"],
    ),
];

/// chrono gives one representative time for a part of the day ("heute
/// Nachmittag" is 15:00) and the start of a range: the test checks that our
/// wish contains chrono's day and time.
#[test]
fn chrono_node_de_wishes() {
    let Some(dir) = common::testdata("chrono_node_de_wishes", "chrono-node-de") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .collect();
    files.sort();
    let (mut consistent, mut excluded, mut plain, mut skipped, mut past) = (0, 0, 0, 0, 0);
    let mut used = BTreeSet::new();
    let mut failures = Vec::new();
    let mut checked = BTreeSet::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for case in chrono_cases(&name, &common::read(path)) {
            let (Some((y, m, d, h, min)), Some(expect)) = (case.reference, &case.expect) else {
                skipped += 1;
                continue;
            };
            let ctx = context(y, m, d, h, min);
            let phrase = case.phrase.as_str();
            // What parse_date / parse_time already read as chrono does is
            // checked by chrono_node_de_tests.
            let old = match expect {
                Expect::Day(day) => parse_date(phrase, &ctx).ok() == Some(*day),
                Expect::Clock(t) => parse_time(phrase).ok() == Some(*t),
            };
            if old {
                plain += 1;
                continue;
            }
            if matches!(expect, Expect::Day(day) if *day < ctx.today()) {
                // Past days: chrono_node_de_tests checks they are refused.
                past += 1;
                continue;
            }
            let wish = parse_wish(Some(phrase), None, &ctx);
            let ok = match (&wish, expect) {
                (Ok(w), Expect::Day(day)) => w.days.contains(*day),
                (Ok(w), Expect::Clock(t)) => match w.time {
                    TimeWish::Window(win) => win.contains(*t),
                    TimeWish::At(c) => c.readings().any(|r| r == *t),
                    TimeWish::Any => false,
                },
                (Err(_), _) => false,
            };
            let listed = CHRONO_WISH_EXCLUDED
                .iter()
                .any(|(_, list)| list.contains(&phrase));
            match (ok, listed) {
                (true, false) => {
                    consistent += 1;
                    checked.insert(phrase.to_owned());
                }
                (false, true) => {
                    excluded += 1;
                    used.insert(phrase.to_owned());
                }
                (true, true) => {
                    failures.push(format!("{name}: {phrase:?} is listed but agrees now"))
                }
                (false, false) => failures.push(format!(
                    "{name}: {phrase:?}: chrono {expect:?}, ours {:?}",
                    wish.as_ref().map(|w| describe(w, ctx.today()))
                )),
            }
        }
    }
    for (reason, list) in CHRONO_WISH_EXCLUDED {
        for phrase in *list {
            assert!(
                used.contains(*phrase),
                "{phrase:?} ({reason}) is not a disagreeing case"
            );
        }
    }
    println!("chrono-node-de phrases read as wishes: {checked:?}");
    println!(
        "chrono-node-de wishes: {consistent} phrases contain chrono's day and time, {excluded} listed; \
         {plain} already read by parse_date/parse_time, {past} past days, {skipped} without a reference or value"
    );
    assert!(
        failures.is_empty(),
        "chrono wish mismatches:\n{}",
        failures.join("\n")
    );
    for must in [
        "heute Nachmittag",
        "heute Abend",
        "uebermorgen Abend",
        "kommende Woche",
        "von 6h30 morgens bis 11 am Abend",
    ] {
        assert!(checked.contains(must), "{must:?} is not read as a wish");
    }
}

/// `parse_clock` keeps both readings: wherever `parse_time` reads a Duckling
/// clock phrase as Duckling does, one of `parse_clock`'s readings is that
/// time, and the phrases excluded for `parse_time`'s business reading
/// (`3:30`, Duckling 03:30) are `parse_clock`'s literal reading.
#[test]
fn duckling_clock_readings() {
    let Some(dir) = common::testdata("duckling_clock_readings", "duckling-de") else {
        return;
    };
    let (cases, _) = duckling_cases(&common::read(&dir.join("Time_DE_Corpus.hs")));
    let (mut both, mut literal) = (0, 0);
    let mut failures = Vec::new();
    for (expect, phrase) in &cases {
        let Expect::Clock(time) = expect else {
            continue;
        };
        if parse_time(phrase).ok() == Some(*time) {
            match parse_clock(phrase) {
                Ok(c) if c.readings().any(|r| r == *time) => both += 1,
                other => failures.push(format!(
                    "{phrase:?}: Duckling {time}, parse_clock {other:?}"
                )),
            }
        }
    }
    for phrase in ["3:18", "3:30"] {
        let (expect, _) = cases.iter().find(|(_, p)| p == phrase).unwrap();
        let Expect::Clock(time) = expect else {
            panic!("{phrase:?} is not a clock case")
        };
        match parse_clock(phrase) {
            Ok(c) if c.literal == *time => literal += 1,
            other => failures.push(format!(
                "{phrase:?}: Duckling {time}, parse_clock {other:?}"
            )),
        }
    }
    println!(
        "duckling clock phrases: {both} have Duckling's time among parse_clock's readings, \
         {literal} business-reading exclusions are parse_clock's literal reading"
    );
    assert!(both >= 20, "only {both} clock phrases");
    assert!(
        failures.is_empty(),
        "parse_clock mismatches:\n{}",
        failures.join("\n")
    );
}
