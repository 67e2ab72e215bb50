//! German spoken dates relative to "now" in the tenant's time zone.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

use crate::context::ValidationContext;
use crate::error::ValidationError;
use crate::words;

/// Parses a spoken or written German date relative to `ctx` and refuses dates
/// before today (in the tenant's zone).
///
/// Understood forms: `heute`, `morgen`, `übermorgen`, `in 3 Tagen`, `in einer
/// Woche`, weekdays (`Dienstag`, `am Di.`, `nächsten Dienstag`, `übernächsten
/// Freitag`, `nächste Woche Mittwoch`, `Mittwoch nächste Woche`), `15.2.`,
/// `15.02.`, `15.02.2026`, `15.2.26`, `15. Februar`, `15te Februar 2027`,
/// `Februar 15`, `am 3.`, `am dritten`, ISO `2026-02-15`, and the agent
/// variable `{{current_date}}` (today). Other `{{…}}` placeholders are
/// [`ValidationError::UnfilledPlaceholder`].
///
/// # Which day is meant
/// - A bare weekday, and `nächsten <Wochentag>`, is the next such day strictly
///   after today: said on a Tuesday, `nächsten Mittwoch` is tomorrow and
///   `Dienstag` / `nächsten Dienstag` is in seven days (Duckling's reading).
///   `übernächsten <Wochentag>` is seven days after that.
/// - `nächste Woche <Wochentag>` is that day in the next Monday-based
///   calendar week; `übernächste Woche …` one week later.
/// - A day and month without a year is the next such date from today on; a
///   bare day of month (`am 3.`) is in this month, or the next if it has passed.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use voxcal_request_validation::{parse_date, ValidationContext};
///
/// // Tuesday, 2026-11-24, 10:00 in Berlin.
/// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
/// assert_eq!(parse_date("übermorgen", &ctx).unwrap(), NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
/// assert_eq!(parse_date("nächsten Mittwoch", &ctx).unwrap(), NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
/// assert_eq!(parse_date("nächste Woche Mittwoch", &ctx).unwrap(), NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
/// assert!(parse_date("1.1.2020", &ctx).is_err());
/// ```
pub fn parse_date(input: &str, ctx: &ValidationContext) -> Result<NaiveDate, ValidationError> {
    let today = ctx.today();
    let date = resolve(input, today)?;
    if date < today {
        return Err(ValidationError::PastDate);
    }
    Ok(date)
}

/// Resolves without the past check (used by the corpus tests with the
/// reference day of the corpus).
pub(crate) fn resolve(input: &str, today: NaiveDate) -> Result<NaiveDate, ValidationError> {
    let lower = input.trim().to_lowercase();
    if let Some(start) = lower.find("{{") {
        let inner = lower[start + 2..].trim_end_matches('}').trim();
        if lower[..start].trim().is_empty() && lower.ends_with("}}") && inner == "current_date" {
            return Ok(today);
        }
        return Err(ValidationError::UnfilledPlaceholder);
    }
    let lower = lower.trim_end_matches(['!', '?', ',']);
    if let Some(date) = iso(lower) {
        return Ok(date);
    }
    // "15.Sep" → "15. sep"
    let mut replaced = String::with_capacity(lower.len() + 4);
    let mut prev = ' ';
    for c in lower.chars() {
        if c == ',' {
            replaced.push(' ');
        } else {
            if prev == '.' && c.is_alphabetic() {
                replaced.push(' ');
            }
            replaced.push(c);
        }
        prev = c;
    }
    let tokens: Vec<&str> = replaced
        .split_whitespace()
        .filter(|t| !is_filler(t))
        .collect();
    parse_tokens(&tokens, today).ok_or(ValidationError::InvalidDate)
}

fn is_filler(token: &str) -> bool {
    matches!(
        token,
        "am" | "den"
            | "dem"
            | "der"
            | "des"
            | "für"
            | "fuer"
            | "zum"
            | "bis"
            | "an"
            | "diesen"
            | "diesem"
            | "dieser"
            | "kommenden"
            | "kommender"
            | "kommendem"
            | "kommende"
            | "in"
    )
}

fn iso(s: &str) -> Option<NaiveDate> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || !all_digits(y) || !all_digits(m) || !all_digits(d)
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Plain,
    Coming,
    OneAfter,
}

