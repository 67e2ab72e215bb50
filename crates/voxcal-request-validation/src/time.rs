//! German spoken clock times.

use chrono::NaiveTime;

use crate::error::ValidationError;
use crate::words;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DayPart {
    None,
    Morning,
    Noon,
    Afternoon,
    Night,
}

/// Parses a spoken or written German clock time.
///
/// Understood forms: `14:00`, `14.30`, `14 Uhr`, `14.30 Uhr`, `14 Uhr 30`,
/// `15h`, `um drei`, `halb drei`, `viertel nach zwei`, `viertel vor fünf`,
/// `dreiviertel fünf`, `viertel drei`, `zehn nach drei`, `fünf vor halb vier`,
/// `mittags`, `Mitternacht`, number words up to `vierundzwanzig`, fillers such
/// as `gegen`, `circa`, `ungefähr`, and the modifiers `morgens`, `früh`,
/// `vormittags`, `mittags`, `nachmittags`, `abends`, `nachts` (also `am
/// Nachmittag`, `in der Früh`).
///
/// # Which hour is meant
/// Business context: a spoken hour from 1 to 7 without a modifier means the
/// afternoon (`um drei` is 15:00, `halb drei` 14:30); 8 to 12 stay as said. A
/// modifier decides otherwise (`um 7 morgens` is 07:00). Hours written with a
/// leading zero (`07:30`) or above 12 are read on the 24-hour clock.
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::parse_time;
///
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// assert_eq!(parse_time("halb drei").unwrap(), t(14, 30));
/// assert_eq!(parse_time("fünf vor halb vier").unwrap(), t(15, 25));
/// assert_eq!(parse_time("14 Uhr 30").unwrap(), t(14, 30));
/// assert_eq!(parse_time("um 9 Uhr").unwrap(), t(9, 0));
/// ```
pub fn parse_time(input: &str) -> Result<NaiveTime, ValidationError> {
    let lower = input.trim().to_lowercase();
    if lower.contains("{{") {
        return Err(ValidationError::UnfilledPlaceholder);
    }
    parse_time_lower(&lower).ok_or(ValidationError::InvalidTime)
}

/// A clock time as the caller said it, with the other reading of an
/// ambiguous hour.
///
/// German callers name hours 1 to 12 without saying which half of the day
/// they mean: "um 7" is 07:00 or 19:00. [`parse_clock`] keeps both readings:
/// `literal` is the 24-hour reading of what was said (`um 7` → 07:00, `halb
/// acht` → 07:30, `um 3` → 03:00) and `alternative` the reading twelve hours
/// later (19:00, 19:30, 15:00). It is `None` when the phrase fixes the half of
/// the day: a modifier (`7 Uhr abends`, `morgens um 7`, `um 3 nachmittags`),
/// a 24-hour or leading-zero form (`19 Uhr`, `07:30`, `14:00`, `0 Uhr`) or a
/// named time (`Mitternacht`, `mittags`). When it is `Some`, it is always
/// `literal` + 12 hours (so `zwölf` has the alternative 00:00).
///
/// Use [`ClockTime::pick`] with the business's opening hours to decide.
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::{parse_clock, ClockTime};
///
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// let seven = parse_clock("7 Uhr").unwrap();
/// assert_eq!(seven, ClockTime { literal: t(7, 0), alternative: Some(t(19, 0)) });
/// assert_eq!(parse_clock("7 Uhr abends").unwrap().alternative, None);
/// assert_eq!(parse_clock("19 Uhr").unwrap(), ClockTime::exact(t(19, 0)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClockTime {
    /// The time as said, read on the 24-hour clock.
    pub literal: NaiveTime,
    /// The reading twelve hours later, for an hour from 1 to 12 said without
    /// a modifier; `None` when the phrase has one reading only.
    pub alternative: Option<NaiveTime>,
}

impl ClockTime {
    /// A time with one reading.
    ///
    /// ```
    /// use chrono::NaiveTime;
    /// use voxcal_request_validation::ClockTime;
    /// let t = NaiveTime::from_hms_opt(14, 0, 0).unwrap();
    /// assert_eq!(ClockTime::exact(t).pick(|_| false), t);
    /// ```
    pub fn exact(time: NaiveTime) -> Self {
        Self {
            literal: time,
            alternative: None,
        }
    }

