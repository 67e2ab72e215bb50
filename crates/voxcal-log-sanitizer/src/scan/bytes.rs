//! Byte-class tables: which bytes and word starts can begin a match, so the
//! main loop steps over everything else without running a matcher.

pub(super) const OTHER: u8 = 0;

pub(super) const WORD: u8 = 1;

pub(super) const DIGIT: u8 = 2;

pub(super) const AT: u8 = 3;

pub(super) const PERCENT: u8 = 4;

pub(super) const PLUS: u8 = 5;

pub(super) const LPAREN: u8 = 6;

pub(super) const SEP: u8 = 7;

pub(super) const LBRACKET: u8 = 8;

pub(super) static CLASS: [u8; 256] = {
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
pub(super) static INTERESTING_FIRST: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = b'A';
    while c <= b'Z' {
        t[c as usize] = true;
        c += 1;
    }
    // Key prefixes, `bearer`, date-of-birth labels, and the number words,
    // `plus`, `doppel`, `at`/`klammeraffe` of spoken phones and e-mails;
    // 0xC3 starts `ät`, `fünf` and `Ä`/`Ö`/`Ü`.
    let lower = b"ecsrwgxkbnhdzvfap";
    let mut k = 0;
    while k < lower.len() {
        t[lower[k] as usize] = true;
        k += 1;
    }
    t[0xC3] = true;
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
        b"ey",
        b"ca",
        b"sk",
        b"rk",
        b"wh",
        b"AK",
        b"AS",
        b"AI",
        b"gh",
        b"gi",
        b"xo",
        b"ke",
        b"He",
        b"Fr",
        b"Dr",
        b"Pr", // customer words and `Am`/`An der`/`Im`/`Zum`/`Auf dem` streets
        b"Ku",
        b"An",
        b"Pa",
        b"Am",
        b"Im",
        b"Zu",
        b"Au", // family words before a name: `Tochter`, `Sohn`, `Ehemann`, …
        b"To",
        b"So",
        b"Eh",
        b"Mu",
        b"Va",
        b"En", // `ät`, `fünf`
        b"\xC3\xA4",
        b"f\xC3",
        b"F\xC3",
    ];
    // The last ones: number words, `plus`, `doppel`, `at`, `klammeraffe`.
    let any_case: &[&[u8; 2]] = &[
        b"be", b"ba", b"na", b"he", b"ge", b"bi", b"do", b"bo", b"nu", b"ei", b"zw", b"dr", b"vi",
        b"fu", b"se", b"si", b"ac", b"ne", b"ze", b"el", b"pl", b"at", b"kl",
        // `Vorname`/`Familienname ist …`, `spricht …`, `hier ist …`.
        b"vo", b"fa", b"sp", b"hi",
    ];
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
/// superset of the conditions in [`Scan::word`](super::Scan::word), cheap enough to run on
/// every word.
#[inline(always)]
pub(super) fn word_may_match(b: &[u8], i: usize, end: usize) -> bool {
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
        // `W-E-B-E-R`: a name spelled letter by letter.
        return first.is_ascii_uppercase() && b.get(end) == Some(&b'-');
    }
    let p = usize::from(first) << 8 | usize::from(b[i + 1]);
    if WORD_PAIRS[p >> 6] & (1 << (p & 63)) != 0 {
        return true;
    }
    // A street name: a capital (or `Ä`/`Ö`/`Ü`) first and a street-type
    // ending (`-straße`, `-str.`, `-weg`, ...), or a hyphenated name.
    if (first.is_ascii_uppercase() || first == 0xC3) && street_may_end(b, end) {
        return true;
    }
    // IBAN: two capitals, two digits.
    len >= 4
        && b[i + 1].is_ascii_uppercase()
        && b[i + 2].is_ascii_digit()
        && b[i + 3].is_ascii_digit()
}

/// The word ending at `end` may end a street name: its last two bytes are
/// those of `straße`/`strasse`/`gasse`, `str`, `weg`, `allee`, `platz`,
/// `ring`, `damm` or `ufer`, or a hyphen follows (`Kaiser-Wilhelm-Ring`).
#[inline]
fn street_may_end(b: &[u8], end: usize) -> bool {
    if b.get(end) == Some(&b'-') {
        return true;
    }
    let last = [b[end - 2], b[end - 1]];
    matches!(
        &last,
        b"\x9Fe" | b"se" | b"tr" | b"eg" | b"ee" | b"tz" | b"ng" | b"mm" | b"er"
    )
}
