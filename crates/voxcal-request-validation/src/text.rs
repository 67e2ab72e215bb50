//! Text hygiene: every string argument passes through [`clean_text`].

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::error::ValidationError;

/// Elements whose content is dropped together with the tag: scripts and
/// styles, and the raw-text elements whose content the HTML parser does not
/// read as markup (it would otherwise come back as literal tags).
const CONTENT_DROPPED: &[&str] = &[
    "script",
    "style",
    "title",
    "textarea",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
    "template",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .clean_content_tags(CONTENT_DROPPED.iter().copied().collect::<HashSet<_>>())
        .strip_comments(true);
    builder
});

/// Cleans one free-text value: Unicode NFKC, markup removed to plain text with
/// an HTML parser (`ammonia`), the sanitizer's entities decoded exactly once,
/// control, bidi-override and zero-width characters removed, whitespace
/// collapsed.
///
/// Returns [`ValidationError::MarkupOnly`] when the input had content but
/// nothing is left, [`ValidationError::Required`] when it was blank, and
/// [`ValidationError::UnsafeContent`] when the plain text still reads as
/// markup or script (entity-encoded tags such as `&lt;script&gt;`,
/// `javascript:` URLs, `onerror=` handlers). Every `Ok` value is stable:
/// cleaning it again returns it unchanged.
///
/// ```
/// use voxcal_request_validation::clean_text;
///
/// assert_eq!(clean_text("  <b>Max</b>   Müller-Lüdenscheidt ").unwrap(), "Max Müller-Lüdenscheidt");
/// assert_eq!(clean_text("O&#39;Brien").unwrap(), "O'Brien");
/// assert!(clean_text("<script>alert(1)</script>").is_err());
/// ```
pub fn clean_text(input: &str) -> Result<String, ValidationError> {
    if input.trim().is_empty() {
        return Err(ValidationError::Required);
    }
    let cleaned = pass(input);
    if cleaned.is_empty() {
        return Err(ValidationError::MarkupOnly);
    }
    if looks_unsafe(&cleaned) {
        return Err(ValidationError::UnsafeContent);
    }
    // Text holding `<` or `&` may still parse as markup or entities; only keep
    // it when a second pass does not change it.
    if (cleaned.contains('<') || cleaned.contains('&')) && pass(&cleaned) != cleaned {
        return Err(ValidationError::UnsafeContent);
    }
    Ok(cleaned)
}

/// [`clean_text`] followed by a length limit counted in characters.
pub fn clean_text_max(input: &str, max_chars: usize) -> Result<String, ValidationError> {
    let cleaned = clean_text(input)?;
    let actual = cleaned.chars().count();
    if actual > max_chars {
        return Err(ValidationError::TooLong {
            max: max_chars,
            actual,
        });
    }
    Ok(cleaned)
}

/// One pass of the pipeline, in the order the policy prescribes.
fn pass(input: &str) -> String {
    // Printable ASCII without `<` and `&` is already NFKC, holds no markup and
    // no invisible characters: only whitespace needs collapsing.
    if input
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'<' && b != b'&' || b == b'\t' || b == b'\n')
    {
        return collapse_whitespace(input);
    }
    let normalized: String = if is_nfkc_quick(input.chars()) == IsNormalized::Yes {
        input.to_owned()
    } else {
        input.nfkc().collect()
    };
    // Without `<` or `&` the HTML parser returns the text unchanged (it only
    // rewrites NUL and CR, both removed below), so skip it.
    let plain = if normalized.contains('<') || normalized.contains('&') {
        decode_sanitizer_entities(&SANITIZER.clean(&normalized).to_string())
    } else {
        normalized
    };
    let stripped: String = plain.chars().filter(|c| !is_invisible(*c)).collect();
    // Removing characters or decoding may leave a sequence that is not NFKC
    // (a decoded `&#xFF1C;`): normalize again so the result is stable.
    let renormalized: String = if is_nfkc_quick(stripped.chars()) == IsNormalized::Yes {
        stripped
    } else {
        stripped.nfkc().filter(|c| !is_invisible(*c)).collect()
    };
    collapse_whitespace(&renormalized)
}

