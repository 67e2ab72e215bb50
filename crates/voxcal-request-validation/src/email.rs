//! Spoken e-mail addresses and the strict address policy.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::error::ValidationError;

const MAX_LOCAL: usize = 64;
const MAX_ADDRESS: usize = 254;
const MAX_LABEL: usize = 63;
const MAX_DOMAIN: usize = 253;
/// Special-use names (RFC 6761, 6762, 7686, 9476) that never receive mail.
const RESERVED_TLDS: &[&str] = &[
    "arpa",
    "invalid",
    "local",
    "localhost",
    "onion",
    "test",
    "alt",
];

/// Normalizes a spoken or typed e-mail address and checks it against a strict
/// policy.
///
/// Normalization: Unicode NFKC; when the input has spaces (speech-to-text),
/// the words `at`/`ät` become `@`, `punkt`/`dot` `.`, `minus`/`bindestrich`
/// `-`, `unterstrich`/`underscore` `_`, and the spaces are dropped.
///
/// Policy: exactly one `@`; a dot-atom local part of at most 64 octets (ASCII
/// letters, digits, ``!#$%&'*+-/=?^_`{|}~`` and non-ASCII letters and digits;
/// no leading, trailing or double dots; no quoted local part); a domain of at
/// least two labels (letters incl. IDN, digits, inner hyphens, at most 63
/// octets each in IDNA ASCII form, `xn--` labels must decode, a top-level
/// label of letters, no domain literal),
/// lower-cased, not under a special-use top-level name (`.test`, `.invalid`,
/// `.localhost`, `.local`, `.onion`, `.arpa`, `.alt`); at most 254 octets in total. Control, bidi and zero-width
/// characters are refused, never silently removed.
///
/// ```
/// use voxcal_request_validation::normalize_email;
///
/// assert_eq!(normalize_email("max punkt müller at GMX punkt de").unwrap(), "max.müller@gmx.de");
/// assert_eq!(normalize_email("Info@Example.COM").unwrap(), "Info@example.com");
/// assert!(normalize_email("max at gmx").is_err());
/// ```
pub fn normalize_email(input: &str) -> Result<String, ValidationError> {
    let trimmed = input.trim_matches(' ');
    if trimmed.is_empty() {
        return Err(ValidationError::Required);
    }
    if trimmed.contains("{{") {
        return Err(ValidationError::UnfilledPlaceholder);
    }
    // Speech-to-text leaves plain spaces; any other whitespace, control or
    // invisible character is refused, before NFKC could turn it into a space.
    if trimmed
        .chars()
        .any(|c| c.is_control() || is_format(c) || (c.is_whitespace() && c != ' '))
    {
        return Err(ValidationError::InvalidEmail);
    }
    let normalized: String = if is_nfkc_quick(trimmed.chars()) == IsNormalized::Yes {
        trimmed.to_owned()
    } else {
        trimmed.nfkc().collect()
    };
    if normalized.chars().any(|c| c.is_control() || is_format(c)) {
        return Err(ValidationError::InvalidEmail);
    }
    let joined = if normalized.contains(' ') {
        spoken(&normalized)
    } else {
        normalized
    };
    check(&joined).ok_or(ValidationError::InvalidEmail)
}

fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

fn spoken(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for token in s.split(' ').filter(|t| !t.is_empty()) {
        let lower;
        let key = if token.bytes().any(|b| b.is_ascii_uppercase()) || !token.is_ascii() {
            lower = token.to_lowercase();
            lower.as_str()
        } else {
            token
        };
        let mapped = match key {
            "at" | "ät" | "(at)" | "[at]" => "@",
            "punkt" | "dot" | "(punkt)" | "(dot)" | "[dot]" => ".",
            "minus" | "bindestrich" | "strich" | "dash" | "hyphen" => "-",
            "unterstrich" | "underscore" | "tiefstrich" => "_",
            _ => token,
        };
        out.push_str(mapped);
    }
    out
}

fn check(address: &str) -> Option<String> {
    let (local, domain) = address.split_once('@')?;
    if domain.contains('@') || local.is_empty() || local.len() > MAX_LOCAL {
        return None;
    }
    if !dot_atom(local) {
        return None;
    }
    let domain = domain.to_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    let mut ascii_len = labels.len() - 1;
    for label in &labels {
        ascii_len += label_ascii_len(label)?;
    }
    let tld = labels.last()?;
    let tld_ok = tld.starts_with("xn--")
        || tld.chars().next().is_some_and(char::is_alphabetic)
            && tld.chars().all(|c| c.is_alphabetic() || is_mark(c));
    if !tld_ok || RESERVED_TLDS.contains(tld) {
        return None;
    }
    let out = format!("{local}@{domain}");
    let ascii_total = local.len() + 1 + ascii_len;
    (out.len() <= MAX_ADDRESS && ascii_total <= MAX_ADDRESS && ascii_len <= MAX_DOMAIN)
        .then_some(out)
}

