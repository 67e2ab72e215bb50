//! Windows of days (`nächste Woche`, `so bald wie möglich`) and the whole
//! wish: which days, and what time of day.

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::context::ValidationContext;
use crate::date::resolve;
use crate::error::{FieldError, ValidationError, ValidationErrors};
use crate::window::{time_wish_lower, typical_business_hours, TimeWindowKind, TimeWish};

/// How many days after today "so bald wie möglich" reaches: the window is
/// today and the 14 days after it.
pub const SOON_DAYS: u64 = 14;

/// A window of days, both ends included, never before today.
///
/// Built by [`parse_date_window`]: a single day for an exact date
/// (`übermorgen`, `am 25. Januar`, `am Montag`), several for `nächste
/// Woche` or `so bald wie möglich`.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use voxcal_request_validation::{parse_date_window, DateWindow, ValidationContext};
///
/// // Friday, 27 November 2026.
/// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let week = parse_date_window("nächste Woche", &ctx).unwrap();
/// assert_eq!(week, DateWindow { from: d(11, 30), to: d(12, 6) });
/// assert_eq!(week.single_day(), None);
/// assert_eq!(parse_date_window("übermorgen", &ctx).unwrap().single_day(), Some(d(11, 29)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DateWindow {
    /// The first day.
    pub from: NaiveDate,
    /// The last day, included.
    pub to: NaiveDate,
}

impl DateWindow {
    /// A window of one day.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use voxcal_request_validation::DateWindow;
    /// let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    /// assert_eq!(DateWindow::day(d).single_day(), Some(d));
    /// ```
    pub fn day(date: NaiveDate) -> Self {
        Self {
            from: date,
            to: date,
        }
    }

    /// The day, when the window is one day long.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use voxcal_request_validation::DateWindow;
    /// let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    /// assert_eq!(DateWindow { from: d, to: d.succ_opt().unwrap() }.single_day(), None);
    /// ```
    pub fn single_day(&self) -> Option<NaiveDate> {
        (self.from == self.to).then_some(self.from)
    }

    /// Whether `date` lies in the window.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use voxcal_request_validation::DateWindow;
    /// let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
    /// let w = DateWindow { from: d(1), to: d(3) };
    /// assert!(w.contains(d(3)) && !w.contains(d(4)));
    /// ```
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    /// The number of days, at least 1.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use voxcal_request_validation::DateWindow;
    /// let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
    /// assert_eq!(DateWindow { from: d(1), to: d(7) }.len(), 7);
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        u64::try_from((self.to - self.from).num_days()).unwrap_or(0) + 1
    }

    /// "So bald wie möglich" from `today`: today and the [`SOON_DAYS`] after.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use voxcal_request_validation::DateWindow;
    /// let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    /// assert_eq!(DateWindow::soon(today).to, NaiveDate::from_ymd_opt(2026, 12, 15).unwrap());
    /// ```
    pub fn soon(today: NaiveDate) -> Self {
        Self {
            from: today,
            to: today
                .checked_add_days(Days::new(SOON_DAYS))
                .unwrap_or(today),
        }
    }
}

/// Parses the `datum` text as a window of days relative to `ctx`'s today.
///
/// | said | window |
/// |---|---|
/// | an exact date: `heute`, `übermorgen`, `am 25. Januar`, `15.02.` … (everything [`parse_date`](crate::parse_date) reads) | that day |
/// | a weekday: `am Montag`, `nächsten Dienstag` | that day ([`parse_date`](crate::parse_date)'s reading: the next such day after today) |
/// | `diese Woche`, `in dieser Woche` | today to Sunday |
/// | `nächste Woche`, `kommende Woche`, `in der nächsten Woche` | Monday to Sunday of the next ISO week |
/// | `übernächste Woche` | Monday to Sunday of the week after |
/// | `Anfang (dieser / nächster / übernächster) Woche`, `Anfang der Woche` | Monday to Wednesday |
/// | `Mitte (…) Woche` | Tuesday to Thursday |
/// | `Ende (…) Woche`, `Ende der Woche` | Thursday to Sunday |
/// | `am Wochenende`, `dieses` / `nächstes Wochenende` | Saturday and Sunday |
/// | `so bald wie möglich`, `möglichst bald`, `schnellstmöglich`, `baldmöglichst`, `so schnell wie möglich`, `egal wann`, `egal`, `jederzeit` | today to today + [`SOON_DAYS`] |
///
/// A window that starts before today starts today (`diese Woche` said on a
/// Wednesday is Wednesday to Sunday); one that lies wholly in the past is
/// [`ValidationError::PastDate`]. Week windows include the weekend: the
/// opening hours remove closed days, and `Ende nächster Woche` should find a
/// Saturday for a business open on Saturdays.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use voxcal_request_validation::{parse_date_window, ValidationContext};
///
/// // Wednesday, 25 November 2026.
/// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let w = parse_date_window("Anfang nächster Woche", &ctx).unwrap();
/// assert_eq!((w.from, w.to), (d(11, 30), d(12, 2)));
/// let w = parse_date_window("diese Woche", &ctx).unwrap();
/// assert_eq!((w.from, w.to), (d(11, 25), d(11, 29)));
/// let w = parse_date_window("so bald wie möglich", &ctx).unwrap();
/// assert_eq!((w.from, w.to), (d(11, 25), d(12, 9)));
/// assert!(parse_date_window("letzte Woche", &ctx).is_err());
/// ```
pub fn parse_date_window(
    input: &str,
    ctx: &ValidationContext,
) -> Result<DateWindow, ValidationError> {
    date_window_lower(&input.trim().to_lowercase(), ctx.today())
}

