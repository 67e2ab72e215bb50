//! Vague time-of-day wishes: `vormittags`, `später Nachmittag`, `ab halb
//! drei`, `zwischen 14 und 16 Uhr`.

use std::fmt;

use chrono::NaiveTime;

use crate::error::ValidationError;
use crate::time::{parse_clock_lower, parse_time_lower, split_units, ClockTime};

const fn hm(h: u32, m: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(h, m, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    }
}

/// The end of a window that runs to the end of the day (`ab 16 Uhr`):
/// 23:59:59, because [`NaiveTime`] has no 24:00. Spoken and displayed as
/// `24:00`.
pub const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_opt(23, 59, 59) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// The hours an ambiguous bound of a window is read against when the caller
/// of [`parse_time_window`] or [`parse_wish`](crate::parse_wish) gives no
/// opening hours: 07:00 to 19:00.
///
/// With it, `ab halb drei` is 14:30 (02:30 is outside, 14:30 inside), `bis
/// 11` 11:00 and `ab 7` 07:00 (07:00 is inside, 19:00 is not).
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::typical_business_hours;
/// assert!(typical_business_hours(NaiveTime::from_hms_opt(7, 0, 0).unwrap()));
/// assert!(!typical_business_hours(NaiveTime::from_hms_opt(19, 0, 0).unwrap()));
/// ```
pub fn typical_business_hours(time: NaiveTime) -> bool {
    hm(7, 0) <= time && time < hm(19, 0)
}

/// A named part of the day. The bounds (start included, end excluded):
///
/// | variant | said | window |
/// |---|---|---|
/// | `Morgen` | `früh`, `morgens`, `am Morgen`, `in der Früh` | 07:00–10:00 |
/// | `Vormittag` | `vormittags`, `am Vormittag` | 09:00–12:00 |
/// | `Mittag` | `mittags`, `gegen Mittag`, `über Mittag`, `zur Mittagszeit` | 11:00–14:00 |
/// | `FruehNachmittag` | `früher Nachmittag`, `am frühen Nachmittag` | 12:00–15:00 |
/// | `Nachmittag` | `nachmittags`, `am Nachmittag` | 12:00–18:00 |
/// | `SpaetNachmittag` | `später Nachmittag`, `spätnachmittags`, `am späten Nachmittag` | 15:00–18:00 |
/// | `Abend` | `abends`, `am Abend` | 18:00–22:00 |
///
/// `Vormittag`, `Mittag`, `Nachmittag` and `Abend` have the bounds of
/// `voxcal_appointment_finder::TimePreference`'s variants of the same name.
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::PartOfDay;
/// let (start, end) = PartOfDay::SpaetNachmittag.bounds();
/// assert_eq!((start, end), (NaiveTime::from_hms_opt(15, 0, 0).unwrap(), NaiveTime::from_hms_opt(18, 0, 0).unwrap()));
/// assert_eq!(PartOfDay::SpaetNachmittag.to_string(), "am späten Nachmittag");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PartOfDay {
    /// `früh`, `morgens`: 07:00–10:00.
    Morgen,
    /// `vormittags`: 09:00–12:00.
    Vormittag,
    /// `mittags`, `über Mittag`: 11:00–14:00.
    Mittag,
    /// `früher Nachmittag`: 12:00–15:00.
    FruehNachmittag,
    /// `nachmittags`: 12:00–18:00.
    Nachmittag,
    /// `später Nachmittag`, `spätnachmittags`: 15:00–18:00.
    SpaetNachmittag,
    /// `abends`: 18:00–22:00.
    Abend,
}

impl PartOfDay {
    /// Every part, in the order of the table.
    ///
    /// ```
    /// use voxcal_request_validation::PartOfDay;
    /// assert_eq!(PartOfDay::ALL.len(), 7);
    /// ```
    pub const ALL: [PartOfDay; 7] = [
        PartOfDay::Morgen,
        PartOfDay::Vormittag,
        PartOfDay::Mittag,
        PartOfDay::FruehNachmittag,
        PartOfDay::Nachmittag,
        PartOfDay::SpaetNachmittag,
        PartOfDay::Abend,
    ];

