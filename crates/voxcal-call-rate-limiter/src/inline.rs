//! A short string kept inline (no allocation, no pointer to chase); longer
//! ones fall back to the heap. Call ids and function names are short, and
//! keeping them next to the state saves cache misses on every decision.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Up to `N` bytes inline (`N` < 256): 46 for call ids (48 bytes in all,
/// so 37-byte Retell ids stay inline), 22 for function names and parts in
/// the per-call buckets (24 bytes in all).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum InlineStr<const N: usize = 46> {
    Inline { len: u8, bytes: [u8; N] },
    Heap(Box<str>),
}

impl<const N: usize> InlineStr<N> {
    pub(crate) fn new(s: &str) -> Self {
        if s.len() <= N {
            let mut bytes = [0; N];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            InlineStr::Inline {
                len: s.len() as u8,
                bytes,
            }
        } else {
            InlineStr::Heap(s.into())
        }
    }

    /// The bytes (compared without re-checking UTF-8 on the hot path).
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            InlineStr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            InlineStr::Heap(s) => s.as_bytes(),
        }
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl<const N: usize> Borrow<[u8]> for InlineStr<N> {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

// Hashes exactly like `[u8]`, as `Borrow<[u8]>` requires.
impl<const N: usize> Hash for InlineStr<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl<const N: usize> fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&String::from_utf8_lossy(self.as_bytes()), f)
    }
}

/// Eight bytes of `b` from `at` (the caller checks the length).
#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0_u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Whether `a == b`, compared inline in words (no call to `memcmp`, which
/// costs more than the comparison for the short ids and names kept here).
#[inline(always)]
pub(crate) fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    if n > 64 {
        return a == b;
    }
    // Whole words, then the last word (overlapping the one before).
    let mut at = 0;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_short_and_long() {
        for s in ["", "call_1", &"x".repeat(46), &"y".repeat(47), "übermorgen"] {
            let i: InlineStr = InlineStr::new(s);
            assert_eq!(i.as_str(), s);
            assert_eq!(matches!(i, InlineStr::Heap(_)), s.len() > 46);
            let short = InlineStr::<22>::new(s);
            assert_eq!(short.as_str(), s);
            assert_eq!(matches!(short, InlineStr::Heap(_)), s.len() > 22);
        }
        assert_eq!(std::mem::size_of::<InlineStr>(), 48);
        assert_eq!(std::mem::size_of::<Option<InlineStr<22>>>(), 24);
    }

    #[test]
    fn eq_bytes_agrees_with_slice_equality() {
        let base: Vec<u8> = (0..80_u8).map(|i| i.wrapping_mul(37)).collect();
        for n in 0..80 {
            let a = &base[..n];
            assert!(eq_bytes(a, a));
            assert!(!eq_bytes(a, &base[..n.saturating_sub(1)]) || n == 0);
            for flip in 0..n {
                let mut b = a.to_vec();
                b[flip] ^= 1;
                assert!(!eq_bytes(a, &b), "length {n}, byte {flip}");
            }
        }
    }
}
