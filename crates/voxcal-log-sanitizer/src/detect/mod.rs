//! Small anchored matchers. Each takes the text and a start position and returns
//! the end of a match (exclusive), or `None`. All cut points are ASCII bytes, so
//! every returned range is on `char` boundaries.

use std::net::Ipv6Addr;

pub(crate) mod address;
pub(crate) mod ids;
pub(crate) mod phone_meta;
pub(crate) mod secrets;
pub(crate) mod spoken;

static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
        c += 1;
    }
    t
};

#[inline]
pub(crate) fn is_word(c: u8) -> bool {
    WORD[usize::from(c)]
}

pub(crate) fn word_end(b: &[u8], mut p: usize) -> usize {
    // Eight bytes at a time: most words end within the first chunk.
    while let Some(chunk) = b.get(p..p + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let stop = !word_bytes(u64::from_le_bytes(bytes)) & HIGH;
        if stop != 0 {
            return p + (stop.trailing_zeros() / 8) as usize;
        }
        p += 8;
    }
    while p < b.len() && is_word(b[p]) {
        p += 1;
    }
    p
}

/// The start of the run of key-name bytes (word bytes, `-`, `.`) that ends
/// at `end`, not reaching before `limit`.
pub(crate) fn key_start(b: &[u8], limit: usize, end: usize) -> usize {
    let mut q = end;
    // Eight bytes at a time, backwards.
    while q >= limit + 8 {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&b[q - 8..q]);
        let v = u64::from_le_bytes(bytes);
        let key = word_bytes(v) | in_range(v & !HIGH, b'-', b'.');
        let stop = !key & HIGH;
        if stop != 0 {
            return q - 8 + (63 - stop.leading_zeros() as usize) / 8 + 1;
        }
        q -= 8;
    }
    while q > limit && is_key_byte(b[q - 1]) {
        q -= 1;
    }
    q
}

/// A byte of a key name: a word byte, `-` or `.`.
pub(crate) fn is_key_byte(c: u8) -> bool {
    is_word(c) || c == b'-' || c == b'.'
}

const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each byte of `v` that is in `lo..=hi`; every byte of `v`
/// must be below 0x80 (so the additions never carry into the next byte).
#[inline]
fn in_range(v: u64, lo: u8, hi: u8) -> u64 {
    let at_least_lo = v + ONES * u64::from(0x80 - lo);
    let above_hi = v + ONES * u64::from(0x7f - hi);
    at_least_lo & !above_hi & HIGH
}

/// The high bit of each byte of `v` that [`is_word`] accepts (SWAR).
#[inline]
fn word_bytes(v: u64) -> u64 {
    let low = v & !HIGH;
    let folded = low | (ONES * 0x20);
    (v & HIGH)
        | in_range(low, b'0', b'9')
        | in_range(folded, b'a', b'z')
        | in_range(low, b'_', b'_')
}

pub(crate) fn digit_at(b: &[u8], p: usize) -> bool {
    b.get(p).is_some_and(u8::is_ascii_digit)
}

/// A number continues after `p` (`.5`, `,99`, `:30`): not a boundary.
pub(crate) fn numeric_continues(b: &[u8], p: usize) -> bool {
    match b.get(p) {
        Some(b'.' | b',') => digit_at(b, p + 1),
        Some(b':' | b'%') => true,
        Some(&c) => is_word(c),
        None => false,
    }
}

// ---------------------------------------------------------------- e-mail

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-') || c >= 0x80
}

fn is_label(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c >= 0x80
}

/// A UTF-8 continuation byte: not the start of a character.
fn is_continuation(c: u8) -> bool {
    c & 0xC0 == 0x80
}

/// The start of an e-mail local part that ends at `at` (exclusive), not
/// reaching before `floor`.
pub(crate) fn email_local_start(b: &[u8], at: usize, floor: usize) -> Option<usize> {
    let mut s = at;
    // The length cap counts bytes; finish a character it cut (found by
    // fuzzing: a long run of non-ASCII letters before `@`).
    while s > floor && is_local(b[s - 1]) && (at - s < 128 || is_continuation(b[s])) {
        s -= 1;
    }
    // `\u0001max@…` or `\nmax@…` in JSON-escaped text: the escape is not
    // part of the address.
    if s > floor && b[s - 1] == b'\\' {
        if b[s] == b'u' && at - s >= 5 && b[s + 1..s + 5].iter().all(u8::is_ascii_hexdigit) {
            s += 5;
        } else if matches!(b[s], b'n' | b't' | b'r' | b'b' | b'f' | b'u') {
            s += 1;
        }
    }
    while s < at && matches!(b[s], b'.' | b'%' | b'+' | b'-' | b'_') {
        s += 1;
    }
    (s < at).then_some(s)
}

