//! Name heuristics (German and English): name words, particles, stopwords,
//! spoken name labels, and date-of-birth labels.

use super::json_str::string_end;
use crate::detect::{date_end, is_word, written_date_end};

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
/// Max`, `ich heiße Max`, `mein Nachname ist Weber`, `Vorname lautet Anna`,
/// `hier spricht Anna Weber`, `es spricht …`, `hier ist Anna Weber`, `meine
/// Tochter, Lena Weber`, `mein Sohn Paul`.
pub(super) fn name_phrase_end(b: &[u8], w: &[u8], end: usize) -> Option<usize> {
    let rest = &b[end..];
    let after = |fillers: &[&[u8]]| {
        fillers
            .iter()
            .find(|f| rest.len() > f.len() && rest[..f.len()].eq_ignore_ascii_case(f))
            .map(|f| end + f.len())
    };
    let lower = |x: &[u8]| w.eq_ignore_ascii_case(x);
    if lower(b"name")
        || lower(b"nachname")
        || lower(b"vorname")
        || lower(b"familienname")
        || lower(b"zuname")
    {
        return after(&[b" ist ", b" is ", b" lautet "]);
    }
    if lower("heiße".as_bytes()) || lower(b"heisse") || lower(b"spricht") {
        return (rest.first() == Some(&b' ')).then_some(end + 1);
    }
    if lower(b"hier") {
        return after(&[b" ist ", b" spricht "]);
    }
    // Family: the word must be a noun (capitalised), a comma may follow.
    if matches!(
        w,
        b"Tochter"
            | b"Sohn"
            | b"Ehemann"
            | b"Ehefrau"
            | b"Mutter"
            | b"Vater"
            | b"Enkel"
            | b"Enkelin"
    ) {
        return after(&[b", ", b" "]);
    }
    None
}

/// The start of the capitalised name words (at most `max`) that end right
/// before the blank at `end`, not reaching before `floor`: `Schneider` in
/// `Schneider mein Name`.
pub(super) fn name_words_before(b: &[u8], end: usize, floor: usize, max: usize) -> Option<usize> {
    let mut start = None;
    let mut p = end;
    for _ in 0..max {
        if p <= floor + 1 || b[p - 1] == b' ' {
            break;
        }
        let mut s = p;
        while s > floor && (b[s - 1].is_ascii_alphabetic() || b[s - 1] >= 0x80 || b[s - 1] == b'-')
        {
            s -= 1;
        }
        let word = &b[s..p];
        if s == p
            || (s > floor && !matches!(b[s - 1], b' ' | b',' | b'.' | b':' | b'"' | b'\n'))
            || !word[0].is_ascii_uppercase()
            || is_stopword(word)
        {
            break;
        }
        start = Some(s);
        if s < floor + 2 || b[s - 1] != b' ' {
            break;
        }
        p = s - 1;
    }
    start
}

/// An academic title (before its `.`): `Dr`, `Prof`, `med`, `rer`, …
pub(super) fn is_title(w: &[u8]) -> bool {
    matches!(
        w,
        b"Dr" | b"Prof" | b"med" | b"rer" | b"nat" | b"phil" | b"jur" | b"dent"
    )
}

/// Past academic titles from `p`: `Dr. `, `Prof. Dr. `, `Dr. med. `.
pub(super) fn skip_titles(b: &[u8], mut p: usize) -> usize {
    loop {
        let mut we = p;
        while we < b.len() && b[we].is_ascii_alphabetic() {
            we += 1;
        }
        if is_title(&b[p..we]) && b.get(we) == Some(&b'.') && b.get(we + 1) == Some(&b' ') {
            p = we + 2;
        } else {
            return p;
        }
    }
}

