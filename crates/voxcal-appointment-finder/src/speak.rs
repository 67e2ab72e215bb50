//! Speakable German (and English) for days, times and lists of slots: the
//! one place where the finder and the services built on it phrase a date.
//!
//! - Days relative to today: "heute", "morgen", "übermorgen"; the weekday
//!   alone within the coming six days ("am Montag"); beyond that weekday and
//!   written-out date ("am Montag, dem 25. Januar", with the year when it is
//!   not this year's and more than 300 days away). Never a numeric "25.1.":
//!   a voice agent reads digits with dots badly, and a caller cannot tell
//!   "am 1.2." from "am 12.".
//! - Times as a clock shows them: "um 9 Uhr", "um 14:30 Uhr". Not "halb
//!   drei": it is ambiguous between 02:30 and 14:30, regional ("halb" means
//!   other things in parts of the south), and the agent passes back what it
//!   heard as `uhrzeit`, where "14:30" round-trips and "halb drei" needs the
//!   very guess this avoids.
//!
//! ```
//! use voxcal_appointment_finder::speak;
//! use chrono::{NaiveDate, NaiveTime};
//! let today = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(); // a Monday
//! let date = |d| NaiveDate::from_ymd_opt(2027, 1, d).unwrap();
//! let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
//! assert_eq!(speak::day(date(5), today), "morgen");
//! assert_eq!(speak::day(date(8), today), "am Freitag");
//! assert_eq!(speak::day(date(25), today), "am Montag, dem 25. Januar");
//! assert_eq!(speak::time(t(14, 30)), "14:30 Uhr");
//! assert_eq!(
//!     speak::list(&[(date(8), t(17, 0)), (date(8), t(17, 30)), (date(11), t(9, 0))], today),
//!     "am Freitag um 17 Uhr, um 17:30 Uhr oder am Montag, dem 11. Januar, um 9 Uhr"
//! );
//! ```

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};

use voxcal_core::{names, Lang};

/// The languages the sentences are written in: English, and German for
/// every other [`Lang`] (German is the family's fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpokenLang {
    De,
    En,
}

impl From<Lang> for SpokenLang {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::En => SpokenLang::En,
            _ => SpokenLang::De,
        }
    }
}

/// The German name of a weekday: "Montag".
///
/// ```
/// use voxcal_appointment_finder::speak;
/// assert_eq!(speak::weekday(chrono::Weekday::Sat), "Samstag");
/// ```
pub fn weekday(day: Weekday) -> &'static str {
    weekday_in(day, SpokenLang::De)
}

pub(crate) fn weekday_in(day: Weekday, lang: SpokenLang) -> &'static str {
    let i = day.num_days_from_monday() as usize;
    match lang {
        SpokenLang::De => names::WEEKDAYS_DE[i],
        SpokenLang::En => names::WEEKDAYS_EN[i],
    }
}

/// A date written out without weekday: "25. Januar" (with the year,
/// "25. Januar 2028", when `with_year`).
///
/// ```
/// use voxcal_appointment_finder::speak;
/// let d = chrono::NaiveDate::from_ymd_opt(2027, 10, 3).unwrap();
/// assert_eq!(speak::date(d, false), "3. Oktober");
/// assert_eq!(speak::date(d, true), "3. Oktober 2027");
/// ```
pub fn date(date: NaiveDate, with_year: bool) -> String {
    let mut out = String::with_capacity(18);
    push_date(&mut out, date, with_year, SpokenLang::De);
    out
}

pub(crate) fn push_date(out: &mut String, date: NaiveDate, with_year: bool, lang: SpokenLang) {
    let m = date.month0() as usize;
    // Writing into a String cannot fail.
    let _ = match lang {
        SpokenLang::De => write!(out, "{}. {}", date.day(), names::MONTHS_DE[m]),
        SpokenLang::En => write!(out, "{} {}", names::MONTHS_EN[m], date.day()),
    };
    if with_year {
        let _ = match lang {
            SpokenLang::De => write!(out, " {}", date.year()),
            SpokenLang::En => write!(out, ", {}", date.year()),
        };
    }
}