/// The end of an e-mail domain starting at `p`: at least two labels, a
/// top-level label of two or more letters (or an IDN label).
pub(crate) fn email_domain_end(b: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    let mut labels = 0;
    let mut end = None;
    loop {
        let ls = q;
        // The cap counts bytes; a character it cut is finished.
        while q < b.len() && is_label(b[q]) && (q - p < 255 || is_continuation(b[q])) {
            q += 1;
        }
        if q == ls || b[ls] == b'-' {
            break;
        }
        labels += 1;
        let label = &b[ls..q];
        let tld_ok = label.len() >= 2
            && (label.iter().all(|c| c.is_ascii_alphabetic() || *c >= 0x80)
                || label.starts_with(b"xn--"));
        if labels >= 2 && tld_ok && b[q - 1] != b'-' {
            end = Some(q);
        }
        if q + 1 < b.len() && b[q] == b'.' && is_label(b[q + 1]) {
            q += 1;
        } else {
            break;
        }
    }
    end
}

/// The end of a bracketed word at `p`: `(at)`, `[dot]`, `{punkt}`, the word
/// one of `words` in any case.
fn bracket_word_end(b: &[u8], p: usize, words: &[&[u8]]) -> Option<usize> {
    let close = match b.get(p)? {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        _ => return None,
    };
    let w = word_end(b, p + 1);
    let inner = &b[p + 1..w];
    (b.get(w) == Some(&close) && words.iter().any(|x| inner.eq_ignore_ascii_case(x)))
        .then_some(w + 1)
}

/// One blank, if there is one at `p`.
fn blank(b: &[u8], p: usize) -> usize {
    p + usize::from(b.get(p) == Some(&b' '))
}

/// `max(at)gmx.de`, `max [at] gmx [dot] de`, `max(at)gmx(dot)de`: an address
/// with its `@` written out in brackets, the dots as `.` or a bracketed
/// `dot`/`punkt`. `open` is the index of the `@` word's opening bracket;
/// returns the address's span, not reaching before `floor`.
pub(crate) fn bracketed_email(b: &[u8], open: usize, floor: usize) -> Option<(usize, usize)> {
    let after_at = bracket_word_end(b, open, &[b"at"])?;
    let local_end = if open > floor && b[open - 1] == b' ' {
        open - 1
    } else {
        open
    };
    let mut start = local_end;
    while start > floor && is_local(b[start - 1]) {
        start -= 1;
    }
    if start == local_end || (start > 0 && is_word(b[start - 1]) && start > floor) {
        return None;
    }
    let mut p = blank(b, after_at);
    let mut labels = 0;
    let mut end = None;
    loop {
        let label_end = p + b[p..].iter().take_while(|&&c| is_label(c)).count();
        if label_end == p {
            break;
        }
        labels += 1;
        let label = &b[p..label_end];
        if labels >= 2 && label.len() >= 2 && label.iter().all(u8::is_ascii_alphabetic) {
            end = Some(label_end);
        }
        // The next dot: `.`, or `(dot)`/`[punkt]` with a blank on either side.
        p = if b.get(label_end) == Some(&b'.') && b.get(label_end + 1).is_some_and(|&c| is_label(c))
        {
            label_end + 1
        } else {
            let q = blank(b, label_end);
            match bracket_word_end(b, q, &[b"dot", b"punkt"]) {
                Some(e) => blank(b, e),
                None => break,
            }
        };
    }
    Some((start, end?))
}

/// A keyed value from `v` that is a [`bracketed_email`] (`max(at)gmx.de`,
/// `max [at] gmx [dot] de`); returns its end.
pub(crate) fn bracketed_email_from(b: &[u8], v: usize) -> Option<usize> {
    let local = v + b[v..].iter().take_while(|&&c| is_local(c)).count();
    let open = blank(b, local);
    bracketed_email(b, open, v).map(|(_, e)| e)
}