fn parse_tokens(tokens: &[&str], today: NaiveDate) -> Option<NaiveDate> {
    match tokens {
        [] => return None,
        ["heute"] => return Some(today),
        ["morgen"] => return today.checked_add_days(Days::new(1)),
        ["übermorgen" | "uebermorgen"] => return today.checked_add_days(Days::new(2)),
        [n, unit] if !matches!(*n, "nächste" | "nächsten" | "übernächste") => {
            if let Some(days) = relative_span(n, unit) {
                return today.checked_add_days(Days::new(days));
            }
        }
        _ => {}
    }

    // Weekday phrases.
    let mut weekday = None;
    let mut next = Which::Plain;
    let mut week = false;
    let mut rest = Vec::new();
    for token in tokens {
        if let Some(day) = weekday_of(token) {
            if weekday.replace(day).is_some() {
                return None;
            }
        } else if matches!(
            *token,
            "nächste" | "nächsten" | "nächster" | "naechste" | "naechsten" | "naechster"
        ) {
            next = Which::Coming;
        } else if matches!(
            *token,
            "übernächste" | "übernächsten" | "übernächster" | "uebernaechste" | "uebernaechsten"
        ) {
            next = Which::OneAfter;
        } else if *token == "woche" {
            week = true;
        } else {
            rest.push(*token);
        }
    }
    if let Some(day) = weekday {
        if rest.is_empty() {
            return weekday_date(today, day, next, week);
        }
        // "Mittwoch nach dem nächsten": the one after next.
        if rest == ["nach"] && next == Which::Coming && !week {
            return weekday_date(today, day, Which::OneAfter, false);
        }
        // "Mittwoch in zwei Wochen": that weekday, n calendar weeks ahead.
        if let [n, "woche" | "wochen"] = rest.as_slice() {
            if next == Which::Plain && !week {
                let weeks = u64::from(words::number(n)?);
                return in_week(today, day, weeks);
            }
        }
        // "Montag, 18. Februar": the date decides, the weekday must agree.
        if next != Which::Plain || week {
            return None;
        }
        let date = calendar(&rest, today)?;
        return (date.weekday() == day).then_some(date);
    }
    if next != Which::Plain || week {
        return None;
    }
    calendar(tokens, today)
}

fn relative_span(n: &str, unit: &str) -> Option<u64> {
    let n = u64::from(words::number(n)?);
    match unit {
        "tag" | "tagen" | "tage" => Some(n),
        "woche" | "wochen" => Some(n * 7),
        _ => None,
    }
}

fn weekday_of(token: &str) -> Option<Weekday> {
    let t = token.trim_end_matches('.');
    Some(match t {
        "montag" | "mo" => Weekday::Mon,
        "dienstag" | "di" => Weekday::Tue,
        "mittwoch" | "mi" => Weekday::Wed,
        "donnerstag" | "do" => Weekday::Thu,
        "freitag" | "fr" => Weekday::Fri,
        "samstag" | "sonnabend" | "sa" => Weekday::Sat,
        "sonntag" | "so" => Weekday::Sun,
        _ => return None,
    })
}

fn weekday_date(today: NaiveDate, day: Weekday, next: Which, week: bool) -> Option<NaiveDate> {
    if week {
        // "Mittwoch dieser Woche" (no qualifier) is this calendar week.
        let weeks = match next {
            Which::Plain => 0,
            Which::Coming => 1,
            Which::OneAfter => 2,
        };
        return in_week(today, day, weeks);
    }
    let ahead = (7 + day.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    let extra = if next == Which::OneAfter { 7 } else { 0 };
    today.checked_add_days(Days::new(u64::from(ahead + extra)))
}

/// `day` in the Monday-based calendar week `weeks` after the current one.
fn in_week(today: NaiveDate, day: Weekday, weeks: u64) -> Option<NaiveDate> {
    let monday =
        today.checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))?;
    monday.checked_add_days(Days::new(
        weeks.checked_mul(7)? + u64::from(day.num_days_from_monday()),
    ))
}

fn month_of(token: &str) -> Option<u32> {
    let t = token.trim_end_matches('.');
    Some(match t {
        "januar" | "jänner" | "jaenner" | "jan" => 1,
        "februar" | "feber" | "feb" => 2,
        "märz" | "maerz" | "mär" | "mrz" => 3,
        "april" | "apr" => 4,
        "mai" => 5,
        "juni" | "jun" => 6,
        "juli" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "oktober" | "okt" => 10,
        "november" | "nov" => 11,
        "dezember" | "dez" => 12,
        _ => return None,
    })
}

/// A four-digit year, or a two-digit one in the century window that reaches
/// 50 years ahead of today (`26` is 2026, `74` said in 2013 is 1974).
fn year_of(token: &str, today: NaiveDate) -> Option<i32> {
    let t = token.trim_end_matches('.');
    if !all_digits(t) {
        return None;
    }
    match t.len() {
        2 => {
            let yy: i32 = t.parse().ok()?;
            let century = today.year() - today.year().rem_euclid(100);
            let candidate = century + yy;
            Some(if candidate > today.year() + 50 {
                candidate - 100
            } else {
                candidate
            })
        }
        4 => t.parse().ok(),
        _ => None,
    }
}

fn day_of(token: &str) -> Option<u32> {
    words::ordinal(token)
        .or_else(|| {
            if all_digits(token) && token.len() <= 2 {
                token.parse().ok()
            } else {
                None
            }
        })
        .filter(|d| (1..=31).contains(d))
}

