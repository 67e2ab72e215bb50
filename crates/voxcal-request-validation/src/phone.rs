//! Spoken and typed phone numbers to E.164.

use phonenumber::country::Id;
use std::borrow::Cow;

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::error::ValidationError;

const MAX_DIGITS: usize = 20;
/// The field limit, applied to the number once spoken digit words are
/// converted (a spoken number is naturally longer than its digits).
const MAX_CHARS: usize = 40;
/// E.164: country code and national number together have at most 15 digits.
const MAX_E164_DIGITS: usize = 15;

/// Converts a spoken or typed phone number to E.164 (`+4917112345678`).
///
/// Spoken digit words come first (`null eins sieben eins …`, `zwo`, `plus
/// vier neun`, `doppel null`); afterwards only `0-9 + ( ) / - .` and spaces
/// are allowed, at most 40 characters. The number is parsed with the `phonenumber` crate, default
/// region DE, and must be a valid number of at most 15 digits (E.164).
///
/// ```
/// use voxcal_request_validation::normalize_phone;
///
/// assert_eq!(normalize_phone("0171 / 123 45 67").unwrap(), "+491711234567");
/// assert_eq!(normalize_phone("null eins sieben eins eins zwei drei vier fünf sechs sieben").unwrap(), "+491711234567");
/// assert!(normalize_phone("0171 1234567 <script>").is_err());
/// ```
pub fn normalize_phone(input: &str) -> Result<String, ValidationError> {
    let normalized: Cow<'_, str> = if is_nfkc_quick(input.chars()) == IsNormalized::Yes {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(input.nfkc().collect())
    };
    let trimmed = normalized.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::Required);
    }
    if trimmed.contains("{{") {
        return Err(ValidationError::UnfilledPlaceholder);
    }
    let digits = spoken_digits(trimmed).ok_or(ValidationError::InvalidPhone)?;
    let actual = digits.chars().count();
    if actual > MAX_CHARS {
        return Err(ValidationError::TooLong {
            max: MAX_CHARS,
            actual,
        });
    }
    let count = digits.bytes().filter(u8::is_ascii_digit).count();
    if count == 0 || count > MAX_DIGITS {
        return Err(ValidationError::InvalidPhone);
    }
    let number =
        phonenumber::parse(Some(Id::DE), &digits).map_err(|_| ValidationError::InvalidPhone)?;
    if !phonenumber::is_valid(&number) {
        return Err(ValidationError::InvalidPhone);
    }
    // E.164 is the country code and the national number (with any leading
    // zeros it keeps), exactly what `Mode::E164` writes, without the
    // formatter's metadata lookup.
    let e164 = format!("+{}{}", number.code().value(), number.national());
    // The metadata accepts some German numbers longer than E.164 allows
    // (found by fuzzing: `2017272 / 123 4 1257`); E.164 has at most 15 digits.
    if e164.len() - 1 > MAX_E164_DIGITS {
        return Err(ValidationError::InvalidPhone);
    }
    Ok(e164)
}

/// Replaces digit words and drops the spaces (the parser is faster on a
/// compact string); `None` when a character outside the allowed set remains.
fn spoken_digits(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut repeat = 1;
    for token in s.split_whitespace() {
        if repeat == 1 && token.bytes().all(is_phone_char) {
            out.push_str(token);
            continue;
        }
        let lower = token.to_lowercase();
        let word = lower.trim_end_matches([',', ';']);
        let digit = match word {
            "null" => Some('0'),
            "eins" | "ein" | "eine" => Some('1'),
            "zwei" | "zwo" => Some('2'),
            "drei" => Some('3'),
            "vier" => Some('4'),
            "fünf" | "fuenf" => Some('5'),
            "sechs" => Some('6'),
            "sieben" => Some('7'),
            "acht" => Some('8'),
            "neun" => Some('9'),
            _ => None,
        };
        if let Some(d) = digit {
            for _ in 0..repeat {
                out.push(d);
            }
            repeat = 1;
            continue;
        }
        match word {
            "plus" => out.push('+'),
            "doppel" | "doppelt" => {
                repeat = 2;
                continue;
            }
            "dreifach" => {
                repeat = 3;
                continue;
            }
            _ => {
                if !word.bytes().all(is_phone_char) {
                    return None;
                }
                out.push_str(word);
            }
        }
        if repeat != 1 {
            return None;
        }
    }
    if repeat != 1 {
        return None;
    }
    Some(out)
}

fn is_phone_char(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'+' | b'(' | b')' | b'/' | b'-' | b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_matches_the_crates_formatter() {
        for input in [
            "0171 1234567",
            "030 12345678",
            "+1 650 253 0000",
            "+44 20 7946 0958",
        ] {
            let number = phonenumber::parse(Some(Id::DE), input).unwrap();
            assert!(number.is_valid(), "{input}");
            let ours = normalize_phone(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                ours,
                number.format().mode(phonenumber::Mode::E164).to_string(),
                "{input}"
            );
        }
    }

    #[test]
    fn longer_than_e164_is_refused() {
        // Found by fuzzing: the metadata calls this a valid German number, but
        // `+49201727212341257` has 17 digits and E.164 allows at most 15.
        assert_eq!(
            normalize_phone("2017272 / 123 4 1257"),
            Err(ValidationError::InvalidPhone)
        );
        // 15 digits are still fine.
        assert_eq!(
            normalize_phone("+49 30 12345678901")
                .as_deref()
                .map(str::len),
            Ok(16)
        );
    }

    #[test]
    fn table() {
        for (input, expected) in [
            ("0171 1234567", "+491711234567"),
            ("+49 (0)30 123456-78", "+493012345678"),
            ("030/12345678", "+493012345678"),
            ("0049 30 12345678", "+493012345678"),
            (
                "plus vier neun eins sieben eins eins zwei drei vier fünf sechs sieben",
                "+491711234567",
            ),
            (
                "null drei null doppel eins zwei drei vier fünf sechs",
                "+49301123456",
            ),
            ("+43 1 2345678", "+4312345678"),
        ] {
            let expected = expected.replace(' ', "");
            assert_eq!(
                normalize_phone(input).as_deref(),
                Ok(expected.as_str()),
                "{input}"
            );
        }
        for bad in [
            "abc",
            "0171 123456a",
            "123",
            "0171 1234567 <b>",
            "",
            "+49 0000",
        ] {
            assert!(normalize_phone(bad).is_err(), "{bad}");
        }
    }
}