    /// Whether the phrase had two readings.
    ///
    /// ```
    /// use voxcal_request_validation::parse_clock;
    /// assert!(parse_clock("halb drei").unwrap().is_ambiguous());
    /// assert!(!parse_clock("14:30").unwrap().is_ambiguous());
    /// ```
    pub fn is_ambiguous(&self) -> bool {
        self.alternative.is_some()
    }

    /// The readings, `literal` first.
    ///
    /// ```
    /// use chrono::NaiveTime;
    /// use voxcal_request_validation::parse_clock;
    /// let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    /// assert_eq!(parse_clock("um 3").unwrap().readings().collect::<Vec<_>>(), [t(3), t(15)]);
    /// ```
    pub fn readings(&self) -> impl Iterator<Item = NaiveTime> {
        std::iter::once(self.literal).chain(self.alternative)
    }

    /// The reading meant in context: `in_hours` says whether a time lies
    /// within the opening hours (or whatever window the caller talks about).
    ///
    /// **Rule:** when exactly one reading lies inside, that one; otherwise
    /// (both inside, or neither) the literal one, the time as said. A time
    /// with one reading is returned as is.
    ///
    /// With opening hours 09:00–18:00: `7` → 07:00 (neither 07:00 nor 19:00 is
    /// open, so the literal reading), `halb drei` → 14:30, `um 3` → 15:00,
    /// `um 10` → 10:00.
    ///
    /// ```
    /// use chrono::NaiveTime;
    /// use voxcal_request_validation::parse_clock;
    ///
    /// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    /// let open = |time: NaiveTime| t(9, 0) <= time && time < t(18, 0);
    /// assert_eq!(parse_clock("7").unwrap().pick(open), t(7, 0));
    /// assert_eq!(parse_clock("halb drei").unwrap().pick(open), t(14, 30));
    /// assert_eq!(parse_clock("um 3").unwrap().pick(open), t(15, 0));
    /// assert_eq!(parse_clock("um 10").unwrap().pick(open), t(10, 0));
    /// ```
    pub fn pick(&self, in_hours: impl Fn(NaiveTime) -> bool) -> NaiveTime {
        match self.alternative {
            Some(alternative) if !in_hours(self.literal) && in_hours(alternative) => alternative,
            _ => self.literal,
        }
    }
}

impl std::fmt::Display for ClockTime {
    /// `07:00` or `07:00/19:00`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.literal.format("%H:%M"))?;
        if let Some(alternative) = self.alternative {
            write!(f, "/{}", alternative.format("%H:%M"))?;
        }
        Ok(())
    }
}

/// Parses a spoken or written German clock time and keeps both readings of an
/// ambiguous hour (see [`ClockTime`]).
///
/// This is the context-aware successor of [`parse_time`]: it understands the
/// same forms, but instead of guessing the half of the day for `um 3` it
/// returns both readings, and the caller picks with [`ClockTime::pick`] and
/// the opening hours. Modifiers (`morgens`, `früh`, `vormittags`, `mittags`,
/// `nachmittags`, `abends`, `nachts`) decide as in [`parse_time`].
///
/// ```
/// use chrono::NaiveTime;
/// use voxcal_request_validation::parse_clock;
///
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// let c = parse_clock("viertel nach zwei").unwrap();
/// assert_eq!((c.literal, c.alternative), (t(2, 15), Some(t(14, 15))));
/// let c = parse_clock("morgens um 7").unwrap();
/// assert_eq!((c.literal, c.alternative), (t(7, 0), None));
/// assert!(parse_clock("Kuchen").is_err());
/// ```
pub fn parse_clock(input: &str) -> Result<ClockTime, ValidationError> {
    let lower = input.trim().to_lowercase();
    if lower.contains("{{") {
        return Err(ValidationError::UnfilledPlaceholder);
    }
    parse_clock_lower(&lower).ok_or(ValidationError::InvalidTime)
}

/// [`parse_clock`] on lower-cased text.
pub(crate) fn parse_clock_lower(lower: &str) -> Option<ClockTime> {
    let (minutes, ambiguous) = parse(lower, Hours::AsSaid)?;
    let literal = from_minutes(minutes);
    let alternative = ambiguous.then(|| from_minutes(minutes + 12 * 60));
    Some(ClockTime {
        literal,
        alternative,
    })
}

/// [`parse_time`] on lower-cased text.
pub(crate) fn parse_time_lower(lower: &str) -> Option<NaiveTime> {
    parse(lower, Hours::Business).map(|(m, _)| from_minutes(m))
}

fn from_minutes(minutes: u32) -> NaiveTime {
    let minutes = minutes % (24 * 60);
    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN)
}