fn calendar(tokens: &[&str], today: NaiveDate) -> Option<NaiveDate> {
    match tokens {
        [single] => numeric(single, today).or_else(|| {
            let day = day_of(single)?;
            day_in_month(today, day)
        }),
        [a, b] => {
            if let (Some(day), Some(month)) = (day_of(a), month_of(b)) {
                return next_yearless(today, month, day);
            }
            if let (Some(month), Some(day)) = (month_of(a), day_of(b)) {
                return next_yearless(today, month, day);
            }
            None
        }
        [a, b, c] => {
            let year = year_of(c, today)?;
            if let (Some(day), Some(month)) = (day_of(a), month_of(b)) {
                return NaiveDate::from_ymd_opt(year, month, day);
            }
            if let (Some(month), Some(day)) = (month_of(a), day_of(b)) {
                return NaiveDate::from_ymd_opt(year, month, day);
            }
            None
        }
        _ => None,
    }
}

/// `15.2.`, `15.02`, `15.02.2026`, `15.2.26`.
fn numeric(token: &str, today: NaiveDate) -> Option<NaiveDate> {
    let t = token.strip_suffix('.').unwrap_or(token);
    let parts: Vec<&str> = t.split('.').collect();
    match parts.as_slice() {
        [d, m] if all_digits(d) && all_digits(m) && d.len() <= 2 && m.len() <= 2 => {
            next_yearless(today, m.parse().ok()?, d.parse().ok()?)
        }
        [d, m, y] if all_digits(d) && all_digits(m) && d.len() <= 2 && m.len() <= 2 => {
            NaiveDate::from_ymd_opt(year_of(y, today)?, m.parse().ok()?, d.parse().ok()?)
        }
        _ => None,
    }
}

fn next_yearless(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    // 29 February: the next year that has it.
    (0..8).find_map(|offset| {
        let date = NaiveDate::from_ymd_opt(today.year() + offset, month, day)?;
        (date >= today).then_some(date)
    })
}

fn day_in_month(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    let first = today.with_day(1)?;
    (0..12).find_map(|offset| {
        let month = first.checked_add_months(Months::new(offset))?;
        let date = month.with_day(day)?;
        (date >= today).then_some(date)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn table_from_a_tuesday() {
        let today = d(2026, 11, 24); // Tuesday
        let cases = [
            ("heute", d(2026, 11, 24)),
            ("Morgen", d(2026, 11, 25)),
            ("übermorgen", d(2026, 11, 26)),
            ("Dienstag", d(2026, 12, 1)),
            ("am Dienstag", d(2026, 12, 1)),
            ("nächsten Dienstag", d(2026, 12, 1)),
            ("nächsten Mittwoch", d(2026, 11, 25)),
            ("übernächsten Freitag", d(2026, 12, 4)),
            ("nächste Woche Mittwoch", d(2026, 12, 2)),
            ("Mittwoch nächste Woche", d(2026, 12, 2)),
            ("Mittwoch der nächsten Woche", d(2026, 12, 2)),
            ("Fr.", d(2026, 11, 27)),
            ("15.2.", d(2027, 2, 15)),
            ("15.02.", d(2027, 2, 15)),
            ("15.02.2027", d(2027, 2, 15)),
            ("15.2.27", d(2027, 2, 15)),
            ("15. Februar", d(2027, 2, 15)),
            ("am 3.", d(2026, 12, 3)),
            ("am 30.", d(2026, 11, 30)),
            ("am dritten", d(2026, 12, 3)),
            ("2026-12-15", d(2026, 12, 15)),
            ("{{current_date}}", d(2026, 11, 24)),
            ("in 3 Tagen", d(2026, 11, 27)),
            ("in einer Woche", d(2026, 12, 1)),
            ("Freitag, 27. November", d(2026, 11, 27)),
            ("Mittwoch dieser Woche", d(2026, 11, 25)),
            ("Mittwoch in zwei Wochen", d(2026, 12, 9)),
            ("Mittwoch nach dem nächsten", d(2026, 12, 2)),
            ("1.3.27", d(2027, 3, 1)),
            ("1.3.99", d(1999, 3, 1)),
        ];
        for (input, expected) in cases {
            assert_eq!(resolve(input, today), Ok(expected), "{input}");
        }
        for bad in [
            "",
            "gestern",
            "Blumenkohl",
            "32.1.",
            "Montag 27. November",
            "nächste",
            "15.13.",
        ] {
            assert_eq!(
                resolve(bad, today),
                Err(ValidationError::InvalidDate),
                "{bad}"
            );
        }
        assert_eq!(
            resolve("{{customer_date}}", today),
            Err(ValidationError::UnfilledPlaceholder)
        );
    }
}
