//! In-process store: sharded maps, bounded by a key cap, idle keys evicted.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::future::{ready, Ready};
use std::hash::BuildHasher;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::clock::{Clock, SystemClock};
use crate::core::CallState;
use crate::decision::Decision;
use crate::inline::InlineStr;
use crate::policy::{CallKey, Policy};
use crate::store::{Store, StoreError};

/// One shard, on its own cache lines so threads on neighbouring shards do
/// not slow each other down.
#[repr(align(128))]
struct Shard(Mutex<HashMap<InlineStr, CallState>>);

const DEFAULT_MAX_KEYS: usize = 100_000;
const DEFAULT_SHARDS: usize = 64;

/// Call state in this process: the default backend.
///
/// The map is split into shards (64 by default), each behind its own short
/// lock, so threads deciding for different calls rarely meet. Memory is
/// bounded: when a shard reaches its share of the key cap (100 000 calls by
/// default), expired calls are dropped first, then the calls idle longest.
/// A decision is synchronous and takes one shard lock once.
///
/// ```
/// use call_rate_limiter::{CallKey, MemoryStore, Policy};
///
/// let store = MemoryStore::new().with_max_keys(10_000);
/// let policy = Policy::default();
/// let key = CallKey::new("call_8a7f").with_function("check_availability");
/// assert!(store.decide_now(&policy, &key).admitted);
/// ```
pub struct MemoryStore {
    shards: Box<[Shard]>,
    per_shard_cap: usize,
    max_keys: usize,
    seed: u64,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    /// A store with the system clock, 64 shards and a cap of 100 000 calls.
    pub fn new() -> Self {
        Self::build(DEFAULT_SHARDS, DEFAULT_MAX_KEYS, Arc::new(SystemClock))
    }

    fn build(shards: usize, max_keys: usize, clock: Arc<dyn Clock>) -> Self {
        let shards = shards.clamp(1, 4096).next_power_of_two();
        let max_keys = max_keys.max(1);
        MemoryStore {
            shards: (0..shards)
                .map(|_| Shard(Mutex::new(HashMap::new())))
                .collect(),
            per_shard_cap: max_keys.div_ceil(shards).max(1),
            max_keys,
            seed: RandomState::new().hash_one(0x5eed_u64),
            clock,
        }
    }

    /// Uses `clock` instead of the system clock (a [`FakeClock`](crate::FakeClock) in tests).
    pub fn with_clock(self, clock: impl Clock) -> Self {
        Self::build(self.shards.len(), self.max_keys, Arc::new(clock))
    }

    /// Caps the number of calls remembered (spread evenly over the shards).
    pub fn with_max_keys(self, max_keys: usize) -> Self {
        Self::build(self.shards.len(), max_keys, self.clock)
    }

    /// Sets the number of shards (rounded up to a power of two, at most 4096).
    pub fn with_shards(self, shards: usize) -> Self {
        Self::build(shards, self.max_keys, self.clock)
    }