/// How an hour from 1 to 12 without a modifier is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hours {
    /// `parse_time`'s business reading: 1–7 are the afternoon.
    Business,
    /// As said on the 24-hour clock, flagged as ambiguous.
    AsSaid,
}

struct Reader {
    hours: Hours,
    part: DayPart,
    ambiguous: bool,
}

impl Reader {
    /// The hour on the 24-hour clock.
    fn resolve(&mut self, hour: u32, literal: bool) -> Option<u32> {
        if self.part == DayPart::None && !literal && self.hours == Hours::AsSaid {
            if (1..=12).contains(&hour) {
                self.ambiguous = true;
            }
            return Some(hour % 24);
        }
        resolve(hour, literal, self.part)
    }
}

fn parse(lower: &str, hours: Hours) -> Option<(u32, bool)> {
    let spaced = split_units(lower);
    let mut part = DayPart::None;
    let mut tokens: Vec<&str> = Vec::new();
    for token in spaced.split_whitespace() {
        let token = token.trim_end_matches([',', '!', '?']);
        let this = match token {
            "morgens" | "früh" | "frueh" | "vormittags" | "morgen" | "vormittag" | "morgends" => {
                DayPart::Morning
            }
            "mittags" | "mittag" => DayPart::Noon,
            "nachmittags" | "nachmittag" | "abends" | "abend" => DayPart::Afternoon,
            "nachts" | "nacht" => DayPart::Night,
            _ => {
                if !is_filler(token) {
                    tokens.push(token);
                }
                continue;
            }
        };
        if part != DayPart::None && part != this {
            return None;
        }
        part = this;
    }
    let mut r = Reader {
        hours,
        part,
        ambiguous: false,
    };
    if tokens.last() == Some(&"uhr") {
        tokens.pop();
    }
    let minutes = match tokens.as_slice() {
        [] => match part {
            DayPart::Noon => 12 * 60,
            _ => return None,
        },
        ["mitternacht"] => 0,
        [clock] => {
            if let Some((h, m, literal)) = clock_literal(clock) {
                r.resolve(h, literal)? * 60 + m
            } else {
                let (h, literal) = hour_literal(clock)?;
                r.resolve(h, literal)? * 60
            }
        }
        ["halb", h] => before(r.resolve(hour(h)?, false)?, 30)?,
        ["viertel", "nach", h] => r.resolve(hour(h)?, false)? * 60 + 15,
        ["viertel", "vor", h] | ["dreiviertel", h] | ["drei", "viertel", h] => {
            before(r.resolve(hour(h)?, false)?, 15)?
        }
        ["viertel", h] => before(r.resolve(hour(h)?, false)?, 45)?,
        [m, "nach", "halb", h] => before(r.resolve(hour(h)?, false)?, 30 - small(m)?)?,
        [m, "vor", "halb", h] => before(r.resolve(hour(h)?, false)?, 30 + small(m)?)?,
        [m, "nach", h] => r.resolve(hour(h)?, false)? * 60 + minute(m)?,
        [m, "vor", h] => before(r.resolve(hour(h)?, false)?, minute(m)?)?,
        [h, "uhr", m] | [h, m] if minute(m).is_some() => {
            let (h, literal) = hour_literal(h)?;
            r.resolve(h, literal)? * 60 + minute(m)?
        }
        _ => return None,
    };
    Some((minutes % (24 * 60), r.ambiguous))
}

/// `18uhr` → `18 uhr`, `15h30` → `15 uhr 30`, `15h` → `15 uhr`.
pub(crate) fn split_units(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let digits = word.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &word[digits..];
        if digits > 0 && digits <= 2 {
            if let Some(after) = rest.strip_prefix("uhr").or_else(|| rest.strip_prefix('h')) {
                if after.is_empty() || after.bytes().all(|b| b.is_ascii_digit()) {
                    out.push_str(&word[..digits]);
                    out.push_str(" uhr");
                    if !after.is_empty() {
                        out.push(' ');
                        out.push_str(after);
                    }
                    continue;
                }
            }
        }
        out.push_str(word);
    }
    out
}

fn is_filler(token: &str) -> bool {
    matches!(
        token,
        "um" | "gegen"
            | "so"
            | "circa"
            | "zirka"
            | "ca"
            | "ca."
            | "etwa"
            | "ungefähr"
            | "ungefaehr"
            | "pünktlich"
            | "puenktlich"
            | "genau"
            | "am"
            | "in"
            | "der"
            | "den"
            | "minuten"
            | "minute"
            | "bitte"
            | "ab"
    )
}

