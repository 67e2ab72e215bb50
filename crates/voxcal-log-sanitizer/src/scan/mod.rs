//! The one-pass scanner: walks the bytes once, wakes up only at trigger bytes
//! (`@`, `%40`, digits, `+`, `(`, `=`, `:`, `[`) and at the first letter of each
//! word, and runs small anchored matchers from there.
//!
//! One concern per file: [`bytes`] holds the byte-class tables the main loop
//! skips with, this file the scan driver, [`values`] where a keyed or
//! numeric value ends, [`json_str`] JSON strings (quoting, escapes,
//! brackets), and [`names`] the German/English name heuristics. The
//! detectors themselves live in [`crate::detect`].

mod bytes;
mod json_str;
mod names;
mod values;

use std::borrow::Cow;

use crate::config::Inner;
use crate::detect::address::{address_at, postcode_city_end, street_at};
use crate::detect::ids::{sv_end, sv_shape, tax_id_end};
use crate::detect::phone_meta::{nanp_end, separated_end};
use crate::detect::secrets::{credential_after, private_key_end, secret_prefix_end};
use crate::detect::spoken::{
    is_spoken_at, spoken_email, spoken_email_from, spoken_phone_end, spoken_value_end,
    starts_spoken_number,
};
use crate::detect::{
    bracketed_email, bracketed_email_from, card_end, date_end, email_domain_end, email_local_start,
    find, iban_end, ipv4_end, ipv6_end, is_key_byte, is_marker, is_word, key_start, marker_len,
    phone_end, word_end, written_date_end,
};
use crate::keys::{classify_key, KeyRule, ValueStyle};
use crate::kind::Kind;

use bytes::{
    word_may_match, AT, CLASS, DIGIT, INTERESTING_FIRST, LBRACKET, LPAREN, OTHER, PERCENT, PLUS,
    SEP, WORD,
};
use json_str::{
    bracket_end, closes_json_string, escape_end, escaped_at, escaped_string_end,
    inside_json_string, json_number_quote, string_end,
};
use names::{
    answer_name_start, asked_for_name, born_after, date_after_label, here_after, is_caller_turn,
    is_dob_label, is_particle, is_stopword, is_title, looks_like_identifier, name_phrase_end,
    name_word_end, name_words_before, skip_titles, spelled_end, spelled_word_before, starts_upper,
    utterance_answers_name,
};
use values::{
    address_end, hex_group_then_colon, later_card, number_groups_end, plain_end, timestamp_end,
    url_password,
};

/// How a replacement is wrapped so the surrounding structure stays valid.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// Free text, or inside an existing string.
    None,
    /// A non-string JSON value: the marker becomes a JSON string.
    Json,
    /// A non-string value of JSON that sits escaped inside a JSON string.
    Escaped,
}

/// How many passes [`sanitize`] runs at most over a text whose redaction
/// changed it. The first pass does the work; a later one changes something
/// only where a marker put next to the remaining text formed a new token
/// (`[REDACTED]::89bc` reads as an IPv6 address), which happens only in
/// malformed input. Runs settle after two or three passes; the bound only
/// guards against the unforeseen.
const MAX_PASSES: usize = 8;

/// How many redactions inside `transcript_object` utterances a pass
/// remembers for their `words` arrays (see [`Scan::utterance`]).
const MAX_SAID: usize = 256;

/// Redacts `text` and returns it borrowed when nothing matched.
///
/// A text that changed is scanned again until a pass leaves it as it is, so
/// sanitizing the output once more never changes it (idempotence, checked
/// by the property tests and the fuzz targets). On text with PII the second
/// pass costs about as much as a pass over clean text.
pub(crate) fn sanitize<'a>(text: &'a str, cfg: &Inner) -> Cow<'a, str> {
    let first = pass(text, cfg);
    let Cow::Owned(mut out) = first else {
        return first;
    };
    for _ in 1..MAX_PASSES {
        match pass(&out, cfg) {
            Cow::Borrowed(_) => break,
            Cow::Owned(next) => out = next,
        }
    }
    Cow::Owned(out)
}

/// One pass of the scanner over `text`.
fn pass<'a>(text: &'a str, cfg: &Inner) -> Cow<'a, str> {
    let mut sc = Scan {
        s: text,
        b: text.as_bytes(),
        cfg,
        out: None,
        copied: 0,
        settled: 0,
        word: (0, 0),
        content_end: 0,
        said: Vec::new(),
    };
    sc.run();
    match sc.out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[sc.copied..]);
            Cow::Owned(out)
        }
    }
}

