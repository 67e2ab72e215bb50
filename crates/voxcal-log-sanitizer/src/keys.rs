//! Classification of key names (`k=v`, `k: v`, JSON object keys, header names).
//!
//! Keys match as whole words or segments, never as substrings: `function_name` is
//! not a name field and `author` is not `auth`.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use crate::kind::Kind;

/// How the value of a sensitive key is cut out of free text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueStyle {
    /// One token, up to whitespace or punctuation.
    Word,
    /// A credential that may start with a scheme (`Bearer abc...`).
    Auth,
    /// A person's name: the first word plus following capitalised words.
    Name,
    /// A postal address: up to a field separator or the next `key=`.
    Address,
}

/// What a sensitive key's value is and how to cut it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyRule {
    pub(crate) kind: Kind,
    pub(crate) style: ValueStyle,
    /// The bare key `name`: values that look like identifiers
    /// (`check_availability`) are not a person's name and stay.
    pub(crate) bare_name: bool,
}

const MAX_KEY: usize = 48;

const fn rule(kind: Kind, style: ValueStyle) -> KeyRule {
    KeyRule {
        kind,
        style,
        bare_name: false,
    }
}

/// Classifies a key; `None` when its value is not sensitive.
#[inline(always)]
pub(crate) fn classify_key(raw: &[u8]) -> Option<KeyRule> {
    if raw.is_empty() {
        return None;
    }
    let table = table();
    // Quick reject before normalizing: every sensitive key either ends in a
    // known last four bytes or has `pass`/`secr` in one piece (see
    // `segment_rule`, which needs a whole `password`/`secret` segment).
    if !table.may_end(raw) && !has_secret_stem(raw) {
        return None;
    }
    classify_full(raw)
}

/// The classification behind the quick reject in [`classify_key`].
#[inline]
fn classify_full(raw: &[u8]) -> Option<KeyRule> {
    classify_normalized(raw).or_else(|| {
        // An extension header's `X-` prefix is no part of the name:
        // `X-Customer-Name`, `X-Name`.
        match raw {
            [b'x' | b'X', b'-', rest @ ..] if !rest.is_empty() => classify_normalized(rest),
            _ => None,
        }
    })
}

/// The full classification, for keys that passed the quick reject.
#[inline(never)]
fn classify_normalized(raw: &[u8]) -> Option<KeyRule> {
    let table = table();
    // One pass: lower-case, drop separators, and keep only the last component
    // of a dotted path (`call.customer_name`).
    let mut buf = [0u8; MAX_KEY];
    let mut len = 0;
    let mut component = 0;
    for (k, &c) in raw.iter().enumerate() {
        match c {
            b'_' | b'-' | b' ' => {}
            b'.' => {
                len = 0;
                component = k + 1;
            }
            _ => {
                if len == MAX_KEY {
                    return None;
                }
                buf[len] = c.to_ascii_lowercase();
                len += 1;
            }
        }
    }
    if len == 0 {
        return None;
    }
    let norm = &buf[..len];
    if let Some(rule) = table.full_key(norm) {
        return Some(rule);
    }
    segment_rule(&raw[component..], norm)
}

struct Table {
    rules: HashMap<&'static [u8], KeyRule, BuildFnv>,
    /// Per key length, a bit per first-byte bucket: a quick "surely not".
    shapes: [u32; MAX_KEY + 1],
    /// A hashed bit per last four bytes (zero-padded in front for shorter
    /// keys) of every full key and of the longer segment suffixes.
    endings: [u64; ENDING_WORDS],
}

/// Suffixes that make a composite key sensitive (see `segment_rule`).
const SUFFIXES: &[&[u8]] = &[
    b"token",
    b"pwd",
    b"cvv",
    b"cvc",
    b"mail",
    b"phone",
    b"telefon",
    b"telefonnummer",
    b"mobile",
    b"handy",
    b"iban",
];

/// Endings of composite keys that always hold a secret.
const SECRET_ENDINGS: &[&[u8]] = &[b"apikey", b"secretkey", b"privatekey"];

/// Suffixes of three bytes, checked directly (they have no fixed fourth byte).
const SHORT_SUFFIXES: &[&[u8; 3]] = &[b"pwd", b"cvv", b"cvc"];

const ENDING_WORDS: usize = 64;

/// The last four bytes of `key`, zero-padded in front.
fn last_four(key: &[u8]) -> u32 {
    key.iter()
        .rev()
        .take(4)
        .rev()
        .fold(0u32, |acc, &c| (acc << 8) | u32::from(c))
}