pub(crate) fn date_window_lower(
    lower: &str,
    today: NaiveDate,
) -> Result<DateWindow, ValidationError> {
    let exact = resolve(lower, today);
    let error = match exact {
        Ok(date) if date < today => return Err(ValidationError::PastDate),
        Ok(date) => return Ok(DateWindow::day(date)),
        Err(ValidationError::UnfilledPlaceholder) => {
            return Err(ValidationError::UnfilledPlaceholder)
        }
        Err(e) => e,
    };
    let (from, to) = named_window(lower, today).ok_or(error)?;
    if to < today {
        return Err(ValidationError::PastDate);
    }
    Ok(DateWindow {
        from: from.max(today),
        to,
    })
}

fn fold(word: &str) -> String {
    word.replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss")
}

/// Weeks, weekends and "soon", before clipping to today.
fn named_window(lower: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let words: Vec<String> = lower
        .split_whitespace()
        .map(|w| fold(w.trim_end_matches([',', '!', '?', '.'])))
        .filter(|w| {
            !matches!(
                w.as_str(),
                "am" | "an"
                    | "in"
                    | "im"
                    | "der"
                    | "die"
                    | "den"
                    | "dem"
                    | "des"
                    | "fuer"
                    | "zum"
                    | "zur"
                    | "bitte"
                    | "gerne"
                    | "gern"
                    | "irgendwann"
                    | "ist"
                    | "mir"
                    | "termin"
                    | "einen"
                    | "ein"
                    | ""
            )
        })
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let soon = DateWindow::soon(today);
    if matches!(
        words.as_slice(),
        ["so" | "sobald", "bald", "wie", "moeglich"]
            | ["sobald", "wie", "moeglich"]
            | ["sobald", "moeglich"]
            | ["so", "schnell", "wie", "moeglich"]
            | ["moeglichst", "bald" | "schnell" | "frueh"]
            | ["schnellstmoeglich"]
            | ["baldmoeglichst"]
            | ["baldigst"]
            | ["schnellstens"]
            | ["naechstmoeglich"]
            | ["asap"]
            | ["egal"]
            | ["egal", "wann"]
            | ["jederzeit"]
            | ["wann", "immer"]
    ) {
        return Some((soon.from, soon.to));
    }
    let monday =
        today.checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))?;
    let week = |n: u64| monday.checked_add_days(Days::new(n * 7));
    let which = |w: &str| -> Option<u64> {
        match w {
            "diese" | "dieser" | "diesen" | "diesem" | "dieses" | "laufende" | "laufenden"
            | "laufender" => Some(0),
            "naechste" | "naechster" | "naechsten" | "naechstes" | "kommende" | "kommender"
            | "kommenden" | "kommendes" | "folgende" | "folgenden" => Some(1),
            "uebernaechste" | "uebernaechster" | "uebernaechsten" | "uebernaechstes" => Some(2),
            _ => None,
        }
    };
    let span = |start: NaiveDate, first: u64, last: u64| {
        Some((
            start.checked_add_days(Days::new(first))?,
            start.checked_add_days(Days::new(last))?,
        ))
    };
    let (part, rest): (Option<&str>, &[&str]) = match words.as_slice() {
        [p @ ("anfang" | "beginn" | "mitte" | "ende"), rest @ ..] => (Some(*p), rest),
        rest => (None, rest),
    };
    let (n, noun) = match rest {
        [noun] => (0, *noun),
        [w, noun] => (which(w)?, *noun),
        _ => return None,
    };
    let start = week(n)?;
    match (part, noun) {
        (None, "woche") if rest.len() == 2 => span(start, 0, 6),
        (Some("anfang" | "beginn"), "woche") => span(start, 0, 2),
        (Some("mitte"), "woche") => span(start, 1, 3),
        (Some("ende"), "woche") => span(start, 3, 6),
        (None, "wochenende") => span(start, 5, 6),
        _ => None,
    }
}

