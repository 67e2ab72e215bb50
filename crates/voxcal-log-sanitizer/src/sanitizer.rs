//! The [`Sanitizer`] and its builder.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use hmac::Mac;

use crate::config::{HmacSha256, Inner};
use crate::kind::{Kind, KindSet};
use crate::scan;

/// Redacts personal data and secrets from log text, JSON values and HTTP headers.
///
/// Build it once (with [`Sanitizer::builder`] or [`Default`]) and share it: it
/// is `Send + Sync` and cloning is an `Arc` bump.
///
/// ```
/// use voxcal_log_sanitizer::Sanitizer;
///
/// let s = Sanitizer::default();
/// assert_eq!(
///     s.sanitize("booking for max@gmx.de, tel +49 30 1234567"),
///     "booking for [EMAIL_REDACTED], tel [PHONE_REDACTED]"
/// );
/// // Nothing matched: the input comes back borrowed, without an allocation.
/// assert!(matches!(s.sanitize("GET /health 200 3ms"), std::borrow::Cow::Borrowed(_)));
/// ```
#[derive(Clone, Default)]
pub struct Sanitizer {
    inner: Arc<Inner>,
}

impl fmt::Debug for Sanitizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| self.inner.kinds.contains(*k))
            .collect();
        f.debug_struct("Sanitizer")
            .field("kinds", &kinds)
            .field("pseudonymize", &self.inner.mac.is_some())
            .finish()
    }
}

impl Sanitizer {
    /// A sanitizer with every kind on and blank markers.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder to switch kinds off or turn on pseudonymization.
    pub fn builder() -> SanitizerBuilder {
        SanitizerBuilder {
            kinds: KindSet::ALL,
            key: None,
        }
    }

    /// Whether `kind` is detected.
    pub fn is_enabled(&self, kind: Kind) -> bool {
        self.inner.kinds.contains(kind)
    }

    /// Redacts `text` in one pass. Returns the input borrowed when nothing
    /// matched; everything that is not redacted is kept byte for byte, and
    /// a line stays one line.
    ///
    /// When something was redacted, the result is scanned again until a pass
    /// leaves it unchanged (in practice the second pass): on malformed input
    /// a marker put next to the remaining text can form a new token, and the
    /// output is always a fixpoint, `sanitize(sanitize(x)) == sanitize(x)`.
    pub fn sanitize<'a>(&self, text: &'a str) -> Cow<'a, str> {
        scan::sanitize(text, &self.inner)
    }

    /// Like [`sanitize`](Self::sanitize) for bytes that may not be UTF-8:
    /// invalid sequences become U+FFFD first (lossy), never a panic.
    ///
    /// ```
    /// let s = voxcal_log_sanitizer::Sanitizer::default();
    /// let out = s.sanitize_bytes(b"caller max@gmx.de \xff");
    /// assert_eq!(out, "caller [EMAIL_REDACTED] \u{fffd}");
    /// ```
    pub fn sanitize_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, str> {
        match String::from_utf8_lossy(bytes) {
            Cow::Borrowed(text) => self.sanitize(text),
            Cow::Owned(text) => match self.sanitize(&text) {
                Cow::Borrowed(_) => Cow::Owned(text),
                Cow::Owned(out) => Cow::Owned(out),
            },
        }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

/// Builds a [`Sanitizer`].
///
/// ```
/// use voxcal_log_sanitizer::{Kind, Sanitizer};
///
/// let s = Sanitizer::builder()
///     .disable(Kind::Ip)
///     .pseudonymize(b"support-correlation-key")
///     .build();
/// let a = s.sanitize("from max@gmx.de via 192.168.1.20");
/// let b = s.sanitize("again MAX@gmx.de");
/// assert!(a.starts_with("from [EMAIL:"));
/// assert!(a.ends_with(" via 192.168.1.20"));
/// // The same address gets the same tag, so one caller's lines can be correlated.
/// assert_eq!(&a[5..21], &b[6..22]);
/// ```
#[derive(Clone)]
pub struct SanitizerBuilder {
    kinds: KindSet,
    key: Option<Vec<u8>>,
}

impl fmt::Debug for SanitizerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SanitizerBuilder")
            .field("kinds", &self.kinds)
            .field("pseudonymize", &self.key.is_some())
            .finish()
    }
}

impl SanitizerBuilder {
    /// Switches detection of `kind` off.
    pub fn disable(mut self, kind: Kind) -> Self {
        self.kinds.set(kind, false);
        self
    }

    /// Switches detection of `kind` on (all kinds are on by default).
    pub fn enable(mut self, kind: Kind) -> Self {
        self.kinds.set(kind, true);
        self
    }

    /// Replaces values with a keyed HMAC-SHA256 tag (`[EMAIL:3f9a1c2e]`)
    /// instead of a blank marker. The tag is stable for the same value and
    /// key, so support staff can correlate one caller's lines without seeing
    /// the value. Secrets are always blanked.
    pub fn pseudonymize(mut self, key: impl AsRef<[u8]>) -> Self {
        self.key = Some(key.as_ref().to_vec());
        self
    }

    /// Builds the sanitizer.
    pub fn build(self) -> Sanitizer {
        let mac = self.key.map(|key| {
            // HMAC accepts keys of any length, so this cannot fail.
            <HmacSha256 as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable!())
        });
        Sanitizer {
            inner: Arc::new(Inner::new(self.kinds, mac)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn sanitizer_is_send_sync() {
        assert_send_sync::<Sanitizer>();
    }

    #[test]
    fn pseudonyms_are_stable_and_keyed() {
        let a = Sanitizer::builder().pseudonymize("k1").build();
        let b = Sanitizer::builder().pseudonymize("k2").build();
        let x = a.sanitize("mail max@gmx.de");
        assert_eq!(x, a.sanitize("mail max@gmx.de"));
        assert_eq!(x, a.sanitize("mail Max@GMX.de"));
        assert_ne!(x, b.sanitize("mail max@gmx.de"));
        assert_ne!(x, a.sanitize("mail moritz@gmx.de"));
        assert!(x.starts_with("mail [EMAIL:") && x.len() == "mail [EMAIL:12345678]".len());
        assert_eq!(a.sanitize("password=hunter22"), "password=[REDACTED]");
    }

    #[test]
    fn disabled_kinds_stay() {
        let s = Sanitizer::builder().disable(Kind::Email).build();
        assert_eq!(s.sanitize("max@gmx.de"), "max@gmx.de");
        assert!(!s.is_enabled(Kind::Email));
        assert!(s.is_enabled(Kind::Phone));
    }
}