struct Scan<'a, 'c> {
    s: &'a str,
    b: &'a [u8],
    cfg: &'c Inner,
    out: Option<String>,
    /// Everything before this index is already decided (copied or redacted).
    copied: usize,
    /// The end of the last value that was already a marker (redacted by an
    /// earlier pass): keys are not looked for behind it, as they were not
    /// behind the redaction that wrote it.
    settled: usize,
    /// The last run of word bytes the main loop stepped over, as
    /// `(start, end)`: a key right before `:`/`=` is usually that run.
    word: (usize, usize),
    /// The end of the last JSON string value of a `content` key: an
    /// utterance of Retell's `transcript_object`, whose `words` array
    /// repeats it word by word.
    content_end: usize,
    /// What was redacted inside such strings (ranges of the text), at most
    /// [`MAX_SAID`]: the entries of a `words` array that equal one of their
    /// words are redacted too.
    said: Vec<(usize, usize, Kind)>,
}

impl Scan<'_, '_> {
    /// The main loop: skips bytes and words that wake nothing up, and
    /// dispatches on the others.
    fn run(&mut self) {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        while i < n {
            while i < n && CLASS[b[i] as usize] == OTHER {
                i += 1;
            }
            if i >= n {
                break;
            }
            let c = b[i];
            if CLASS[c as usize] == WORD && !(i > 0 && b[i - 1] == b'\\') {
                let end = word_end(b, i);
                self.word = (i, end);
                i = if word_may_match(b, i, end) {
                    self.word(i, end)
                } else {
                    end
                };
                continue;
            }
            i = self.dispatch(i);
        }
    }

    fn dispatch(&mut self, i: usize) -> usize {
        let b = self.b;
        match CLASS[b[i] as usize] {
            WORD if i > 0 && b[i - 1] == b'\\' => escape_end(b, i),
            WORD => self.word(i, word_end(b, i)),
            DIGIT => self.digits(i),
            AT => self.at(i, i + 1),
            PERCENT if b[i + 1..].starts_with(b"40") => self.at(i, i + 3),
            PLUS => self.plus(i),
            LPAREN => self.paren(i),
            SEP => self.key_sep(i),
            LBRACKET => match marker_len(b, i) {
                Some(len) => i + len,
                None => self.bracketed_at(i).unwrap_or(i + 1),
            },
            _ => i + 1,
        }
    }

    fn on(&self, kind: Kind) -> bool {
        self.cfg.kinds.contains(kind)
    }

