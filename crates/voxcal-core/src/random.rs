//! One source of non-cryptographic randomness for the family.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A random `u64` for jitter, replica ids and lock tokens.
///
/// Not for secrets: it mixes the standard library's per-process random hash
/// keys with a counter and the time, so two calls in one process, and calls
/// in two processes, differ. Use a cryptographic generator for anything an
/// attacker must not guess.
///
/// ```
/// let (a, b) = (voxcal_core::random_u64(), voxcal_core::random_u64());
/// assert_ne!(a, b);
/// ```
pub fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn many_draws_do_not_repeat_and_use_every_bit() {
        let draws: Vec<u64> = (0..10_000).map(|_| super::random_u64()).collect();
        let distinct: HashSet<_> = draws.iter().collect();
        assert_eq!(distinct.len(), draws.len());
        let (ones, zeros) = draws
            .iter()
            .fold((0u64, u64::MAX), |(o, z), d| (o | d, z & d));
        assert_eq!(ones, u64::MAX, "some bit was never set");
        assert_eq!(zeros, 0, "some bit was always set");
    }
}
