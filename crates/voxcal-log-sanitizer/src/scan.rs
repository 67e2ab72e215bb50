//! The one-pass scanner: walks the bytes once, wakes up only at trigger bytes
//! (`@`, `%40`, digits, `+`, `(`, `=`, `:`, `[`) and at the first letter of each
//! word, and runs small anchored matchers from there.

use std::borrow::Cow;

use crate::detect::{
    card_end, date_end, email_domain_end, email_local_start, iban_end, ipv4_end, ipv6_end,
    is_key_byte, is_marker, is_word, key_start, marker_len, phone_end, word_end,
};
use crate::keys::{classify_key, KeyRule, ValueStyle};
use crate::kind::Kind;
use crate::sanitizer::Inner;

const OTHER: u8 = 0;
const WORD: u8 = 1;
const DIGIT: u8 = 2;
const AT: u8 = 3;
const PERCENT: u8 = 4;
const PLUS: u8 = 5;
const LPAREN: u8 = 6;
const SEP: u8 = 7;
const LBRACKET: u8 = 8;

static CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            DIGIT
        } else if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            WORD
        } else {
            match b {
                b'@' => AT,
                b'%' => PERCENT,
                b'+' => PLUS,
                b'(' => LPAREN,
                b'=' | b':' => SEP,
                b'[' => LBRACKET,
                _ => OTHER,
            }
        };
        c += 1;
    }
    t
};

/// First bytes of words that some word-level matcher looks at: key prefixes
/// (`eyJ`, `cal_`, `sk_`, `rk_`, `whsec_`, `AKIA`, `AIza`, `ghp_`, `xox`,
/// `key_`), `Bearer`/`Basic`/`BEGIN`, IBAN country codes and salutations (any
/// upper case), `name ist`/`heiße` and date-of-birth labels.
static INTERESTING_FIRST: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = b'A';
    while c <= b'Z' {
        t[c as usize] = true;
        c += 1;
    }
    let lower = b"ecsrwgxkbnhd";
    let mut k = 0;
    while k < lower.len() {
        t[lower[k] as usize] = true;
        k += 1;
    }
    t
};

/// A bit per (first, second) byte pair of the words a word-level matcher can
/// fire on (besides IBANs and IPv6 groups, checked by shape): key prefixes
/// (`eyJ`, `cal_`, `sk_`, `rk_`, `whsec_`, `AKIA`/`ASIA`/`AIza`, `gh?_`,
/// `github_pat_`, `xox`, `key_`), `Bearer`/`Basic`/`BEGIN`, salutations
/// (`Herr`, `Frau`, `Dr.`, `Prof.`), `name ist`/`heiße` and the
/// date-of-birth labels, the last ones in any case.
static WORD_PAIRS: [u64; 1024] = {
    let mut t = [0u64; 1024];
    let exact: &[&[u8; 2]] = &[
        b"ey", b"ca", b"sk", b"rk", b"wh", b"AK", b"AS", b"AI", b"gh", b"gi", b"xo", b"ke", b"He",
        b"Fr", b"Dr", b"Pr",
    ];
    let any_case: &[&[u8; 2]] = &[b"be", b"ba", b"na", b"he", b"ge", b"bi", b"do", b"bo"];
    let mut k = 0;
    while k < exact.len() {
        let p = (exact[k][0] as usize) << 8 | exact[k][1] as usize;
        t[p >> 6] |= 1 << (p & 63);
        k += 1;
    }
    k = 0;
    while k < any_case.len() {
        let mut m = 0;
        while m < 4 {
            let a = if m & 1 == 0 {
                any_case[k][0]
            } else {
                any_case[k][0] - 32
            };
            let c = if m & 2 == 0 {
                any_case[k][1]
            } else {
                any_case[k][1] - 32
            };
            let p = (a as usize) << 8 | c as usize;
            t[p >> 6] |= 1 << (p & 63);
            m += 1;
        }
        k += 1;
    }
    t
};

/// Whether some word-level matcher may fire on the word `b[i..end]`: a
/// superset of the conditions in [`Scan::word`], cheap enough to run on
/// every word.
fn word_may_match(b: &[u8], i: usize, end: usize) -> bool {
    let first = b[i];
    if !INTERESTING_FIRST[usize::from(first)] {
        return false;
    }
    let len = end - i;
    if len <= 4 && b.get(end) == Some(&b':') {
        // Maybe an IPv6 group (`dead:beef::1`): judged in full.
        return true;
    }
    if len < 2 {
        return false;
    }
    let p = usize::from(first) << 8 | usize::from(b[i + 1]);
    if WORD_PAIRS[p >> 6] & (1 << (p & 63)) != 0 {
        return true;
    }
    // IBAN: two capitals, two digits.
    len >= 4
        && b[i + 1].is_ascii_uppercase()
        && b[i + 2].is_ascii_digit()
        && b[i + 3].is_ascii_digit()
}

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