    /// `(start, end)`, end excluded.
    ///
    /// ```
    /// use chrono::NaiveTime;
    /// use voxcal_request_validation::PartOfDay;
    /// assert_eq!(PartOfDay::Vormittag.bounds().1, NaiveTime::from_hms_opt(12, 0, 0).unwrap());
    /// ```
    pub fn bounds(self) -> (NaiveTime, NaiveTime) {
        match self {
            PartOfDay::Morgen => (hm(7, 0), hm(10, 0)),
            PartOfDay::Vormittag => (hm(9, 0), hm(12, 0)),
            PartOfDay::Mittag => (hm(11, 0), hm(14, 0)),
            PartOfDay::FruehNachmittag => (hm(12, 0), hm(15, 0)),
            PartOfDay::Nachmittag => (hm(12, 0), hm(18, 0)),
            PartOfDay::SpaetNachmittag => (hm(15, 0), hm(18, 0)),
            PartOfDay::Abend => (hm(18, 0), hm(22, 0)),
        }
    }

    /// The window of this part.
    ///
    /// ```
    /// use voxcal_request_validation::{PartOfDay, TimeWindowKind};
    /// assert_eq!(PartOfDay::Abend.window().kind, TimeWindowKind::Part(PartOfDay::Abend));
    /// ```
    pub fn window(self) -> TimeWindow {
        let (start, end) = self.bounds();
        TimeWindow {
            start,
            end,
            kind: TimeWindowKind::Part(self),
        }
    }

    fn contains(self, time: NaiveTime) -> bool {
        let (start, end) = self.bounds();
        start <= time && time < end
    }

    /// The spoken form, as [`Display`](fmt::Display) writes it.
    fn spoken(self) -> &'static str {
        match self {
            PartOfDay::Morgen => "morgens",
            PartOfDay::Vormittag => "vormittags",
            PartOfDay::Mittag => "mittags",
            PartOfDay::FruehNachmittag => "am frühen Nachmittag",
            PartOfDay::Nachmittag => "nachmittags",
            PartOfDay::SpaetNachmittag => "am späten Nachmittag",
            PartOfDay::Abend => "abends",
        }
    }
}

impl fmt::Display for PartOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spoken())
    }
}

/// What kind of window the caller named.
///
/// To hand a window to `voxcal_appointment_finder`: `Part(Vormittag |
/// Mittag | Nachmittag | Abend)` → the `TimePreference` of the same name
/// (same bounds), `From` → `TimePreference::From(start)`, `Until` →
/// `TimePreference::Until(end)`, everything else →
/// `TimePreference::Window(start, end)`.
///
/// ```
/// use voxcal_request_validation::{parse_time_window, TimeWindowKind};
/// assert_eq!(parse_time_window("ab 16 Uhr").unwrap().kind, TimeWindowKind::From);
/// assert_eq!(parse_time_window("vor 10").unwrap().kind, TimeWindowKind::Until);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeWindowKind {
    /// A named part of the day (`vormittags`).
    Part(PartOfDay),
    /// From a time to the end of the day (`ab 16 Uhr`, `nach 16 Uhr`,
    /// `frühestens 16 Uhr`); `end` is [`END_OF_DAY`].
    From,
    /// From the start of the day to a time (`bis 10 Uhr`, `vor 10`,
    /// `spätestens 10 Uhr`); `start` is 00:00.
    Until,
    /// Between two times (`zwischen 14 und 16 Uhr`, `von 14 bis 16 Uhr`,
    /// `14–16 Uhr`).
    Between,
}

