//! JSON strings inside log text: how a replaced bare number is quoted, escape
//! sequences, whether a position lies inside a string, and where strings and
//! brackets end.

use super::Quote;
use crate::detect::word_end;

/// A bare number that is a JSON value (`[4111…]`, `"n":4111…,`) must be
/// replaced by a JSON string: quoted, or quoted with `\"` when the JSON sits
/// escaped inside a string (told by the parity of quotes on the line).
pub(super) fn json_number_quote(b: &[u8], start: usize, end: usize, floor: usize) -> Quote {
    if !b[start..end].iter().all(u8::is_ascii_digit) {
        return Quote::None;
    }
    let before = b[floor..start]
        .iter()
        .rev()
        .find(|c| !c.is_ascii_whitespace());
    let after = b[end..].iter().find(|c| !c.is_ascii_whitespace());
    if !matches!(before, Some(b'[' | b',' | b':')) || !matches!(after, Some(b',' | b']' | b'}')) {
        return Quote::None;
    }
    let line_start = b[..start]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let mut quotes = 0usize;
    let mut p = line_start;
    while p < start {
        match b[p] {
            b'\\' => p += 1,
            b'"' => quotes += 1,
            _ => {}
        }
        p += 1;
    }
    if quotes.is_multiple_of(2) {
        Quote::Json
    } else {
        Quote::Escaped
    }
}

/// Skips the letter(s) of a backslash escape (`\n`, `\t`, `\u00e4`) in
/// JSON-escaped text, so `\nHerr Max` still reads as `Herr Max`.
pub(super) fn escape_end(b: &[u8], i: usize) -> usize {
    if b[i] == b'u' && b.len() >= i + 5 && b[i + 1..i + 5].iter().all(u8::is_ascii_hexdigit) {
        i + 5
    } else if matches!(b[i], b'n' | b't' | b'r' | b'b' | b'f' | b'u') {
        i + 1
    } else {
        word_end(b, i)
    }
}

/// Whether the backslash at `p` starts an escape: an odd run of backslashes
/// ends there (`\\n` is an escaped backslash, then a plain `n`). Bytes
/// before `floor` are not looked at.
pub(super) fn escaped_at(b: &[u8], p: usize, floor: usize) -> bool {
    let run = b[floor..=p]
        .iter()
        .rev()
        .take_while(|&&c| c == b'\\')
        .count();
    run % 2 == 1
}

/// Whether the quote at `q` (after a separator at `sep`) ends a JSON string
/// rather than opening a value: `sep` lies inside a string (an odd number of
/// unescaped quotes before it on its line) and JSON structure follows the
/// quote (`:`, `,`, `}`, `]` or the end of the text).
pub(super) fn closes_json_string(b: &[u8], sep: usize, q: usize) -> bool {
    let after = b[q + 1..].iter().find(|c| !c.is_ascii_whitespace());
    matches!(after, None | Some(b':' | b',' | b'}' | b']')) && inside_json_string(b, sep)
}

/// Whether `at` lies inside a double-quoted string: an odd number of
/// unescaped `"` before it on its line.
pub(super) fn inside_json_string(b: &[u8], at: usize) -> bool {
    let line_start = b[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let mut quotes = 0usize;
    let mut p = line_start;
    while p < at {
        match b[p] {
            b'\\' => p += 1,
            b'"' => quotes += 1,
            _ => {}
        }
        p += 1;
    }
    quotes % 2 == 1
}

/// End (index of the closing quote) of a JSON string whose content starts at `p`.
pub(super) fn string_end(b: &[u8], mut p: usize) -> usize {
    while p < b.len() {
        match b[p] {
            b'\\' => p += 2,
            b'"' => return p,
            _ => p += 1,
        }
    }
    b.len()
}

/// End of a `\"`-quoted string (JSON escaped inside a JSON string) whose
/// content starts at `p`: the index of its closing `\"`, or of an unescaped
/// `"` that ends the enclosing string first (found by fuzzing: redacting up
/// to the next `\"` or the end of the text broke the outer JSON).
pub(super) fn escaped_string_end(b: &[u8], mut p: usize) -> usize {
    while p < b.len() {
        match b[p] {
            b'\\' if b.get(p + 1) == Some(&b'"') => return p,
            b'\\' => p += 2,
            b'"' => return p,
            _ => p += 1,
        }
    }
    b.len()
}

/// End (exclusive) of the JSON object/array starting at `v`.
pub(super) fn bracket_end(b: &[u8], v: usize, escaped: bool) -> usize {
    let mut depth = 0usize;
    let mut p = v;
    while p < b.len() {
        match b[p] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return p + 1;
                }
            }
            b'"' if !escaped => p = string_end(b, p + 1),
            b'"' => return p,
            b'\\' if escaped && b.get(p + 1) == Some(&b'"') => {
                let close = escaped_string_end(b, p + 2);
                if b.get(close) != Some(&b'\\') {
                    // The enclosing string ends first (found by fuzzing).
                    return close;
                }
                p = close + 1;
            }
            b'\n' if escaped => return p,
            _ => {}
        }
        p += 1;
    }
    b.len()
}