/// Whether `date` is said with its year: another year than today's and
/// more than 300 days away.
fn needs_year(date: NaiveDate, today: NaiveDate) -> bool {
    date.year() != today.year() && (date - today).num_days().abs() > 300
}

/// The day form that [`day`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayForm {
    /// heute, morgen, übermorgen: no "am".
    Relative,
    /// am Freitag.
    Weekday,
    /// am Montag, dem 25. Januar: an apposition, closed by a comma before
    /// what follows.
    Full,
}

fn day_form(date: NaiveDate, today: NaiveDate) -> DayForm {
    match (date - today).num_days() {
        0..=2 => DayForm::Relative,
        3..=6 => DayForm::Weekday,
        _ => DayForm::Full,
    }
}

/// `date` said relative to `today`: "heute", "morgen", "übermorgen",
/// "am Freitag" (within the coming six days), otherwise "am Montag, dem
/// 25. Januar" (a past date too).
///
/// ```
/// use voxcal_appointment_finder::speak;
/// use chrono::NaiveDate;
/// let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(); // Thursday
/// assert_eq!(speak::day(today, today), "heute");
/// assert_eq!(speak::day(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(), today), "übermorgen");
/// assert_eq!(speak::day(NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(), today), "am Montag");
/// assert_eq!(
///     speak::day(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), today),
///     "am Freitag, dem 1. Januar"
/// );
/// ```
pub fn day(date: NaiveDate, today: NaiveDate) -> String {
    let mut out = String::with_capacity(32);
    push_day(&mut out, date, today, SpokenLang::De);
    out
}

pub(crate) fn day_in(date: NaiveDate, today: NaiveDate, lang: SpokenLang) -> String {
    let mut out = String::with_capacity(32);
    push_day(&mut out, date, today, lang);
    out
}

pub(crate) fn push_day(out: &mut String, date: NaiveDate, today: NaiveDate, lang: SpokenLang) {
    let diff = (date - today).num_days();
    let name = weekday_in(date.weekday(), lang);
    match (lang, day_form(date, today)) {
        (SpokenLang::De, DayForm::Relative) => {
            out.push_str(["heute", "morgen", "übermorgen"][diff.unsigned_abs() as usize % 3]);
        }
        (SpokenLang::En, DayForm::Relative) => out.push_str(
            ["today", "tomorrow", "the day after tomorrow"][diff.unsigned_abs() as usize % 3],
        ),
        (SpokenLang::De, DayForm::Weekday) => {
            out.push_str("am ");
            out.push_str(name);
        }
        (SpokenLang::En, DayForm::Weekday) => {
            out.push_str("on ");
            out.push_str(name);
        }
        (SpokenLang::De, DayForm::Full) => {
            out.push_str("am ");
            out.push_str(name);
            out.push_str(", dem ");
            push_date(out, date, needs_year(date, today), lang);
        }
        (SpokenLang::En, DayForm::Full) => {
            out.push_str("on ");
            out.push_str(name);
            out.push_str(", ");
            push_date(out, date, needs_year(date, today), lang);
        }
    }
}

/// A time as a clock shows it: "9 Uhr", "14:30 Uhr", "0:15 Uhr".
///
/// ```
/// use voxcal_appointment_finder::speak;
/// use chrono::NaiveTime;
/// assert_eq!(speak::time(NaiveTime::from_hms_opt(9, 0, 0).unwrap()), "9 Uhr");
/// assert_eq!(speak::time(NaiveTime::from_hms_opt(14, 30, 0).unwrap()), "14:30 Uhr");
/// ```
pub fn time(time: NaiveTime) -> String {
    time_in(time, SpokenLang::De)
}

pub(crate) fn time_in(time: NaiveTime, lang: SpokenLang) -> String {
    let mut out = String::with_capacity(10);
    push_time(&mut out, time, lang);
    out
}

pub(crate) fn push_time(out: &mut String, time: NaiveTime, lang: SpokenLang) {
    let (h, m) = (time.hour(), time.minute());
    // Writing into a String cannot fail.
    let _ = match lang {
        SpokenLang::De if m == 0 => write!(out, "{h} Uhr"),
        SpokenLang::De => write!(out, "{h}:{m:02} Uhr"),
        SpokenLang::En => {
            let suffix = if h < 12 { "am" } else { "pm" };
            let h12 = match h % 12 {
                0 => 12,
                other => other,
            };
            if m == 0 {
                write!(out, "{h12} {suffix}")
            } else {
                write!(out, "{h12}:{m:02} {suffix}")
            }
        }
    };
}

