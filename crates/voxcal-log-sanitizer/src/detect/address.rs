//! Postal addresses: a street with a house number (`Hauptstraße 12`,
//! `Berliner Str. 45-47`, `Am Markt 3a`) and a postcode with its city
//! (`10115 Berlin`), optionally one after the other.

use super::{is_word, numeric_continues};

/// Street-type endings of one-word street names (`Hauptstraße`,
/// `Lindenallee`), lower case; `str` needs its dot or a house number.
const SUFFIXES: &[&str] = &[
    "straße", "strasse", "str", "weg", "allee", "platz", "gasse", "ring", "damm", "ufer",
];

/// Street-type words that follow a capitalised word (`Berliner Straße`).
const TYPE_WORDS: &[&str] = &[
    "Straße", "Strasse", "Str", "Weg", "Allee", "Platz", "Gasse", "Ring", "Damm", "Ufer",
];

/// Capitalised words that end like a street but are none.
const NOT_STREETS: &[&str] = &[
    "String",
    "Spring",
    "Ring",
    "Weg",
    "Platz",
    "Damm",
    "Ufer",
    "Allee",
    "Gasse",
    "Straße",
    "Strasse",
    "Str",
    "Arbeitsplatz",
    "Parkplatz",
    "Sitzplatz",
    "Speicherplatz",
];

/// Words after `Am`/`Im`/`Zum` or before a house number that are not a
/// street (times, dates, log words); weekdays and months come from
/// [`voxcal_core::names`] (see [`not_place`]).
const NOT_PLACES: &[&str] = &[
    "Wochenende",
    "Eingang",
    "Ausgang",
    "Empfang",
    "Schalter",
    "Tisch",
    "Morgen",
    "Abend",
    "Mittag",
    "Vormittag",
    "Nachmittag",
    "Tag",
    "Ende",
    "Anfang",
    "Termin",
    "Telefon",
    "Slot",
    "Platz",
    "Uhr",
    "Anruf",
    "Status",
    "Versuch",
    "Schritt",
    "Punkt",
    "Zeit",
    "Beispiel",
    "Moment",
    "Jahr",
    "Monat",
    "Woche",
    "Schnitt",
    "Durchschnitt",
    "Raum",
    "Zimmer",
    "Liste",
    "Warteliste",
    "Zeitpunkt",
    "Stück",
    "Stand",
    "Rang",
    "Level",
    "Fall",
    "Ganzen",
    "Minute",
    "Stunde",
];

/// Capitalised words after a five-digit number that are not a city: units,
/// counts and log words (`12345 Bytes`, `20000 Euro`).
const NOT_CITIES: &[&str] = &[
    "Bytes",
    "Byte",
    "Euro",
    "Eur",
    "Mal",
    "Stück",
    "Personen",
    "Minuten",
    "Sekunden",
    "Stunden",
    "Tage",
    "Einträge",
    "Anrufe",
    "Termine",
    "Zeilen",
    "Ms",
    "Requests",
    "Calls",
    "Fehler",
    "Punkte",
    "Kunden",
    "Uhr",
    "Km",
    "Meter",
    "Gramm",
    "Liter",
    "Mio",
    "Timeout",
    "Error",
    "Retry",
    "Retries",
    "Items",
    "Users",
    "Rows",
    "Events",
    "Messages",
    "Tokens",
    "Zeichen",
    "Datensätze",
    "Nachrichten",
    "Buchungen",
    "Slots",
    "Prozent",
];

fn is_upper_start(b: &[u8], p: usize) -> bool {
    match b.get(p) {
        Some(c) if c.is_ascii_uppercase() => true,
        // Ä, Ö, Ü in UTF-8.
        Some(0xC3) => matches!(b.get(p + 1), Some(0x84 | 0x96 | 0x9C)),
        _ => false,
    }
}

fn is_letter(c: u8) -> bool {
    c.is_ascii_alphabetic() || c >= 0x80
}

/// The end of a word of letters from `p`, with inner hyphens
/// (`Kaiser-Wilhelm-Straße`).
fn letters_end(b: &[u8], p: usize) -> usize {
    let mut q = p;
    while q < b.len()
        && (is_letter(b[q])
            || (q > p && b[q] == b'-' && b.get(q + 1).is_some_and(|&c| is_letter(c))))
    {
        q += 1;
    }
    q
}

