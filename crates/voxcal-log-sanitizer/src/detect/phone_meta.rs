//! Phone numbers whose validity the `phonenumber` crate's metadata (Google's
//! libphonenumber tables) decides: shapes the German grammar in
//! [`phone_end`](super::phone_end) does not take on its own.
//!
//! - North American numbers written without `+1`: `(415) 555-0132`,
//!   `415-555-0132`, `415.555.0132`, `415 555 0132`, `1-415-555-0132`.
//! - Numbers with a prefix (`+`, `00`, `0`) whose groups are separated by
//!   dots or by more than one slash, or in mixed separators:
//!   `0171.234.5678`, `+49/171/2345678`, `+49.171.234.5678`.
//!
//! Both run only behind a shape check (the scanner calls them at a digit run
//! of the right length followed by the right separator), so text without a
//! phone-like shape never reaches the metadata. A shape is redacted only if
//! the metadata says the digits form a valid number of a real numbering plan,
//! which keeps dates (`05.10.2025`), versions and ids in these shapes.

use phonenumber::country::Id;

/// At most this many digits in a number (E.164 allows 15, plus a prefix).
const MAX_DIGITS: usize = 17;

/// Whether `digits` (ASCII digits, maybe after a `+`) form a valid number,
/// read in `region` when it carries no country code.
fn valid(digits: &[u8], region: Id) -> bool {
    let Ok(text) = std::str::from_utf8(digits) else {
        return false;
    };
    phonenumber::parse(Some(region), text).is_ok_and(|n| phonenumber::is_valid(&n))
}

fn digit_run(b: &[u8], p: usize) -> usize {
    b.get(p..).map_or(0, |rest| {
        rest.iter().take_while(|c| c.is_ascii_digit()).count()
    })
}

/// Whether a number may end at `p`: the scanner's rule (no word byte, `%`,
/// `:`, `.5` or `,5` follows), and no `-5` or `/5` either.
fn ends_at(b: &[u8], p: usize) -> bool {
    let glued = matches!(b.get(p), Some(b'-' | b'/')) && super::digit_at(b, p + 1);
    !(glued || super::numeric_continues(b, p))
}

/// The digits at `p` start a date, a time or an IPv4 address.
fn not_a_group(b: &[u8], p: usize) -> bool {
    super::iso_date_at(b, p)
        || super::date_end(b, p).is_some()
        || super::ipv4_end(b, p).is_some()
        || {
            let run = digit_run(b, p);
            b.get(p + run) == Some(&b':') && super::digit_at(b, p + run + 1)
        }
}

/// A North American number starting at `start` (a digit, or the `(` of the
/// area code): `[1 ](415) 555-0132`, `[1-]415-555-0132`, `415.555.0132`,
/// `415 555 0132`; one separator throughout (a space may follow the `)`).
pub(crate) fn nanp_end(b: &[u8], start: usize) -> Option<usize> {
    let mut digits = [0u8; 11];
    let mut n = 0;
    let mut p = start;
    let mut push = |run: &[u8], n: &mut usize| {
        digits[*n..*n + run.len()].copy_from_slice(run);
        *n += run.len();
    };
    // The trunk `1` and its separator.
    let mut sep = None;
    if b.get(p) == Some(&b'1') && digit_run(b, p) == 1 {
        let s = *b.get(p + 1)?;
        if !matches!(s, b'-' | b' ' | b'.') {
            return None;
        }
        sep = Some(s);
        push(b"1", &mut n);
        p += 2;
    }
    // The area code, in parentheses or followed by the separator.
    if b.get(p) == Some(&b'(') {
        if digit_run(b, p + 1) != 3 || b.get(p + 4) != Some(&b')') {
            return None;
        }
        push(&b[p + 1..p + 4], &mut n);
        p += 5;
        if b.get(p) == Some(&b' ') {
            p += 1;
        }
        // After `(415) ` the exchange and line may be joined by `-`, `.` or
        // ` `, whatever followed the trunk `1`.
        let s = *b.get(p + 3)?;
        if !matches!(s, b'-' | b'.' | b' ') {
            return None;
        }
        sep = Some(s);
    } else {
        if digit_run(b, p) != 3 {
            return None;
        }
        let s = *b.get(p + 3)?;
        match sep {
            None if matches!(s, b'-' | b'.' | b' ') => sep = Some(s),
            Some(t) if t == s => {}
            _ => return None,
        }
        push(&b[p..p + 3], &mut n);
        p += 4;
    }
    let sep = sep?;
    if digit_run(b, p) != 3 || b.get(p + 3) != Some(&sep) || digit_run(b, p + 4) != 4 {
        return None;
    }
    push(&b[p..p + 3], &mut n);
    push(&b[p + 4..p + 8], &mut n);
    let end = p + 8;
    (ends_at(b, end) && valid(&digits[..n], Id::US)).then_some(end)
}

