//! In-process store: sharded maps, bounded by a key cap, idle keys evicted.

use std::any::Any;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hashbrown::HashTable;
use parking_lot::Mutex;
use voxcal_core::{Clock, FakeClock, SystemClock};

use crate::core::CallState;
use crate::decision::{Decision, DecisionSource};
use crate::inline::{eq_bytes, InlineStr};
use crate::policy::{CallKey, Policy};
use crate::store::{CallStateStore, StoreError};

/// One shard, on its own cache lines so threads on neighbouring shards do
/// not slow each other down.
#[repr(align(128))]
struct Shard(Mutex<Map>);

type Map = HashTable<Entry>;

/// One call in a shard: its id with the id's hash (computed once per
/// decision; the same hash picks the shard and the slot, and lookups compare
/// it before the bytes), and its state. In this order, so the hash, the id
/// and the state's expiry share the entry's first cache line.
#[derive(Debug)]
#[repr(C)]
struct Entry {
    hash: u64,
    id: InlineStr,
    state: CallState,
}

impl Entry {
    /// Whether this is the entry of `call_id`, whose hash is `hash`.
    #[inline(always)]
    fn is(&self, hash: u64, call_id: &[u8]) -> bool {
        self.hash == hash && eq_bytes(self.id.as_bytes(), call_id)
    }
}

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
/// Time comes from a [`Clock`] ([`SystemClock`] by default; a
/// [`FakeClock`](crate::FakeClock) in tests, advanced instead of slept on):
/// its monotonic reading, in milliseconds since the store was made.
///
/// ```
/// use voxcal_call_rate_limiter::{CallKey, MemoryStore, Policy};
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
    hasher: SeededState,
    timeline: Timeline,
}

/// A store's time: milliseconds on its clock since the store was made. The
/// system clock and a [`FakeClock`] are read directly (no virtual call, no
/// `Instant` sums: a tenth of a decision on the fake clock); any other
/// [`Clock`] through the trait.
enum Timeline {
    System(Instant),
    /// The fake clock and its reading at the start, in nanoseconds.
    Fake(FakeClock, u64),
    Other(Arc<dyn Clock>, Instant),
}

impl Timeline {
    /// Starts at `clock`'s reading now.
    fn start<C: Clock>(clock: C) -> Self {
        let any: &dyn Any = &clock;
        if any.is::<SystemClock>() {
            Timeline::System(Instant::now())
        } else if let Some(fake) = any.downcast_ref::<FakeClock>() {
            Timeline::Fake(fake.clone(), fake.elapsed_nanos())
        } else {
            let origin = clock.now();
            Timeline::Other(Arc::new(clock), origin)
        }
    }

    /// A fresh start on the same clock.
    fn restart(&self) -> Self {
        match self {
            Timeline::System(_) => Timeline::start(SystemClock),
            Timeline::Fake(fake, _) => Timeline::start(fake.clone()),
            Timeline::Other(clock, _) => Timeline::Other(Arc::clone(clock), clock.now()),
        }
    }

    #[inline(always)]
    fn millis(&self) -> u64 {
        match self {
            Timeline::System(origin) => millis(origin.elapsed()),
            Timeline::Fake(fake, origin) => {
                fake.elapsed_nanos().saturating_sub(*origin) / 1_000_000
            }
            Timeline::Other(clock, origin) => {
                millis(clock.now().saturating_duration_since(*origin))
            }
        }
    }
}

impl MemoryStore {
    /// A store with the system clock, 64 shards and a cap of 100 000 calls.
    pub fn new() -> Self {
        Self::build(
            DEFAULT_SHARDS,
            DEFAULT_MAX_KEYS,
            Timeline::start(SystemClock),
        )
    }

    fn build(shards: usize, max_keys: usize, timeline: Timeline) -> Self {
        let shards = shards.clamp(1, 4096).next_power_of_two();
        let max_keys = max_keys.max(1);
        let hasher = SeededState::random();
        MemoryStore {
            shards: (0..shards)
                .map(|_| Shard(Mutex::new(HashTable::new())))
                .collect(),
            per_shard_cap: max_keys.div_ceil(shards).max(1),
            max_keys,
            hasher,
            timeline,
        }
    }

    /// Milliseconds on the store's clock since the store was made.
    #[inline]
    fn now_millis(&self) -> u64 {
        self.timeline.millis()
    }

    /// Uses `clock` instead of the system clock (a [`FakeClock`](crate::FakeClock) in tests).
    pub fn with_clock(self, clock: impl Clock) -> Self {
        Self::build(self.shards.len(), self.max_keys, Timeline::start(clock))
    }

    /// Caps the number of calls remembered (spread evenly over the shards).
    pub fn with_max_keys(self, max_keys: usize) -> Self {
        Self::build(self.shards.len(), max_keys, self.timeline.restart())
    }