/// Multiplicative hash of the last four bytes: the top bits pick the bit.
fn ending_bit(last: u32) -> usize {
    const SHIFT: u32 = 32 - (ENDING_WORDS * 64).trailing_zeros();
    (last.wrapping_mul(0x9e37_79b1) >> SHIFT) as usize
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rules = build_table();
        let mut shapes = [0u32; MAX_KEY + 1];
        let mut endings = [0u64; ENDING_WORDS];
        let mut mark = |key: &[u8]| {
            let e = ending_bit(last_four(key));
            endings[e >> 6] |= 1 << (e & 63);
        };
        for key in rules.keys() {
            shapes[key.len()] |= 1 << bucket(key[0]);
            mark(key);
        }
        for key in SUFFIXES.iter().chain(SECRET_ENDINGS) {
            if key.len() >= 4 {
                mark(key);
            }
        }
        Table {
            rules,
            shapes,
            endings,
        }
    })
}

impl Table {
    /// Whether the normalized form of `raw` (see `classify_key`) may end
    /// like some sensitive key; read from the back of `raw` directly.
    #[inline]
    fn may_end(&self, raw: &[u8]) -> bool {
        // Fast path: no separator among the last four bytes, so they are the
        // last four normalized bytes once lower-cased (SWAR on one word).
        if let Some(&[a, b, c, d]) = raw.get(raw.len().wrapping_sub(4)..) {
            const ONES: u32 = 0x0101_0101;
            const HIGH: u32 = 0x8080_8080;
            let v = u32::from_be_bytes([a, b, c, d]);
            let low = v & !HIGH;
            // High bit of each byte of `low` in `lo..=hi` (no carries: every
            // byte is below 0x80).
            let range = |lo: u8, hi: u8| {
                (low + ONES * u32::from(0x80 - lo)) & !(low + ONES * u32::from(0x7f - hi)) & HIGH
            };
            let sep = (range(b'_', b'_') | range(b'-', b'.') | range(b' ', b' ')) & !(v & HIGH);
            if sep == 0 {
                return self.may_end_with(v | (range(b'A', b'Z') & !(v & HIGH)) >> 2);
            }
        }
        let mut last = 0u32;
        let mut got = 0;
        for &c in raw.iter().rev() {
            match c {
                b'_' | b'-' | b' ' => {}
                b'.' => break,
                _ => {
                    last |= u32::from(c.to_ascii_lowercase()) << (8 * got);
                    got += 1;
                    if got == 4 {
                        break;
                    }
                }
            }
        }
        got > 0 && self.may_end_with(last)
    }

    /// `last` holds the last (up to) four normalized bytes, zero-padded in front.
    fn may_end_with(&self, last: u32) -> bool {
        let e = ending_bit(last);
        if self.endings[e >> 6] & (1 << (e & 63)) != 0 {
            return true;
        }
        let [_, a, b, c] = last.to_be_bytes();
        a != 0 && SHORT_SUFFIXES.contains(&&[a, b, c])
    }

    fn full_key(&self, norm: &[u8]) -> Option<KeyRule> {
        let first = *norm.first()?;
        if self.shapes[norm.len()] & (1 << bucket(first)) == 0 {
            return None;
        }
        self.rules.get(norm).copied()
    }
}

fn bucket(c: u8) -> u32 {
    match c {
        b'a'..=b'z' => u32::from(c - b'a'),
        b'0'..=b'9' => 26,
        _ => 27,
    }
}

