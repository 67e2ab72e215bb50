//! Spoken German and English for days and times.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};

use voxcal_core::Lang;

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

const DE_WEEKDAYS: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const EN_WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Hours on a 12-hour dial as said in "halb drei", index 0 = zwölf.
const DE_DIAL: [&str; 12] = [
    "zwölf", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn",
    "elf",
];

fn weekday_name(day: Weekday, lang: SpokenLang) -> &'static str {
    let i = day.num_days_from_monday() as usize;
    match lang {
        SpokenLang::De => DE_WEEKDAYS[i],
        SpokenLang::En => EN_WEEKDAYS[i],
    }
}

/// `date` said relative to `today`: heute, morgen, übermorgen, am Dienstag
/// (within the next six days), nächste Woche Dienstag (in next calendar
/// week), otherwise am 14.10. (with the year when more than 300 days away).
pub(crate) fn day_phrase(date: NaiveDate, today: NaiveDate, lang: SpokenLang) -> String {
    let mut out = String::with_capacity(24);
    push_day_phrase(&mut out, date, today, lang);
    out
}

/// Appends [`day_phrase`] to `out`.
pub(crate) fn push_day_phrase(
    out: &mut String,
    date: NaiveDate,
    today: NaiveDate,
    lang: SpokenLang,
) {
    let diff = (date - today).num_days();
    let weekday = || weekday_name(date.weekday(), lang);
    let next_week = || {
        today
            .checked_add_signed(chrono::Duration::days(7))
            .map(|d| d.iso_week())
    };
    // Writing into a String cannot fail.
    let _ = match (lang, diff) {
        (SpokenLang::De, 0) => out.write_str("heute"),
        (SpokenLang::De, 1) => out.write_str("morgen"),
        (SpokenLang::De, 2) => out.write_str("übermorgen"),
        (SpokenLang::En, 0) => out.write_str("today"),
        (SpokenLang::En, 1) => out.write_str("tomorrow"),
        (SpokenLang::En, 2) => out.write_str("the day after tomorrow"),
        (SpokenLang::De, 3..=6) => write!(out, "am {}", weekday()),
        (SpokenLang::En, 3..=6) => write!(out, "on {}", weekday()),
        (_, 7..=13) if Some(date.iso_week()) == next_week() => match lang {
            SpokenLang::De => write!(out, "nächste Woche {}", weekday()),
            SpokenLang::En => write!(out, "next week on {}", weekday()),
        },
        (SpokenLang::De, d) if d.abs() > 300 => {
            write!(out, "am {}.{}.{}", date.day(), date.month(), date.year())
        }
        (SpokenLang::De, _) => write!(out, "am {}.{}.", date.day(), date.month()),
        (SpokenLang::En, d) => {
            let month = EN_MONTHS[date.month0() as usize];
            if d.abs() > 300 {
                write!(out, "on {month} {}, {}", date.day(), date.year())
            } else {
                write!(out, "on {month} {}", date.day())
            }
        }
    };
}

/// A time as said: "14 Uhr", "halb drei", "viertel nach zwei",
/// "Viertel vor fünf", otherwise "14:10 Uhr"; in English "2 pm", "2:30 pm".
pub(crate) fn time_phrase(time: NaiveTime, lang: SpokenLang) -> String {
    let mut out = String::with_capacity(20);
    push_time_phrase(&mut out, time, lang);
    out
}

/// Appends [`time_phrase`] to `out`.
pub(crate) fn push_time_phrase(out: &mut String, time: NaiveTime, lang: SpokenLang) {
    let (h, m) = (time.hour(), time.minute());
    // Writing into a String cannot fail.
    let _ = match lang {
        SpokenLang::De => {
            let dial = |hour: u32| DE_DIAL[(hour % 12) as usize];
            match m {
                0 => write!(out, "{h} Uhr"),
                15 => write!(out, "viertel nach {}", dial(h)),
                30 => write!(out, "halb {}", dial(h + 1)),
                45 => write!(out, "Viertel vor {}", dial(h + 1)),
                _ => write!(out, "{h}:{m:02} Uhr"),
            }
        }
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

/// The first letter upper-cased ("übermorgen" -> "Übermorgen").
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn german_relative_days() {
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
                "nächste Woche Montag",
                "next week on Monday",
            ),
            (
                d(2026, 10, 20),
                "nächste Woche Dienstag",
                "next week on Tuesday",
            ),
            (
                d(2026, 10, 25),
                "nächste Woche Sonntag",
                "next week on Sunday",
            ),
            (d(2026, 10, 26), "am 26.10.", "on October 26"),
            (d(2026, 12, 24), "am 24.12.", "on December 24"),
            (d(2026, 10, 1), "am 1.10.", "on October 1"),
            (d(2027, 11, 2), "am 2.11.2027", "on November 2, 2027"),
        ];
        for (date, de, en) in table {
            assert_eq!(day_phrase(date, today, SpokenLang::De), de, "{date}");
            assert_eq!(day_phrase(date, today, SpokenLang::En), en, "{date}");
        }
    }

    #[test]
    fn weekday_rule_depends_on_the_calendar_week() {
        // Today: Friday 2026-10-16. Tuesday is 4 days away: "am Dienstag".
        let today = d(2026, 10, 16);
        assert_eq!(
            day_phrase(d(2026, 10, 20), today, SpokenLang::De),
            "am Dienstag"
        );
        assert_eq!(
            day_phrase(d(2026, 10, 22), today, SpokenLang::De),
            "am Donnerstag"
        );
        // 7 days: Friday next week.
        assert_eq!(
            day_phrase(d(2026, 10, 23), today, SpokenLang::De),
            "nächste Woche Freitag"
        );
        assert_eq!(
            day_phrase(d(2026, 10, 25), today, SpokenLang::De),
            "nächste Woche Sonntag"
        );
        // 10 days: Monday of the week after next.
        assert_eq!(
            day_phrase(d(2026, 10, 26), today, SpokenLang::De),
            "am 26.10."
        );
    }

    #[test]
    fn german_spoken_times() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let table = [
            (t(14, 0), "14 Uhr", "2 pm"),
            (t(9, 0), "9 Uhr", "9 am"),
            (t(14, 30), "halb drei", "2:30 pm"),
            (t(12, 30), "halb eins", "12:30 pm"),
            (t(11, 30), "halb zwölf", "11:30 am"),
            (t(14, 15), "viertel nach zwei", "2:15 pm"),
            (t(13, 15), "viertel nach eins", "1:15 pm"),
            (t(12, 15), "viertel nach zwölf", "12:15 pm"),
            (t(16, 45), "Viertel vor fünf", "4:45 pm"),
            (t(11, 45), "Viertel vor zwölf", "11:45 am"),
            (t(12, 45), "Viertel vor eins", "12:45 pm"),
            (t(14, 10), "14:10 Uhr", "2:10 pm"),
            (t(9, 5), "9:05 Uhr", "9:05 am"),
            (t(0, 0), "0 Uhr", "12 am"),
            (t(12, 0), "12 Uhr", "12 pm"),
        ];
        for (time, de, en) in table {
            assert_eq!(time_phrase(time, SpokenLang::De), de, "{time}");
            assert_eq!(time_phrase(time, SpokenLang::En), en, "{time}");
        }
    }

    #[test]
    fn capitals() {
        assert_eq!(capitalize("übermorgen um 9 Uhr"), "Übermorgen um 9 Uhr");
        assert_eq!(capitalize("am Montag"), "Am Montag");
        assert_eq!(capitalize(""), "");
    }
}