    /// The number of calls currently remembered.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().len()).sum()
    }

    /// Whether no call is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every call whose state has expired.
    pub fn purge_expired(&self) {
        let now = self.clock.now_millis();
        for shard in self.shards.iter() {
            shard.0.lock().retain(|_, s| s.expires_at() > now);
        }
    }

    /// Decides synchronously (the [`Store`] impl wraps this in a ready future).
    pub fn decide_now(&self, policy: &Policy, key: &CallKey) -> Decision {
        let now = self.clock.now_millis();
        let index = self.shard_of(key.call_id());
        let mut shard = self.shards[index].0.lock();
        if let Some(state) = shard.get_mut(key.call_id().as_bytes()) {
            return state.decide(policy, key, now);
        }
        if shard.len() >= self.per_shard_cap {
            evict(&mut shard, self.per_shard_cap, now);
        }
        let mut state = CallState::default();
        let decision = state.decide(policy, key, now);
        if state.expires_at() != 0 {
            shard.insert(InlineStr::new(key.call_id()), state);
        }
        decision
    }

    /// Picks a shard with a cheap multiplicative hash. It need not resist
    /// crafted keys: the maps inside use the standard keyed hasher, so the
    /// worst an attacker gets is more lock sharing, never slow lookups.
    fn shard_of(&self, call_id: &str) -> usize {
        let mut h = self.seed;
        for chunk in call_id.as_bytes().chunks(8) {
            let mut word = [0_u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        ((h ^ (h >> 32)) as usize) & (self.shards.len() - 1)
    }
}

/// Makes room in a full shard: expired calls first, then the eighth of the
/// shard that would expire soonest (those idle longest).
fn evict(shard: &mut HashMap<InlineStr, CallState>, cap: usize, now: u64) {
    shard.retain(|_, s| s.expires_at() > now);
    if shard.len() < cap {
        return;
    }
    let drop = (cap / 8).max(1);
    let mut expiries: Vec<u64> = shard.values().map(CallState::expires_at).collect();
    let (_, threshold, _) = expiries.select_nth_unstable(drop - 1);
    let threshold = *threshold;
    let mut dropped = 0;
    shard.retain(|_, s| {
        if dropped < drop && s.expires_at() <= threshold {
            dropped += 1;
            false
        } else {
            true
        }
    });
    tracing::debug!(
        dropped,
        "rate-limit memory store at its key cap; evicted least recently used calls"
    );
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("shards", &self.shards.len())
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}

impl Store for MemoryStore {
    type Future = Ready<Result<Decision, StoreError>>;

    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future {
        ready(Ok(self.decide_now(policy, key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use std::time::Duration;

    #[test]
    fn a_million_calls_stay_under_the_cap() {
        let clock = FakeClock::new();
        let store = MemoryStore::new()
            .with_max_keys(50_000)
            .with_clock(clock.clone());
        let policy = Policy::default();
        for i in 0..1_000_000_u32 {
            let key = CallKey::new(format!("call_{i}")).with_function("f");
            assert!(store.decide_now(&policy, &key).admitted);
            if i % 1000 == 0 {
                clock.advance(Duration::from_millis(1));
            }
            // The very latest calls keep their state.
            if i == 999_999 {
                let again = store.decide_now(&policy, &key);
                assert_eq!(again.limits[0].used, 2);
            }
        }
        let len = store.len();
        assert!(len <= 50_000 + 64, "{len} calls remembered");
        assert!(len >= 40_000, "evicted far too much: {len}");
    }

    #[test]
    fn a_full_shard_drops_the_longest_idle_calls_first() {
        let clock = FakeClock::new();
        let store = MemoryStore::new()
            .with_shards(1)
            .with_max_keys(80)
            .with_clock(clock.clone());
        let policy = Policy::default();
        for i in 0..80 {
            store.decide_now(&policy, &CallKey::new(format!("c{i}")));
            clock.advance(Duration::from_millis(10));
        }
        // The oldest call comes back: its state is still there.
        assert_eq!(
            store.decide_now(&policy, &CallKey::new("c0")).limits[0].used,
            2
        );
        // A new call at the cap evicts the eighth idle longest (c1..c10).
        store.decide_now(&policy, &CallKey::new("new"));
        assert_eq!(store.len(), 71);
        assert_eq!(
            store.decide_now(&policy, &CallKey::new("c1")).limits[0].used,
            1
        );
        assert_eq!(
            store.decide_now(&policy, &CallKey::new("c0")).limits[0].used,
            3
        );
        assert_eq!(
            store.decide_now(&policy, &CallKey::new("c79")).limits[0].used,
            2
        );
    }

    #[test]
    fn expired_calls_are_purged() {
        let clock = FakeClock::new();
        let store = MemoryStore::new().with_clock(clock.clone());
        let policy = Policy::default();
        for i in 0..100 {
            store.decide_now(&policy, &CallKey::new(format!("c{i}")));
        }
        assert_eq!(store.len(), 100);
        clock.advance(Duration::from_secs(30 * 60 - 1));
        store.purge_expired();
        assert_eq!(store.len(), 100);
        clock.advance(Duration::from_secs(1));
        store.purge_expired();
        assert!(store.is_empty());
    }

    #[test]
    fn exact_under_many_threads() {
        let store = Arc::new(MemoryStore::new().with_clock(FakeClock::new()));
        let policy = Policy::default();
        let admitted = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..8 {
                let (store, policy, admitted) = (&store, &policy, &admitted);
                s.spawn(move || {
                    for i in 0..50 {
                        let key =
                            CallKey::new("one-call").with_function(format!("f{}", (t + i) % 20));
                        if store.decide_now(policy, &key).admitted {
                            admitted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert_eq!(admitted.into_inner(), 20);
    }
}