/// Decodes the entities ammonia's serializer writes (`&amp; &lt; &gt; &quot;
/// &nbsp;`), exactly once: `&amp;lt;` becomes `&lt;`, not `<`.
fn decode_sanitizer_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let (replacement, len) = if tail.starts_with("&amp;") {
            ("&", 5)
        } else if tail.starts_with("&lt;") {
            ("<", 4)
        } else if tail.starts_with("&gt;") {
            (">", 4)
        } else if tail.starts_with("&quot;") {
            ("\"", 6)
        } else if tail.starts_with("&nbsp;") {
            ("\u{a0}", 6)
        } else if tail.starts_with("&#39;") {
            ("'", 5)
        } else {
            ("&", 1)
        };
        out.push_str(replacement);
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// Control characters (except whitespace, which is collapsed later), bidi
/// overrides and isolates, zero-width characters and other invisible format
/// characters.
fn is_invisible(c: char) -> bool {
    if c.is_control() {
        return !matches!(c, '\t' | '\n' | '\r');
    }
    matches!(
        c,
        '\u{00AD}'             // soft hyphen
        | '\u{034F}'           // combining grapheme joiner
        | '\u{061C}'           // arabic letter mark
        | '\u{115F}' | '\u{1160}'
        | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, isolates
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FEFF}'               // BOM / zero-width no-break space
        | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E007F}' // tags
        | '\u{E0100}'..='\u{E01EF}'
    )
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Script that survives as plain text is still refused: it would be live again
/// wherever the value is pasted into HTML.
fn looks_unsafe(s: &str) -> bool {
    let lower = s.to_lowercase();
    if lower.contains("javascript:")
        || lower.contains("vbscript:")
        || lower.contains("data:text/html")
    {
        return true;
    }
    let bytes = lower.as_bytes();
    has_tag_opener(bytes) || has_event_handler(bytes)
}

/// `<` followed by a letter, `/`, `!` or `?`.
fn has_tag_opener(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'!' | b'?')))
}

/// `on<letters>` optionally followed by whitespace, then `=`, where `on` does
/// not continue a word.
pub(crate) fn has_event_handler(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i + 2 < bytes.len() {
        if bytes[i] == b'o'
            && bytes[i + 1] == b'n'
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
        {
            let mut j = i + 2;
            while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
                j += 1;
            }
            if j > i + 2 {
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j < bytes.len() && bytes[j] == b'=' {
                    return true;
                }
            }
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, ValidationError>)] = &[
            ("Max Müller", Ok("Max Müller")),
            ("<b>Max</b>", Ok("Max")),
            ("Müller-Lüdenscheidt", Ok("Müller-Lüdenscheidt")),
            ("O'Brien", Ok("O'Brien")),
            ("Straße  \t\n 5", Ok("Straße 5")),
            ("Tom &amp; Jerry", Ok("Tom & Jerry")),
            ("a < b", Ok("a < b")),
            ("Max\u{200B}Mül\u{202E}ler", Ok("MaxMüller")),
            ("Ｍａｘ", Ok("Max")),
            ("\u{0007}Max\u{0000}", Ok("Max")),
            (
                "<script>alert(1)</script>",
                Err(ValidationError::MarkupOnly),
            ),
            (
                "＜script＞alert(1)＜/script＞",
                Err(ValidationError::MarkupOnly),
            ),
            (
                "<img src=x onerror=alert(1)>",
                Err(ValidationError::MarkupOnly),
            ),
            (
                "<img src=x onerror=alert(1)//",
                Err(ValidationError::MarkupOnly),
            ),
            ("Max <img src=x onerror=alert(1)//", Ok("Max")),
            ("&lt;script&gt;", Err(ValidationError::UnsafeContent)),
            ("javascript:alert(1)", Err(ValidationError::UnsafeContent)),
            (
                "x\" onmouseover=\"alert(1)",
                Err(ValidationError::UnsafeContent),
            ),
            ("   ", Err(ValidationError::Required)),
        ];
        for (input, expected) in cases {
            assert_eq!(
                clean_text(input).as_deref().map_err(Clone::clone),
                expected.clone(),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn entities_are_decoded_once() {
        assert_eq!(pass("&amp;amp;"), "&amp;");
        assert_eq!(decode_sanitizer_entities("&amp;lt;"), "&lt;");
    }

    #[test]
    fn limits_count_characters() {
        assert_eq!(clean_text_max("ääää", 4).unwrap(), "ääää");
        assert_eq!(
            clean_text_max("äääää", 4),
            Err(ValidationError::TooLong { max: 4, actual: 5 })
        );
    }
}
