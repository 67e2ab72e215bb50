//! German number words, shared by the date, time and phone parsers.

/// `0..=59` from digits or a German number word (`drei`, `zwo`,
/// `vierundzwanzig`, `dreißig`/`dreissig`, `fuenf`).
pub(crate) fn number(word: &str) -> Option<u32> {
    if !word.is_empty() && word.len() <= 4 && word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok();
    }
    if let Some(n) = unit_or_teen(word) {
        return Some(n);
    }
    if let Some(n) = tens(word) {
        return Some(n);
    }
    let (unit, ten) = word.split_once("und")?;
    let unit = match unit {
        "ein" => 1,
        other => match unit_or_teen(other)? {
            n @ 2..=9 => n,
            _ => return None,
        },
    };
    Some(tens(ten)? + unit)
}

fn unit_or_teen(word: &str) -> Option<u32> {
    Some(match word {
        "null" => 0,
        "ein" | "eins" | "eine" | "einem" | "einer" | "einen" => 1,
        "zwei" | "zwo" => 2,
        "drei" => 3,
        "vier" => 4,
        "fünf" | "fuenf" => 5,
        "sechs" => 6,
        "sieben" => 7,
        "acht" => 8,
        "neun" => 9,
        "zehn" => 10,
        "elf" => 11,
        "zwölf" | "zwoelf" => 12,
        "dreizehn" => 13,
        "vierzehn" => 14,
        "fünfzehn" | "fuenfzehn" => 15,
        "sechzehn" => 16,
        "siebzehn" => 17,
        "achtzehn" => 18,
        "neunzehn" => 19,
        _ => return None,
    })
}

fn tens(word: &str) -> Option<u32> {
    Some(match word {
        "zwanzig" => 20,
        "dreißig" | "dreissig" => 30,
        "vierzig" => 40,
        "fünfzig" | "fuenfzig" => 50,
        _ => return None,
    })
}

/// A day-of-month ordinal: `15.`, `15te`, `15ten`, `dritten`, `erster`,
/// `einundzwanzigsten`.
pub(crate) fn ordinal(word: &str) -> Option<u32> {
    if let Some(digits) = word.strip_suffix('.') {
        if !digits.is_empty() && digits.len() <= 2 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse().ok();
        }
        return None;
    }
    let digit_end = word.bytes().take_while(u8::is_ascii_digit).count();
    if digit_end > 0 {
        let suffix = &word[digit_end..];
        return match suffix {
            "te" | "ten" | "ter" | "tes" | "tem" => word[..digit_end].parse().ok(),
            _ => None,
        };
    }
    for suffix in [
        "sten", "ster", "stes", "stem", "ste", "ten", "ter", "tes", "tem", "te",
    ] {
        if let Some(stem) = word.strip_suffix(suffix) {
            let n = match stem {
                "er" | "ers" => Some(1),
                "drit" => Some(3),
                "sieb" => Some(7),
                "ach" => Some(8),
                other => number(other).filter(|n| *n >= 2),
            };
            if n.is_some() {
                return n;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for (w, n) in [
            ("null", 0),
            ("eins", 1),
            ("zwo", 2),
            ("zwölf", 12),
            ("einundzwanzig", 21),
            ("vierundzwanzig", 24),
            ("dreißig", 30),
            ("neunundfünfzig", 59),
            ("07", 7),
        ] {
            assert_eq!(number(w), Some(n), "{w}");
        }
        assert_eq!(number("zwölfundzwanzig"), None);
        assert_eq!(number("und"), None);
    }

    #[test]
    fn ordinals() {
        for (w, n) in [
            ("15.", 15),
            ("15te", 15),
            ("3ten", 3),
            ("ersten", 1),
            ("erster", 1),
            ("dritten", 3),
            ("siebten", 7),
            ("achte", 8),
            ("zwanzigsten", 20),
            ("einunddreißigsten", 31),
            ("zweiten", 2),
        ] {
            assert_eq!(ordinal(w), Some(n), "{w}");
        }
        assert_eq!(ordinal("15"), None);
        assert_eq!(ordinal("morgen"), None);
    }
}