/// A window of clock times for the start of an appointment: `start`
/// included, `end` excluded, `start < end` always.
///
/// Built by [`parse_time_window`] / [`parse_time_window_in`] (or
/// [`PartOfDay::window`]). `end` is [`END_OF_DAY`] for a window open to the
/// end of the day. Bounds are start times: `bis 10 Uhr` is an appointment
/// starting before 10:00.
///
/// [`Display`](fmt::Display) writes a German phrase that parses back to the
/// same window (`vormittags`, `ab 14:30 Uhr`, `bis 10:00 Uhr`, `zwischen 14:00
/// und 16:00 Uhr`).
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::{parse_time_window, TimeWindow, TimeWindowKind};
///
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// let w = parse_time_window("zwischen 14 und 16 Uhr").unwrap();
/// assert_eq!((w.start, w.end, w.kind), (t(14, 0), t(16, 0), TimeWindowKind::Between));
/// assert!(w.contains(t(15, 30)) && !w.contains(t(16, 0)));
/// assert_eq!(w.to_string(), "zwischen 14:00 und 16:00 Uhr");
/// assert_eq!(parse_time_window(&w.to_string()).unwrap(), w);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TimeWindow {
    /// The earliest start, included.
    pub start: NaiveTime,
    /// The end, excluded ([`END_OF_DAY`] when open to the end of the day).
    pub end: NaiveTime,
    /// What the caller named.
    pub kind: TimeWindowKind,
}

impl TimeWindow {
    /// Whether an appointment may start at `time`.
    ///
    /// ```
    /// use chrono::NaiveTime;
    /// use voxcal_request_validation::PartOfDay;
    /// let w = PartOfDay::Vormittag.window();
    /// assert!(w.contains(NaiveTime::from_hms_opt(11, 59, 0).unwrap()));
    /// assert!(!w.contains(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
    /// ```
    pub fn contains(&self, time: NaiveTime) -> bool {
        self.start <= time && time < self.end
    }

    fn span(start: NaiveTime, end: NaiveTime, kind: TimeWindowKind) -> Option<Self> {
        (start < end).then_some(Self { start, end, kind })
    }
}

fn clock(t: NaiveTime) -> String {
    if t == END_OF_DAY {
        "24:00".to_owned()
    } else {
        t.format("%H:%M").to_string()
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TimeWindowKind::Part(part) => f.write_str(part.spoken()),
            TimeWindowKind::From => write!(f, "ab {} Uhr", clock(self.start)),
            TimeWindowKind::Until => write!(f, "bis {} Uhr", clock(self.end)),
            TimeWindowKind::Between => write!(
                f,
                "zwischen {} und {} Uhr",
                clock(self.start),
                clock(self.end)
            ),
        }
    }
}

/// What the caller wished for the time of day.
///
/// ```
/// use voxcal_request_validation::{parse_time_wish, TimeWish};
/// assert!(matches!(parse_time_wish("um 7").unwrap(), TimeWish::At(c) if c.is_ambiguous()));
/// assert!(matches!(parse_time_wish("vormittags").unwrap(), TimeWish::Window(_)));
/// assert_eq!(parse_time_wish("egal").unwrap(), TimeWish::Any);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeWish {
    /// A clock time, with both readings of an ambiguous hour
    /// ([`ClockTime::pick`] decides with the opening hours).
    At(ClockTime),
    /// A window of start times.
    Window(TimeWindow),
    /// No wish (`egal`, `jederzeit`, `ganztags`, or no time given).
    Any,
}

impl TimeWish {
    /// The window, for [`TimeWish::Window`].
    ///
    /// ```
    /// use voxcal_request_validation::parse_time_wish;
    /// assert!(parse_time_wish("nachmittags").unwrap().window().is_some());
    /// assert!(parse_time_wish("14 Uhr").unwrap().window().is_none());
    /// ```
    pub fn window(&self) -> Option<TimeWindow> {
        match self {
            TimeWish::Window(w) => Some(*w),
            _ => None,
        }
    }

    /// The clock time, for [`TimeWish::At`].
    ///
    /// ```
    /// use chrono::NaiveTime;
    /// use voxcal_request_validation::parse_time_wish;
    /// let c = parse_time_wish("14 Uhr").unwrap().clock().unwrap();
    /// assert_eq!(c.literal, NaiveTime::from_hms_opt(14, 0, 0).unwrap());
    /// ```
    pub fn clock(&self) -> Option<ClockTime> {
        match self {
            TimeWish::At(c) => Some(*c),
            _ => None,
        }
    }
}