    /// Sets the number of shards (rounded up to a power of two, at most 4096).
    pub fn with_shards(self, shards: usize) -> Self {
        Self::build(shards, self.max_keys, self.timeline.restart())
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
        let now = self.now_millis();
        for shard in self.shards.iter() {
            shard.0.lock().retain(|e| e.state.expiry_millis() > now);
        }
    }

    /// Decides synchronously (the [`Store`](crate::Store) impl, through
    /// [`CallStateStore`], wraps the same decision in a ready future).
    #[inline]
    pub fn decide_now(&self, policy: &Policy, key: &CallKey) -> Decision {
        let now = self.now_millis();
        // Filled in place and returned from one exit, so the decision is
        // built right in the caller's slot.
        let mut decision = Decision::unlimited(DecisionSource::Memory);
        self.with_state(key.call_id(), |state| {
            state.decide_into(policy, key, now, &mut decision);
        });
        decision
    }

    /// Runs `f` on the state of `call_id` (a fresh one if it has none)
    /// under its shard's lock, and keeps the state if it holds anything.
    #[inline(always)]
    fn with_state<R>(&self, call_id: &str, f: impl FnOnce(&mut CallState) -> R) -> R {
        let id = call_id.as_bytes();
        let hash = self.hasher.hash_one(id);
        let mut shard = self.shards[self.shard_index(hash)].0.lock();
        if let Some(entry) = shard.find_mut(hash, |e| e.is(hash, id)) {
            f(&mut entry.state)
        } else {
            if shard.len() >= self.per_shard_cap {
                evict(&mut shard, self.per_shard_cap, self.now_millis());
            }
            let mut state = CallState::default();
            let answer = f(&mut state);
            if state.expiry_millis() != 0 {
                let entry = Entry {
                    hash,
                    id: InlineStr::new(call_id),
                    state,
                };
                shard.insert_unique(hash, entry, |e| e.hash);
            }
            answer
        }
    }

    /// Drops the state of `call_id`, if any.
    fn forget(&self, call_id: &str) {
        let id = call_id.as_bytes();
        let hash = self.hasher.hash_one(id);
        let mut shard = self.shards[self.shard_index(hash)].0.lock();
        if let Ok(entry) = shard.find_entry(hash, |e| e.is(hash, id)) {
            entry.remove();
        }
    }

    /// Picks a shard from bits of the call id's hash that the map inside
    /// does not use (it takes the low bits for the slot and the top seven
    /// for its tags), so keys in one shard still spread over its slots.
    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        ((hash >> 32) as usize) & (self.shards.len() - 1)
    }

    #[cfg(test)]
    fn shard_of(&self, call_id: &str) -> usize {
        self.shard_index(self.hasher.hash_one(call_id.as_bytes()))
    }
}

/// A fast keyed hash for short keys (call ids): 16 bytes per folded 64×64→128
/// bit multiply, keyed by two random words per store. Far cheaper than
/// SipHash for ids of a few dozen bytes; the random key keeps an attacker
/// who cannot read it from choosing ids that collide.
#[derive(Clone)]
struct SeededState {
    k0: u64,
    k1: u64,
}

impl SeededState {
    fn random() -> Self {
        SeededState {
            k0: voxcal_core::random_u64() | 1,
            k1: voxcal_core::random_u64(),
        }
    }
}

/// Whole milliseconds of `d` (u64 arithmetic only: this runs per decision).
#[inline]
fn millis(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000)
        .saturating_add(u64::from(d.subsec_millis()))
}

impl BuildHasher for SeededState {
    type Hasher = SeededHasher;

    fn build_hasher(&self) -> SeededHasher {
        SeededHasher {
            h: self.k1,
            k0: self.k0,
            k1: self.k1,
        }
    }
}

struct SeededHasher {
    h: u64,
    k0: u64,
    k1: u64,
}

/// The high and low halves of the 128-bit product, folded together.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Eight bytes from `at` (the caller checks the length): a fixed-size copy
/// the compiler turns into one load.
#[inline]
fn read8(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0_u8; 8];
    w.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(w)
}

#[inline]
fn read4(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0_u8; 4];
    w.copy_from_slice(&bytes[at..at + 4]);
    u64::from(u32::from_le_bytes(w))
}