/// Which marker a redaction gets.
#[derive(Clone, Copy)]
enum Label {
    Kind(Kind),
    /// Personal fields that are not names (address, postcode).
    Personal,
}

/// How many passes [`sanitize`] runs at most over a text whose redaction
/// changed it. The first pass does the work; a later one changes something
/// only where a marker put next to the remaining text formed a new token
/// (`[REDACTED]::89bc` reads as an IPv6 address), which happens only in
/// malformed input. Runs settle after two or three passes; the bound only
/// guards against the unforeseen.
const MAX_PASSES: usize = 8;

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
            LBRACKET => i + marker_len(b, i).unwrap_or(1),
            _ => i + 1,
        }
    }

    fn on(&self, kind: Kind) -> bool {
        self.cfg.kinds.contains(kind)
    }

    fn redact(&mut self, start: usize, end: usize, label: Label, quote: Quote) {
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
        match label {
            Label::Kind(kind) => self.cfg.write_marker(out, kind, value),
            Label::Personal => self.cfg.write_personal(out, value),
        }
        out.push_str(q);
        self.copied = end;
    }

    fn redact_kind(&mut self, start: usize, end: usize, kind: Kind) -> usize {
        self.redact(start, end, Label::Kind(kind), Quote::None);
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
        if self.on(Kind::Name) {
            if first.is_ascii_uppercase() {
                if let Some((s, e)) = self.salutation(w, end) {
                    return self.redact_kind(s, e, Kind::Name);
                }
            }
            let spoken = matches!(first | 0x20, b'n' | b'h')
                .then(|| name_phrase_end(b, w, end))
                .flatten()
                .and_then(|p| Some((p, self.name_words(p, 3, false)?)));
            if let Some((p, e)) = spoken {
                return self.redact_kind(p, e, Kind::Name);
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

    /// `Herr Max Müller`, `Frau Dr. Anna Schmidt`, `Dr. Klaus`.
    fn salutation(&self, w: &[u8], end: usize) -> Option<(usize, usize)> {
        let b = self.b;
        let mut p = end;
        match w {
            b"Herr" | b"Herrn" | b"Frau" => {}
            b"Dr" | b"Prof" if b.get(p) == Some(&b'.') => p += 1,
            _ => return None,
        }
        loop {
            if b.get(p) != Some(&b' ') {
                return None;
            }
            p += 1;
            let we = word_end(b, p);
            let title = &b[p..we];
            if matches!(
                title,
                b"Dr" | b"Prof" | b"med" | b"rer" | b"nat" | b"phil" | b"jur"
            ) && b.get(we) == Some(&b'.')
            {
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
                    self.redact(s, e, Label::Kind(Kind::Card), quote);
                    return e;
                }
            }
            if first == b'0' && self.on(Kind::Phone) {
                if let Some(e) = phone_end(b, i) {
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
        }
        i + 1
    }

    fn paren(&mut self, i: usize) -> usize {
        let b = self.b;
        if self.on(Kind::Phone) && matches!(b.get(i + 1), Some(b'0' | b'+')) {
            if let Some(e) = phone_end(b, i) {
                return self.redact_kind(i, e, Kind::Phone);
            }
        }
        i + 1
    }

    // ------------------------------------------------------------ e-mail

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
            if j < i && b[j].is_ascii_alphabetic() && (j == 0 || !is_word(b[j - 1])) {
                if let Some(e) = ipv6_end(b, j) {
                    self.redact(j, e, Label::Kind(Kind::Ip), Quote::None);
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
            if i - q > 48 || (q == limit && q > floor && is_key_byte(b[q - 1])) {
                return i + 1;
            }
            if !(b[q].is_ascii_alphabetic() || b[q] >= 0x80) {
                return i + 1;
            }
            (&b[q..i], Quote::None)
        };
        let Some(rule) = classify_key(key) else {
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
        let label = if rule.personal {
            Label::Personal
        } else {
            Label::Kind(rule.kind)
        };
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
            let e = v + b[v..]
                .iter()
                .take_while(|&&c| {
                    !(c <= b' ' || matches!(c, b'&' | b'#' | b'"' | b'\'' | b'\\' | b'<' | b'>'))
                })
                .count();
            if e == v || (rule.bare_name && looks_like_identifier(&b[v..e])) {
                return Some(e);
            }
            self.redact(v, e, label, Quote::None);
            return Some(e);
        }
        let e = match rule.style {
            // A number keeps all of its groups: `telefon: 0151 2345678`,
            // `card_number=3782 822463 10005`.
            ValueStyle::Word => number_groups_end(b, v, plain_end(b, v)),
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
                let e = plain_end(b, v);
                if e == v {
                    return None;
                }
                if rule.bare_name && looks_like_identifier(&b[v..e]) {
                    return Some(e);
                }
                // Continue over following capitalised words: `name=Max Müller`.
                if b.get(e) == Some(&b' ') {
                    self.name_words(e + 1, 3, true).unwrap_or(e)
                } else {
                    e
                }
            }
            ValueStyle::Address => address_end(b, v),
        };
        if e == v {
            return None;
        }
        self.redact(v, e, label, Quote::None);
        Some(e)
    }
}

// ---------------------------------------------------------------- helpers

/// `start` follows `scheme://user:`.
fn url_password(b: &[u8], start: usize, floor: usize) -> bool {
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
fn timestamp_end(b: &[u8], i: usize) -> Option<usize> {
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
fn hex_group_then_colon(b: &[u8], i: usize) -> bool {
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
fn later_card(b: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
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

/// A bare number that is a JSON value (`[4111…]`, `"n":4111…,`) must be
/// replaced by a JSON string: quoted, or quoted with `\"` when the JSON sits
/// escaped inside a string (told by the parity of quotes on the line).
fn json_number_quote(b: &[u8], start: usize, end: usize, floor: usize) -> Quote {
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
fn escape_end(b: &[u8], i: usize) -> usize {
    if b[i] == b'u' && b.len() >= i + 5 && b[i + 1..i + 5].iter().all(u8::is_ascii_hexdigit) {
        i + 5
    } else if matches!(b[i], b'n' | b't' | b'r' | b'b' | b'f' | b'u') {
        i + 1
    } else {
        word_end(b, i)
    }
}

/// End of an unquoted value.
fn plain_end(b: &[u8], v: usize) -> usize {
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
fn number_groups_end(b: &[u8], v: usize, e: usize) -> usize {
    let numeric = |t: &[u8]| {
        t.iter().any(u8::is_ascii_digit)
            && t.iter().all(|&c| {
                c.is_ascii_digit() || matches!(c, b'+' | b'(' | b')' | b'-' | b'/' | b'.')
            })
    };
    // An IBAN starts with its country and check digits (`DE89 3704 …`);
    // its later groups of up to four may hold letters (`GB29 NWBK 6016 …`).
    let lead = &b[v..e];
    let iban = lead.len() >= 4
        && lead[..2].iter().all(u8::is_ascii_uppercase)
        && lead[2..4].iter().all(u8::is_ascii_digit)
        && lead.iter().all(u8::is_ascii_alphanumeric);
    let iban_group = |t: &[u8]| {
        iban && t.len() <= 4
            && t.iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    };
    if e == v || !(iban || numeric(lead)) {
        return e;
    }
    let mut digits = b[v..e].iter().filter(|c| c.is_ascii_digit()).count();
    let mut end = e;
    while b.get(end) == Some(&b' ') {
        let t = end + 1;
        let te = plain_end(b, t);
        let token = &b[t..te];
        // `(0)` or `(415)` opens a group; plain_end stops at `)`.
        let te = if token.first() == Some(&b'(') && b.get(te) == Some(&b')') {
            let close = te + 1;
            close
                + b[close..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit() || matches!(c, b'-' | b'/' | b'.'))
                    .count()
        } else {
            te
        };
        let token = &b[t..te];
        let group = iban_group(token)
            || (numeric(token)
                && token
                    .iter()
                    .take(2)
                    .any(|c| c.is_ascii_digit() || *c == b'('));
        if te == t || !group || timestamp_end(b, t).is_some() {
            break;
        }
        digits += token.iter().filter(|c| c.is_ascii_digit()).count();
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
fn address_end(b: &[u8], v: usize) -> usize {
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

/// Whether the quote at `q` (after a separator at `sep`) ends a JSON string
/// rather than opening a value: `sep` lies inside a string (an odd number of
/// unescaped quotes before it on its line) and JSON structure follows the
/// quote (`:`, `,`, `}`, `]` or the end of the text).
fn closes_json_string(b: &[u8], sep: usize, q: usize) -> bool {
    let after = b[q + 1..].iter().find(|c| !c.is_ascii_whitespace());
    matches!(after, None | Some(b':' | b',' | b'}' | b']')) && inside_json_string(b, sep)
}

/// Whether `at` lies inside a double-quoted string: an odd number of
/// unescaped `"` before it on its line.
fn inside_json_string(b: &[u8], at: usize) -> bool {
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
fn string_end(b: &[u8], mut p: usize) -> usize {
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
fn escaped_string_end(b: &[u8], mut p: usize) -> usize {
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

fn find(b: &[u8], from: usize, needle: &[u8]) -> usize {
    b[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map_or(b.len(), |p| from + p)
}

/// End (exclusive) of the JSON object/array starting at `v`.
fn bracket_end(b: &[u8], v: usize, escaped: bool) -> usize {
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

fn looks_like_identifier(v: &[u8]) -> bool {
    !v.iter().any(|&c| c == b' ' || c.is_ascii_uppercase())
        && v.iter().any(|&c| matches!(c, b'_' | b'.' | b'/' | b':'))
}

fn name_word_end(b: &[u8], mut p: usize) -> usize {
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

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

fn is_particle(w: &[u8]) -> bool {
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

fn is_stopword(w: &[u8]) -> bool {
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
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
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
    STOP.iter().any(|s| s.as_bytes() == w)
}

/// Where a name starts after a spoken label: `Name ist Max`, `my name is
/// Max`, `ich heiße Max`.
fn name_phrase_end(b: &[u8], w: &[u8], end: usize) -> Option<usize> {
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

fn is_dob_label(w: &[u8]) -> bool {
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

/// A date shortly after a date-of-birth label: `geb. 12.03.1980`,
/// `Geburtsdatum: 1980-03-12`, `born on 12/03/1980`.
fn date_after_label(b: &[u8], end: usize) -> Option<(usize, usize)> {
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
    let e = date_end(b, p)?;
    Some((p, e))
}

/// A credential after `Bearer `/`Basic `.
fn credential_after(b: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut s = end;
    while b.get(s) == Some(&b' ') {
        s += 1;
    }
    let e = s + b[s..]
        .iter()
        .take_while(|&&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-')
        })
        .count();
    (e - s >= 8).then_some((s, e))
}

/// The end of a private-key block whose `BEGIN` word ends at `end`.
fn private_key_end(b: &[u8], end: usize) -> Option<usize> {
    let header_end = end + find(&b[end..], 0, b"-----");
    if !b[end..header_end].ends_with(b"PRIVATE KEY") {
        return None;
    }
    let footer = find(b, header_end, b"-----END");
    if footer == b.len() {
        return Some(b.len());
    }
    let close = find(b, footer + 8, b"-----");
    Some((close + 5).min(b.len()))
}

/// Known key formats by prefix, starting at word start `i` (word ends at `end`).
fn secret_prefix_end(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let w = &b[i..end];
    let dashed_end = || {
        i + b[i..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            .count()
    };
    let rest_after = |prefix: &str, min: usize| -> Option<usize> {
        (w.starts_with(prefix.as_bytes()) && w.len() >= prefix.len() + min).then_some(end)
    };
    match w[0] {
        b'e' if w.starts_with(b"eyJ") => jwt_end(b, i),
        b'c' => rest_after("cal_live_", 8).or_else(|| rest_after("cal_test_", 8)),
        b's' => rest_after("sk_live_", 8).or_else(|| rest_after("sk_test_", 8)),
        b'r' => rest_after("rk_live_", 8).or_else(|| rest_after("rk_test_", 8)),
        b'w' => rest_after("whsec_", 16),
        b'A' => {
            if (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
                && w.len() == 20
                && w.iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                Some(end)
            } else if w.starts_with(b"AIza") {
                let e = dashed_end();
                (e - i >= 35).then_some(e)
            } else {
                None
            }
        }
        b'g' => {
            let gh = w.len() >= 4
                && w.starts_with(b"gh")
                && matches!(w[2], b'p' | b'o' | b'u' | b's' | b'r')
                && w[3] == b'_';
            if gh && w.len() >= 4 + 30 {
                Some(end)
            } else {
                rest_after("github_pat_", 20)
            }
        }
        b'x' => {
            let slack = w.len() == 4 && w.starts_with(b"xox") && b.get(end) == Some(&b'-');
            if slack {
                let e = dashed_end();
                (e - i >= 15).then_some(e)
            } else {
                None
            }
        }
        b'k' => {
            let ok = w.starts_with(b"key_")
                && w.len() >= 4 + 16
                && w[4..].iter().all(u8::is_ascii_alphanumeric)
                && w[4..].iter().any(u8::is_ascii_digit);
            ok.then_some(end)
        }
        _ => None,
    }
}

/// `eyJ…\.eyJ…\.…` (header, payload, optional signature).
fn jwt_end(b: &[u8], i: usize) -> Option<usize> {
    let seg = |p: usize| {
        b[p..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            .count()
    };
    let h = seg(i);
    let p = i + h;
    if h < 10 || b.get(p) != Some(&b'.') || !b[p + 1..].starts_with(b"eyJ") {
        return None;
    }
    let pl = seg(p + 1);
    let q = p + 1 + pl;
    if b.get(q) != Some(&b'.') {
        return Some(q);
    }
    Some(q + 1 + seg(q + 1))
}