fn build_table() -> HashMap<&'static [u8], KeyRule, BuildFnv> {
    use ValueStyle::{Address, Auth, Name, Word};
    let groups: &[(&[&str], KeyRule)] = &[
        (
            &[
                "password",
                "passwd",
                "pwd",
                "pass",
                "passphrase",
                "passwort",
                "kennwort",
                "secret",
                "token",
                "apikey",
                "xapikey",
                "apitoken",
                "accesstoken",
                "refreshtoken",
                "idtoken",
                "authtoken",
                "xauthtoken",
                "clientsecret",
                "cvv",
                "cvc",
                "cvv2",
                "cvc2",
                "pin",
                "bearer",
                "cookie",
                "setcookie",
                "session",
                "sessionid",
                "sessiontoken",
                "privatekey",
                "secretkey",
                "accesskey",
                "secretaccesskey",
                "awssecretaccesskey",
                "signature",
                "xretellsignature",
                "webhooksecret",
                "credentials",
                "otp",
            ],
            rule(Kind::Secret, Word),
        ),
        (
            &["authorization", "proxyauthorization", "auth"],
            rule(Kind::Secret, Auth),
        ),
        (
            &[
                "email",
                "emails",
                "mail",
                "emailaddress",
                "mailaddress",
                "emailadresse",
                "mailadresse",
            ],
            rule(Kind::Email, Word),
        ),
        (
            &[
                "phone",
                "phonenumber",
                "telefon",
                "telefonnummer",
                "tel",
                "telephone",
                "mobile",
                "mobil",
                "mobilnummer",
                "handy",
                "handynummer",
                "rufnummer",
                "fax",
                "fromnumber",
                "tonumber",
                "callernumber",
                "callerid",
                "msisdn",
            ],
            rule(Kind::Phone, Word),
        ),
        (
            &["name"],
            KeyRule {
                bare_name: true,
                ..rule(Kind::Name, Name)
            },
        ),
        (
            &[
                "fullname",
                "firstname",
                "lastname",
                "middlename",
                "givenname",
                "familyname",
                "surname",
                "vorname",
                "nachname",
                "customername",
                "callername",
                "attendeename",
                "contactname",
                "guestname",
                "patientname",
                "kundenname",
                "kunde",
                "kundin",
                "anrufer",
                "anruferin",
                "patient",
                "patientin",
                "caller",
                "username",
                "displayname",
                "maidenname",
                "geburtsname",
            ],
            rule(Kind::Name, Name),
        ),
        (
            &[
                "address",
                "adresse",
                "anschrift",
                "street",
                "strasse",
                "straße",
                "streetaddress",
                "addressline1",
                "addressline2",
                "hausnummer",
                "housenumber",
                "wohnort",
                "postanschrift",
                "wohnanschrift",
            ],
            rule(Kind::Address, Address),
        ),
        (
            &[
                "plz",
                "postleitzahl",
                "zip",
                "zipcode",
                "postalcode",
                "postcode",
            ],
            rule(Kind::Address, Word),
        ),
        (&["ort", "city", "stadt"], rule(Kind::Address, Name)),
        (
            &[
                "steuerid",
                "steueridnr",
                "steueridentifikationsnummer",
                "idnr",
                "taxid",
            ],
            rule(Kind::TaxId, Word),
        ),
        (
            &[
                "svnummer",
                "svnr",
                "versicherungsnummer",
                "rvnr",
                "rvnummer",
                "sozialversicherungsnummer",
                "rentenversicherungsnummer",
            ],
            rule(Kind::SvNumber, Word),
        ),
        (
            &[
                "geburtsdatum",
                "geburtstag",
                "gebdatum",
                "geb",
                "dateofbirth",
                "birthdate",
                "birthday",
                "dob",
            ],
            rule(Kind::Dob, Word),
        ),
        (
            &["iban", "kontonummer", "bankaccount", "accountnumber"],
            rule(Kind::Iban, Word),
        ),
        (
            &[
                "cardnumber",
                "creditcard",
                "creditcardnumber",
                "ccnumber",
                "pan",
                "kartennummer",
                "kreditkarte",
                "kreditkartennummer",
            ],
            rule(Kind::Card, Word),
        ),
        (
            &[
                "ip",
                "ipaddress",
                "clientip",
                "remoteip",
                "remoteaddr",
                "sourceip",
                "xforwardedfor",
                "xrealip",
                "forwardedfor",
            ],
            rule(Kind::Ip, Word),
        ),
    ];
    let mut table = HashMap::with_hasher(BuildFnv);
    for (keys, rule) in groups {
        for key in *keys {
            table.insert(key.as_bytes(), *rule);
        }
    }
    table
}

/// FNV-1a: keys are a few bytes long and not attacker-chosen in a way that
/// matters (the table is fixed), so a tiny hash beats SipHash here.
#[derive(Clone, Copy, Default)]
struct BuildFnv;

struct Fnv(u64);