impl Hasher for SeededHasher {
    /// Whole 16-byte blocks, then the last 16 bytes (or fewer, read as
    /// overlapping words), so no byte-by-byte tail and no copy.
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let len = bytes.len();
        let mut h = self.h;
        let (a, b) = if len > 16 {
            let mut at = 0;
            while len - at > 16 {
                h = fold(
                    read8(bytes, at) ^ h ^ self.k0,
                    read8(bytes, at + 8) ^ self.k1,
                );
                at += 16;
            }
            (read8(bytes, len - 16), read8(bytes, len - 8))
        } else if len >= 8 {
            (read8(bytes, 0), read8(bytes, len - 8))
        } else if len >= 4 {
            (read4(bytes, 0), read4(bytes, len - 4))
        } else if len > 0 {
            let tail = u64::from(bytes[0])
                | u64::from(bytes[len / 2]) << 8
                | u64::from(bytes[len - 1]) << 16;
            (tail, 0)
        } else {
            (0, 0)
        };
        // The length goes in too, so overlapping reads stay unambiguous.
        self.h = fold(a ^ h ^ self.k0, b ^ self.k1 ^ (len as u64));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.h = fold(n ^ self.h ^ self.k0, self.k1);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.h, self.k0 ^ 0x9e37_79b9_7f4a_7c15)
    }
}

/// Makes room in a full shard: expired calls first, then the eighth of the
/// shard that would expire soonest (those idle longest).
fn evict(shard: &mut Map, cap: usize, now: u64) {
    shard.retain(|e| e.state.expiry_millis() > now);
    if shard.len() < cap {
        return;
    }
    let drop = (cap / 8).max(1);
    let mut expiries: Vec<u64> = shard.iter().map(|e| e.state.expiry_millis()).collect();
    let (_, threshold, _) = expiries.select_nth_unstable(drop - 1);
    let threshold = *threshold;
    let mut dropped = 0;
    shard.retain(|e| {
        if dropped < drop && e.state.expiry_millis() <= threshold {
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

/// The crate's own [`CallStateStore`]: its [`Store`](crate::Store) impl comes from there.
impl CallStateStore for MemoryStore {
    const SOURCE: DecisionSource = DecisionSource::Memory;
    const BACKEND: &'static str = "in-memory";

    #[inline]
    fn now_millis(&self) -> u64 {
        MemoryStore::now_millis(self)
    }

    #[inline]
    fn update<R>(
        &self,
        call_id: &str,
        decide: impl FnOnce(&mut CallState) -> R,
    ) -> Result<R, StoreError> {
        Ok(self.with_state(call_id, decide))
    }

    fn remove(&self, call_id: &str) -> Result<(), StoreError> {
        self.forget(call_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxcal_core::FakeClock;

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
    fn the_hash_spreads_ids_over_shards_and_tells_near_keys_apart() {
        let store = MemoryStore::new();
        let mut per_shard = [0_usize; DEFAULT_SHARDS];
        for i in 0..64_000 {
            per_shard[store.shard_of(&format!("call_{i:08x}"))] += 1;
        }
        // 1000 expected per shard; a broken mix leaves shards empty or full.
        assert!(
            per_shard.iter().all(|&n| (700..1300).contains(&n)),
            "{per_shard:?}"
        );
        let h = |b: &[u8]| store.hasher.hash_one(b);
        assert_ne!(h(b"a"), h(b"a\0"));
        assert_ne!(h(b""), h(b"\0"));
        assert_ne!(h(&[7; 17]), h(&[7; 16]));
        assert_ne!(h(b"call_0000000000000001"), h(b"call_0000000000000002"));
        assert_ne!(
            h(b"call_1"),
            MemoryStore::new().hasher.hash_one(b"call_1".as_slice()),
            "every store has its own key"
        );
    }

    /// The store counts on whatever clock it is given: the fake clock read
    /// directly, any other `Clock` through the trait (here a fake clock in
    /// an `Arc`), and a rebuilt store keeps its clock.
    #[test]
    fn windows_move_on_every_kind_of_clock() {
        let policy = Policy::builder()
            .limit(crate::Limit::per_window("w", 1, Duration::from_secs(10)))
            .build()
            .unwrap();
        let key = CallKey::new("call_clock");
        let fake = FakeClock::new();
        let stores = [
            MemoryStore::new().with_clock(fake.clone()),
            MemoryStore::new().with_clock(Arc::new(fake.clone())),
            MemoryStore::new()
                .with_clock(fake.clone())
                .with_max_keys(10)
                .with_shards(2),
            MemoryStore::new()
                .with_clock(Arc::new(fake.clone()))
                .with_max_keys(10),
        ];
        for (i, store) in stores.iter().enumerate() {
            assert!(store.decide_now(&policy, &key).admitted, "store {i}");
        }
        fake.advance(Duration::from_millis(9_999));
        for (i, store) in stores.iter().enumerate() {
            let d = store.decide_now(&policy, &key);
            assert!(!d.admitted, "store {i}: {d:?}");
            assert_eq!(d.limits[0].reset, Duration::from_millis(1), "store {i}");
        }
        fake.advance(Duration::from_millis(1));
        for (i, store) in stores.iter().enumerate() {
            assert!(store.decide_now(&policy, &key).admitted, "store {i}");
        }
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
