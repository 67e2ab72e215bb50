//! What a scan needs from its [`Sanitizer`](crate::Sanitizer): the kinds that
//! are on and the optional pseudonym key, and how markers are written. The
//! scanner and the sanitizer both import it, so neither imports the other's
//! internals.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::kind::{Kind, KindSet};

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The shared state behind a [`Sanitizer`](crate::Sanitizer).
pub(crate) struct Inner {
    pub(crate) kinds: KindSet,
    pub(crate) mac: Option<HmacSha256>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            kinds: KindSet::ALL,
            mac: None,
        }
    }
}

impl Inner {
    pub(crate) fn new(kinds: KindSet, mac: Option<HmacSha256>) -> Self {
        Inner { kinds, mac }
    }

    /// Writes the marker for a redacted `value` of `kind`: blank, or a
    /// pseudonym tag when a key is set. Secrets are always blank.
    pub(crate) fn write_marker(&self, out: &mut String, kind: Kind, value: &str) {
        match &self.mac {
            Some(mac) if kind != Kind::Secret => {
                write_tag(out, mac, kind.tag_label(), &normalize(kind, value));
            }
            _ => out.push_str(kind.marker()),
        }
    }

    pub(crate) fn marker_string(&self, kind: Kind, value: &str) -> String {
        let mut out = String::new();
        self.write_marker(&mut out, kind, value);
        out
    }
}

fn normalize(kind: Kind, value: &str) -> Cow<'_, str> {
    match kind {
        Kind::Email => Cow::Owned(value.replace("%40", "@").to_lowercase()),
        Kind::Phone | Kind::Card | Kind::Iban | Kind::TaxId | Kind::SvNumber => Cow::Owned(
            value
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        ),
        _ => Cow::Borrowed(value.trim()),
    }
}

fn write_tag(out: &mut String, mac: &HmacSha256, label: &str, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut mac = mac.clone();
    mac.update(label.as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    let digest = mac.finalize().into_bytes();
    out.push('[');
    out.push_str(label);
    out.push(':');
    for byte in &digest[..4] {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out.push(']');
}
