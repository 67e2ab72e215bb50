//! Where a value ends: unquoted values, keyed numbers with all of their
//! groups, addresses, and the numeric shapes the scanner steps over
//! (timestamps, IPv6 groups, a card further along a digit run).

use crate::detect::{card_end, iban_length, is_key_byte, is_word};

/// `start` follows `scheme://user:`.
pub(super) fn url_password(b: &[u8], start: usize, floor: usize) -> bool {
    if start < 1 || b[start - 1] != b':' {
        return false;
    }
    let from = floor.max(start.saturating_sub(80));
    let Some(scheme) = b[from..start].windows(3).rposition(|w| w == b"://") else {
        return false;
    };
    let user = &b[from + scheme + 3..start - 1];
    !user.is_empty() && !user.iter().any(|&c| matches!(c, b'/' | b'@' | b':' | b' '))
}

/// The end of an ISO date (`2025-10-01`) or a time (`11:03`, `11:03:23`,
/// `11:03:23.123`) starting at the digit `i`, when the byte after it ends
/// every numeric matcher's scan. No matcher can fire inside such a stamp
/// (no card or phone shape, too few colons for IPv6, too few dots for
/// IPv4), so the whole of it is stepped over at once.
#[inline(always)]
pub(super) fn timestamp_end(b: &[u8], i: usize) -> Option<usize> {
    let d = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
    let at = |k: usize, c: u8| b.get(k) == Some(&c);
    let end = if matches!(b[i], b'1' | b'2')
        && d(i + 1)
        && d(i + 2)
        && d(i + 3)
        && at(i + 4, b'-')
        && d(i + 5)
        && d(i + 6)
        && at(i + 7, b'-')
        && d(i + 8)
        && d(i + 9)
    {
        i + 10
    } else if d(i + 1) && at(i + 2, b':') && d(i + 3) && d(i + 4) {
        let mut e = i + 5;
        if at(e, b':') && d(e + 1) && d(e + 2) {
            e += 3;
            if at(e, b'.') && d(e + 1) {
                e += 1;
                while d(e) {
                    e += 1;
                }
            }
        }
        e
    } else {
        return None;
    };
    match b.get(end) {
        Some(&c) if is_word(c) || matches!(c, b'.' | b':' | b'-' | b'/' | b',') => None,
        _ => Some(end),
    }
}

/// At most four hex digits at `i`, then a colon.
pub(super) fn hex_group_then_colon(b: &[u8], i: usize) -> bool {
    let h = b[i..]
        .iter()
        .take(5)
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    h <= 4 && b.get(i + h) == Some(&b':')
}

/// When the digit run goes on after a card found at `start..end`, a card
/// starting at one of the next groups that ends further along, cleanly: not
/// glued to more digits by `-`, `:`, `.` or `/` (`… 0006 2025-10-01` is a
/// card followed by a date, not a card that starts a group later).
pub(super) fn later_card(b: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let glued = |p: usize| {
        matches!(b.get(p), Some(b'-' | b':' | b'.' | b'/'))
            && b.get(p + 1).is_some_and(u8::is_ascii_digit)
    };
    let continues = |p: usize| {
        matches!(b.get(p), Some(b' ' | b'-')) && b.get(p + 1).is_some_and(u8::is_ascii_digit)
    };
    if !continues(end) {
        return None;
    }
    let mut g = start;
    for _ in 0..4 {
        while g < b.len() && b[g].is_ascii_digit() {
            g += 1;
        }
        if !continues(g) {
            return None;
        }
        g += 1;
        if let Some(e2) = card_end(b, g) {
            if e2 > end && !glued(e2) {
                return Some((g, e2));
            }
        }
    }
    None
}

/// End of an unquoted value.
pub(super) fn plain_end(b: &[u8], v: usize) -> usize {
    v + b[v..]
        .iter()
        .take_while(|&&c| {
            !(c <= b' '
                || matches!(
                    c,
                    b'"' | b'\''
                        | b'\\'
                        | b'&'
                        | b','
                        | b';'
                        | b'|'
                        | b')'
                        | b']'
                        | b'}'
                        | b'<'
                        | b'>'
                ))
        })
        .count()
}