// ---------------------------------------------------------------- phone

/// A German or international phone number starting at `start` (a digit, `+`
/// or `(`). Timestamps, dates, versions, amounts and durations do not match.
pub(crate) fn phone_end(b: &[u8], start: usize) -> Option<usize> {
    let n = b.len();
    let mut p = start;
    let mut open = false;
    if b[p] == b'(' {
        open = true;
        p += 1;
    }
    let mut plus = false;
    if p < n && b[p] == b'+' {
        plus = true;
        p += 1;
    }
    let mut lead = [0u8; 3];
    let mut digits = 0usize;
    let mut groups = 0usize;
    let mut slashes = 0;
    let mut dashes = 0;
    let mut best = None;
    loop {
        if p < n && b[p] == b'(' && !open && groups > 0 {
            open = true;
            p += 1;
        }
        let gs = p;
        while p < n && b[p].is_ascii_digit() {
            if digits < 3 {
                lead[digits] = b[p];
            }
            digits += 1;
            p += 1;
        }
        if p == gs || digits > 17 || (groups > 0 && iso_date_at(b, gs)) {
            break;
        }
        groups += 1;
        if open && p < n && b[p] == b')' {
            open = false;
            p += 1;
            if digit_at(b, p) {
                continue;
            }
        }
        if numeric_continues(b, p) {
            break;
        }
        if !open && phone_valid(plus, lead, digits) {
            best = Some(p);
        }
        // separator: ' ', '-', '/', " - ", " / "
        let mut q = p;
        let mut spaced = false;
        if q < n && b[q] == b' ' {
            q += 1;
            spaced = true;
        }
        if q < n && matches!(b[q], b'-' | b'/') {
            if b[q] == b'/' {
                slashes += 1;
            } else {
                dashes += 1;
            }
            q += 1;
            if q < n && b[q] == b' ' && spaced {
                q += 1;
            }
        }
        if q == p || slashes > 1 || dashes > 3 {
            break;
        }
        if q < n && b[q] == b'(' && !open {
            p = q;
            continue;
        }
        if !digit_at(b, q) {
            break;
        }
        // A lone digit after a space is a count, not part of the number
        // ("0171 1234567 2 Personen"), except after pairs ("0 30 12 34 56 7").
        let next_len = b[q..].iter().take_while(|c| c.is_ascii_digit()).count();
        if spaced && next_len == 1 && digits >= 7 && p - gs != 2 {
            break;
        }
        p = q;
    }
    best
}

/// `2025-10-01` starts at `p`.
pub(crate) fn iso_date_at(b: &[u8], p: usize) -> bool {
    let d = |k: usize| digit_at(b, p + k);
    d(0) && d(1)
        && d(2)
        && d(3)
        && b.get(p + 4) == Some(&b'-')
        && d(5)
        && d(6)
        && b.get(p + 7) == Some(&b'-')
}

fn phone_valid(plus: bool, lead: [u8; 3], digits: usize) -> bool {
    if plus && lead[0] == b'1' {
        // North America: +1, then an area code that does not start with 0 or 1.
        lead[1] >= b'2' && digits == 11
    } else if plus {
        lead[0] != b'0' && (8..=16).contains(&digits)
    } else if lead[0] == b'0' && lead[1] == b'0' {
        lead[2] != b'0' && (10..=17).contains(&digits)
    } else if lead[0] == b'0' {
        lead[1] != b'0' && (9..=13).contains(&digits)
    } else {
        false
    }
}

// ---------------------------------------------------------------- cards