/// Atoms separated by single dots; an atom is ASCII atext or non-ASCII letters
/// and digits, with combining marks allowed after the first character.
fn dot_atom(s: &str) -> bool {
    s.split('.').all(|atom| {
        let mut chars = atom.chars();
        chars.next().is_some_and(is_atext) && chars.all(|c| is_atext(c) || is_mark(c))
    })
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && c.is_alphanumeric())
}

/// A combining mark (Unicode general category M: accents, Indic vowel signs
/// and viramas, Thai vowels), which letters in IDN names and local parts
/// carry.
fn is_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

/// The label's length in its ASCII (IDNA) form, or `None` when it breaks the
/// label rules: letters, digits and inner hyphens; hyphens in positions 3–4
/// only for a decodable `xn--` label; at most 63 octets in ASCII form.
fn label_ascii_len(label: &str) -> Option<usize> {
    let mut chars = label.chars();
    let first_ok = chars.next().is_some_and(char::is_alphanumeric);
    if !first_ok
        || label.ends_with('-')
        || !chars.all(|c| c == '-' || c.is_alphanumeric() || is_mark(c))
    {
        return None;
    }
    if label.is_ascii() {
        if label.get(2..4) == Some("--") {
            let punycode = label.strip_prefix("xn--")?;
            // RFC 3492 via `idna`: well-formed, and not a disguised ASCII label.
            if idna::punycode::decode_to_string(punycode).is_none_or(|s| s.is_ascii()) {
                return None;
            }
        }
        return (label.len() <= MAX_LABEL).then_some(label.len());
    }
    let len = "xn--".len() + idna::punycode::encode_str(label)?.len();
    (len <= MAX_LABEL).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_forms() {
        for (input, expected) in [
            ("max punkt müller at gmx punkt de", "max.müller@gmx.de"),
            (
                "Anna Unterstrich Schmidt ät web Punkt de",
                "Anna_Schmidt@web.de",
            ),
            (
                "info minus team at firma minus x punkt com",
                "info-team@firma-x.com",
            ),
            ("max @ gmx . de", "max@gmx.de"),
            ("m a x at g m x punkt d e", "max@gmx.de"),
            ("user@Bücher.DE", "user@bücher.de"),
            ("ｍａｘ＠ｇｍｘ．ｄｅ", "max@gmx.de"),
        ] {
            assert_eq!(normalize_email(input).as_deref(), Ok(expected), "{input}");
        }
    }

    /// IDN labels are measured in their Punycode form (RFC 3492) and `xn--`
    /// labels must decode to a non-ASCII name.
    #[test]
    fn idn_labels_in_ascii_form() {
        // bücher -> xn--bcher-kva, münchen -> xn--mnchen-3ya, 例え -> xn--r8jz45g.
        assert_eq!(label_ascii_len("bücher"), Some("xn--bcher-kva".len()));
        assert_eq!(label_ascii_len("münchen"), Some("xn--mnchen-3ya".len()));
        assert_eq!(label_ascii_len("例え"), Some("xn--r8jz45g".len()));
        assert_eq!(label_ascii_len("xn--bcher-kva"), Some(13));
        assert_eq!(label_ascii_len("xn--hxajbheg2az3al"), Some(18));
        assert_eq!(
            label_ascii_len("xn--0"),
            None,
            "decodes to nothing non-ASCII"
        );
        assert_eq!(label_ascii_len("xn--abc-"), None, "trailing hyphen");
        assert_eq!(
            label_ascii_len("ab--cd"),
            None,
            "hyphens in 3-4 without xn--"
        );
        // 62 octets in UTF-8, but 67 in ASCII form (xn--aaa…a-…): too long.
        let long = format!("{}ü", "a".repeat(60));
        assert_eq!(long.len(), 62);
        assert_eq!(label_ascii_len(&long), None);
        assert_eq!(
            normalize_email("max@bücher.de").as_deref(),
            Ok("max@bücher.de")
        );
        assert_eq!(
            normalize_email("max@xn--bcher-kva.de").as_deref(),
            Ok("max@xn--bcher-kva.de")
        );
        assert!(normalize_email("max@xn--0.de").is_err());
    }

    #[test]
    fn policy_rejections() {
        for bad in [
            "max at gmx",
            "max@gmx",
            ".max@gmx.de",
            "max.@gmx.de",
            "ma..x@gmx.de",
            "max@gmx..de",
            "\"max\"@gmx.de",
            "max@[127.0.0.1]",
            "max@-gmx.de",
            "max@gmx.123",
            "max@@gmx.de",
            "max\u{200B}@gmx.de",
            "max@gmx.de\n",
            "<max@gmx.de>",
        ] {
            assert_eq!(
                normalize_email(bad),
                Err(ValidationError::InvalidEmail),
                "{bad}"
            );
        }
        let long_local = format!("{}@gmx.de", "a".repeat(65));
        assert!(normalize_email(&long_local).is_err());
        let ok_local = format!("{}@gmx.de", "a".repeat(64));
        assert!(normalize_email(&ok_local).is_ok());
    }
}