/// A number with a prefix (`+`, `00`, `0`) starting at `start`, in groups
/// joined by `.`, `/`, `-` or a space (around a `/` or `-` too), with an
/// optional `(0)` after the country code: the longest run of groups whose
/// digits the metadata takes as a valid number (read as German when it
/// carries no country code). The first group after the prefix has at least
/// three digits when dots join it, so no date (`05.10.2025`) is read.
pub(crate) fn separated_end(b: &[u8], start: usize) -> Option<usize> {
    let mut digits = [0u8; MAX_DIGITS + 1];
    let mut n = 0;
    let mut p = start;
    if b.get(p) == Some(&b'+') {
        digits[0] = b'+';
        n = 1;
        p += 1;
    }
    let mut groups = 0;
    let mut best = None;
    loop {
        let run = digit_run(b, p);
        // A date, a time or an address is never a group of a number:
        // `+1 2025-10-01`, `+1 01.10.2025`, `+1 127.0.0.1`.
        if run == 0 || n + run > MAX_DIGITS || (groups > 0 && not_a_group(b, p)) {
            break;
        }
        digits[n..n + run].copy_from_slice(&b[p..p + run]);
        n += run;
        p += run;
        groups += 1;
        if groups == 1 && run < 3 && b.get(p) == Some(&b'.') && digits[0] != b'+' {
            return None;
        }
        if groups >= 2 && ends_at(b, p) && valid(&digits[..n], Id::DE) {
            best = Some(p);
        }
        // `(0)` after the country code: the trunk prefix, not dialled.
        let mut q = p;
        if b.get(q) == Some(&b' ') {
            q += 1;
        }
        if b[q..].starts_with(b"(0)") && digits[0] == b'+' && groups == 1 {
            q += 3;
            if b.get(q) == Some(&b' ') {
                q += 1;
            }
            p = q;
            continue;
        }
        match b.get(q) {
            Some(b'.' | b'/' | b'-') => {
                q += 1;
                if b.get(q) == Some(&b' ') && b.get(p) == Some(&b' ') {
                    q += 1;
                }
            }
            _ if q > p => {}
            _ => break,
        }
        if !super::digit_at(b, q) {
            break;
        }
        p = q;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn north_american_shapes() {
        for text in [
            "(415) 555-0132",
            "(415)555-0132",
            "415-555-0132",
            "415.555.0132",
            "415 555 0132",
            "1-415-555-0132",
            "1 (415) 555-0132",
        ] {
            assert_eq!(nanp_end(text.as_bytes(), 0), Some(text.len()), "{text}");
        }
        for text in [
            "415-555.0132",    // mixed separators
            "415-555-01321",   // a fifth digit
            "123-456-7890",    // no such area code
            "415-555-0132.5",  // a decimal
            "415-555-0132abc", // glued to a word
            "2025-10-01",
            "555-0132",
        ] {
            assert_eq!(nanp_end(text.as_bytes(), 0), None, "{text}");
        }
    }

    #[test]
    fn separated_shapes() {
        for text in [
            "0171.234.5678",
            "+49/171/2345678",
            "+49.171.234.5678",
            "+49 (0)171.234.5678",
            "0049.171.2345678",
            "+44.20.7946.0958",
        ] {
            assert_eq!(
                separated_end(text.as_bytes(), 0),
                Some(text.len()),
                "{text}"
            );
        }
        for text in [
            "+1 2025-10-01 99%",
            "+1 01.10.2025",
            "+1 127.0.0.1:8080",
            "+1 14:00",
            "+49 171 2345678%",
            "05.10.2025",
            "01.10.2025 10:00",
            "0.9.143",
            "010.000.000.001",
            "0171.2",
        ] {
            assert_eq!(separated_end(text.as_bytes(), 0), None, "{text}");
        }
    }
}