/// A Luhn-valid card number (13-19 digits, spaced or dashed) with a known
/// issuer prefix, starting at `start`.
pub(crate) fn card_end(b: &[u8], start: usize) -> Option<usize> {
    let n = b.len();
    // Cheap shape check first: grouped cards start `dddd dddd` or `dddd dddddd`
    // (Amex), compact ones have 13+ digits. Dates and times fail here.
    let run = |p: usize| {
        b[p.min(n)..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let first = run(start);
    if first == 4 {
        let sep = b.get(start + 4).copied().unwrap_or(0);
        let second = run(start + 5);
        if !matches!(sep, b' ' | b'-') || !(second == 4 || second == 6) {
            return None;
        }
    } else if !(13..=19).contains(&first) {
        return None;
    }
    let mut d = [0u8; 19];
    let mut count = 0;
    let mut sep = 0u8;
    let mut p = start;
    let mut best = None;
    // Group lengths: 4-4-4-4(-3), the last one shorter, or Amex/Diners 4-6-5 / 4-6-4.
    let mut groups = [0usize; 8];
    let mut ngroups = 0;
    loop {
        let gs = p;
        while p < n && b[p].is_ascii_digit() {
            if count == 19 {
                return best;
            }
            d[count] = b[p] - b'0';
            count += 1;
            p += 1;
        }
        if ngroups == groups.len() {
            return best;
        }
        groups[ngroups] = p - gs;
        ngroups += 1;
        let g = &groups[..ngroups];
        let grouping_ok = ngroups == 1
            || (g[..ngroups - 1].iter().all(|&l| l == 4) && (1..=4).contains(&g[ngroups - 1]))
            || g == [4, 6, 5]
            || g == [4, 6, 4];
        if (13..=19).contains(&count)
            && grouping_ok
            && !numeric_continues(b, p)
            && issuer_ok(&d[..count])
            && luhn(&d[..count])
        {
            best = Some(p);
        }
        if p + 1 < n && matches!(b[p], b' ' | b'-') && b[p + 1].is_ascii_digit() {
            if sep != 0 && sep != b[p] {
                break;
            }
            sep = b[p];
            p += 1;
        } else {
            break;
        }
    }
    best
}

pub(crate) fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = u32::from(x);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn issuer_ok(d: &[u8]) -> bool {
    let len = d.len();
    let two = u32::from(d[0]) * 10 + u32::from(d[1]);
    let four = two * 100 + u32::from(d[2]) * 10 + u32::from(d[3]);
    match d[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => ((51..=55).contains(&two) && len == 16) || two == 50 || (56..=59).contains(&two),
        2 => (2221..=2720).contains(&four) && len == 16,
        3 => {
            ((two == 34 || two == 37) && len == 15)
                || (matches!(two, 30 | 36 | 38) && (14..=16).contains(&len))
                || (two == 35 && len >= 16)
        }
        6 => len >= 16,
        _ => false,
    }
}

// ---------------------------------------------------------------- IBAN

pub(crate) fn iban_length(cc: &[u8]) -> Option<usize> {
    let len = match cc {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"XK" => 20,
        b"CH" | b"CR" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"PL" | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        _ => return None,
    };
    Some(len)
}

/// An IBAN-shaped run starting at `start` (`DE89…`, compact or in groups of
/// four separated by single spaces, of its country's length): its end and
/// whether the mod-97 check passes.
pub(crate) fn iban_end(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let len = iban_length(b.get(start..start + 2)?)?;
    let mut chars = [0u8; 34];
    let mut count = 0;
    let mut p = start;
    // Groups of four joined by blanks or dashes, one kind throughout.
    let mut sep = None;
    while count < len {
        let c = *b.get(p)?;
        if matches!(c, b' ' | b'-')
            && sep.is_none_or(|s| s == c)
            && count % 4 == 0
            && count > 0
            && b.get(p + 1).is_some_and(u8::is_ascii_alphanumeric)
        {
            sep = Some(c);
            p += 1;
            continue;
        }
        if !(c.is_ascii_digit() || c.is_ascii_uppercase()) {
            return None;
        }
        chars[count] = c;
        count += 1;
        p += 1;
    }
    if b.get(p).is_some_and(|&c| is_word(c)) {
        return None;
    }
    Some((p, iban_checksum_ok(&chars[..len])))
}

pub(crate) fn iban_checksum_ok(chars: &[u8]) -> bool {
    if chars.len() < 5 || !chars[2].is_ascii_digit() || !chars[3].is_ascii_digit() {
        return false;
    }
    let mut rem = 0u32;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        if c.is_ascii_digit() {
            rem = (rem * 10 + u32::from(c - b'0')) % 97;
        } else {
            let v = u32::from(c - b'A') + 10;
            rem = (rem * 100 + v) % 97;
        }
    }
    rem == 1
}

// ---------------------------------------------------------------- IP

/// A dotted IPv4 address starting at `start`; loopback and `0.0.0.0` are not
/// personal data and do not match.
pub(crate) fn ipv4_end(b: &[u8], start: usize) -> Option<usize> {
    let mut p = start;
    let mut octets = [0u32; 4];
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(p) != Some(&b'.') {
                return None;
            }
            p += 1;
        }
        let s = p;
        let mut v = 0u32;
        while p < b.len() && b[p].is_ascii_digit() && p - s < 3 {
            v = v * 10 + u32::from(b[p] - b'0');
            p += 1;
        }
        if p == s || v > 255 || digit_at(b, p) {
            return None;
        }
        *octet = v;
    }
    if (b.get(p) == Some(&b'.') && digit_at(b, p + 1)) || b.get(p).is_some_and(|&c| is_word(c)) {
        return None;
    }
    if octets[0] == 127 || octets == [0; 4] {
        return None;
    }
    Some(p)
}

