//! Name heuristics (German and English): name words, particles, stopwords,
//! spoken name labels, and date-of-birth labels.

use crate::detect::{date_end, written_date_end};

pub(super) fn looks_like_identifier(v: &[u8]) -> bool {
    !v.iter().any(|&c| c == b' ' || c.is_ascii_uppercase())
        && v.iter().any(|&c| matches!(c, b'_' | b'.' | b'/' | b':'))
}

pub(super) fn name_word_end(b: &[u8], mut p: usize) -> usize {
    let start = p;
    while p < b.len()
        && (b[p].is_ascii_alphabetic()
            || b[p] >= 0x80
            || (p > start && matches!(b[p], b'-' | b'\'')))
    {
        p += 1;
    }
    while p > start && matches!(b[p - 1], b'-' | b'\'') {
        p -= 1;
    }
    p
}

pub(super) fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

pub(super) fn is_particle(w: &[u8]) -> bool {
    matches!(
        w,
        b"von"
            | b"van"
            | b"de"
            | b"der"
            | b"zu"
            | b"zur"
            | b"vom"
            | b"den"
            | b"des"
            | b"del"
            | b"di"
            | b"da"
            | b"dos"
            | b"du"
            | b"la"
            | b"le"
            | b"ten"
            | b"ter"
    )
}

pub(super) fn is_stopword(w: &[u8]) -> bool {
    // `Anrufer: Geburtsdatum 12. Mai 1980`: the label, not a surname.
    if matches!(w.first(), Some(b'G' | b'B' | b'D')) && w.len() <= 12 && is_dob_label(w) {
        return true;
    }
    const STOP: &[&str] = &[
        "Termin",
        "Termine",
        "Buchung",
        "Anruf",
        "Rückruf",
        "Nachricht",
        "Uhr",
        "Am",
        "Um",
        "Für",
        "Mit",
        "Und",
        "Oder",
        "Hat",
        "Ist",
        "Wurde",
        "Wird",
        "Möchte",
        "Will",
        "Der",
        "Die",
        "Das",
        "Den",
        "Dem",
        "Des",
        "Ein",
        "Eine",
        "Einen",
        "Kein",
        "Keine",
        "Bitte",
        "Danke",
        "Status",
        "Fehler",
        "Error",
        "Call",
        "ID",
        "Id",
        "Tel",
        "Telefon",
        "Nr",
        "Nummer",
        "Email",
        "Mail",
        "Kunde",
        "Kundin",
        "Name",
        "Herr",
        "Frau",
        "Bei",
        "Von",
        "Ab",
        "Bis",
        "Im",
        "In",
        "An",
        "Auf",
        "Zum",
        "Zur",
        "Heute",
        "Morgen",
        "Gestern",
        "Slot",
        "Slots",
        "Booking",
        "Request",
        "Response",
        "Geburtsdatum",
        "Adresse",
        "IBAN",
        "OK",
    ];
    STOP.iter().any(|s| s.as_bytes() == w) || voxcal_core::names::is_german_calendar_word_bytes(w)
}

/// Where a name starts after a spoken label: `Name ist Max`, `my name is
/// Max`, `ich heiße Max`.
pub(super) fn name_phrase_end(b: &[u8], w: &[u8], end: usize) -> Option<usize> {
    let rest = &b[end..];
    if w.eq_ignore_ascii_case(b"name") {
        for filler in [&b" ist "[..], b" is "] {
            if rest.starts_with(filler) {
                return Some(end + filler.len());
            }
        }
        return None;
    }
    let heisse = w.eq_ignore_ascii_case("heiße".as_bytes()) || w.eq_ignore_ascii_case(b"heisse");
    (heisse && rest.first() == Some(&b' ')).then_some(end + 1)
}

pub(super) fn is_dob_label(w: &[u8]) -> bool {
    [
        "geb",
        "geboren",
        "geburtsdatum",
        "geburtstag",
        "birthdate",
        "birthday",
        "dob",
        "born",
    ]
    .iter()
    .any(|l| w.eq_ignore_ascii_case(l.as_bytes()))
}

/// The end of `geboren`/`born` (the first in either case) after a blank at
/// `p`, the date before it being a birth date: `am 12. Mai 1980 geboren`,
/// `12.05.1980 geboren`.
pub(super) fn born_after(b: &[u8], p: usize) -> bool {
    if b.get(p) != Some(&b' ') {
        return false;
    }
    let rest = &b[p + 1..];
    let word = |w: &[u8]| {
        rest.len() >= w.len()
            && rest[..w.len()].eq_ignore_ascii_case(w)
            && !rest
                .get(w.len())
                .is_some_and(|&c| c.is_ascii_alphanumeric() || c >= 0x80)
    };
    word(b"geboren") || word(b"born")
}

/// A date shortly after a date-of-birth label: `geb. 12.03.1980`,
/// `Geburtsdatum: 1980-03-12`, `born on 12/03/1980`, `geboren am 12. Mai 1980`.
pub(super) fn date_after_label(b: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut p = end;
    let mut skipped = 0;
    while p < b.len() && matches!(b[p], b'.' | b':' | b'=' | b' ' | b'"') && skipped < 5 {
        p += 1;
        skipped += 1;
    }
    for filler in [&b"am "[..], b"on "] {
        if b[p..].starts_with(filler) {
            p += filler.len();
        }
    }
    let e = date_end(b, p).or_else(|| written_date_end(b, p))?;
    Some((p, e))
}