/// The end of a keyed number value `b[v..e]` with all of its groups: when
/// the first token is a number (digits with `+ ( ) - / .`), following
/// tokens of the same shape separated by one space belong to it
/// (`0151 2345678`, `+1 (415) 555-2671`, `3782 822463 10005`). A token with
/// a letter, a time (`10:30`), an ISO date of the log or the next `key=`
/// ends it; at most 40 digits are taken (the longest IBAN has 34 characters).
pub(super) fn number_groups_end(b: &[u8], v: usize, e: usize) -> usize {
    let numeric = |t: &[u8]| {
        t.iter().any(u8::is_ascii_digit)
            && t.iter().all(|&c| {
                c.is_ascii_digit() || matches!(c, b'+' | b'(' | b')' | b'-' | b'/' | b'.')
            })
    };
    // `(0)` or `(415)` opens a group; plain_end stops at `)`.
    let past_paren = |t: usize, te: usize| {
        if b.get(t) == Some(&b'(') && b.get(te) == Some(&b')') {
            let close = te + 1;
            close
                + b[close..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit() || matches!(c, b'-' | b'/' | b'.'))
                    .count()
        } else {
            te
        }
    };
    let e = past_paren(v, e);
    // An IBAN starts with its country and check digits (`DE89 3704 …`);
    // its later groups of up to four may hold letters (`GB29 NWBK 6016 …`).
    let lead = &b[v..e];
    // In either case after a key (`iban=de89 3704 …`); no further than the
    // country's length, so a short word after it stays.
    let iban_len = (lead.len() >= 4
        && lead[..2].iter().all(u8::is_ascii_alphabetic)
        && lead[2..4].iter().all(u8::is_ascii_digit)
        && lead.iter().all(u8::is_ascii_alphanumeric))
    .then(|| iban_length(&[lead[0].to_ascii_uppercase(), lead[1].to_ascii_uppercase()]))
    .flatten();
    let iban = iban_len.is_some();
    let mut iban_chars = lead.len();
    let iban_group = |t: &[u8], so_far: usize| {
        iban_len.is_some_and(|len| so_far < len)
            && t.len() <= 4
            && t.iter().all(u8::is_ascii_alphanumeric)
    };
    if e == v || !(iban || numeric(lead)) {
        return e;
    }
    let mut digits = b[v..e].iter().filter(|c| c.is_ascii_digit()).count();
    let mut end = e;
    while b.get(end) == Some(&b' ') {
        let t = end + 1;
        let te = past_paren(t, plain_end(b, t));
        // `030 - 123 45 67`, `030 / 1234567`: a dash or slash standing alone
        // between groups joins them.
        let (t, te) = if matches!(&b[t..te], b"-" | b"/") && b.get(te) == Some(&b' ') {
            (te + 1, past_paren(te + 1, plain_end(b, te + 1)))
        } else {
            (t, te)
        };
        let token = &b[t..te];
        let group = iban_group(token, iban_chars)
            || (numeric(token)
                && token
                    .iter()
                    .take(2)
                    .any(|c| c.is_ascii_digit() || *c == b'('));
        if te == t || !group || timestamp_end(b, t).is_some() {
            break;
        }
        digits += token.iter().filter(|c| c.is_ascii_digit()).count();
        iban_chars += token.len();
        if digits > 40 {
            break;
        }
        end = te;
    }
    // A trailing `.` or `-` ends the sentence, not the number.
    while end > e && matches!(b[end - 1], b'.' | b'-' | b'/') {
        end -= 1;
    }
    end
}

/// End of an address value: up to a field separator or the next `key=`.
pub(super) fn address_end(b: &[u8], v: usize) -> usize {
    let mut p = v;
    while p < b.len() {
        let c = b[p];
        if matches!(c, b'"' | b'\\' | b';' | b'|' | b'\n' | b'\r' | b'\t' | b'&') {
            break;
        }
        if c == b' ' {
            // stop before ` key=` / ` key: `
            let we = p + 1 + b[p + 1..].iter().take_while(|&&c| is_key_byte(c)).count();
            if we > p + 1 && matches!(b.get(we), Some(b'=' | b':')) {
                break;
            }
        }
        p += 1;
    }
    while p > v && matches!(b[p - 1], b' ' | b',') {
        p -= 1;
    }
    p
}