/// An IPv6 address starting at `start` (validated by the standard library);
/// loopback and unspecified do not match.
pub(crate) fn ipv6_end(b: &[u8], start: usize) -> Option<usize> {
    // 1: hex digit, 2: colon, 3: dot.
    static CLASS: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = if b.is_ascii_hexdigit() {
                1
            } else if b == b':' {
                2
            } else if b == b'.' {
                3
            } else {
                0
            };
            c += 1;
        }
        t
    };
    let limit = b.len().min(start + 45);
    let mut p = start;
    let mut colons = 0usize;
    let mut double = false;
    let mut prev = 0u8;
    while p < limit {
        let class = CLASS[usize::from(b[p])];
        if class == 0 {
            break;
        }
        if class == 2 {
            colons += 1;
            double |= prev == 2;
        }
        prev = class;
        p += 1;
    }
    // Quick reject (times like `11:03:23`): trimming below only removes
    // colons, so a run without `::` and with fewer than six colons, or with
    // fewer than two, can never pass the checks further down.
    if colons < 2 || (!double && colons < 6) {
        return None;
    }
    let mut end = p;
    while end > start && b[end - 1] == b'.' {
        end -= 1;
    }
    if end >= start + 2 && b[end - 1] == b':' && b[end - 2] != b':' {
        end -= 1;
    }
    if b.get(end).is_some_and(|&c| is_word(c)) {
        return None;
    }
    let cand = &b[start..end];
    if cand.ends_with(b"::") {
        return None;
    }
    let colons = cand.iter().filter(|&&c| c == b':').count();
    let compressed = cand.windows(2).any(|w| w == b"::");
    if colons < 2 || !(compressed || colons == 7 || (colons == 6 && cand.contains(&b'.'))) {
        return None;
    }
    if !cand.iter().any(u8::is_ascii_digit) {
        return None;
    }
    let addr: Ipv6Addr = std::str::from_utf8(cand).ok()?.parse().ok()?;
    if addr.is_loopback() || addr.is_unspecified() {
        return None;
    }
    Some(end)
}

// ---------------------------------------------------------------- dates

/// A calendar date (`12.03.1980`, `1980-03-12`, `12/03/1980`, `1.3.80`).
pub(crate) fn date_end(b: &[u8], start: usize) -> Option<usize> {
    let run = |p: usize| b[p..].iter().take_while(|c| c.is_ascii_digit()).count();
    let a = run(start);
    let p = start + a;
    let sep = *b.get(p)?;
    if !matches!(sep, b'.' | b'-' | b'/') {
        return None;
    }
    let m = run(p + 1);
    let q = p + 1 + m;
    if b.get(q) != Some(&sep) {
        return None;
    }
    let y = run(q + 1);
    let end = q + 1 + y;
    let ok = if a == 4 {
        sep == b'-' && (1..=2).contains(&m) && (1..=2).contains(&y)
    } else {
        (1..=2).contains(&a) && (1..=2).contains(&m) && (y == 2 || y == 4)
    };
    (ok && !b.get(end).is_some_and(|&c| is_word(c))).then_some(end)
}