/// One slot: "heute um 9 Uhr", "am Freitag um 17:30 Uhr", "am Montag, dem
/// 25. Januar, um 10 Uhr".
///
/// ```
/// use voxcal_appointment_finder::speak;
/// use chrono::{NaiveDate, NaiveTime};
/// let today = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
/// let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
/// assert_eq!(speak::slot(today, nine, today), "heute um 9 Uhr");
/// assert_eq!(
///     speak::slot(NaiveDate::from_ymd_opt(2027, 1, 25).unwrap(), nine, today),
///     "am Montag, dem 25. Januar, um 9 Uhr"
/// );
/// ```
pub fn slot(date: NaiveDate, time: NaiveTime, today: NaiveDate) -> String {
    slot_in(date, time, today, SpokenLang::De)
}

pub(crate) fn slot_in(
    date: NaiveDate,
    time: NaiveTime,
    today: NaiveDate,
    lang: SpokenLang,
) -> String {
    let mut out = String::with_capacity(40);
    push_slot(&mut out, date, time, today, lang);
    out
}

fn push_slot(
    out: &mut String,
    date: NaiveDate,
    time: NaiveTime,
    today: NaiveDate,
    lang: SpokenLang,
) {
    push_day(out, date, today, lang);
    if day_form(date, today) == DayForm::Full {
        out.push(',');
    }
    out.push_str(match lang {
        SpokenLang::De => " um ",
        SpokenLang::En => " at ",
    });
    push_time(out, time, lang);
}

/// Slots joined as said: "heute um 17 Uhr, um 17:30 Uhr oder am Montag um
/// 9 Uhr" (a day is named once for consecutive slots on it); empty for no
/// slots.
///
/// ```
/// use voxcal_appointment_finder::speak;
/// use chrono::{NaiveDate, NaiveTime};
/// let today = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// assert_eq!(speak::list(&[(today, t(10, 0)), (today, t(10, 30))], today), "heute um 10 Uhr oder um 10:30 Uhr");
/// assert_eq!(speak::list(&[], today), "");
/// ```
pub fn list(slots: &[(NaiveDate, NaiveTime)], today: NaiveDate) -> String {
    let mut out = String::with_capacity(48 * slots.len());
    push_list(&mut out, slots, today, SpokenLang::De);
    out
}

pub(crate) fn push_list(
    out: &mut String,
    slots: &[(NaiveDate, NaiveTime)],
    today: NaiveDate,
    lang: SpokenLang,
) {
    let last = slots.len().saturating_sub(1);
    let (or, at) = match lang {
        SpokenLang::De => (" oder ", "um "),
        SpokenLang::En => (" or ", "at "),
    };
    for (i, &(date, time)) in slots.iter().enumerate() {
        if i > 0 {
            out.push_str(if i == last { or } else { ", " });
        }
        let same_day = i > 0 && slots[i - 1].0 == date;
        if same_day {
            out.push_str(at);
            push_time(out, time, lang);
        } else {
            push_slot(out, date, time, today, lang);
        }
    }
}