/// The start of the word that the spelled letters `b[s..e]` (`W-E-B-E-R`)
/// spell, right before them after `, ` or a blank: `Weber, W-E-B-E-R`.
pub(super) fn spelled_word_before(b: &[u8], s: usize, e: usize, floor: usize) -> Option<usize> {
    // The letters stand at every other byte: `W-E-B-E-R`.
    let letters = (e - s).div_ceil(2);
    let mut p = s;
    if p >= floor + 2 && &b[p - 2..p] == b", " {
        p -= 2;
    } else if p > floor && b[p - 1] == b' ' {
        p -= 1;
    } else {
        return None;
    }
    let start = p.checked_sub(letters)?;
    (start >= floor
        && (0..letters).all(|k| b[start + k].eq_ignore_ascii_case(&b[s + 2 * k]))
        && (start == 0 || !is_word(b[start - 1])))
    .then_some(start)
}

/// `W-E-B-E-R`: a name spelled letter by letter, three letters or more,
/// capitals joined by `-`. Returns the end.
pub(super) fn spelled_end(b: &[u8], i: usize) -> Option<usize> {
    let mut p = i;
    let mut letters = 0;
    loop {
        let upper = b.get(p).is_some_and(u8::is_ascii_uppercase);
        if !upper || b.get(p + 1).is_some_and(|&c| is_word(c)) {
            return None;
        }
        letters += 1;
        p += 1;
        if b.get(p) == Some(&b'-') && b.get(p + 1).is_some_and(u8::is_ascii_uppercase) {
            p += 1;
            continue;
        }
        break;
    }
    (letters >= 3).then_some(p)
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
    // `geboren am`, `born on`, `geboren bin ich am`, `geboren wurde sie am`.
    const FILLERS: [&[u8]; 8] = [
        b"am ", b"on ", b"bin ", b"ich ", b"ist ", b"wurde ", b"er ", b"sie ",
    ];
    for _ in 0..3 {
        match FILLERS.iter().find(|f| b[p..].starts_with(f)) {
            Some(f) => p += f.len(),
            None => break,
        }
    }
    let e = date_end(b, p).or_else(|| written_date_end(b, p))?;
    Some((p, e))
}

/// A transcript label of the caller's turn: Retell writes `User:`.
pub(super) fn is_caller_turn(key: &[u8]) -> bool {
    matches!(key, b"User" | b"user" | b"USER" | b"Caller" | b"caller")
}

/// Labels of the agent's turn, before the question a caller answers.
const AGENT_LABELS: [&[u8]; 6] = [
    b"Agent:",
    b"agent:",
    b"Assistant:",
    b"Assistent:",
    b"Bot:",
    b"AI:",
];

/// Whether the agent's turn right before the caller's label at `label`
/// asks for a name (`Wie ist Ihr Name?`, `Darf ich Ihren Nachnamen
/// haben?`, `Wie heißen Sie?`, `Wer spricht da?`, `Können Sie das
/// buchstabieren?`, `May I have your name?`). Only the last sentence of
/// that turn counts, and only a turn that started within 400 bytes.
pub(super) fn asked_for_name(b: &[u8], label: usize) -> bool {
    let lo = label.saturating_sub(400);
    // One pass back to the nearest turn label: the agent's, or another
    // caller turn between (then this answer is to something else).
    let mut k = label;
    let turn = loop {
        if k <= lo {
            return false;
        }
        k -= 1;
        if b[k] != b':' {
            continue;
        }
        let mut w = k;
        while w > lo && b[w - 1].is_ascii_alphabetic() {
            w -= 1;
        }
        let word = &b[w..k];
        // `\nAgent:` inside a JSON string: the escape's letter goes.
        let word = if w > lo && b[w - 1] == b'\\' && word.len() > 1 {
            &word[1..]
        } else {
            word
        };
        if AGENT_LABELS.iter().any(|l| &l[..l.len() - 1] == word) {
            break &b[k + 1..label];
        }
        if is_caller_turn(word) {
            return false;
        }
    };
    asks_for_name(turn)
}