/// Parses a time-of-day window, reading an ambiguous bound against
/// [`typical_business_hours`]; see [`parse_time_window_in`].
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::{parse_time_window, PartOfDay, TimeWindowKind};
///
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// let w = parse_time_window("später Nachmittag").unwrap();
/// assert_eq!((w.start, w.end), (t(15, 0), t(18, 0)));
/// assert_eq!(w.kind, TimeWindowKind::Part(PartOfDay::SpaetNachmittag));
/// assert_eq!(parse_time_window("ab halb drei").unwrap().start, t(14, 30));
/// assert_eq!(parse_time_window("bis 10 Uhr").unwrap().end, t(10, 0));
/// assert!(parse_time_window("14 Uhr").is_err());
/// ```
pub fn parse_time_window(input: &str) -> Result<TimeWindow, ValidationError> {
    parse_time_window_in(input, typical_business_hours)
}

/// Parses a time-of-day window; `in_hours` says whether a time lies within
/// the opening hours and decides an ambiguous bound by [`ClockTime::pick`]'s
/// rule (the reading inside when exactly one is, else the literal one).
///
/// Understood: the parts of the day of [`PartOfDay`] (with `am`, `gegen`,
/// `über`, `zu`, `in der` before them); `ab X`, `nach X`, `frühestens X`, `X
/// frühestens`, `X oder später` (from X); `bis X`, `vor X`, `spätestens X`,
/// `X spätestens` (until X); `zwischen X und Y`, `von X bis Y`, `X bis Y`,
/// `X - Y`, `ab X bis Y`, `nach X aber vor Y` (between). X and Y are clock
/// times as [`parse_clock`](crate::parse_clock) reads them, modifiers
/// included (`bis 2 Uhr nachmittags` is until 14:00). A part of the day before
/// a range decides its ambiguous bounds: `vormittags von 9 bis 11` is
/// 09:00–11:00. `bis 24 Uhr` / `bis Mitternacht` ends at [`END_OF_DAY`].
/// For a range whose first reading would end before it starts (`von 11 bis
/// 2`), the other readings are tried.
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::parse_time_window_in;
///
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// let late = |time: NaiveTime| t(12, 0) <= time && time < t(22, 0);
/// assert_eq!(parse_time_window_in("ab 8", late).unwrap().start, t(20, 0));
/// assert_eq!(parse_time_window_in("ab 8 Uhr morgens", late).unwrap().start, t(8, 0));
/// ```
pub fn parse_time_window_in(
    input: &str,
    in_hours: impl Fn(NaiveTime) -> bool,
) -> Result<TimeWindow, ValidationError> {
    let lower = input.trim().to_lowercase();
    if lower.contains("{{") {
        return Err(ValidationError::UnfilledPlaceholder);
    }
    window_lower(&lower, &in_hours).ok_or(ValidationError::InvalidTime)
}

/// Parses what the caller said about the time of day: a window
/// ([`parse_time_window`]), a clock time ([`parse_clock`](crate::parse_clock))
/// or no wish (`egal`, `egal wann`, `jederzeit`, `ganztags`, `den ganzen Tag`,
/// `flexibel`, `wann immer`).
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::{parse_time_wish, TimeWish};
///
/// let w = parse_time_wish("gegen Mittag").unwrap().window().unwrap();
/// assert_eq!(w.start, NaiveTime::from_hms_opt(11, 0, 0).unwrap());
/// assert!(parse_time_wish("Kuchen").is_err());
/// ```
pub fn parse_time_wish(input: &str) -> Result<TimeWish, ValidationError> {
    let lower = input.trim().to_lowercase();
    if lower.contains("{{") {
        return Err(ValidationError::UnfilledPlaceholder);
    }
    time_wish_lower(&lower, None, &typical_business_hours)
        .map(|(wish, _)| wish)
        .ok_or(ValidationError::InvalidTime)
}

/// The wish and, for a clock time, `parse_time`'s value (what
/// `AppointmentRequest::time` has always held). `hint` is a part of the day
/// said elsewhere (`morgen früh` in `datum`), which decides an ambiguous hour.
pub(crate) fn time_wish_lower(
    lower: &str,
    hint: Option<PartOfDay>,
    in_hours: &dyn Fn(NaiveTime) -> bool,
) -> Option<(TimeWish, Option<NaiveTime>)> {
    // What callers say most often ("10 Uhr", "14:30") is a plain clock time;
    // it names no window and no "egal", so the word analysis is skipped.
    if !is_plain_clock(lower) {
        let words = words(lower);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if is_any(&words) {
            return Some((TimeWish::Any, None));
        }
        if let Some(window) = window_words(&words, hint, in_hours) {
            return Some((TimeWish::Window(window), None));
        }
    }
    clock_wish(lower, hint)
}

