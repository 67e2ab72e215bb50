//! What callers say, written down by the speech recogniser: phone numbers as
//! number words (`null eins sechs null, vier fünf …`) and e-mail addresses
//! with spoken punctuation (`anna unterstrich weber ät web punkt de`).
//!
//! The word tables are the facts `voxcal-request-validation` reads spoken
//! input with (`phone.rs`, `email.rs`), copied so this crate does not depend
//! on it.

use super::is_word;

/// A token of letters and digits (and inner hyphens, `t-online`) from `p`.
fn token_end(b: &[u8], p: usize) -> usize {
    let mut q = p;
    while q < b.len()
        && (b[q].is_ascii_alphanumeric()
            || b[q] >= 0x80
            || (q > p && b[q] == b'-' && b.get(q + 1).is_some_and(u8::is_ascii_alphanumeric)))
    {
        q += 1;
    }
    q
}

/// `w` equals the lower-case word `s`, its first letter in either case
/// (`Null`, `Zwo` at the start of a sentence); no allocation.
fn is(w: &[u8], s: &[u8]) -> bool {
    w.len() == s.len() && !w.is_empty() && w[0].to_ascii_lowercase() == s[0] && w[1..] == s[1..]
}

/// Units as they start a compound (`einundzwanzig`).
const COMPOUND_UNITS: &[&str] = &[
    "ein", "zwei", "drei", "vier", "fünf", "fuenf", "sechs", "sieben", "acht", "neun",
];

const TENS: &[&str] = &[
    "zwanzig", "dreißig", "dreissig", "vierzig", "fünfzig", "fuenfzig", "sechzig", "siebzig",
    "achtzig", "neunzig",
];

fn one_of(list: &[&str], w: &[u8]) -> bool {
    list.iter().any(|s| is(w, s.as_bytes()))
}

/// How many digits the number word `w` stands for (`vier` 1, `zwölf` 2,
/// `einundzwanzig` 2), or `None`. The first letter may be upper case.
pub(crate) fn number_word_digits(w: &[u8]) -> Option<usize> {
    let n = w.len();
    if !(3..=32).contains(&n) {
        return None;
    }
    let mut buf = [0u8; 32];
    buf[..n].copy_from_slice(w);
    buf[0] = buf[0].to_ascii_lowercase();
    // A match on the whole word compiles to a switch on its length and a
    // compare: cheap enough for every word whose first letters pass the
    // scanner's prefilter.
    match &buf[..n] {
        b"null" | b"eins" | b"zwei" | b"zwo" | b"drei" | b"vier" | b"fuenf" | b"sechs"
        | b"sieben" | b"acht" | b"neun" => Some(1),
        w if w == "fünf".as_bytes() => Some(1),
        // English, for callers who give their number in English.
        b"zero" | b"one" | b"two" | b"three" | b"four" | b"five" | b"six" | b"seven" | b"eight"
        | b"nine" => Some(1),
        b"ten" | b"eleven" | b"twelve" | b"thirteen" | b"fourteen" | b"fifteen" | b"sixteen"
        | b"seventeen" | b"eighteen" | b"nineteen" | b"twenty" | b"thirty" | b"forty"
        | b"fifty" | b"sixty" | b"seventy" | b"eighty" | b"ninety" => Some(2),
        b"zehn" | b"elf" | b"zwoelf" | b"dreizehn" | b"vierzehn" | b"fuenfzehn" | b"sechzehn"
        | b"siebzehn" | b"achtzehn" | b"neunzehn" | b"zwanzig" | b"dreissig" | b"vierzig"
        | b"fuenfzig" | b"sechzig" | b"siebzig" | b"achtzig" | b"neunzig" => Some(2),
        w if ["zwölf", "fünfzehn", "dreißig", "fünfzig"]
            .iter()
            .any(|s| s.as_bytes() == w) =>
        {
            Some(2)
        }
        w if n >= 7 && hundert_at(w).is_some() => hundreds(w),
        w if n >= 13 => {
            let und = w.windows(3).position(|x| x == b"und")?;
            (one_of(COMPOUND_UNITS, &w[..und])
                && TENS.iter().any(|t| t.as_bytes() == &w[und + 3..]))
            .then_some(2)
        }
        _ => None,
    }
}

/// Where `hundert` stands in `w`: first, or after a unit of three to six
/// bytes (`ein`, `zwei`, `fünf`, `sieben`); no search through other words.
fn hundert_at(w: &[u8]) -> Option<usize> {
    [0, 3, 4, 5, 6]
        .into_iter()
        .find(|&k| w.get(k..k + 7) == Some(&b"hundert"[..]))
}