impl BuildHasher for BuildFnv {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// `pass` or `secr` (any case) in one piece somewhere in `raw`.
#[inline(never)]
fn has_secret_stem(raw: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW: u64 = ONES * 0x7f;
    // `password`/`passwd`/`secret`/`passwort`: six bytes at least.
    if raw.len() < 6 {
        return false;
    }
    let folded = |k: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&raw[k..k + 4]);
        u32::from_le_bytes(w) | 0x2020_2020
    };
    let stem_at = |k: usize| {
        (k + 4 <= raw.len() && folded(k) == u32::from_le_bytes(*b"secr"))
            || (k >= 2 && k + 2 <= raw.len() && folded(k - 2) == u32::from_le_bytes(*b"pass"))
    };
    // Eight bytes at a time (the last eight overlapping the one before),
    // visiting only the `s`/`S` positions. Short keys are packed in a
    // register; a partial copy through memory would stall the load.
    let visit = |at: usize, v: u64| {
        let x = (v | (ONES * 0x20)) ^ (ONES * u64::from(b's'));
        // Exactly the zero bytes of `x`.
        let mut zero = !(((x & LOW) + LOW) | x) & (ONES * 0x80);
        while zero != 0 {
            let k = at + zero.trailing_zeros() as usize / 8;
            if k < raw.len() && stem_at(k) {
                return true;
            }
            zero &= zero - 1;
        }
        false
    };
    let n = raw.len();
    if n < 8 {
        let v = raw
            .iter()
            .rev()
            .fold(0u64, |acc, &c| (acc << 8) | u64::from(c));
        return visit(0, v);
    }
    let load = |k: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&raw[k..k + 8]);
        u64::from_le_bytes(bytes)
    };
    let mut k = 0;
    while k + 8 < n {
        if visit(k, load(k)) {
            return true;
        }
        k += 8;
    }
    visit(n - 8, load(n - 8))
}

/// Segment rules for composite keys (`stripe_api_key`, `db_password_hash`,
/// `csrfToken`, `attendeeEmail`, `customer_phone`).
fn segment_rule(raw: &[u8], norm: &[u8]) -> Option<KeyRule> {
    use ValueStyle::Word;
    if SECRET_ENDINGS.iter().any(|e| norm.ends_with(e)) {
        return Some(rule(Kind::Secret, Word));
    }
    // Cheap pre-filter: most keys (`eventTypeId`, `call_id`) end here.
    let secret_inside = || {
        norm.windows(6)
            .any(|w| w == b"passwd" || w == b"passwo" || w == b"secret")
    };
    let suffix = matches!(
        norm[norm.len() - 1],
        b'n' | b'd' | b'v' | b'c' | b'l' | b'e' | b'r' | b'y'
    ) && SUFFIXES.iter().any(|s| norm.ends_with(s));
    let secret = norm.len() >= 6 && norm.contains(&b's') && secret_inside();
    if !(suffix || secret) {
        return None;
    }
    let mut last: &[u8] = &[];
    let mut secret_anywhere = false;
    for seg in Segments::new(raw) {
        if eq_any(seg, &["password", "passwd", "secret", "passwort"]) {
            secret_anywhere = true;
        }
        last = seg;
    }
    if secret_anywhere || eq_any(last, &["token", "pwd", "cvv", "cvc"]) {
        return Some(rule(Kind::Secret, Word));
    }
    if eq_any(last, &["email", "mail"]) {
        return Some(rule(Kind::Email, Word));
    }
    if eq_any(
        last,
        &["phone", "telefon", "telefonnummer", "mobile", "handy"],
    ) {
        return Some(rule(Kind::Phone, Word));
    }
    if eq_any(last, &["iban"]) {
        return Some(rule(Kind::Iban, Word));
    }
    None
}

fn eq_any(seg: &[u8], words: &[&str]) -> bool {
    words.iter().any(|w| seg.eq_ignore_ascii_case(w.as_bytes()))
}

/// Splits `customerName`, `customer_name`, `x-api-key` into segments.
struct Segments<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Segments<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Segments { raw, pos: 0 }
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let raw = self.raw;
        while self.pos < raw.len() && matches!(raw[self.pos], b'_' | b'-' | b' ') {
            self.pos += 1;
        }
        if self.pos >= raw.len() {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        while self.pos < raw.len() {
            let c = raw[self.pos];
            if matches!(c, b'_' | b'-' | b' ') {
                break;
            }
            if c.is_ascii_uppercase() && raw[self.pos - 1].is_ascii_lowercase() {
                break;
            }
            self.pos += 1;
        }
        Some(&raw[start..self.pos])
    }
}