/// Digits with `:`, `.` or spaces between them and at most a trailing `uhr`
/// or `h`: `10 uhr`, `14:30`, `9.15h`. No window or "any" phrase looks so.
fn is_plain_clock(lower: &str) -> bool {
    let stem = lower
        .strip_suffix("uhr")
        .or_else(|| lower.strip_suffix('h'))
        .unwrap_or(lower);
    stem.bytes().any(|b| b.is_ascii_digit())
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b':' | b'.' | b' '))
}

fn clock_wish(lower: &str, hint: Option<PartOfDay>) -> Option<(TimeWish, Option<NaiveTime>)> {
    let clock = parse_clock_lower(lower)?;
    if let (Some(part), Some(_)) = (hint, clock.alternative) {
        let inside: Vec<NaiveTime> = clock.readings().filter(|t| part.contains(*t)).collect();
        if let [only] = inside.as_slice() {
            return Some((TimeWish::At(ClockTime::exact(*only)), Some(*only)));
        }
    }
    Some((TimeWish::At(clock), parse_time_lower(lower)))
}

pub(crate) fn window_lower(
    lower: &str,
    in_hours: &dyn Fn(NaiveTime) -> bool,
) -> Option<TimeWindow> {
    let words = words(lower);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    window_words(&words, None, in_hours)
}

/// Lower-cased words: `14uhr` → `14 uhr`, `18:30h` → `18:30 uhr`, dashes
/// split off, trailing punctuation removed, umlauts kept.
fn words(lower: &str) -> Vec<String> {
    let spaced = split_units(&lower.replace(['–', '—'], "-"));
    let mut out = Vec::new();
    for word in spaced.split_whitespace() {
        let word = word.trim_end_matches([',', '!', '?']);
        for (i, piece) in word.split('-').enumerate() {
            if i > 0 {
                out.push("-".to_owned());
            }
            if piece.is_empty() {
                continue;
            }
            // "18:30h", "18:30uhr"
            let stem = piece
                .strip_suffix("uhr")
                .or_else(|| piece.strip_suffix('h'))
                .filter(|s| s.contains(':') && s.bytes().all(|b| b.is_ascii_digit() || b == b':'));
            match stem {
                Some(stem) => {
                    out.push(stem.to_owned());
                    out.push("uhr".to_owned());
                }
                None => out.push(split_units(piece)),
            }
        }
    }
    // split_units may have produced "14 uhr" inside one piece.
    out.iter()
        .flat_map(|w| w.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// `ä` → `ae` and so on, for matching the fixed phrases.
fn fold(word: &str) -> String {
    word.replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss")
}

fn is_filler(word: &str) -> bool {
    matches!(
        word,
        "um" | "gegen"
            | "so"
            | "etwa"
            | "circa"
            | "zirka"
            | "ca"
            | "ca."
            | "ungefähr"
            | "ungefaehr"
            | "bitte"
            | "gerne"
            | "gern"
            | "lieber"
            | "eher"
            | "am"
            | "im"
            | "in"
            | "der"
            | "den"
            | "zu"
            | "zur"
            | "über"
            | "ueber"
            | "irgendwann"
            | "uhrzeit"
    )
}

fn is_any(words: &[&str]) -> bool {
    let kept: Vec<String> = words
        .iter()
        .filter(|w| !is_filler(w) && !matches!(**w, "ist" | "mir" | "uns" | "es"))
        .map(|w| fold(w))
        .collect();
    let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
    matches!(
        kept.as_slice(),
        ["egal"]
            | ["egal", "wann"]
            | ["jederzeit"]
            | ["ganztags"]
            | ["ganzen", "tag"]
            | ["ganztaegig"]
            | ["flexibel"]
            | ["wann", "immer"]
            | ["beliebig"]
            | ["jeder", "zeit"]
            | ["egal", "welche", "zeit"]
    )
}

/// A named part of the day, fillers already removed.
fn part_of(words: &[&str]) -> Option<PartOfDay> {
    let kept: Vec<String> = words
        .iter()
        .filter(|w| !is_filler(w))
        .map(|w| fold(w))
        .collect();
    let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
    Some(match kept.as_slice() {
        ["frueh"]
        | ["morgens"]
        | ["morgen"]
        | ["fruehmorgens"]
        | ["frueh", "morgens"]
        | ["morgens", "frueh"]
        | ["morgends"] => PartOfDay::Morgen,
        ["vormittags"] | ["vormittag"] => PartOfDay::Vormittag,
        ["mittags"] | ["mittag"] | ["mittagszeit"] | ["mittagspause"] => PartOfDay::Mittag,
        ["frueher" | "fruehen", "nachmittag"]
        | ["fruehnachmittags"]
        | ["fruehnachmittag"]
        | ["frueh", "nachmittags"]
        | ["nachmittags", "frueh"] => PartOfDay::FruehNachmittag,
        ["nachmittags"] | ["nachmittag"] => PartOfDay::Nachmittag,
        ["spaeter" | "spaeten", "nachmittag"]
        | ["spaetnachmittags"]
        | ["spaetnachmittag"]
        | ["spaet", "nachmittags"]
        | ["nachmittags", "spaet"] => PartOfDay::SpaetNachmittag,
        ["abends"] | ["abend"] => PartOfDay::Abend,
        _ => return None,
    })
}

enum Range<'a> {
    From(&'a [&'a str]),
    Until(&'a [&'a str]),
    Between(&'a [&'a str], &'a [&'a str]),
}

