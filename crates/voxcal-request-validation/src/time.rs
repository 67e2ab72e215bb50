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
    parse(&lower).ok_or(ValidationError::InvalidTime)
}

fn parse(lower: &str) -> Option<NaiveTime> {
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
                resolve(h, literal, part)? * 60 + m
            } else {
                let (h, literal) = hour_literal(clock)?;
                resolve(h, literal, part)? * 60
            }
        }
        ["halb", h] => before(resolve(hour(h)?, false, part)?, 30)?,
        ["viertel", "nach", h] => resolve(hour(h)?, false, part)? * 60 + 15,
        ["viertel", "vor", h] | ["dreiviertel", h] | ["drei", "viertel", h] => {
            before(resolve(hour(h)?, false, part)?, 15)?
        }
        ["viertel", h] => before(resolve(hour(h)?, false, part)?, 45)?,
        [m, "nach", "halb", h] => before(resolve(hour(h)?, false, part)?, 30 - small(m)?)?,
        [m, "vor", "halb", h] => before(resolve(hour(h)?, false, part)?, 30 + small(m)?)?,
        [m, "nach", h] => resolve(hour(h)?, false, part)? * 60 + minute(m)?,
        [m, "vor", h] => before(resolve(hour(h)?, false, part)?, minute(m)?)?,
        [h, "uhr", m] | [h, m] if minute(m).is_some() => {
            let (h, literal) = hour_literal(h)?;
            resolve(h, literal, part)? * 60 + minute(m)?
        }
        _ => return None,
    };
    let minutes = minutes % (24 * 60);
    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0)
}

/// `18uhr` → `18 uhr`, `15h30` → `15 uhr 30`, `15h` → `15 uhr`.
fn split_units(s: &str) -> String {
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