/// `hundert`, `einhundert`, `zweihundertfünfzig`, `hundertdreiundzwanzig`:
/// three digits (a count of hundreds of one unit, then nothing or a number
/// word of one or two digits).
fn hundreds(w: &[u8]) -> Option<usize> {
    let at = hundert_at(w)?;
    let (count, rest) = (&w[..at], &w[at + 7..]);
    let count_ok = count.is_empty() || one_of(COMPOUND_UNITS, count);
    let rest_ok = rest.is_empty()
        || (rest.len() >= 3 && number_word_digits(rest).is_some_and(|d| d <= 2))
        || (rest.len() >= 3 && (rest == b"eins" || one_of(COMPOUND_UNITS, rest)));
    (count_ok && rest_ok).then_some(3)
}

/// Whether a word may start a spoken number (the prefilter of the scanner
/// lets these first two bytes through). Of the English words only those
/// sharing the first two bytes of a German one start a number (`zero`,
/// `double`, `six`, `seven`, `eight`, `eleven`, and `plus`); the others
/// continue one. A number given in English starts with `zero` or `plus`
/// (`zero one seven one …`, `plus four nine …`), so the common words
/// `one`, `two`, `the`, `for` cost the scanner nothing.
pub(crate) fn starts_spoken_number(w: &[u8]) -> bool {
    if !may_start_number_word(w) {
        return false;
    }
    number_word_digits(w).is_some() || is_repeat(w).is_some() || is(w, b"plus")
}

/// The first two bytes of `w` are those of a number word, `doppel`,
/// `dreifach` or `plus` (the first in either case): most words end here.
#[inline]
fn may_start_number_word(w: &[u8]) -> bool {
    let [a, b, ..] = *w else {
        return false;
    };
    matches!(
        (a.to_ascii_lowercase(), b),
        (b'n', b'u' | b'e')
            | (b'e', b'i' | b'l')
            | (b'z', b'w' | b'e')
            | (b'd', b'r' | b'o')
            | (b'v', b'i')
            | (b'f', b'u' | 0xC3)
            | (b's', b'e' | b'i')
            | (b'a', b'c')
            | (b'p', b'l')
    )
}

/// `doppel`/`doppelt`/`doppelte`/`double` (twice) and `dreifach`/`triple`
/// (three times).
fn is_repeat(w: &[u8]) -> Option<usize> {
    if is(w, b"doppel") || is(w, b"doppelt") || is(w, b"doppelte") || is(w, b"double") {
        Some(2)
    } else if is(w, b"dreifach") || is(w, b"triple") {
        Some(3)
    } else {
        None
    }
}

/// A separator between spoken digits at `p`: a blank, `, `, `-` or ` - `.
fn separator_end(b: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    if b.get(q) == Some(&b',') {
        q += 1;
    }
    if b.get(q) == Some(&b' ') {
        q += 1;
        if b.get(q) == Some(&b'-') && b.get(q + 1) == Some(&b' ') {
            q += 2;
        }
    } else if q == p && b.get(q) == Some(&b'-') {
        q += 1;
    }
    (q > p
        && b.get(q)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c >= 0x80))
    .then_some(q)
}

/// A spoken phone number starting at `start` (a number word, `plus`,
/// `doppel` or a group of digits): a run of number words and digit groups
/// that stands for at least six digits, at least three of them spoken.
/// `um halb zehn`, `zwei Personen`, `Termin um neun Uhr` stay.
pub(crate) fn spoken_phone_end(b: &[u8], start: usize) -> Option<usize> {
    spoken_digits_end(b, start, 6, 3)
}

/// The end of the run of number words and digit groups from `start` that
/// holds at least one spoken digit, however short: the whole value after a
/// phone-named key (`Telefonnummer: null einhundertfünfzig, dreiundzwanzig`).
pub(crate) fn spoken_value_end(b: &[u8], start: usize) -> Option<usize> {
    spoken_digits_end(b, start, 1, 1)
}