fn is_from_word(w: &str) -> bool {
    matches!(
        fold(w).as_str(),
        "ab" | "nach" | "fruehestens" | "fruehstens" | "ab fruehestens"
    )
}

fn is_until_word(w: &str) -> bool {
    matches!(
        fold(w).as_str(),
        "bis" | "vor" | "spaetestens" | "spaetstens"
    )
}

/// The position and length of the separator of `X bis Y` / `X - Y` / `X aber
/// vor Y` in `rest` (never at its start).
fn separator(rest: &[&str], and: bool) -> Option<(usize, usize)> {
    for (i, w) in rest.iter().enumerate().skip(1) {
        match *w {
            "bis" | "-" => {
                // "bis spätestens 11"
                let extra = usize::from(rest.get(i + 1).is_some_and(|n| is_until_word(n)));
                return Some((i, 1 + extra));
            }
            "und" if and => return Some((i, 1)),
            "aber" | "und" if rest.get(i + 1).is_some_and(|n| is_until_word(n)) => {
                return Some((i, 2));
            }
            _ => {}
        }
    }
    None
}

fn range<'a>(w: &'a [&'a str]) -> Option<Range<'a>> {
    let first = *w.first()?;
    let split = |rest: &'a [&'a str], and: bool| -> Option<Range<'a>> {
        let (i, len) = separator(rest, and)?;
        Some(Range::Between(&rest[..i], &rest[i + len..]))
    };
    if first == "zwischen" {
        return split(&w[1..], true);
    }
    if first == "von" || first == "vom" {
        return split(&w[1..], false);
    }
    if is_from_word(first) {
        let rest = &w[1..];
        return split(rest, false).or(Some(Range::From(rest)));
    }
    if is_until_word(first) {
        let rest = &w[1..];
        let rest = match rest.first() {
            Some(n) if is_until_word(n) => &rest[1..],
            _ => rest,
        };
        return Some(Range::Until(rest));
    }
    let last = fold(w.last()?);
    match last.as_str() {
        "fruehestens" | "fruehstens" => return Some(Range::From(&w[..w.len() - 1])),
        "spaetestens" | "spaetstens" => return Some(Range::Until(&w[..w.len() - 1])),
        "spaeter" if w.len() >= 2 && w[w.len() - 2] == "oder" => {
            return Some(Range::From(&w[..w.len() - 2]));
        }
        _ => {}
    }
    split(w, false)
}