/// German and English month names (and common short forms), for written-out
/// dates. `März` is matched as UTF-8 bytes, `Maerz` as its ASCII spelling.
const MONTHS: &[&str] = &[
    "januar",
    "jänner",
    "februar",
    "märz",
    "maerz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
    "january",
    "february",
    "march",
    "may",
    "june",
    "july",
    "october",
    "december",
    "jan",
    "feb",
    "mär",
    "mrz",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "okt",
    "oct",
    "nov",
    "dez",
    "dec",
];

/// The end of a written-out date starting at the digit `start`: `12. Mai 1980`,
/// `April 3, 1985`, `May 12 1980`, `Mai 3. 1985`: the month first (as
/// English writes it), a day of one or two digits, an optional `.` or `,`,
/// one blank and a four-digit year.
fn month_first_date_end(b: &[u8], start: usize) -> Option<usize> {
    let w = word_end(b, start);
    let month = &b[start..w];
    if !MONTHS
        .iter()
        .any(|m| m.len() == month.len() && month.to_ascii_lowercase() == m.as_bytes())
    {
        return None;
    }
    let mut p = w;
    if b.get(p) == Some(&b'.') {
        p += 1;
    }
    if b.get(p) != Some(&b' ') {
        return None;
    }
    p += 1;
    let d = b[p..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&d) {
        return None;
    }
    p += d;
    if matches!(b.get(p), Some(b'.' | b',')) {
        p += 1;
    }
    if b.get(p) != Some(&b' ') {
        return None;
    }
    p += 1;
    let y = b[p..].iter().take_while(|c| c.is_ascii_digit()).count();
    let end = p + y;
    (y == 4 && !b.get(end).is_some_and(|&c| is_word(c))).then_some(end)
}

