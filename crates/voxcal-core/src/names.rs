//! The names of weekdays and months, written as a caller hears them: one
//! table for the family, so the sentences the finder speaks, the words the
//! log sanitizer knows not to be names or streets, and the words the
//! validator reads are the same words.

use chrono::{Month, Weekday};

use crate::Lang;

/// German weekdays, Monday first: "Montag" … "Sonntag".
pub const WEEKDAYS_DE: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];

/// English weekdays, Monday first.
pub const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// German months, January first: "Januar" … "Dezember".
pub const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// English months, January first.
pub const MONTHS_EN: [&str; 12] = [
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

/// The name of `day` in `lang` (German for a language without its own
/// table).
///
/// ```
/// use chrono::Weekday;
/// use voxcal_core::{names, Lang};
///
/// assert_eq!(names::weekday(Weekday::Sat, Lang::De), "Samstag");
/// assert_eq!(names::weekday(Weekday::Sat, Lang::En), "Saturday");
/// ```
pub fn weekday(day: Weekday, lang: Lang) -> &'static str {
    let i = day.num_days_from_monday() as usize;
    match lang {
        Lang::En => WEEKDAYS_EN[i],
        _ => WEEKDAYS_DE[i],
    }
}

/// The name of `month` in `lang` (German for a language without its own
/// table).
///
/// ```
/// use chrono::Month;
/// use voxcal_core::{names, Lang};
///
/// assert_eq!(names::month(Month::March, Lang::De), "März");
/// assert_eq!(names::month(Month::March, Lang::En), "March");
/// ```
pub fn month(month: Month, lang: Lang) -> &'static str {
    let i = month.number_from_month() as usize - 1;
    match lang {
        Lang::En => MONTHS_EN[i],
        _ => MONTHS_DE[i],
    }
}

/// Whether `word` is a German weekday or month name as written
/// ("Montag", "März"; exact case, so "mai" in a lower-case e-mail local
/// part is not one).
///
/// ```
/// use voxcal_core::names;
///
/// assert!(names::is_german_calendar_word("Dienstag"));
/// assert!(names::is_german_calendar_word("März"));
/// assert!(!names::is_german_calendar_word("Müller"));
/// assert!(!names::is_german_calendar_word("mai"));
/// ```
pub fn is_german_calendar_word(word: &str) -> bool {
    WEEKDAYS_DE.contains(&word) || MONTHS_DE.contains(&word)
}

/// [`is_german_calendar_word`] for bytes (the log sanitizer scans bytes).
pub fn is_german_calendar_word_bytes(word: &[u8]) -> bool {
    WEEKDAYS_DE
        .iter()
        .chain(MONTHS_DE.iter())
        .any(|name| name.as_bytes() == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_chrono_order() {
        let mut day = Weekday::Mon;
        for i in 0..7 {
            assert_eq!(weekday(day, Lang::De), WEEKDAYS_DE[i]);
            assert_eq!(weekday(day, Lang::En), WEEKDAYS_EN[i]);
            assert_eq!(
                format!("{day:?}"),
                &WEEKDAYS_EN[i][..3],
                "chrono's weekday {i} is {day:?}"
            );
            day = day.succ();
        }
        let mut m = Month::January;
        for i in 0..12 {
            assert_eq!(month(m, Lang::De), MONTHS_DE[i]);
            assert_eq!(m.name(), MONTHS_EN[i]);
            m = m.succ();
        }
    }

    #[test]
    fn bytes_and_str_agree() {
        for word in [
            "Montag", "März", "Mai", "Sonntag", "Dezember", "Mo", "", "Maier",
        ] {
            assert_eq!(
                is_german_calendar_word(word),
                is_german_calendar_word_bytes(word.as_bytes()),
                "{word}"
            );
        }
        assert!(is_german_calendar_word_bytes("März".as_bytes()));
        assert!(!is_german_calendar_word_bytes(b"Maerz"));
    }
}