/// [`spoken_phone_end`] with its thresholds: the run must stand for at
/// least `min_digits` digits, `min_spoken` of them spoken.
fn spoken_digits_end(
    b: &[u8],
    start: usize,
    min_digits: usize,
    min_spoken: usize,
) -> Option<usize> {
    let mut p = start;
    let mut digits = 0usize;
    let mut spoken = 0usize;
    let mut end = None;
    let mut repeat = 1;
    let mut first = true;
    loop {
        let te = token_end(b, p);
        if te == p {
            break;
        }
        let w = &b[p..te];
        if w.iter().all(u8::is_ascii_digit) {
            if w.len() > 5 {
                break;
            }
            digits += w.len() + (repeat - 1);
            repeat = 1;
        } else if let Some(n) = number_word_digits(w) {
            digits += n * repeat;
            spoken += n * repeat;
            repeat = 1;
        } else if let Some(r) = is_repeat(w) {
            repeat = r;
            p = match separator_end(b, te) {
                Some(q) => q,
                None => break,
            };
            continue;
        } else if first && is(w, b"plus") {
            first = false;
            p = match separator_end(b, te) {
                Some(q) => q,
                None => break,
            };
            continue;
        } else {
            break;
        }
        first = false;
        if b.get(te).is_some_and(|&c| is_word(c)) {
            break;
        }
        if digits >= min_digits && spoken >= min_spoken {
            end = Some(te);
        }
        // A bound on runaway lists, far above any phone number (15 digits
        // in E.164): the run is not cut inside a number a caller spells.
        if digits > 40 {
            break;
        }
        match separator_end(b, te) {
            Some(q) => p = q,
            None => break,
        }
    }
    end
}

// ---------------------------------------------------------------- e-mail

/// Spoken `@`.
pub(crate) fn is_spoken_at(w: &[u8]) -> bool {
    w == b"at" || w == "ät".as_bytes() || w.eq_ignore_ascii_case(b"klammeraffe")
}

/// Spoken punctuation inside an address (`punkt`, `unterstrich`, `minus`, ...).
fn connector(w: &[u8]) -> Option<u8> {
    let w = w.to_ascii_lowercase();
    match w.as_slice() {
        b"punkt" | b"dot" => Some(b'.'),
        b"minus" | b"bindestrich" | b"strich" | b"dash" | b"hyphen" => Some(b'-'),
        b"unterstrich" | b"underscore" | b"tiefstrich" => Some(b'_'),
        _ => None,
    }
}

const TLDS: &[&str] = &[
    "de", "com", "net", "org", "eu", "info", "at", "ch", "io", "biz", "me", "online", "email",
    "co", "uk", "nl", "fr", "it", "es", "pl",
];

/// A token that can be part of an address: letters or digits, not spoken
/// punctuation, not an `@` word.
fn address_token(b: &[u8], p: usize) -> Option<usize> {
    let e = token_end(b, p);
    let w = &b[p..e];
    (e > p && connector(w).is_none() && !is_spoken_at(w) && !b.get(e).is_some_and(|&c| is_word(c)))
        .then_some(e)
}

/// The start of a spoken local part that ends with the blank before `at`
/// (the `@` word), not reaching before `floor`: the word before, joined by
/// spoken punctuation or spelled letter by letter (`a n n a`).
fn local_start(b: &[u8], at: usize, floor: usize) -> Option<usize> {
    let word_before = |end: usize| -> Option<usize> {
        if end <= floor {
            return None;
        }
        let mut s = end;
        while s > floor
            && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] >= 0x80 || b[s - 1] == b'-')
        {
            s -= 1;
        }
        while s < end && b[s] == b'-' {
            s += 1;
        }
        (s < end && (s == 0 || !is_word(b[s - 1]))).then_some(s)
    };
    if at < 2 || b[at - 1] != b' ' {
        return None;
    }
    let mut start = word_before(at - 1)?;
    if connector(&b[start..at - 1]).is_some() {
        return None;
    }
    loop {
        if start < floor + 2 || b[start - 1] != b' ' {
            break;
        }
        let Some(prev) = word_before(start - 1) else {
            break;
        };
        let pw = &b[prev..start - 1];
        if connector(pw).is_some() {
            // `max punkt müller`: the word before the connector joins.
            if prev >= floor + 2 && b[prev - 1] == b' ' {
                if let Some(pp) = word_before(prev - 1) {
                    if connector(&b[pp..prev - 1]).is_none() {
                        start = pp;
                        continue;
                    }
                }
            }
            break;
        }
        // Spelled: `m a x`.
        if pw.len() == 1 && start + 1 < at && b[start + 1] == b' ' {
            start = prev;
            continue;
        }
        break;
    }
    Some(start)
}