/// What the caller wished: which days, and what time of day.
///
/// ```
/// use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
/// use voxcal_request_validation::{parse_wish, PartOfDay, TimeWish, ValidationContext};
///
/// // Friday, 27 November 2026.
/// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
/// let wish = parse_wish(Some("nächste Woche nachmittags"), None, &ctx).unwrap();
/// assert_eq!(wish.days.from, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
/// assert_eq!(wish.time, TimeWish::Window(PartOfDay::Nachmittag.window()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Wish {
    /// The days that would do.
    pub days: DateWindow,
    /// The time of day.
    pub time: TimeWish,
}

/// Parses the caller's wish from the `datum` and `uhrzeit` texts; ambiguous
/// window bounds are read against [`typical_business_hours`]. See
/// [`parse_wish_in`].
///
/// ```
/// use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
/// use voxcal_request_validation::{parse_wish, TimeWish, ValidationContext};
///
/// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
/// let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
/// let wish = parse_wish(Some("morgen"), Some("um 7"), &ctx).unwrap();
/// assert_eq!(wish.days.single_day(), NaiveDate::from_ymd_opt(2026, 11, 28));
/// let TimeWish::At(clock) = wish.time else { panic!() };
/// assert_eq!((clock.literal, clock.alternative), (t(7), Some(t(19))));
///
/// let errors = parse_wish(Some("gestern"), Some("Kuchen"), &ctx).unwrap_err();
/// assert!(errors.has("datum", "invalid_date") && errors.has("uhrzeit", "invalid_time"));
/// ```
pub fn parse_wish(
    datum: Option<&str>,
    uhrzeit: Option<&str>,
    ctx: &ValidationContext,
) -> Result<Wish, ValidationErrors> {
    parse_wish_in(datum, uhrzeit, ctx, typical_business_hours)
}

/// Parses the caller's wish from the `datum` and `uhrzeit` texts relative to
/// `ctx`; `in_hours` (the opening hours) decides ambiguous bounds of a window
/// (`ab halb drei`).
///
/// - `datum` is read by [`parse_date_window`]; it may also carry the time of
///   day, before or after the day: `morgen vormittag`, `nächste Woche
///   nachmittags`, `Montag früh`, `morgen um 15 Uhr`, `am Donnerstag von 9
///   bis 11`. Without `datum` the days are "so bald wie möglich"
///   ([`DateWindow::soon`]).
/// - `uhrzeit` is read as a window ([`parse_time_window_in`](crate::parse_time_window_in)),
///   a clock time ([`parse_clock`](crate::parse_clock), both readings kept:
///   pick with [`ClockTime::pick`](crate::ClockTime::pick)) or no wish
///   (`egal`). When given, it decides the time; a part of the day said in
///   `datum` then settles an ambiguous hour (`morgen früh` + `um 7` is
///   07:00 only). Without `uhrzeit` the time said in `datum` counts, else
///   [`TimeWish::Any`].
///
/// Errors name the field: `datum` (`invalid_date`, `past_date`,
/// `unfilled_placeholder`) and `uhrzeit` (`invalid_time`, …).
///
/// ```
/// use chrono::{NaiveTime, TimeZone, Utc};
/// use voxcal_request_validation::{parse_wish_in, TimeWish, ValidationContext};
///
/// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// let open = |time: NaiveTime| t(9, 0) <= time && time < t(18, 0);
/// let wish = parse_wish_in(Some("Montag früh"), Some("um 7"), &ctx, open).unwrap();
/// assert_eq!(wish.time.clock().unwrap().alternative, None);
/// let wish = parse_wish_in(None, Some("ab halb drei"), &ctx, open).unwrap();
/// assert_eq!(wish.time.window().unwrap().start, t(14, 30));
/// ```
pub fn parse_wish_in(
    datum: Option<&str>,
    uhrzeit: Option<&str>,
    ctx: &ValidationContext,
    in_hours: impl Fn(NaiveTime) -> bool,
) -> Result<Wish, ValidationErrors> {
    let (days, time) = wish_fields(datum, uhrzeit, ctx.today(), &in_hours);
    let mut errors = ValidationErrors::new();
    if let Err(e) = &days {
        errors.push(FieldError::new("datum", e.clone()));
    }
    if let Err(e) = &time {
        errors.push(FieldError::new("uhrzeit", e.clone()));
    }
    match (days, time) {
        (Ok(days), Ok((time, _))) => Ok(Wish { days, time }),
        _ => Err(errors),
    }
}