/// `14:30`, `14.30`, `14:30:00`; the flag says "24-hour clock" (leading zero
/// or hour above 12).
fn clock_literal(token: &str) -> Option<(u32, u32, bool)> {
    let sep = if token.contains(':') { ':' } else { '.' };
    let mut parts = token.split(sep);
    let h = parts.next()?;
    let m = parts.next()?;
    if let Some(s) = parts.next() {
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) || parts.next().is_some() {
            return None;
        }
    }
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    if !h.bytes().all(|b| b.is_ascii_digit()) || !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hour, literal) = hour_literal(h)?;
    let minute: u32 = m.parse().ok()?;
    (minute < 60).then_some((hour, minute, literal))
}

fn hour_literal(token: &str) -> Option<(u32, bool)> {
    let h = hour(token)?;
    let leading_zero = token.len() == 2 && token.starts_with('0');
    Some((h, leading_zero || h > 12 || h == 0))
}

fn hour(token: &str) -> Option<u32> {
    words::number(token).filter(|h| *h <= 24)
}

fn minute(token: &str) -> Option<u32> {
    words::number(token).filter(|m| *m < 60)
}

fn small(token: &str) -> Option<u32> {
    words::number(token).filter(|m| (1..=29).contains(m))
}

/// The hour on the 24-hour clock.
fn resolve(hour: u32, literal: bool, part: DayPart) -> Option<u32> {
    if hour == 24 {
        return Some(0);
    }
    if part == DayPart::Morning && hour > 12 {
        return None;
    }
    if literal {
        return match part {
            DayPart::Morning if hour >= 12 => None,
            _ => Some(hour),
        };
    }
    Some(match part {
        DayPart::None => {
            if (1..=7).contains(&hour) {
                hour + 12
            } else {
                hour
            }
        }
        DayPart::Morning => hour,
        DayPart::Noon => {
            if (1..=4).contains(&hour) {
                hour + 12
            } else {
                hour
            }
        }
        DayPart::Afternoon => {
            if hour < 12 {
                hour + 12
            } else {
                hour
            }
        }
        DayPart::Night => {
            if (6..12).contains(&hour) {
                hour + 12
            } else if hour == 12 {
                0
            } else {
                hour
            }
        }
    })
}

/// `minutes` before the full hour `hour`.
fn before(hour: u32, minutes: u32) -> Option<u32> {
    (hour * 60 + 24 * 60).checked_sub(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("14:00", (14, 0)),
            ("14 Uhr", (14, 0)),
            ("14.30", (14, 30)),
            ("14.30 Uhr", (14, 30)),
            ("14 Uhr 30", (14, 30)),
            ("vierzehn Uhr dreißig", (14, 30)),
            ("um drei", (15, 0)),
            ("halb drei", (14, 30)),
            ("viertel nach zwei", (14, 15)),
            ("viertel vor fünf", (16, 45)),
            ("dreiviertel fünf", (16, 45)),
            ("viertel drei", (14, 15)),
            ("zehn nach drei", (15, 10)),
            ("fünf vor halb vier", (15, 25)),
            ("fünf nach halb vier", (15, 35)),
            ("mittags", (12, 0)),
            ("um 7 morgens", (7, 0)),
            ("um acht", (8, 0)),
            ("halb neun vormittags", (8, 30)),
            ("8 Uhr abends", (20, 0)),
            ("halb eins", (12, 30)),
            ("um eins mittags", (13, 0)),
            ("07:30", (7, 30)),
            ("15h", (15, 0)),
            ("18Uhr", (18, 0)),
            ("15h30", (15, 30)),
            ("vierundzwanzig Uhr", (0, 0)),
            ("zwölf", (12, 0)),
            ("10:15:00", (10, 15)),
            ("gegen 15 Uhr", (15, 0)),
            ("um 4 in der früh", (4, 0)),
            ("um 3 am Nachmittag", (15, 0)),
        ];
        for (input, (h, m)) in cases {
            assert_eq!(
                parse_time(input),
                Ok(NaiveTime::from_hms_opt(h, m, 0).unwrap()),
                "{input}"
            );
        }
        for bad in [
            "",
            "25 Uhr",
            "14:60",
            "halb",
            "Kuchen",
            "abends morgens 3",
            "13 Uhr morgens",
        ] {
            assert_eq!(parse_time(bad), Err(ValidationError::InvalidTime), "{bad}");
        }
    }
}
