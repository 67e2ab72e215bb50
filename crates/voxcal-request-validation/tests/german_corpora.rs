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
use voxcal_request_validation::{parse_date, parse_time, ValidationContext, ValidationError};

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
        "date and time in one phrase: the request carries them in separate fields (datum / uhrzeit)",
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
        "date and time (or part of day) in one phrase: the request carries them in separate fields (datum / uhrzeit)",
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