/// `12 May 1980`, `3. März 1975` (day of one or two digits, an optional dot,
/// one blank, a month name with an optional dot, one blank, a four-digit
/// year). Only called next to a date-of-birth word, so a booking date
/// (`am 7. Juli 2026 um 9:30`) elsewhere in a line is not touched.
pub(crate) fn written_date_end(b: &[u8], start: usize) -> Option<usize> {
    if b.get(start).is_some_and(u8::is_ascii_alphabetic) {
        return month_first_date_end(b, start);
    }
    let run = |p: usize| {
        b[p.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let d = run(start);
    if !(1..=2).contains(&d) {
        return None;
    }
    let mut p = start + d;
    if b.get(p) == Some(&b'.') {
        p += 1;
    }
    if b.get(p) != Some(&b' ') {
        return None;
    }
    p += 1;
    let w = word_end(b, p);
    let month = &b[p..w];
    if month.is_empty()
        || !MONTHS
            .iter()
            .any(|m| m.len() == month.len() && month.to_ascii_lowercase() == m.as_bytes())
    {
        return None;
    }
    p = w;
    if b.get(p) == Some(&b'.') {
        p += 1;
    }
    if b.get(p) != Some(&b' ') || run(p + 1) != 4 {
        return None;
    }
    let end = p + 5;
    (!b.get(end).is_some_and(|&c| is_word(c))).then_some(end)
}

// ---------------------------------------------------------------- markers

/// The length of a marker (`[EMAIL_REDACTED]`, `[REDACTED]`, `[EMAIL:3f9a1c2e]`)
/// at `p`, so a second pass leaves the first pass's output alone.
pub(crate) fn marker_len(b: &[u8], p: usize) -> Option<usize> {
    let rest = b.get(p..)?;
    if rest.first() != Some(&b'[') {
        return None;
    }
    let label = rest[1..]
        .iter()
        .take(20)
        .take_while(|c| c.is_ascii_uppercase() || **c == b'_')
        .count();
    if label < 2 {
        return None;
    }
    let after = 1 + label;
    match rest.get(after) {
        Some(b']') if rest[1..after].ends_with(b"REDACTED") => Some(after + 1),
        Some(b':') => {
            let hex = rest.get(after + 1..after + 9)?;
            (hex.iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
                && rest.get(after + 9) == Some(&b']'))
            .then_some(after + 10)
        }
        _ => None,
    }
}

/// Whether `v` is exactly one marker.
pub(crate) fn is_marker(v: &[u8]) -> bool {
    marker_len(v, 0) == Some(v.len())
}

/// The index of the first `needle` in `b` at or after `from`, or `b.len()`.
pub(crate) fn find(b: &[u8], from: usize, needle: &[u8]) -> usize {
    b[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map_or(b.len(), |p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(f: fn(&[u8], usize) -> Option<usize>, s: &str) -> bool {
        f(s.as_bytes(), 0) == Some(s.len())
    }

    #[test]
    fn luhn_and_iban_checks() {
        let digits = |s: &str| s.bytes().map(|c| c - b'0').collect::<Vec<_>>();
        assert!(luhn(&digits("4111111111111111")));
        assert!(!luhn(&digits("4111111111111112")));
        assert!(iban_checksum_ok(b"DE89370400440532013000"));
        assert!(!iban_checksum_ok(b"DE89370400440532013001"));
        assert!(iban_checksum_ok(b"GB82WEST12345698765432"));
    }

    #[test]
    fn matchers_accept() {
        for s in [
            "+49 30 1234567",
            "+49 (0)30 1234 5678",
            "0049 171 1234567",
            "030/1234567",
            "0171-1234567",
            "(030) 12345678",
            "0 30 12 34 56 78",
            "+4917612345678",
            "+43 1 2345678",
            "+41 44 668 18 00",
            "+1 415 555 2671",
        ] {
            assert!(whole(phone_end, s), "phone {s}");
        }
        for s in [
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
            "378282246310005",
        ] {
            assert!(whole(card_end, s), "card {s}");
        }
        for s in [
            "DE89 3704 0044 0532 0130 00",
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
        ] {
            assert_eq!(iban_end(s.as_bytes(), 0), Some((s.len(), true)), "iban {s}");
        }
        assert!(whole(ipv4_end, "192.168.10.7"));
        assert!(whole(ipv6_end, "2001:db8::8a2e:370:7334"));
        assert!(whole(date_end, "12.03.1980"));
        assert!(whole(date_end, "1980-03-12"));
        assert_eq!(marker_len(b"[EMAIL:3f9a1c2e] x", 0), Some(16));
        assert_eq!(marker_len(b"[IBAN_REDACTED]", 0), Some(15));
        assert_eq!(marker_len(b"[INFO] x", 0), None);
    }

    #[test]
    fn matchers_reject() {
        for s in [
            "2025-10-01 11:03:23",
            "1727773403",
            "01.10.2025",
            "49,99",
            "7.0.15",
            "0171 123",
        ] {
            assert_eq!(phone_end(s.as_bytes(), 0), None, "phone {s}");
        }
        assert_eq!(card_end(b"4111111111111112", 0), None);
        assert_eq!(card_end(b"1727773403123", 0), None);
        assert_eq!(iban_end(b"DE89370400440532013001", 0), Some((22, false)));
        assert_eq!(ipv4_end(b"127.0.0.1", 0), None);
        assert_eq!(ipv4_end(b"1.2.3.4.5", 0), None);
        assert_eq!(ipv6_end(b"11:03:23", 0), None);
        assert_eq!(ipv6_end(b"::1", 0), None);
    }

    // The eight-bytes-at-a-time scans agree with the plain byte loops.
    proptest::proptest! {
        #[test]
        fn word_end_matches_byte_loop(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            start in 0usize..40,
        ) {
            let start = start.min(bytes.len());
            let mut p = start;
            while p < bytes.len() && is_word(bytes[p]) {
                p += 1;
            }
            proptest::prop_assert_eq!(word_end(&bytes, start), p);
        }

        #[test]
        fn key_start_matches_byte_loop(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"aZ09_-. :=\x80\xff/@".to_vec()), 0..40),
            limit in 0usize..40,
            end in 0usize..40,
        ) {
            let end = end.min(bytes.len());
            let limit = limit.min(end);
            let mut q = end;
            while q > limit && is_key_byte(bytes[q - 1]) {
                q -= 1;
            }
            proptest::prop_assert_eq!(key_start(&bytes, limit, end), q);
        }
    }

    #[test]
    fn word_end_stops_at_every_non_word_byte() {
        for c in 0..=255u8 {
            let mut text = *b"abcdefghijklmnop";
            text[5] = c;
            let expect = if is_word(c) { 16 } else { 5 };
            assert_eq!(word_end(&text, 0), expect, "byte {c:#x}");
        }
    }
}
