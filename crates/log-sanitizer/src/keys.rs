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
    /// `true` for personal fields that are not names (address, postcode):
    /// they get the plain `[REDACTED]` marker.
    pub(crate) personal: bool,
    pub(crate) style: ValueStyle,
    /// The bare key `name`: values that look like identifiers
    /// (`check_availability`) are not a person's name and stay.
    pub(crate) bare_name: bool,
}

const MAX_KEY: usize = 48;

const fn rule(kind: Kind, style: ValueStyle) -> KeyRule {
    KeyRule {
        kind,
        personal: false,
        style,
        bare_name: false,
    }
}

/// Classifies a key; `None` when its value is not sensitive.
pub(crate) fn classify_key(raw: &[u8]) -> Option<KeyRule> {
    if raw.is_empty() {
        return None;
    }
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
    if let Some(rule) = full_key(norm) {
        return Some(rule);
    }
    segment_rule(&raw[component..], norm)
}

struct Table {
    rules: HashMap<&'static [u8], KeyRule, BuildFnv>,
    /// Per key length, a bit per first-byte bucket: a quick "surely not".
    shapes: [u32; MAX_KEY + 1],
}

fn bucket(c: u8) -> u32 {
    match c {
        b'a'..=b'z' => u32::from(c - b'a'),
        b'0'..=b'9' => 26,
        _ => 27,
    }
}

fn full_key(norm: &[u8]) -> Option<KeyRule> {
    static TABLE: OnceLock<Table> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let rules = build_table();
        let mut shapes = [0u32; MAX_KEY + 1];
        for key in rules.keys() {
            shapes[key.len()] |= 1 << bucket(key[0]);
        }
        Table { rules, shapes }
    });
    let first = *norm.first()?;
    if table.shapes[norm.len()] & (1 << bucket(first)) == 0 {
        return None;
    }
    table.rules.get(norm).copied()
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
            ],
            KeyRule {
                personal: true,
                ..rule(Kind::Name, Address)
            },
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
            KeyRule {
                personal: true,
                ..rule(Kind::Name, Word)
            },
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

/// Segment rules for composite keys (`stripe_api_key`, `db_password_hash`,
/// `csrfToken`, `attendeeEmail`, `customer_phone`).
fn segment_rule(raw: &[u8], norm: &[u8]) -> Option<KeyRule> {
    use ValueStyle::Word;
    if norm.ends_with(b"apikey") || norm.ends_with(b"secretkey") || norm.ends_with(b"privatekey") {
        return Some(rule(Kind::Secret, Word));
    }
    // Cheap pre-filter: most keys (`eventTypeId`, `call_id`) end here.
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
            ("strasse", Some(Kind::Name)),
            ("Straße", Some(Kind::Name)),
            ("plz", Some(Kind::Name)),
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
}