/// The end of a spoken domain starting at `p`: labels joined by `punkt`
/// (or `minus`), the last one a known top-level domain; a label may be
/// spelled (`g m x`).
fn domain_end(b: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    let mut labels = 0;
    let mut end = None;
    loop {
        let mut e = address_token(b, q)?;
        let mut label = b[q..e].to_ascii_lowercase();
        // Spelled letter by letter: `g m x`, `d e`.
        if e - q == 1 {
            while b.get(e) == Some(&b' ') {
                match address_token(b, e + 1) {
                    Some(e2) if e2 == e + 2 => {
                        label.push(b[e + 1].to_ascii_lowercase());
                        e = e2;
                    }
                    _ => break,
                }
            }
        }
        labels += 1;
        if labels >= 2 && one_of(TLDS, &label) {
            end = Some(e);
        }
        if b.get(e) != Some(&b' ') {
            break;
        }
        let ce = token_end(b, e + 1);
        let Some(sep) = connector(&b[e + 1..ce]) else {
            break;
        };
        if sep == b'_' || b.get(ce) != Some(&b' ') {
            break;
        }
        q = ce + 1;
        if labels > 8 {
            break;
        }
    }
    end
}

/// A spoken e-mail address around the `@` word at `at..at_end`: its start
/// (not before `floor`) and end.
pub(crate) fn spoken_email(
    b: &[u8],
    at: usize,
    at_end: usize,
    floor: usize,
) -> Option<(usize, usize)> {
    if b.get(at_end) != Some(&b' ') {
        return None;
    }
    let end = domain_end(b, at_end + 1)?;
    let start = local_start(b, at, floor)?;
    Some((start, end))
}

/// A spoken e-mail address that starts at `v` (a keyed value): the `@`
/// word is looked for among the next few tokens.
pub(crate) fn spoken_email_from(b: &[u8], v: usize) -> Option<usize> {
    let mut p = v;
    for _ in 0..12 {
        let e = token_end(b, p);
        if e == p {
            return None;
        }
        if p > v && is_spoken_at(&b[p..e]) {
            return match spoken_email(b, p, e, v)? {
                (s, end) if s == v => Some(end),
                _ => None,
            };
        }
        if b.get(e) != Some(&b' ') {
            return None;
        }
        p = e + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_words() {
        assert_eq!(number_word_digits(b"vier"), Some(1));
        assert_eq!(number_word_digits("fünf".as_bytes()), Some(1));
        assert_eq!(number_word_digits("Zwölf".as_bytes()), Some(2));
        assert_eq!(number_word_digits(b"einundzwanzig"), Some(2));
        assert_eq!(number_word_digits(b"ein"), None);
        assert_eq!(number_word_digits("zwölften".as_bytes()), None);
    }

    #[test]
    fn spoken_phones() {
        let s = "null eins sechs null, vier fünf sechs sieben acht neun.";
        assert_eq!(spoken_phone_end(s.as_bytes(), 0), Some(s.len() - 1));
        let s = "0160 vier fünf sechs sieben";
        assert_eq!(spoken_phone_end(s.as_bytes(), 0), Some(s.len()));
        let s = "plus vier neun eins sieben doppel eins";
        assert_eq!(spoken_phone_end(s.as_bytes(), 0), Some(s.len()));
        assert_eq!(spoken_phone_end(b"zwei Personen", 0), None);
        assert_eq!(spoken_phone_end(b"neun Uhr", 0), None);
    }

    #[test]
    fn spoken_emails() {
        fn find(s: &str) -> Option<&str> {
            let b = s.as_bytes();
            (0..b.len()).find_map(|i| {
                let e = token_end(b, i);
                (e > i && (i == 0 || b[i - 1] == b' ') && is_spoken_at(&b[i..e]))
                    .then(|| spoken_email(b, i, e, 0))
                    .flatten()
                    .map(|(s0, e0)| &s[s0..e0])
            })
        }
        assert_eq!(
            find("ist anna unterstrich weber ät web punkt de danke"),
            Some("anna unterstrich weber ät web punkt de")
        );
        assert_eq!(
            find("max punkt müller at gmx punkt de"),
            Some("max punkt müller at gmx punkt de")
        );
        assert_eq!(
            find("m a x Klammeraffe g m x punkt d e"),
            Some("m a x Klammeraffe g m x punkt d e")
        );
        assert_eq!(find("error at line 5"), None);
        assert_eq!(find("meet at noon punkt"), None);
    }
}