fn window_words(
    words: &[&str],
    hint: Option<PartOfDay>,
    in_hours: &dyn Fn(NaiveTime) -> bool,
) -> Option<TimeWindow> {
    if words.is_empty() || words.len() > 16 {
        return None;
    }
    if let Some(part) = part_of(words) {
        return Some(part.window());
    }
    // A part of the day before a range: "vormittags von 9 bis 11".
    let mut hint = hint;
    let mut rest = words;
    for len in [3, 2, 1] {
        if words.len() > len {
            if let Some(part) = part_of(&words[..len]) {
                if range(&words[len..]).is_some() {
                    hint = Some(part);
                    rest = &words[len..];
                    break;
                }
            }
        }
    }
    let choose = |c: ClockTime| -> NaiveTime {
        if let Some(part) = hint {
            let inside: Vec<NaiveTime> = c.readings().filter(|t| part.contains(*t)).collect();
            if let [only] = inside.as_slice() {
                return *only;
            }
        }
        c.pick(in_hours)
    };
    let end_of = |t: NaiveTime| if t == NaiveTime::MIN { END_OF_DAY } else { t };
    match range(rest)? {
        Range::From(x) => {
            let start = choose(bound(x)?);
            TimeWindow::span(start, END_OF_DAY, TimeWindowKind::From)
        }
        Range::Until(x) => {
            let end = end_of(choose(bound(x)?));
            TimeWindow::span(NaiveTime::MIN, end, TimeWindowKind::Until)
        }
        Range::Between(x, y) => {
            let (a, b) = (bound(x)?, bound(y)?);
            let (sa, eb) = (choose(a), choose(b));
            let other = |c: ClockTime, chosen: NaiveTime| {
                c.readings().find(|t| *t != chosen).unwrap_or(chosen)
            };
            let (oa, ob) = (other(a, sa), other(b, eb));
            [(sa, eb), (sa, ob), (oa, eb), (oa, ob)]
                .into_iter()
                .find_map(|(s, e)| TimeWindow::span(s, end_of(e), TimeWindowKind::Between))
        }
    }
}