    fn redact(&mut self, start: usize, end: usize, kind: Kind, quote: Quote) {
        debug_assert!(self.copied <= start && start < end);
        let s = self.s;
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(s.len() + 16));
        out.push_str(&s[self.copied..start]);
        let q = match quote {
            Quote::None => "",
            Quote::Json => "\"",
            Quote::Escaped => "\\\"",
        };
        out.push_str(q);
        let value = &s[start..end];
        self.cfg.write_marker(out, kind, value);
        out.push_str(q);
        self.copied = end;
        if start < self.content_end && self.said.len() < MAX_SAID {
            self.said.push((start, end, kind));
        }
    }

    fn redact_kind(&mut self, start: usize, end: usize, kind: Kind) -> usize {
        self.redact(start, end, kind, Quote::None);
        end
    }

    // ------------------------------------------------------------ words

    /// The word `b[i..end]`.
    fn word(&mut self, i: usize, end: usize) -> usize {
        let b = self.b;
        let w = &b[i..end];
        let next = b.get(end).copied().unwrap_or(0);
        let first = w[0];
        // Most words start with a letter no matcher cares about.
        if !INTERESTING_FIRST[usize::from(first)] && next != b':' {
            return end;
        }

        if self.on(Kind::Secret) {
            if let Some(e) = secret_prefix_end(b, i, end) {
                return self.redact_kind(i, e, Kind::Secret);
            }
            if next == b' '
                && (first | 0x20) == b'b'
                && (w.eq_ignore_ascii_case(b"bearer") || w.eq_ignore_ascii_case(b"basic"))
            {
                if let Some((s, e)) = credential_after(b, end) {
                    return self.redact_kind(s, e, Kind::Secret);
                }
            }
            if first == b'B'
                && w == b"BEGIN"
                && i >= 5
                && &b[i - 5..i] == b"-----"
                && i - 5 >= self.copied
            {
                if let Some(e) = private_key_end(b, end) {
                    return self.redact_kind(i - 5, e, Kind::Secret);
                }
            }
        }
        if first.is_ascii_uppercase()
            && w.len() >= 4
            && w[1].is_ascii_uppercase()
            && w[2].is_ascii_digit()
            && w[3].is_ascii_digit()
            && self.on(Kind::Iban)
        {
            match iban_end(b, i) {
                Some((e, true)) => return self.redact_kind(i, e, Kind::Iban),
                // IBAN-shaped but the checksum fails: skip it whole, so its
                // digit groups are not read as a phone number.
                Some((e, false)) => return e,
                None => {}
            }
        }
        if next == b':' && w.len() <= 4 && w.iter().all(u8::is_ascii_hexdigit) && self.on(Kind::Ip)
        {
            if let Some(e) = ipv6_end(b, i) {
                return self.redact_kind(i, e, Kind::Ip);
            }
        }
        if (first.is_ascii_uppercase() || first == 0xC3) && self.on(Kind::Address) {
            if let Some((s, e)) = street_at(b, i, self.copied) {
                return self.redact_kind(s, e, Kind::Address);
            }
        }
        if self.on(Kind::Phone) && starts_spoken_number(w) {
            if let Some(e) = spoken_phone_end(b, i) {
                return self.redact_kind(i, e, Kind::Phone);
            }
        }
        if self.on(Kind::Email) && is_spoken_at(w) {
            if let Some((s, e)) = spoken_email(b, i, end, self.copied) {
                return self.redact_kind(s, e, Kind::Email);
            }
        }
        if self.on(Kind::Name) {
            if first.is_ascii_uppercase() {
                if let Some((s, e)) = self.salutation(w, end) {
                    return self.redact_kind(s, e, Kind::Name);
                }
            }
            let phrase_word = w.len() <= 12
                && matches!(
                    first | 0x20,
                    b'n' | b'h' | b'v' | b'f' | b'z' | b's' | b't' | b'e' | b'm'
                );
            let spoken = phrase_word
                .then(|| name_phrase_end(b, w, end))
                .flatten()
                .map(|p| skip_titles(b, p))
                .and_then(|p| Some((p, self.name_words(p, 3, false)?)));
            if let Some((p, e)) = spoken {
                // `mein Name ist Thomas, Thomas Müller`: said again in full.
                let e = self.after_comma(e, 3);
                return self.redact_kind(p, e, Kind::Name);
            }
            // `Schneider mein Name`, `Weber ist mein Name`: the name before.
            if w == b"Name" || w == b"name" {
                if let Some((s, e)) = self.name_before_mein(i) {
                    self.redact_kind(s, e, Kind::Name);
                    return end;
                }
            }
            // `W-E-B-E-R`: spelled letter by letter.
            if w.len() == 1 && next == b'-' {
                if let Some(e) = spelled_end(b, i) {
                    // `Weber, W-E-B-E-R`: the word it spells goes too.
                    let s = spelled_word_before(b, i, e, self.copied).unwrap_or(i);
                    return self.redact_kind(s, e, Kind::Name);
                }
            }
        }
        if matches!(first | 0x20, b'g' | b'b' | b'd')
            && w.len() <= 12
            && self.on(Kind::Dob)
            && is_dob_label(w)
        {
            if let Some((s, e)) = date_after_label(b, end) {
                return self.redact_kind(s, e, Kind::Dob);
            }
        }
        end
    }

    /// The end of a name that ends at `e`, taking along up to `max` name
    /// words after `, ` (`Schmidt, Anna`; `Thomas, Thomas Müller`).
    fn after_comma(&self, e: usize, max: usize) -> usize {
        if self.b[e..].starts_with(b", ") {
            self.name_words(e + 2, max, false).unwrap_or(e)
        } else {
            e
        }
    }

    /// The start of the name before `mein Name`/`ist mein Name` whose
    /// `Name` starts at `i`.
    fn name_before_mein(&self, i: usize) -> Option<(usize, usize)> {
        let b = self.b;
        let floor = self.copied;
        let mut p = i;
        let mein = p >= floor + 5 && b[p - 5..p].eq_ignore_ascii_case(b"mein ");
        if !mein {
            return None;
        }
        p -= 5;
        if p >= floor + 4 && &b[p - 4..p] == b"ist " {
            p -= 4;
        }
        if p < floor + 2 || b[p - 1] != b' ' {
            return None;
        }
        let start = name_words_before(b, p - 1, floor, 3)?;
        Some((start, p - 1))
    }

    /// The bare name a caller says at the start of the turn whose label
    /// starts at `label` (the text after it at `after`): only in answer to
    /// the agent's question for a name, or before `hier` (`Müller hier`).
    fn caller_answer(&self, label: usize, after: usize) -> Option<(usize, usize)> {
        let b = self.b;
        let mut v = after;
        while b.get(v) == Some(&b' ') {
            v += 1;
        }
        let p = answer_name_start(b, v)?;
        let e = self.name_words(p, 3, true)?;
        let e = self.after_comma(e, 2);
        (here_after(b, e) || asked_for_name(b, label)).then_some((p, e))
    }

    /// The JSON key `key` (`content` or `word`) of an utterance in Retell's
    /// `transcript_object`, its `:` at `i`: the bare name of a caller's
    /// answer to the agent's question for it is redacted, and the entries
    /// of a `words` array that equal a word of something redacted in an
    /// utterance (that name, `Peter` of `mein Name ist Peter Klein`, `eins`
    /// of a spoken phone number) are redacted with the same kind. Returns
    /// where the scan goes on, `None` to go on after the `:`.
    fn utterance(&mut self, key: &[u8], i: usize) -> Option<usize> {
        let b = self.b;
        let mut v = i + 1;
        while b.get(v) == Some(&b' ') {
            v += 1;
        }
        if b.get(v) != Some(&b'"') {
            return None;
        }
        let close = string_end(b, v + 1);
        if key == b"content" {
            // What is redacted inside it is remembered for its `words`.
            self.content_end = close;
            let key_quote = i - key.len() - 2;
            if !(self.on(Kind::Name) && utterance_answers_name(b, key_quote, close)) {
                return None;
            }
            let p = answer_name_start(b, v + 1)?;
            let e = self.name_words(p, 3, true)?;
            let e = self.after_comma(e, 2).min(close);
            self.redact(p, e, Kind::Name, Quote::None);
            return Some(e);
        }
        // `"word":"Klein."`: one word of what was said, punctuation after it.
        let word = &b[v + 1..close];
        let len = word
            .iter()
            .rposition(|c| !matches!(c, b'.' | b',' | b'!' | b'?'))
            .map_or(0, |k| k + 1);
        let word = &word[..len];
        let (_, _, kind) = *self.said.iter().find(|&&(s, e, _)| {
            !word.is_empty()
                && b[s..e]
                    .split(|&c| matches!(c, b' ' | b',' | b'.'))
                    .any(|part| part == word)
        })?;
        self.redact(v + 1, v + 1 + len, kind, Quote::None);
        Some(close)
    }

    /// `Herr Max Müller`, `Frau Dr. Anna Schmidt`, `Dr. Klaus`.
    fn salutation(&self, w: &[u8], end: usize) -> Option<(usize, usize)> {
        let b = self.b;
        let mut p = end;
        let customer = matches!(
            w,
            b"Kunde" | b"Kundin" | b"Anrufer" | b"Anruferin" | b"Patient" | b"Patientin"
        );
        match w {
            b"Herr" | b"Herrn" | b"Frau" => {}
            b"Dr" | b"Prof" if b.get(p) == Some(&b'.') => p += 1,
            // `Kunde Max Mustermann hat gebucht`: the customer word without a
            // colon; `Kunde hat angerufen`, `Kunde Nummer 5`, `Kunde INFO` stay.
            _ if customer => {
                let second = b.get(p + 2).copied().unwrap_or(0);
                if b.get(p) != Some(&b' ') || !(second.is_ascii_lowercase() || second >= 0x80) {
                    return None;
                }
            }
            _ => return None,
        }
        loop {
            if b.get(p) != Some(&b' ') {
                return None;
            }
            p += 1;
            let we = word_end(b, p);
            let title = &b[p..we];
            if is_title(title) && b.get(we) == Some(&b'.') {
                p = we + 1;
                continue;
            }
            break;
        }
        let e = self.name_words(p, 3, false)?;
        Some((p, e))
    }

    /// The end of a run of name words starting at `p`: capitalised words
    /// (with `von`, `van`, `de`, `zu` between them), at most `max`.
    /// The end of up to `max` capitalised name words from `start`, with
    /// particles (`von`, `van der`, `de la`) between them. With `after_word`
    /// a name word precedes `start`, so a particle may come first
    /// (`name=Max von Bülow` continues at `von`).
    fn name_words(&self, start: usize, max: usize, after_word: bool) -> Option<usize> {
        let b = self.b;
        let mut p = start;
        let mut end = None;
        let mut count = 0;
        loop {
            if count > 0 || p > start {
                if b.get(p) != Some(&b' ') {
                    break;
                }
                p += 1;
            }
            let we = name_word_end(b, p);
            if we == p {
                break;
            }
            let word = &b[p..we];
            let cap = starts_upper(&self.s[p..we]);
            if !cap {
                if (count > 0 || after_word) && is_particle(word) {
                    p = we;
                    continue;
                }
                break;
            }
            if is_stopword(word) || matches!(b.get(we), Some(b'=' | b':')) {
                break;
            }
            count += 1;
            end = Some(we);
            p = we;
            if count >= max {
                break;
            }
        }
        end
    }

    // ------------------------------------------------------------ numbers

    fn digits(&mut self, i: usize) -> usize {
        let b = self.b;
        if i == 0 || !is_word(b[i - 1]) {
            if let Some(e) = timestamp_end(b, i) {
                return e;
            }
        }
        // Bytes before `copied` were redacted: a later pass sees a marker
        // there, so they must not count as digits now either.
        let digit_before = i >= 2 && i - 2 >= self.copied && b[i - 2].is_ascii_digit();
        let continuation = digit_before && matches!(b[i - 1], b'-' | b'/' | b'.' | b':' | b',');
        let after_dot = digit_before && b[i - 1] == b'.';
        let glen = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let after = b.get(i + glen).copied().unwrap_or(0);
        // `am 12. Mai 1980 geboren`, `12.05.1980 geboren`: a date before a
        // birth word (a booking date `am 7. Juli 2026 um 9:30` stays).
        if glen <= 2 && matches!(after, b'.' | b'/') && self.on(Kind::Dob) {
            if let Some(e) = date_end(b, i).or_else(|| written_date_end(b, i)) {
                if born_after(b, e) {
                    return self.redact_kind(i, e, Kind::Dob);
                }
            }
        }
        if !after_dot && self.on(Kind::Ip) {
            if after == b'.' && glen <= 3 {
                if let Some(e) = ipv4_end(b, i) {
                    return self.redact_kind(i, e, Kind::Ip);
                }
            }
            // An IPv6 address opens with at most four hex digits and a colon
            // (`2001:db8::1`); long hex ids and plain numbers are not tried.
            if !continuation
                && glen <= 4
                && (after == b':' || after.is_ascii_hexdigit())
                && hex_group_then_colon(b, i)
            {
                if let Some(e) = ipv6_end(b, i) {
                    return self.redact_kind(i, e, Kind::Ip);
                }
            }
        }
        if !continuation {
            let first = b[i];
            // A negative number is not a card number.
            let negative = i >= 1
                && b[i - 1] == b'-'
                && !(i >= 2 && i - 2 >= self.copied && b[i - 2].is_ascii_alphanumeric());
            // The shape card_end starts with: `dddd dddd…`/`dddd-dddd…` or
            // 13 to 19 digits in one run.
            let card_shape =
                (glen == 4 && matches!(after, b' ' | b'-')) || (13..=19).contains(&glen);
            if (b'2'..=b'6').contains(&first) && card_shape && !negative && self.on(Kind::Card) {
                if let Some(e) = card_end(b, i) {
                    // `port=6379 4823 8930 4916 0000`: a card that starts a
                    // group later and reaches further wins.
                    let (s, e) = later_card(b, i, e).unwrap_or((i, e));
                    let quote = json_number_quote(b, s, e, self.copied);
                    self.redact(s, e, Kind::Card, quote);
                    return e;
                }
            }
            // Shapes first: `12 345 678 995`/`12345678995`, `65 170839 J…`/
            // `65170839J003`, `10115 Berlin`.
            if first != b'0' && ((glen == 2 && after == b' ') || glen == 11) && self.on(Kind::TaxId)
            {
                if let Some(e) = tax_id_end(b, i) {
                    let quote = json_number_quote(b, i, e, self.copied);
                    self.redact(i, e, Kind::TaxId, quote);
                    return e;
                }
            }
            if ((glen == 2 && after == b' ')
                || (glen == 8 && (after == b' ' || after.is_ascii_uppercase())))
                && self.on(Kind::SvNumber)
            {
                if let Some(e) = sv_end(b, i) {
                    return self.redact_kind(i, e, Kind::SvNumber);
                }
            }
            if glen == 5 && after == b' ' && self.on(Kind::Address) {
                if let Some(e) = postcode_city_end(b, i) {
                    return self.redact_kind(i, e, Kind::Address);
                }
            }
            if first == b'0' && self.on(Kind::Phone) {
                if let Some(e) = phone_end(b, i) {
                    return self.redact_kind(i, e, Kind::Phone);
                }
                // `0171.234.5678`: dotted groups, decided by the metadata.
                if matches!(after, b'.' | b'/') {
                    if let Some(e) = separated_end(b, i) {
                        return self.redact_kind(i, e, Kind::Phone);
                    }
                }
            }
            // `415-555-0132`, `1-415-555-0132`: North American numbers
            // without `+1`, decided by the metadata.
            if (glen == 3 || (glen == 1 && first == b'1'))
                && first != b'0'
                && matches!(after, b'-' | b'.' | b' ')
                && (i == 0 || !is_word(b[i - 1]))
                && self.on(Kind::Phone)
            {
                if let Some(e) = nanp_end(b, i) {
                    return self.redact_kind(i, e, Kind::Phone);
                }
            }
            // `0160 vier fünf sechs …`: digits, then spoken digits.
            if glen <= 5
                && after == b' '
                && self.on(Kind::Phone)
                && starts_spoken_number(&b[i + glen + 1..word_end(b, i + glen + 1)])
            {
                if let Some(e) = spoken_phone_end(b, i) {
                    return self.redact_kind(i, e, Kind::Phone);
                }
            }
        }
        let end = if b.get(i + glen).is_some_and(|&c| is_word(c)) {
            word_end(b, i + glen)
        } else {
            i + glen
        };
        self.word = (i, end);
        end
    }

    fn plus(&mut self, i: usize) -> usize {
        let b = self.b;
        let starts = i == 0 || i == self.copied || !is_word(b[i - 1]);
        if starts && self.on(Kind::Phone) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            if let Some(e) = phone_end(b, i) {
                return self.redact_kind(i, e, Kind::Phone);
            }
            if let Some(e) = separated_end(b, i) {
                return self.redact_kind(i, e, Kind::Phone);
            }
        }
        i + 1
    }

    fn paren(&mut self, i: usize) -> usize {
        let b = self.b;
        if let Some(e) = self.bracketed_at(i) {
            return e;
        }
        if self.on(Kind::Phone) && matches!(b.get(i + 1), Some(b'0' | b'+')) {
            if let Some(e) = phone_end(b, i) {
                return self.redact_kind(i, e, Kind::Phone);
            }
        }
        // `(415) 555-0132`.
        if self.on(Kind::Phone) && b.get(i + 4) == Some(&b')') && (i == 0 || !is_word(b[i - 1])) {
            if let Some(e) = nanp_end(b, i) {
                return self.redact_kind(i, e, Kind::Phone);
            }
        }
        i + 1
    }

    // ------------------------------------------------------------ e-mail

    /// `max(at)gmx.de`, `max [at] gmx [dot] de` with the bracket at `i`:
    /// redacted, and the scan goes on after it.
    fn bracketed_at(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        if !(self.on(Kind::Email) && b.get(i + 1).is_some_and(|&c| c | 0x20 == b'a')) {
            return None;
        }
        let (s, e) = bracketed_email(b, i, self.copied)?;
        Some(self.redact_kind(s, e, Kind::Email))
    }

    /// `at` is the index of `@` (or `%40`), `domain` where the domain starts.
    fn at(&mut self, at: usize, domain: usize) -> usize {
        if !self.on(Kind::Email) {
            return at + 1;
        }
        let b = self.b;
        if let Some(start) = email_local_start(b, at, self.copied) {
            // `postgres://user:s3cret@db`: the password of a URL, not an address.
            if self.on(Kind::Secret) && at == domain - 1 && url_password(b, start, self.copied) {
                return self.redact_kind(start, at, Kind::Secret);
            }
            if let Some(end) = email_domain_end(b, domain) {
                return self.redact_kind(start, end, Kind::Email);
            }
        }
        at + 1
    }

    // ------------------------------------------------------------ keys

    fn key_sep(&mut self, i: usize) -> usize {
        let b = self.b;
        let n = b.len();
        if b[i] == b':' && self.on(Kind::Ip) {
            // `fe80::1`, `dead:beef::2`: hex words starting with a letter are
            // not visited as words, so IPv6 is tried from here.
            let mut j = i;
            while j > self.copied && i - j < 4 && b[j - 1].is_ascii_hexdigit() {
                j -= 1;
            }
            // Not after a backslash: `\b::24` inside a JSON string is the
            // escape `\b`, and a redaction from its `b` would break it.
            if j < i
                && b[j].is_ascii_alphabetic()
                && (j == 0 || !(is_word(b[j - 1]) || b[j - 1] == b'\\'))
            {
                if let Some(e) = ipv6_end(b, j) {
                    self.redact(j, e, Kind::Ip, Quote::None);
                    return e;
                }
            }
        }
        if b[i] == b':' && b.get(i + 1) == Some(&b':') {
            if self.on(Kind::Ip) && (i == 0 || !is_word(b[i - 1])) {
                if let Some(e) = ipv6_end(b, i) {
                    return self.redact_kind(i, e, Kind::Ip);
                }
            }
            return i + 2;
        }
        let floor = self.copied.max(self.settled);
        let mut j = i;
        while j > floor && b[j - 1] == b' ' && i - j < 4 {
            j -= 1;
        }
        let (key, quote) = if j > floor && b[j - 1] == b'"' {
            let close = j - 1;
            let escaped = close > floor && b[close - 1] == b'\\';
            let kend = if escaped { close - 1 } else { close };
            let mut q = kend;
            while q > floor && b[q - 1] != b'"' {
                if kend - q > 48 {
                    return i + 1;
                }
                q -= 1;
            }
            if q == floor {
                return i + 1;
            }
            let kstart = q;
            if escaped && !(kstart >= 2 && b[kstart - 2] == b'\\') {
                return i + 1;
            }
            (
                &b[kstart..kend],
                if escaped { Quote::Escaped } else { Quote::Json },
            )
        } else {
            if j != i {
                return i + 1;
            }
            // Keys end in a letter or digit; `11:03` and `) =` are not keys.
            if i == 0 || !is_word(b[i - 1]) {
                return i + 1;
            }
            let limit = floor.max(i.saturating_sub(49));
            let (ws, we) = self.word;
            let q = if we == i && ws > limit && ws < i && !is_key_byte(b[ws - 1]) {
                // The word just stepped over is the whole key.
                ws
            } else {
                // A key starts with a letter: `11:03` and `:23` end here
                // after a look at the digits alone.
                let mut d = i;
                while d > limit && b[d - 1].is_ascii_digit() {
                    d -= 1;
                }
                if d < i && (d == limit || !is_key_byte(b[d - 1])) {
                    return i + 1;
                }
                key_start(b, limit, i)
            };
            // `…\nKunde: Max` inside a JSON string: the escape's letter is
            // not part of the key (`\\n` is a backslash and a plain `n`).
            let q = if q > floor
                && i - q > 1
                && matches!(b[q], b'n' | b'r' | b't')
                && escaped_at(b, q - 1, floor)
            {
                q + 1
            } else {
                q
            };
            if i - q > 48 || (q == limit && q > floor && is_key_byte(b[q - 1])) {
                return i + 1;
            }
            if !(b[q].is_ascii_alphabetic() || b[q] >= 0x80) {
                return i + 1;
            }
            (&b[q..i], Quote::None)
        };
        let Some(rule) = classify_key(key) else {
            // `User: Peter Klein` after `Agent: Wie ist Ihr Name?`, or
            // `User: Müller hier, …`: a transcript's answer with a bare name.
            if b[i] == b':' && quote == Quote::None && is_caller_turn(key) && self.on(Kind::Name) {
                if let Some((s, e)) = self.caller_answer(i - key.len(), i + 1) {
                    return self.redact_kind(s, e, Kind::Name);
                }
            }
            // The same in Retell's `transcript_object`: `{"role":"user",
            // "content":"Peter Klein","words":[{"word":"Peter",…}, …]}`.
            if b[i] == b':' && quote == Quote::Json && matches!(key, b"content" | b"word") {
                if let Some(e) = self.utterance(key, i) {
                    return e;
                }
            }
            return i + 1;
        };
        // `auth: login failed` is a log target, not a credential; so is the
        // last segment of a `tracing` target path (`my_app::signature: …`).
        if b[i] == b':' && quote == Quote::None {
            let kstart = i - key.len();
            let module_path = kstart >= 2 && &b[kstart - 2..kstart] == b"::";
            if module_path || key.eq_ignore_ascii_case(b"auth") {
                return i + 1;
            }
        }
        if !self.on(rule.kind) {
            return i + 1;
        }
        // Blanks before the value; a JSON key's value may also follow a line
        // break (`"name":\r\n"Erika"`, found by fuzzing).
        let mut v = i + 1;
        while v < n
            && (matches!(b[v], b' ' | b'\t')
                || (quote != Quote::None && matches!(b[v], b'\r' | b'\n')))
        {
            v += 1;
        }
        if v >= n {
            return n;
        }
        // `{"phone=":""}` (an unquoted key inside a JSON string) and
        // `"{\"pin\":"` (an escaped key): the quote after the separator closes
        // the enclosing string instead of opening a value.
        if b[v] == b'"'
            && (quote == Quote::Escaped || (quote == Quote::None && closes_json_string(b, i, v)))
        {
            return i + 1;
        }
        // A URL query's value runs to the next `&`: `?name=Max%20M%C3%BCller&`.
        let query = quote == Quote::None && b[i] == b'=' && v == i + 1 && {
            let kstart = i - key.len();
            kstart > 0 && matches!(b[kstart - 1], b'?' | b'&')
        };
        self.value(v, rule, quote, query).unwrap_or(v)
    }

    /// Redacts the value of a sensitive key starting at `v`; returns where to
    /// continue, or `None` to continue at `v`.
    fn value(&mut self, v: usize, rule: KeyRule, quote: Quote, query: bool) -> Option<usize> {
        let b = self.b;
        let label = rule.kind;
        if let Some(len) = marker_len(b, v) {
            self.settled = self.settled.max(v + len);
            return Some(v + len);
        }
        let c = b[v];
        // Quoted string values: redact the content, keep the quotes.
        let string: Option<(usize, usize, &[u8])> = if c == b'"' {
            Some((v + 1, string_end(b, v + 1), b"\""))
        } else if c == b'\\' && b.get(v + 1) == Some(&b'"') {
            Some((v + 2, escaped_string_end(b, v + 2), b"\\\""))
        } else if c == b'\'' && quote == Quote::None {
            let close = find(b, v + 1, b"'");
            // Inside a JSON string the value also ends where that string does
            // (found by fuzzing: `{"a":"name:'x"}` lost its `"}`).
            let close = if inside_json_string(b, v) {
                close.min(string_end(b, v + 1))
            } else {
                close
            };
            Some((v + 1, close, b"'"))
        } else {
            None
        };
        if let Some((cs, ce, closing)) = string {
            let content = &b[cs..ce];
            // A value cut short by the end of its enclosing string resumes at
            // that quote.
            let resume = if b[ce..].starts_with(closing) {
                ce + closing.len()
            } else {
                ce
            };
            if is_marker(content) {
                self.settled = self.settled.max(resume);
                return Some(resume);
            }
            if content.is_empty() || (rule.bare_name && looks_like_identifier(content)) {
                return Some(resume);
            }
            self.redact(cs, ce, label, Quote::None);
            return Some(resume);
        }
        if quote != Quote::None {
            // A JSON value that is not a string.
            if c == b'{' || c == b'[' {
                let e = bracket_end(b, v, quote == Quote::Escaped);
                self.redact(v, e, label, quote);
                return Some(e);
            }
            let e = v + b[v..]
                .iter()
                .take_while(|&&c| !matches!(c, b',' | b'}' | b']' | b' ' | b'\\' | b'"' | b'\n'))
                .count();
            let lit = &b[v..e];
            if lit.is_empty() || matches!(lit, b"null" | b"true" | b"false") {
                return None;
            }
            self.redact(v, e, label, quote);
            return Some(e);
        }
        if query && rule.style != ValueStyle::Auth {
            // An apostrophe between letters is part of the value (`O'Brien`),
            // elsewhere it closes a quoted URL.
            let mut e = v;
            while let Some(&c) = b.get(e) {
                let inner_quote = c == b'\''
                    && e > v
                    && b[e - 1].is_ascii_alphabetic()
                    && b.get(e + 1).is_some_and(u8::is_ascii_alphabetic);
                if !inner_quote
                    && (c <= b' ' || matches!(c, b'&' | b'#' | b'"' | b'\'' | b'\\' | b'<' | b'>'))
                {
                    break;
                }
                e += 1;
            }
            if e == v || (rule.bare_name && looks_like_identifier(&b[v..e])) {
                return Some(e);
            }
            self.redact(v, e, label, Quote::None);
            return Some(e);
        }
        let e = match rule.style {
            // A number keeps all of its groups: `telefon: 0151 2345678`,
            // `card_number=3782 822463 10005`.
            ValueStyle::Word => {
                // Spoken and lettered forms fill the value as a whole:
                // `phone: null eins sieben …`, `svnr=65 170839 J 00 3`.
                let whole = match rule.kind {
                    Kind::Phone => spoken_value_end(b, v),
                    Kind::Email => spoken_email_from(b, v).or_else(|| bracketed_email_from(b, v)),
                    Kind::SvNumber => sv_shape(b, v).map(|(e, _)| e),
                    Kind::Dob => date_end(b, v).or_else(|| written_date_end(b, v)),
                    _ => None,
                };
                whole.unwrap_or_else(|| number_groups_end(b, v, plain_end(b, v)))
            }
            ValueStyle::Auth => {
                let e = plain_end(b, v);
                let w = &b[v..e];
                let scheme = ["bearer", "basic", "token", "digest", "negotiate", "bot"]
                    .iter()
                    .any(|s| w.eq_ignore_ascii_case(s.as_bytes()));
                if scheme && b.get(e) == Some(&b' ') && b.get(e + 1).is_some_and(|&c| c > b' ') {
                    // Keep the scheme, redact the credential: `Bearer [REDACTED]`.
                    if marker_len(b, e + 1).is_some() {
                        return Some(e + 1);
                    }
                    let ce = plain_end(b, e + 1);
                    if ce == e + 1 {
                        return Some(ce);
                    }
                    self.redact(e + 1, ce, label, Quote::None);
                    return Some(ce);
                } else {
                    e
                }
            }
            ValueStyle::Name => {
                // `Kunde: Max` is a label in free text; `Anrufer: mein Name ist`
                // is not a name. After `=` any case counts (`name=max`).
                if self.b[v - 1] == b' ' && !starts_upper(&self.s[v..]) {
                    return None;
                }
                // What a caller says after a transcript label: `Anrufer: Ja,
                // Peter Klein` keeps `Ja, `; `Anrufer: Ich heiße …`, `Kunde:
                // Hallo, ich möchte …` hold no name here (a phrase rule may
                // find one further on).
                if self.b[v - 1] == b' ' {
                    let p = answer_name_start(b, v)?;
                    if p > v {
                        let e = self.name_words(p, 3, true)?;
                        let e = self.after_comma(e, 2);
                        self.redact(p, e, label, Quote::None);
                        return Some(e);
                    }
                }
                // `O'Connor`: an apostrophe inside a name does not end it.
                let e = plain_end(b, v).max(name_word_end(b, v));
                if e == v {
                    return None;
                }
                if rule.bare_name && looks_like_identifier(&b[v..e]) {
                    return Some(e);
                }
                // `Anrufer: Geburtsdatum 12. Mai 1980`, `Kunde: Termin …`: a
                // label or a noun in free text, not a name.
                if self.b[v - 1] == b' ' && is_stopword(&b[v..e]) {
                    return None;
                }
                // Continue over following capitalised words: `name=Max Müller`.
                let e = if b.get(e) == Some(&b' ') {
                    self.name_words(e + 1, 3, true).unwrap_or(e)
                } else {
                    e
                };
                // `Kunde: Schmidt, Anna`: surname first, then the given names.
                self.after_comma(e, 2)
            }
            ValueStyle::Address => address_at(b, v).unwrap_or_else(|| address_end(b, v)),
        };
        if e == v {
            return None;
        }
        self.redact(v, e, label, Quote::None);
        Some(e)
    }
}