/// A capitalised word at `p` that reads as a proper noun: upper case first,
/// then a lower-case letter (not `INFO`, not `OK`). Returns its end.
fn proper_word(b: &[u8], p: usize) -> Option<usize> {
    if !is_upper_start(b, p) {
        return None;
    }
    let second = if b[p] == 0xC3 { p + 2 } else { p + 1 };
    let c = *b.get(second)?;
    if !(c.is_ascii_lowercase() || c >= 0x80) {
        return None;
    }
    let e = letters_end(b, p);
    if b.get(e).is_some_and(|&c| is_word(c)) {
        return None;
    }
    Some(e)
}

fn listed(list: &[&str], w: &[u8]) -> bool {
    list.iter().any(|s| s.as_bytes() == w)
}

/// Whether `w` is a word that is not a place: a weekday, a month, or one
/// of [`NOT_PLACES`].
fn not_place(w: &[u8]) -> bool {
    listed(NOT_PLACES, w) || voxcal_core::names::is_german_calendar_word_bytes(w)
}

/// Whether the word `w` (from [`letters_end`]) ends like a street name.
fn street_word(w: &[u8]) -> bool {
    if listed(NOT_STREETS, w) {
        return false;
    }
    SUFFIXES.iter().any(|s| {
        let s = s.as_bytes();
        let n = w.len();
        if n < s.len() + 2 || !w[n - s.len()..].eq_ignore_ascii_case(s) {
            return false;
        }
        let before = w[n - s.len() - 1].to_ascii_lowercase();
        match s {
            // `Käufer`, `Läufer` (an `ä` before `ufer`), `Anrufer`.
            b"ufer" => before != 0xA4 && !(n >= 7 && w[n - 7..].eq_ignore_ascii_case(b"anrufer")),
            // `Monitoring`, `Scoring`, `String`, `Spring`: a vowel, `t` or
            // `p` before `ring`; `Schillerring`, `Wilhelm-Ring` are streets.
            b"ring" => !matches!(
                before,
                b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b't' | b'p'
            ),
            _ => true,
        }
    })
}