/// Whether the last sentence of what the agent said, `turn`, asks for the
/// caller's name (see [`asked_for_name`]).
pub(super) fn asks_for_name(turn: &[u8]) -> bool {
    // The last sentence: after the last `.`/`!`/`?` followed by a blank
    // that is not at the end of the turn.
    let mut end = turn.len();
    while end > 0 && matches!(turn[end - 1], b' ' | b'\n' | b'\r' | b'\\' | b'n' | b'"') {
        // Trailing blanks, line breaks and JSON-escaped line breaks (`\n`).
        if turn[end - 1] == b'n' && !(end >= 2 && turn[end - 2] == b'\\') {
            break;
        }
        end -= 1;
    }
    let turn = &turn[..end];
    let start = (1..turn.len())
        .rev()
        .find(|&k| matches!(turn[k - 1], b'.' | b'!' | b'?') && turn[k] == b' ')
        .unwrap_or(0);
    let sentence = &turn[start..];
    let asks = sentence.last() == Some(&b'?')
        || find_ci(sentence, b"bitte").is_some()
        || find_ci(sentence, b"please").is_some();
    const CUES: [&str; 9] = [
        "name",
        "heißen sie",
        "heissen sie",
        "wer spricht",
        "mit wem spreche",
        "buchstabier",
        "who am i speaking",
        "who is calling",
        "spell",
    ];
    asks && CUES.iter().any(|cue| {
        let cue = cue.as_bytes();
        let mut from = 0;
        while let Some(k) = find_ci(&sentence[from..], cue).map(|k| from + k) {
            // Not the agent's own name (`Mein Name ist Lisa, wie kann ich
            // helfen?`), and not a marker (`[NAME_REDACTED]`).
            let before = &sentence[..k];
            let own = ends_with_ci(before, b"mein ") || ends_with_ci(before, b"my ");
            if !own && before.last() != Some(&b'[') {
                return true;
            }
            from = k + 1;
        }
        false
    })
}

/// The first index of `needle` in `hay`, ASCII case ignored.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    (0..=hay.len().checked_sub(needle.len())?)
        .find(|&k| hay[k..k + needle.len()].eq_ignore_ascii_case(needle))
}

fn ends_with_ci(hay: &[u8], tail: &[u8]) -> bool {
    hay.len() >= tail.len() && hay[hay.len() - tail.len()..].eq_ignore_ascii_case(tail)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    (0..=hay.len().checked_sub(needle.len())?)
        .rev()
        .find(|&k| &hay[k..k + needle.len()] == needle)
}

/// Where a name may start in what a caller says from `v` on (an answer,
/// or the text after a label such as `Anrufer:`): past fillers (`Ja, `,
/// `Genau. `, `Guten Tag, `, `Das ist `, `Ich bin `, `This is `), at a
/// capitalised word that is not the start of a sentence about something
/// else (`Moment`, `Wie bitte?`, `Ich möchte …`). Phrases the word scanner
/// reads itself (`Hier spricht …`, `Mein Name ist …`) give `None`. Words
/// that are also surnames (`Klar`, `Sicher`, `Gern`) are no fillers.
pub(super) fn answer_name_start(b: &[u8], v: usize) -> Option<usize> {
    const FILLERS: &[&str] = &[
        "ja",
        "jo",
        "jawohl",
        "genau",
        "gerne",
        "also",
        "äh",
        "Äh",
        "ähm",
        "Ähm",
        "ehm",
        "hm",
        "ok",
        "okay",
        "natürlich",
        "yes",
        "sure",
        "well",
        "hallo",
        "guten tag",
        "guten morgen",
        "guten abend",
        "hello",
        "hi",
        "das ist",
        "ich bin",
        "it's",
        "i'm",
        "this is",
        "that's",
    ];
    let mut p = v;
    for _ in 0..4 {
        let rest = &b[p..];
        let Some(f) = FILLERS.iter().map(|f| f.as_bytes()).find(|f| {
            rest.len() > f.len()
                && rest[..f.len()].eq_ignore_ascii_case(f)
                && !is_word(rest[f.len()])
                && rest[f.len()] != b'\''
        }) else {
            break;
        };
        let mut q = p + f.len();
        if matches!(b.get(q), Some(b',' | b'.' | b'!')) {
            q += 1;
        }
        if b.get(q) != Some(&b' ') {
            return None;
        }
        p = q + 1;
    }
    const NOT_NAMES: &[&str] = &[
        "ich",
        "mein",
        "meine",
        "wir",
        "hier",
        "es",
        "wie",
        "was",
        "wer",
        "wo",
        "wann",
        "warum",
        "moment",
        "sekunde",
        "entschuldigung",
        "sorry",
        "nein",
        "können",
        "kann",
        "gut",
        "my",
        "i",
        "it",
        "this",
        "what",
    ];
    let we = name_word_end(b, p);
    let word = &b[p..we];
    let upper = std::str::from_utf8(word).is_ok_and(starts_upper)
        // `von Bülow`: a particle before a capitalised name word.
        || (is_particle(word)
            && b.get(we) == Some(&b' ')
            && std::str::from_utf8(&b[we + 1..name_word_end(b, we + 1)]).is_ok_and(starts_upper));
    if we == p
        || !upper
        || NOT_NAMES
            .iter()
            .any(|n| word.eq_ignore_ascii_case(n.as_bytes()))
    {
        return None;
    }
    Some(p)
}