/// One bound of a range: a clock time, never a window or empty.
fn bound(words: &[&str]) -> Option<ClockTime> {
    if words.is_empty()
        || words
            .iter()
            .any(|w| matches!(*w, "bis" | "-" | "zwischen" | "von" | "und" | "aber"))
    {
        return None;
    }
    parse_clock_lower(&words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// `time_wish_lower` without its fast path: every input through the
    /// word analysis.
    fn time_wish_by_words(
        lower: &str,
        hint: Option<PartOfDay>,
    ) -> Option<(TimeWish, Option<NaiveTime>)> {
        let words = words(lower);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if is_any(&words) {
            return Some((TimeWish::Any, None));
        }
        if let Some(window) = window_words(&words, hint, &typical_business_hours) {
            return Some((TimeWish::Window(window), None));
        }
        clock_wish(lower, hint)
    }

    proptest! {
        #[test]
        fn the_plain_clock_fast_path_answers_as_the_word_analysis(
            lower in "[0-9]{0,3}([:. ]{0,2}[0-9]{0,3}){0,2} ?(uhr|h)?",
            hint in prop_oneof![
                Just(None),
                Just(Some(PartOfDay::Morgen)),
                Just(Some(PartOfDay::Nachmittag)),
                Just(Some(PartOfDay::Abend)),
            ],
        ) {
            prop_assert_eq!(
                time_wish_lower(&lower, hint, &typical_business_hours),
                time_wish_by_words(&lower, hint),
                "{:?} (fast path taken: {})", lower, is_plain_clock(&lower)
            );
        }
    }

    #[test]
    fn plain_clock_strings_take_the_fast_path_and_windows_do_not() {
        for plain in ["10 uhr", "14:30", "9.15h", "7", "18:30uhr"] {
            assert!(is_plain_clock(plain), "{plain}");
        }
        for other in ["ab 10 uhr", "10-12", "egal", "uhr", "h", "", "10 bis 12"] {
            assert!(!is_plain_clock(other), "{other}");
        }
    }

    #[test]
    fn windows() {
        type Case = (&'static str, (u32, u32), (u32, u32));
        let cases: &[Case] = &[
            ("früh", (7, 0), (10, 0)),
            ("morgens", (7, 0), (10, 0)),
            ("am Morgen", (7, 0), (10, 0)),
            ("in der Früh", (7, 0), (10, 0)),
            ("vormittags", (9, 0), (12, 0)),
            ("am Vormittag", (9, 0), (12, 0)),
            ("mittags", (11, 0), (14, 0)),
            ("gegen Mittag", (11, 0), (14, 0)),
            ("über Mittag", (11, 0), (14, 0)),
            ("nachmittags", (12, 0), (18, 0)),
            ("am Nachmittag", (12, 0), (18, 0)),
            ("früher Nachmittag", (12, 0), (15, 0)),
            ("später Nachmittag", (15, 0), (18, 0)),
            ("spätnachmittags", (15, 0), (18, 0)),
            ("am späten Nachmittag", (15, 0), (18, 0)),
            ("abends", (18, 0), (22, 0)),
            ("am Abend", (18, 0), (22, 0)),
            ("nach 16 Uhr", (16, 0), (23, 59)),
            ("ab 16 Uhr", (16, 0), (23, 59)),
            ("ab halb drei", (14, 30), (23, 59)),
            ("vor 10", (0, 0), (10, 0)),
            ("bis 10 Uhr", (0, 0), (10, 0)),
            ("zwischen 14 und 16 Uhr", (14, 0), (16, 0)),
            ("von 14 bis 16 Uhr", (14, 0), (16, 0)),
            ("14-16 Uhr", (14, 0), (16, 0)),
            ("von 11 bis 2", (11, 0), (14, 0)),
            ("zwischen 2 und 4", (14, 0), (16, 0)),
            ("bis 2 Uhr nachmittags", (0, 0), (14, 0)),
            ("bis 11h vormittags", (0, 0), (11, 0)),
            ("vormittags von 9 bis 11", (9, 0), (11, 0)),
            ("nachmittags ab 3", (15, 0), (23, 59)),
            ("frühestens 14 Uhr", (14, 0), (23, 59)),
            ("11Uhr spätestens", (0, 0), (11, 0)),
            ("nach 9:30 aber vor 11:00", (9, 30), (11, 0)),
            ("18:30h - 19:00h", (18, 30), (19, 0)),
            ("bis Mitternacht", (0, 0), (23, 59)),
            ("ab viertel vor drei", (14, 45), (23, 59)),
            ("16 Uhr oder später", (16, 0), (23, 59)),
        ];
        for (input, (sh, sm), (eh, em)) in cases {
            let w = parse_time_window(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(w.start, t(*sh, *sm), "{input}");
            let end = if (*eh, *em) == (23, 59) {
                END_OF_DAY
            } else {
                t(*eh, *em)
            };
            assert_eq!(w.end, end, "{input}");
            assert_eq!(parse_time_window(&w.to_string()), Ok(w), "{input} → {w}");
        }
        for bad in [
            "",
            "14 Uhr",
            "halb drei",
            "zwischen 16 und 14 Uhr",
            "ab",
            "bis",
            "zwischen 14",
            "nachts",
            "Kuchen",
            "ab 25 Uhr",
            "von 14 bis 14",
        ] {
            assert_eq!(
                parse_time_window(bad),
                Err(ValidationError::InvalidTime),
                "{bad}"
            );
        }
    }

    #[test]
    fn hints_decide_ambiguous_hours() {
        let at = |s: &str, hint| time_wish_lower(s, hint, &typical_business_hours).unwrap();
        assert_eq!(
            at("um 7", Some(PartOfDay::Morgen)),
            (TimeWish::At(ClockTime::exact(t(7, 0))), Some(t(7, 0)))
        );
        assert_eq!(
            at("um 3", Some(PartOfDay::Nachmittag)),
            (TimeWish::At(ClockTime::exact(t(15, 0))), Some(t(15, 0)))
        );
        // No hint: both readings, and parse_time's value for compatibility.
        assert_eq!(
            at("um 7", None),
            (
                TimeWish::At(ClockTime {
                    literal: t(7, 0),
                    alternative: Some(t(19, 0))
                }),
                Some(t(19, 0))
            )
        );
        assert_eq!(at("ist mir egal", None), (TimeWish::Any, None));
    }
}