/// A house number at `p`: `12`, `3a`, `45-47`, `7/9` (up to three digits,
/// so years and ids are none); returns its end.
fn house_number_end(b: &[u8], p: usize) -> Option<usize> {
    let run = |p: usize| {
        b[p.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let n = run(p);
    if n == 0 {
        // Said in words in a transcript: `Hauptstraße zwölf`.
        let we = p + b[p.min(b.len())..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphabetic() || c >= 0x80)
            .count();
        let word = &b[p.min(b.len())..we];
        let spoken = !word.is_empty()
            && word[0].is_ascii_lowercase()
            && word != b"null"
            && super::spoken::number_word_digits(word).is_some_and(|d| d <= 3);
        return (spoken && !b.get(we).is_some_and(|&c| is_word(c))).then_some(we);
    }
    if !(1..=3).contains(&n) || b[p] == b'0' {
        return None;
    }
    let mut e = p + n;
    if matches!(b.get(e), Some(b'-' | b'/')) {
        let m = run(e + 1);
        if (1..=3).contains(&m) {
            e += 1 + m;
        }
    }
    if b.get(e).is_some_and(u8::is_ascii_alphabetic) && !b.get(e + 1).is_some_and(|&c| is_word(c)) {
        e += 1;
    }
    if b.get(e).is_some_and(|&c| is_word(c)) || numeric_continues(b, e) {
        return None;
    }
    Some(e)
}

/// After a street name ending at `p`: ` 12` (and `.` after `Str`), then
/// an optional `, 10115 Berlin`. Returns the end.
fn number_and_city(b: &[u8], mut p: usize, abbreviated: bool) -> Option<usize> {
    if abbreviated && b.get(p) == Some(&b'.') {
        p += 1;
    }
    if b.get(p) != Some(&b' ') {
        return None;
    }
    let e = house_number_end(b, p + 1)?;
    let after = if b.get(e) == Some(&b',') { e + 1 } else { e };
    if b.get(after) == Some(&b' ') {
        if let Some(ce) = postcode_city_end(b, after + 1) {
            return Some(ce);
        }
    }
    Some(e)
}

/// A street with a house number starting at the word `i` (capitalised),
/// not reaching before `floor`: `(start, end)`. The street-type word of a
/// two-word street (`Berliner Str. 45`) starts it at the word before.
pub(crate) fn street_at(b: &[u8], i: usize, floor: usize) -> Option<(usize, usize)> {
    let we = letters_end(b, i);
    let w = &b[i..we];
    if b.get(we).is_some_and(|&c| is_word(c)) {
        return None;
    }
    match w {
        b"Am" | b"Im" | b"Zum" | b"Zur" | b"An" | b"Auf" => {
            let mut p = we;
            if matches!(w, b"An" | b"Auf") {
                let article: &[&[u8]] = if w == b"An" {
                    &[b" der", b" den"]
                } else {
                    &[b" dem", b" der"]
                };
                let a = article.iter().find(|a| b[p..].starts_with(a))?;
                p += a.len();
            }
            if b.get(p) != Some(&b' ') {
                return None;
            }
            let e = proper_word(b, p + 1)?;
            if not_place(&b[p + 1..e]) {
                return None;
            }
            // `Am Alten Markt 3`: a second capitalised word.
            if b.get(e) == Some(&b' ') {
                if let Some(e2) = proper_word(b, e + 1) {
                    if !not_place(&b[e + 1..e2]) {
                        if let Some(end) = number_and_city(b, e2, false) {
                            return Some((i, end));
                        }
                    }
                }
            }
            let end = number_and_city(b, e, false)?;
            Some((i, end))
        }
        _ if listed(TYPE_WORDS, w) => {
            // `Berliner Str. 45`: the capitalised word before.
            if i < floor + 2 || b[i - 1] != b' ' {
                return None;
            }
            let mut s = i - 1;
            while s > floor && is_letter(b[s - 1]) {
                s -= 1;
            }
            if s == i - 1 || (s > 0 && is_word(b[s - 1])) || proper_word(b, s) != Some(i - 1) {
                return None;
            }
            let end = number_and_city(b, we, w == b"Str")?;
            Some((s, end))
        }
        _ if street_word(w) => {
            let abbreviated = w.len() >= 3 && w[w.len() - 3..].eq_ignore_ascii_case(b"str");
            let end = number_and_city(b, we, abbreviated)?;
            Some((i, end))
        }
        _ => None,
    }
}

/// A postcode with its city starting at the digit `p`: five digits (not
/// `00…`), one blank, a capitalised city name that is not a unit or log
/// word, with `am Main`/`an der Oder`/`(Oder)` and a `Bad`/`Sankt` before
/// the name taken along.
pub(crate) fn postcode_city_end(b: &[u8], p: usize) -> Option<usize> {
    let digits = b[p.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits != 5 || &b[p..p + 2] == b"00" || b.get(p + 5) != Some(&b' ') {
        return None;
    }
    if after_id_word(b, p) {
        return None;
    }
    let c = p + 6;
    let mut e = proper_word(b, c)?;
    let city = &b[c..e];
    if listed(NOT_CITIES, city) || not_place(city) {
        return None;
    }
    if matches!(city, b"Bad" | b"Sankt") && b.get(e) == Some(&b' ') {
        e = proper_word(b, e + 1)?;
    }
    for joiner in [&b" am "[..], b" an der ", b" im ", b" ob der "] {
        if b[e..].starts_with(joiner) {
            if let Some(e2) = proper_word(b, e + joiner.len()) {
                e = e2;
            }
            break;
        }
    }
    if b[e..].starts_with(b" (") {
        if let Some(e2) = proper_word(b, e + 2) {
            if b.get(e2) == Some(&b')') {
                e = e2 + 1;
            }
        }
    }
    Some(e)
}

/// Words that introduce an id, not an address: after them five digits are
/// a number of that thing (`Buchung 12345 Bestätigt`), not a postcode.
const ID_WORDS: &[&str] = &[
    "Buchung",
    "Buchungsnummer",
    "Termin",
    "Terminnummer",
    "Auftrag",
    "Auftragsnummer",
    "Bestellung",
    "Bestellnummer",
    "Rechnung",
    "Rechnungsnummer",
    "Vorgang",
    "Vorgangsnummer",
    "Kundennummer",
    "Ticket",
    "Fall",
    "Nummer",
    "Nr.",
    "Nr",
    "ID",
    "Id",
    "Code",
    "Booking",
    "Order",
    "Invoice",
    "Request",
    "Job",
];

/// Whether the word right before position `p` (one space between) is one
/// of [`ID_WORDS`], in any case (`buchung`, `BUCHUNG`).
fn after_id_word(b: &[u8], p: usize) -> bool {
    if p < 2 || b[p - 1] != b' ' {
        return false;
    }
    let end = p - 1;
    let start = b[..end]
        .iter()
        .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'.' || *c >= 0x80))
        .map_or(0, |i| i + 1);
    let word = &b[start..end];
    ID_WORDS
        .iter()
        .any(|w| w.as_bytes().eq_ignore_ascii_case(word))
}

/// An address that fills a keyed value from `v`: a street with a number
/// (and city), or a postcode with its city.
pub(crate) fn address_at(b: &[u8], v: usize) -> Option<usize> {
    if b.get(v).is_some_and(u8::is_ascii_digit) {
        return postcode_city_end(b, v);
    }
    street_at(b, v, v).map(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn street(s: &str) -> Option<&str> {
        let b = s.as_bytes();
        let (start, end) = (0..b.len())
            .filter(|&i| i == 0 || b[i - 1] == b' ')
            .find_map(|i| street_at(b, i, 0))?;
        Some(&s[start..end])
    }

    #[test]
    fn streets_with_numbers() {
        for (text, want) in [
            ("Hauptstraße 12", "Hauptstraße 12"),
            ("Am Markt 3a", "Am Markt 3a"),
            ("x Berliner Str. 45-47 y", "Berliner Str. 45-47"),
            ("Lindenallee 7", "Lindenallee 7"),
            (
                "Marienplatz 1, 80331 München ok",
                "Marienplatz 1, 80331 München",
            ),
            ("An der Alster 5", "An der Alster 5"),
            ("Kaiser-Wilhelm-Ring 20", "Kaiser-Wilhelm-Ring 20"),
            ("Hauptstr. 5", "Hauptstr. 5"),
        ] {
            assert_eq!(street(text), Some(want), "{text}");
        }
        for text in [
            "Hauptstraße Friseur",
            "Am Montag 3 Termine",
            "String 5",
            "Käufer 2",
            "Hauptstraße 12:30",
            "Arbeitsplatz 3",
            "Anrufer 2",
            "Monitoring 3",
            "Zur Zeit 5",
            "Im Jahr 2026",
            "Hauptstraße 2026",
            "Am Eingang 2",
            "Im Empfang 1",
            "Am Schalter 3 warten",
        ] {
            assert_eq!(street(text), None, "{text}");
        }
    }

    #[test]
    fn postcodes_with_cities() {
        assert_eq!(postcode_city_end(b"10115 Berlin", 0), Some(12));
        assert_eq!(
            postcode_city_end(b"60311 Frankfurt am Main.", 0),
            Some("60311 Frankfurt am Main".len())
        );
        assert_eq!(postcode_city_end(b"12345 ms", 0), None);
        assert_eq!(postcode_city_end(b"20000 Euro", 0), None);
        assert_eq!(postcode_city_end(b"00123 Berlin", 0), None);
        assert_eq!(postcode_city_end(b"10115 INFO", 0), None);
        // An id after the word that names it is no postcode.
        for text in [
            "Buchung 12345 Bestätigt",
            "buchung 12345 Bestätigt",
            "Auftrag 40210 Erledigt",
            "Nr. 80331 München",
            "Ticket 10115 Berlin",
        ] {
            let at = text.find(|c: char| c.is_ascii_digit()).unwrap();
            assert_eq!(postcode_city_end(text.as_bytes(), at), None, "{text}");
        }
        // Still postcodes: after a street, a comma, `in`, `PLZ`.
        for (text, want) in [
            ("Hauptstraße 5 10115 Berlin", "10115 Berlin"),
            ("Marienplatz 1, 80331 München", "80331 München"),
            ("wohnt in 80331 München", "80331 München"),
            ("PLZ 10115 Berlin", "10115 Berlin"),
        ] {
            let at = text.find(want).unwrap();
            assert_eq!(
                postcode_city_end(text.as_bytes(), at),
                Some(at + want.len()),
                "{text}"
            );
        }
    }
}