/// Header names whose whole value is a credential.
pub(crate) fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "authorization"
            | "proxy-authorization"
            | "cookie"
            | "set-cookie"
            | "x-api-key"
            | "api-key"
            | "x-retell-signature"
            | "x-auth-token"
            | "x-amz-security-token"
    ) || lower.ends_with("-token")
        || lower.ends_with("-secret")
        || lower.ends_with("-api-key")
        || lower.ends_with("-signature")
        || lower.ends_with("-password")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(key: &str) -> Option<Kind> {
        classify_key(key.as_bytes()).map(|r| r.kind)
    }

    #[test]
    fn whole_keys_and_segments() {
        let table: &[(&str, Option<Kind>)] = &[
            ("password", Some(Kind::Secret)),
            ("db_password_hash", Some(Kind::Secret)),
            ("apiKey", Some(Kind::Secret)),
            ("x-api-key", Some(Kind::Secret)),
            ("stripe_api_key", Some(Kind::Secret)),
            ("access_token", Some(Kind::Secret)),
            ("csrfToken", Some(Kind::Secret)),
            ("client_secret", Some(Kind::Secret)),
            ("cvv", Some(Kind::Secret)),
            ("auth", Some(Kind::Secret)),
            ("author", None),
            ("authority", None),
            ("token_count", None),
            ("function_name", None),
            ("tool_name", None),
            ("name", Some(Kind::Name)),
            ("customer_name", Some(Kind::Name)),
            ("customerName", Some(Kind::Name)),
            ("first_name", Some(Kind::Name)),
            ("Vorname", Some(Kind::Name)),
            ("nachname", Some(Kind::Name)),
            ("call.customer_name", Some(Kind::Name)),
            ("email", Some(Kind::Email)),
            ("attendeeEmail", Some(Kind::Email)),
            ("email_verified", None),
            ("telefonnummer", Some(Kind::Phone)),
            ("from_number", Some(Kind::Phone)),
            ("customer_phone", Some(Kind::Phone)),
            ("phone_country", None),
            ("mobile_telefonnummer", Some(Kind::Phone)),
            ("user.billing_email", Some(Kind::Email)),
            ("oldPassword", Some(Kind::Secret)),
            ("webhook_secret_v2", Some(Kind::Secret)),
            ("strasse", Some(Kind::Address)),
            ("Straße", Some(Kind::Address)),
            ("plz", Some(Kind::Address)),
            ("city", Some(Kind::Address)),
            ("sort", None),
            ("steuer-id", Some(Kind::TaxId)),
            ("steuer_id", Some(Kind::TaxId)),
            ("Steueridentifikationsnummer", Some(Kind::TaxId)),
            ("IdNr", Some(Kind::TaxId)),
            ("tax_id", Some(Kind::TaxId)),
            ("sv-nummer", Some(Kind::SvNumber)),
            ("SVNR", Some(Kind::SvNumber)),
            ("rvnr", Some(Kind::SvNumber)),
            ("geburtsdatum", Some(Kind::Dob)),
            ("date_of_birth", Some(Kind::Dob)),
            ("iban", Some(Kind::Iban)),
            ("eventTypeId", None),
            ("duration", None),
            ("status", None),
            ("version", None),
        ];
        for (key, want) in table {
            assert_eq!(kind(key), *want, "key {key}");
        }
    }

    #[test]
    fn secret_headers() {
        for h in [
            "Authorization",
            "cookie",
            "set-cookie",
            "x-api-key",
            "x-csrf-token",
        ] {
            assert!(is_secret_header(h), "{h}");
        }
        for h in ["content-type", "user-agent", "x-request-id", "tokenizer"] {
            assert!(!is_secret_header(h), "{h}");
        }
    }

    // The quick reject in `classify_key` never drops a key the full
    // classification would flag.
    proptest::proptest! {
        #[test]
        fn quick_reject_is_exact(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "pass", "word", "Secret", "sec", "ret", "token", "TOKEN", "api", "Key",
                    "mail", "e", "phone", "name", "Name", "first", "iban", "pwd", "cvv", "ip",
                    "id", "call", "x", "_", "-", ".", " ", "wd", "tel", "efon", "nummer",
                    "customer", "Private", "handy", "s",
                ]),
                1..6,
            )
        ) {
            let key = parts.concat();
            proptest::prop_assert_eq!(
                classify_key(key.as_bytes()),
                classify_full(key.as_bytes()),
                "{}", key
            );
        }
    }

    #[test]
    fn quick_reject_keeps_every_listed_key() {
        for key in table().rules.keys() {
            assert!(
                classify_key(key).is_some(),
                "{}",
                String::from_utf8_lossy(key)
            );
        }
        for key in [
            "db_password_hash",
            "stripe_api_key",
            "x-api-key",
            "customer.phone",
            "userPwd",
        ] {
            assert!(classify_key(key.as_bytes()).is_some(), "{key}");
        }
    }
}