/// A time wish and `parse_time`'s value for it.
type TimeRead = (TimeWish, Option<NaiveTime>);
type TimeResult = Result<TimeRead, ValidationError>;

/// The days (the `datum` result) and the time (the `uhrzeit` result, with
/// `parse_time`'s legacy value for `AppointmentRequest::time`).
pub(crate) fn wish_fields(
    datum: Option<&str>,
    uhrzeit: Option<&str>,
    today: NaiveDate,
    in_hours: &dyn Fn(NaiveTime) -> bool,
) -> (Result<DateWindow, ValidationError>, TimeResult) {
    let datum = datum.map(|s| s.trim().to_lowercase());
    let uhrzeit = uhrzeit.map(|s| s.trim().to_lowercase());
    let (days, in_datum) = match datum.as_deref() {
        None => (Ok(DateWindow::soon(today)), None),
        Some(d) => match datum_parts(d, today, in_hours) {
            Ok((days, time)) => (Ok(days), time),
            Err(e) => (Err(e), None),
        },
    };
    let time = match uhrzeit.as_deref() {
        Some(u) if u.contains("{{") => Err(ValidationError::UnfilledPlaceholder),
        Some(u) => {
            let hint = in_datum.and_then(|(t, _)| match t {
                TimeWish::Window(w) => match w.kind {
                    TimeWindowKind::Part(p) => Some(p),
                    _ => None,
                },
                _ => None,
            });
            time_wish_lower(u, hint, in_hours).ok_or(ValidationError::InvalidTime)
        }
        None => Ok(in_datum.unwrap_or((TimeWish::Any, None))),
    };
    (days, time)
}

/// Most words a `datum` text is split into.
const MAX_DATUM_WORDS: usize = 12;

/// `datum` as days, with a time of day said in it.
fn datum_parts(
    lower: &str,
    today: NaiveDate,
    in_hours: &dyn Fn(NaiveTime) -> bool,
) -> Result<(DateWindow, Option<TimeRead>), ValidationError> {
    let error = match date_window_lower(lower, today) {
        Ok(days) => return Ok((days, None)),
        Err(ValidationError::UnfilledPlaceholder) => {
            return Err(ValidationError::UnfilledPlaceholder)
        }
        Err(e) => e,
    };
    let words: Vec<&str> = lower
        .split_whitespace()
        .map(|w| w.trim_end_matches([',', '!', '?']))
        .filter(|w| !w.is_empty())
        .collect();
    let n = words.len();
    if n > MAX_DATUM_WORDS {
        return Err(error);
    }
    let mut past = false;
    // Pass 0 never takes a bare "morgen" as the morning, so "morgen 10" is
    // tomorrow at ten; pass 1 allows it ("heute morgen").
    let passes = if words.contains(&"morgen") { 2 } else { 1 };
    for pass in 0..passes {
        for len in (1..n).rev() {
            for start in 0..=n - len {
                let time_words = &words[start..start + len];
                if pass == 0 && time_words == ["morgen"] {
                    continue;
                }
                let Some(time) = time_wish_lower(&time_words.join(" "), None, in_hours) else {
                    continue;
                };
                if time.0 == TimeWish::Any {
                    continue;
                }
                let date_words: Vec<&str> = words[..start]
                    .iter()
                    .chain(&words[start + len..])
                    .copied()
                    .collect();
                // Range words belong to the time ("bis 11 am Vormittag" is
                // not the 11th).
                if date_words.iter().any(|w| {
                    matches!(
                        *w,
                        "bis" | "ab" | "vor" | "nach" | "von" | "zwischen" | "um" | "gegen"
                    )
                }) {
                    continue;
                }
                match date_window_lower(&date_words.join(" "), today) {
                    Ok(days) => return Ok((days, Some(time))),
                    Err(ValidationError::PastDate) => past = true,
                    Err(_) => {}
                }
            }
        }
    }
    if past {
        return Err(ValidationError::PastDate);
    }
    // Only a time of day ("nachmittags" in datum): the next days.
    match time_wish_lower(lower, None, in_hours) {
        Some(time) if time.0 != TimeWish::Any => Ok((DateWindow::soon(today), Some(time))),
        _ => Err(error),
    }
}