/// Whether ` hier` follows at `e` as a whole word: `Müller hier, …`.
pub(super) fn here_after(b: &[u8], e: usize) -> bool {
    b[e..].starts_with(b" hier") && !b.get(e + 5).is_some_and(|&c| is_word(c))
}

const ROLE_KEY: &[u8] = b"\"role\":";

/// Whether `at` starts `"role":"<role>"` (a blank after the colon allowed).
fn role_is(at: &[u8], role: &[u8]) -> bool {
    let Some(rest) = at.strip_prefix(ROLE_KEY) else {
        return false;
    };
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    rest.len() > role.len() + 1
        && rest[0] == b'"'
        && &rest[1..=role.len()] == role
        && rest[role.len() + 1] == b'"'
}

/// Whether the JSON key `"content"` whose opening quote is at `key_quote`,
/// its string value closing at `close`, is a caller's utterance in Retell's
/// `transcript_object` (`"role":"user"` in the same object, before the key
/// or right after the value) that answers the agent's utterance right
/// before it, which asked for the name ([`asks_for_name`]). The agent's
/// utterance is looked for within 4,000 bytes (its `words` array lies
/// between).
pub(super) fn utterance_answers_name(b: &[u8], key_quote: usize, close: usize) -> bool {
    let lo = key_quote.saturating_sub(64);
    let Some(open) = b[lo..key_quote].iter().rposition(|&c| c == b'{') else {
        return false;
    };
    let object = lo + open;
    // Right after the value: `,`, blanks or line breaks, then the role.
    let mut next = close + 1;
    if b.get(next) == Some(&b',') {
        next += 1;
    }
    while b
        .get(next)
        .is_some_and(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
    {
        next += 1;
    }
    let after = b.get(next..).unwrap_or_default();
    let own = &b[object..key_quote];
    let user = rfind(own, ROLE_KEY).is_some_and(|k| role_is(&own[k..], b"user"))
        || (next > close + 1 && role_is(after, b"user"));
    if !user {
        return false;
    }
    // The nearest role before this object must be the agent's.
    let before = &b[object.saturating_sub(4000)..object];
    let Some(agent) = rfind(before, ROLE_KEY) else {
        return false;
    };
    if !role_is(&before[agent..], b"agent") {
        return false;
    }
    // The agent's `content` string: the first in its object, before or
    // after the role.
    let content = b"\"content\":";
    let agent_object = before[..agent]
        .iter()
        .rposition(|&c| c == b'{')
        .unwrap_or(0);
    let start = rfind(&before[agent_object..], content)
        .filter(|&k| !before[agent_object..agent_object + k].contains(&b'}'))
        .map(|k| agent_object + k);
    let Some(start) = start else {
        return false;
    };
    let mut v = start + content.len();
    while before.get(v) == Some(&b' ') {
        v += 1;
    }
    if before.get(v) != Some(&b'"') {
        return false;
    }
    let end = string_end(before, v + 1);
    asks_for_name(&before[v + 1..end])
}