/// The first letter upper-cased ("übermorgen" -> "Übermorgen").
///
/// ```
/// assert_eq!(voxcal_appointment_finder::speak::capitalize("übermorgen"), "Übermorgen");
/// ```
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether `text` holds a numeric day-and-month like "1.1." or "25.01."
/// (what no spoken message may hold).
///
/// ```
/// use voxcal_appointment_finder::speak;
/// assert!(speak::has_numeric_date("Am 1.1. haben wir zu."));
/// assert!(!speak::has_numeric_date("Am 1. Januar um 9 Uhr, 14:30 Uhr, Nr. 12."));
/// ```
pub fn has_numeric_date(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if starts {
            let d1 = digits(i);
            let j = i + d1;
            if (1..=2).contains(&d1) && b.get(j) == Some(&b'.') {
                let d2 = digits(j + 1);
                if (1..=2).contains(&d2) && b.get(j + 1 + d2) == Some(&b'.') {
                    return true;
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn relative_days() {
        // Today: Monday 2026-10-12.
        let today = d(2026, 10, 12);
        let table = [
            (d(2026, 10, 12), "heute", "today"),
            (d(2026, 10, 13), "morgen", "tomorrow"),
            (d(2026, 10, 14), "übermorgen", "the day after tomorrow"),
            (d(2026, 10, 15), "am Donnerstag", "on Thursday"),
            (d(2026, 10, 18), "am Sonntag", "on Sunday"),
            (
                d(2026, 10, 19),
                "am Montag, dem 19. Oktober",
                "on Monday, October 19",
            ),
            (
                d(2026, 12, 24),
                "am Donnerstag, dem 24. Dezember",
                "on Thursday, December 24",
            ),
            (
                d(2026, 10, 1),
                "am Donnerstag, dem 1. Oktober",
                "on Thursday, October 1",
            ),
            (
                d(2027, 1, 25),
                "am Montag, dem 25. Januar",
                "on Monday, January 25",
            ),
            (
                d(2027, 11, 2),
                "am Dienstag, dem 2. November 2027",
                "on Tuesday, November 2, 2027",
            ),
        ];
        for (date, de, en) in table {
            assert_eq!(day_in(date, today, SpokenLang::De), de, "{date}");
            assert_eq!(day_in(date, today, SpokenLang::En), en, "{date}");
        }
    }

    #[test]
    fn times_as_the_clock_shows_them() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let table = [
            (t(14, 0), "14 Uhr", "2 pm"),
            (t(9, 0), "9 Uhr", "9 am"),
            (t(14, 30), "14:30 Uhr", "2:30 pm"),
            (t(10, 15), "10:15 Uhr", "10:15 am"),
            (t(9, 5), "9:05 Uhr", "9:05 am"),
            (t(0, 0), "0 Uhr", "12 am"),
            (t(12, 0), "12 Uhr", "12 pm"),
        ];
        for (time, de, en) in table {
            assert_eq!(time_in(time, SpokenLang::De), de, "{time}");
            assert_eq!(time_in(time, SpokenLang::En), en, "{time}");
        }
    }

    #[test]
    fn lists_name_a_day_once() {
        let today = d(2027, 1, 4);
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let slots = [
            (d(2027, 1, 5), t(9, 0)),
            (d(2027, 1, 5), t(9, 30)),
            (d(2027, 1, 18), t(9, 0)),
        ];
        assert_eq!(
            list(&slots, today),
            "morgen um 9 Uhr, um 9:30 Uhr oder am Montag, dem 18. Januar, um 9 Uhr"
        );
        let mut en = String::new();
        push_list(&mut en, &slots, today, SpokenLang::En);
        assert_eq!(
            en,
            "tomorrow at 9 am, at 9:30 am or on Monday, January 18, at 9 am"
        );
        assert_eq!(list(&slots[..1], today), "morgen um 9 Uhr");
    }

    #[test]
    fn no_day_phrase_of_two_years_holds_a_numeric_date() {
        let today = d(2026, 12, 3);
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        for offset in -400..400 {
            let date = today + chrono::Duration::days(offset);
            for lang in [SpokenLang::De, SpokenLang::En] {
                let s = slot_in(date, nine, today, lang);
                assert!(!has_numeric_date(&s), "{s}");
            }
        }
        // The scan itself finds what it is for.
        for hit in ["am 1.1.", "am 25.01., um", "(3.10.)", "am 04.01.2027"] {
            assert!(has_numeric_date(hit), "{hit}");
        }
        for miss in [
            "Nr. 1.",
            "um 14:30 Uhr",
            "v1.2.3",
            "3. Oktober",
            "1.5 Stunden",
        ] {
            assert!(!has_numeric_date(miss), "{miss}");
        }
    }

    #[test]
    fn capitals() {
        assert_eq!(capitalize("übermorgen um 9 Uhr"), "Übermorgen um 9 Uhr");
        assert_eq!(capitalize("am Montag"), "Am Montag");
        assert_eq!(capitalize(""), "");
    }
}