/// `{"from": "2026-11-30", "to": "2026-12-06", "time": …}` with `time` one of
/// `{"kind": "at", "literal": "07:00", "alternative": "19:00"}` (alternative
/// `null` when there is one reading), `{"kind": "window", "start": "09:00",
/// "end": "12:00", "said": "vormittags"}` (`end` `"24:00"` for
/// [`END_OF_DAY`](crate::END_OF_DAY)) or `{"kind": "any"}`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use voxcal_request_validation::{parse_wish, ValidationContext};
/// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
/// let wish = parse_wish(Some("morgen"), Some("ab 16 Uhr"), &ctx).unwrap();
/// assert_eq!(serde_json::to_value(wish).unwrap(), serde_json::json!({
///     "from": "2026-11-28", "to": "2026-11-28",
///     "time": {"kind": "window", "start": "16:00", "end": "24:00", "said": "ab 16:00 Uhr"},
/// }));
/// ```
impl Serialize for Wish {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let hm = |t: NaiveTime| {
            if t == crate::window::END_OF_DAY {
                "24:00".to_owned()
            } else {
                t.format("%H:%M").to_string()
            }
        };
        let time = match self.time {
            TimeWish::At(c) => serde_json::json!({
                "kind": "at",
                "literal": hm(c.literal),
                "alternative": c.alternative.map(hm),
            }),
            TimeWish::Window(w) => serde_json::json!({
                "kind": "window",
                "start": hm(w.start),
                "end": hm(w.end),
                "said": w.to_string(),
            }),
            TimeWish::Any => serde_json::json!({"kind": "any"}),
        };
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("from", &self.days.from.format("%Y-%m-%d").to_string())?;
        map.serialize_entry("to", &self.days.to.format("%Y-%m-%d").to_string())?;
        map.serialize_entry("time", &time)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn named_windows_from_a_wednesday() {
        let today = d(11, 25);
        let cases = [
            ("nächste Woche", (d(11, 30), d(12, 6))),
            ("kommende Woche", (d(11, 30), d(12, 6))),
            ("in der nächsten Woche", (d(11, 30), d(12, 6))),
            ("übernächste Woche", (d(12, 7), d(12, 13))),
            ("Anfang nächster Woche", (d(11, 30), d(12, 2))),
            ("Mitte nächster Woche", (d(12, 1), d(12, 3))),
            ("Ende nächster Woche", (d(12, 3), d(12, 6))),
            ("diese Woche", (d(11, 25), d(11, 29))),
            ("Ende der Woche", (d(11, 26), d(11, 29))),
            ("am Wochenende", (d(11, 28), d(11, 29))),
            ("nächstes Wochenende", (d(12, 5), d(12, 6))),
            ("so bald wie möglich", (d(11, 25), d(12, 9))),
            ("möglichst bald", (d(11, 25), d(12, 9))),
            ("schnellstmöglich", (d(11, 25), d(12, 9))),
            ("egal wann", (d(11, 25), d(12, 9))),
            ("am Montag", (d(11, 30), d(11, 30))),
            ("übermorgen", (d(11, 27), d(11, 27))),
            (
                "am 25. Januar",
                (
                    NaiveDate::from_ymd_opt(2027, 1, 25).unwrap(),
                    NaiveDate::from_ymd_opt(2027, 1, 25).unwrap(),
                ),
            ),
        ];
        for (input, (from, to)) in cases {
            assert_eq!(
                date_window_lower(&input.to_lowercase(), today),
                Ok(DateWindow { from, to }),
                "{input}"
            );
        }
        // Monday to Wednesday of this week, said on the Wednesday: today only.
        assert_eq!(
            date_window_lower("anfang der woche", today),
            Ok(DateWindow::day(today))
        );
        assert_eq!(
            date_window_lower("anfang der woche", d(11, 26)),
            Err(ValidationError::PastDate)
        );
        assert_eq!(
            date_window_lower("letzte woche", today),
            Err(ValidationError::InvalidDate)
        );
        assert_eq!(
            date_window_lower("woche", today),
            Err(ValidationError::InvalidDate)
        );
    }
}
