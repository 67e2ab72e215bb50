//! The pure decision: window arithmetic, all-or-nothing, cooldown. No I/O and
//! no clock; stores feed it a time and keep its state.

use std::collections::VecDeque;
use std::time::Duration;

#[cfg(any(feature = "redis", test))]
use crate::decision::DecisionSource;
use crate::decision::{Decision, Limits};
use crate::inline::{eq_bytes, InlineStr};
use crate::policy::{CallKey, Policy, Rule, MAX_LIMITS};

/// What a store saw for one applicable limit before deciding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Observed {
    /// Index of the limit in the policy (read where a store's reply is
    /// concluded; the memory store has the rule at hand).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) limit: usize,
    /// Admitted requests it counts now (before this one).
    pub(crate) used: u64,
    /// Time of the oldest request still in the window (window limits).
    pub(crate) oldest: Option<u64>,
}

/// Call state after the decision, as the store recorded it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct After {
    pub(crate) admitted: bool,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) in_cooldown: bool,
    pub(crate) cooldown_until: u64,
    pub(crate) expires_at: u64,
}

/// Turns what a store observed and did into a [`Decision`]. Shared by every
/// store so memory and Redis report identically.
#[cfg(feature = "redis")]
pub(crate) fn conclude(
    policy: &Policy,
    observed: &[Observed],
    after: After,
    now: u64,
    source: DecisionSource,
) -> Decision {
    let mut decision = start(&after, source);
    let mut retry = 0;
    for &o in observed {
        let rule = &policy.rules()[o.limit];
        push_status(&mut decision.limits, rule, o, &after, now, &mut retry);
    }
    finish(&mut decision, &after, now, retry);
    decision
}

/// A decision without its limits yet.
#[cfg(feature = "redis")]
#[inline(always)]
fn start(after: &After, source: DecisionSource) -> Decision {
    Decision {
        admitted: after.admitted,
        cooldown: after.in_cooldown,
        retry_after: None,
        limits: Limits::EMPTY,
        source,
    }
}

/// Appends where one observed limit stands after the decision to `limits`,
/// and raises `retry` to its reset if it was full. The name, quota and
/// window come ready from the policy's rule: its template is copied into
/// place and the figures written there, so no status is built on the stack
/// and copied (that copy stalled on store forwarding: a quarter of the
/// memory store's samples).
#[inline(always)]
fn push_status(
    limits: &mut Limits,
    rule: &Rule,
    o: Observed,
    after: &After,
    now: u64,
    retry: &mut u64,
) {
    let exceeded = o.used >= rule.quota;
    let used = if after.admitted {
        o.used.saturating_add(1)
    } else {
        o.used
    };
    let reset = if rule.window != 0 {
        let oldest = match o.oldest {
            Some(t) => Some(t),
            None if after.admitted => Some(now),
            None => None,
        };
        oldest.map_or(0, |t| t.saturating_add(rule.window).saturating_sub(now))
    } else {
        after.expires_at.saturating_sub(now)
    };
    if exceeded {
        *retry = (*retry).max(reset);
    }
    let status = limits.push_template(&rule.template);
    status.used = u32::try_from(used).unwrap_or(u32::MAX);
    status.remaining = u32::try_from(rule.quota.saturating_sub(used)).unwrap_or(0);
    status.reset = Duration::from_millis(reset);
    status.exceeded = exceeded;
}

/// Sets `Retry-After` on a refusal: the later of the limits' resets and the
/// cooldown's end, at least 1 ms.
#[inline]
fn finish(decision: &mut Decision, after: &After, now: u64, retry: u64) {
    if !after.admitted {
        let retry = retry.max(after.cooldown_until.saturating_sub(now));
        decision.retry_after = Some(Duration::from_millis(retry.max(1)));
    }
}

/// One counter of one call: a limit, maybe narrowed to a function or part.
/// Kept to one cache line (64 bytes).
#[derive(Debug)]
struct Bucket {
    limit: u8,
    part: Option<InlineStr<22>>,
    counter: Counter,
}

#[derive(Debug)]
enum Counter {
    /// Lifetime limits: admitted so far.
    Count(u64),
    /// Window limits: times of admitted requests still in the window, oldest
    /// first; never longer than the quota.
    Log(VecDeque<u64>),
}

/// How many buckets a call keeps next to its map entry before spilling to
/// the heap: the default policy's three (total, per minute, one function).
const INLINE_BUCKETS: usize = 3;

/// Fills unused inline bucket slots; never visible through the slice.
const VACANT: Bucket = Bucket {
    limit: u8::MAX,
    part: None,
    counter: Counter::Count(0),
};

/// A call's buckets: inline up to [`INLINE_BUCKETS`] (no pointer to chase
/// on the hot path), then on the heap.
#[derive(Debug)]
enum Buckets {
    Inline {
        len: u8,
        items: [Bucket; INLINE_BUCKETS],
    },
    Heap(Vec<Bucket>),
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets::Inline {
            len: 0,
            items: [VACANT; INLINE_BUCKETS],
        }
    }
}

impl Buckets {
    fn push(&mut self, bucket: Bucket) {
        match self {
            Buckets::Inline { len, items } => {
                let n = usize::from(*len);
                if n < INLINE_BUCKETS {
                    items[n] = bucket;
                    *len += 1;
                } else {
                    let mut heap = Vec::with_capacity(INLINE_BUCKETS * 2);
                    heap.extend(items.iter_mut().map(|b| std::mem::replace(b, VACANT)));
                    heap.push(bucket);
                    *self = Buckets::Heap(heap);
                }
            }
            Buckets::Heap(heap) => heap.push(bucket),
        }
    }

    fn len(&self) -> usize {
        match self {
            Buckets::Inline { len, .. } => usize::from(*len),
            Buckets::Heap(heap) => heap.len(),
        }
    }
}

impl std::ops::Deref for Buckets {
    type Target = [Bucket];

    #[inline]
    fn deref(&self) -> &[Bucket] {
        match self {
            Buckets::Inline { len, items } => &items[..usize::from(*len)],
            Buckets::Heap(heap) => heap,
        }
    }
}

impl std::ops::DerefMut for Buckets {
    #[inline]
    fn deref_mut(&mut self) -> &mut [Bucket] {
        match self {
            Buckets::Inline { len, items } => &mut items[..usize::from(*len)],
            Buckets::Heap(heap) => heap,
        }
    }
}

/// A limit the first pass of a decision did not reach.
const NOT_LOOKED: u8 = u8::MAX;
/// A limit the first pass found no bucket for.
const ABSENT: u8 = u8::MAX - 1;

/// Everything the limiter remembers about one call: its counters, the end of
/// its cooldown and when it may be forgotten.
///
/// A [`CallStateStore`](crate::CallStateStore) keeps one per call id and
/// hands it to the crate's algorithm, which reads and changes it; the store
/// only keeps it (in place, or as bytes: [`encode`](Self::encode) /
/// [`decode`](Self::decode)) until [`expires_at`](Self::expires_at). Times
/// are milliseconds on the store's timeline
/// ([`CallStateStore::now_millis`](crate::CallStateStore::now_millis)).
///
/// Counters are kept per limit *position* in the [`Policy`]: a state kept
/// across a change of the policy's limits should be dropped.
///
/// ```
/// use voxcal_call_rate_limiter::CallState;
///
/// let fresh = CallState::new();
/// assert_eq!(fresh.expires_at(), None); // holds nothing: nothing to keep
/// let bytes = fresh.to_bytes();
/// assert_eq!(CallState::decode(&bytes).unwrap().expires_at(), None);
/// assert!(CallState::decode(b"not a call state").is_err());
/// ```
#[derive(Debug, Default)]
#[repr(C)]
pub struct CallState {
    /// 0 while the state is fresh.
    expires_at: u64,
    cooldown_until: u64,
    buckets: Buckets,
}

impl Clone for CallState {
    fn clone(&self) -> Self {
        let mut buckets = Buckets::default();
        for b in self.buckets.iter() {
            buckets.push(Bucket {
                limit: b.limit,
                part: b.part.clone(),
                counter: match &b.counter {
                    Counter::Count(n) => Counter::Count(*n),
                    Counter::Log(log) => Counter::Log(log.clone()),
                },
            });
        }
        CallState {
            cooldown_until: self.cooldown_until,
            expires_at: self.expires_at,
            buckets,
        }
    }
}

impl PartialEq for CallState {
    fn eq(&self, other: &Self) -> bool {
        self.cooldown_until == other.cooldown_until
            && self.expires_at == other.expires_at
            && self.buckets.len() == other.buckets.len()
            && self.buckets.iter().zip(other.buckets.iter()).all(|(a, b)| {
                a.limit == b.limit
                    && a.part == b.part
                    && match (&a.counter, &b.counter) {
                        (Counter::Count(x), Counter::Count(y)) => x == y,
                        (Counter::Log(x), Counter::Log(y)) => x == y,
                        _ => false,
                    }
            })
    }
}

impl Eq for CallState {}

/// Why bytes could not be read back as a [`CallState`]: they were not
/// written by [`CallState::encode`] of this crate's format, or were cut off.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored call state is unreadable: {reason}")]
pub struct DecodeError {
    reason: &'static str,
}

impl voxcal_core::UserMessage for DecodeError {
    /// The store's sentence: a caller cannot act on a corrupt record.
    ///
    /// ```
    /// use voxcal_call_rate_limiter::{CallState, Lang, UserMessage};
    ///
    /// let err = CallState::decode(&[]).unwrap_err();
    /// assert!(err.user_message(Lang::De).contains("nicht erreichbar"));
    /// assert!(err.user_message(Lang::En).contains("unavailable"));
    /// ```
    fn user_message(&self, lang: voxcal_core::Lang) -> std::borrow::Cow<'_, str> {
        crate::store::unavailable_sentence(lang)
    }
}

/// The first byte of an encoded state: the format's version.
const FORMAT: u8 = 1;
/// Bucket flags in the encoding.
const HAS_PART: u8 = 1;
const IS_LOG: u8 = 2;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads what [`put_varint`] wrote, moving `input` past it.
fn take_varint(input: &mut &[u8]) -> Result<u64, DecodeError> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let Some((&b, rest)) = input.split_first() else {
            return Err(DecodeError { reason: "cut off" });
        };
        *input = rest;
        let bits = u64::from(b & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(DecodeError {
                reason: "number too large",
            });
        }
        v |= bits << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DecodeError {
        reason: "number too large",
    })
}

fn take_byte(input: &mut &[u8]) -> Result<u8, DecodeError> {
    let Some((&b, rest)) = input.split_first() else {
        return Err(DecodeError { reason: "cut off" });
    };
    *input = rest;
    Ok(b)
}

impl CallState {
    /// A fresh state: nothing counted, no cooldown (what a store hands the
    /// algorithm for a call it has no state for).
    pub fn new() -> Self {
        Self::default()
    }

    /// When this state may be forgotten, in milliseconds on the store's
    /// timeline; `None` while it holds nothing (a store need not keep it).
    /// The algorithm forgets an expired state itself, so a store may keep
    /// it longer (a lazy TTL) but not shorter.
    pub fn expires_at(&self) -> Option<u64> {
        (self.expires_at != 0).then_some(self.expires_at)
    }

    /// How much longer than `now` a store must keep this state (its TTL);
    /// `None` if it holds nothing or has expired by `now` (drop it).
    pub fn ttl(&self, now: u64) -> Option<Duration> {
        let at = self.expires_at()?;
        (at > now).then(|| Duration::from_millis(at - now))
    }

    /// When this state may be forgotten (0: it holds nothing).
    #[inline]
    pub(crate) fn expiry_millis(&self) -> u64 {
        self.expires_at
    }

    /// Appends the state's compact encoding to `out`: a version byte, then
    /// variable-length integers (window logs as differences), a few dozen
    /// bytes for a typical call. [`decode`](Self::decode) reads it back.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(FORMAT);
        put_varint(out, self.cooldown_until);
        put_varint(out, self.expires_at);
        put_varint(out, self.buckets.len() as u64);
        for b in self.buckets.iter() {
            out.push(b.limit);
            let mut flags = 0;
            if b.part.is_some() {
                flags |= HAS_PART;
            }
            if matches!(b.counter, Counter::Log(_)) {
                flags |= IS_LOG;
            }
            out.push(flags);
            if let Some(part) = &b.part {
                put_varint(out, part.as_bytes().len() as u64);
                out.extend_from_slice(part.as_bytes());
            }
            match &b.counter {
                Counter::Count(n) => put_varint(out, *n),
                Counter::Log(log) => {
                    put_varint(out, log.len() as u64);
                    let mut last = 0;
                    for &t in log {
                        put_varint(out, t.saturating_sub(last));
                        last = t;
                    }
                }
            }
        }
    }

    /// The state's encoding as a new buffer (see [`encode`](Self::encode)).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode(&mut out);
        out
    }

    /// Reads a state written by [`encode`](Self::encode). Any other input
    /// (cut off, trailing bytes, another format) is a [`DecodeError`],
    /// never a panic, and never allocates more than the input's length
    /// suggests.
    pub fn decode(bytes: &[u8]) -> Result<CallState, DecodeError> {
        let mut input = bytes;
        if take_byte(&mut input)? != FORMAT {
            return Err(DecodeError {
                reason: "unknown format version",
            });
        }
        let cooldown_until = take_varint(&mut input)?;
        let expires_at = take_varint(&mut input)?;
        let count = take_varint(&mut input)?;
        // Every bucket takes at least three bytes.
        if count > (input.len() / 3) as u64 {
            return Err(DecodeError { reason: "cut off" });
        }
        let mut buckets = Buckets::default();
        for _ in 0..count {
            let limit = take_byte(&mut input)?;
            let flags = take_byte(&mut input)?;
            if flags & !(HAS_PART | IS_LOG) != 0 {
                return Err(DecodeError {
                    reason: "unknown bucket flags",
                });
            }
            let part = if flags & HAS_PART != 0 {
                let len = take_varint(&mut input)?;
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&l| l <= input.len())
                    .ok_or(DecodeError { reason: "cut off" })?;
                let (raw, rest) = input.split_at(len);
                input = rest;
                let text = std::str::from_utf8(raw).map_err(|_| DecodeError {
                    reason: "a key part is not UTF-8",
                })?;
                Some(InlineStr::new(text))
            } else {
                None
            };
            let counter = if flags & IS_LOG != 0 {
                let len = take_varint(&mut input)?;
                // Every entry takes at least one byte.
                if len > input.len() as u64 {
                    return Err(DecodeError { reason: "cut off" });
                }
                let mut log = VecDeque::with_capacity(len as usize);
                let mut t: u64 = 0;
                for _ in 0..len {
                    t = t.checked_add(take_varint(&mut input)?).ok_or(DecodeError {
                        reason: "time too large",
                    })?;
                    log.push_back(t);
                }
                Counter::Log(log)
            } else {
                Counter::Count(take_varint(&mut input)?)
            };
            buckets.push(Bucket {
                limit,
                part,
                counter,
            });
        }
        if !input.is_empty() {
            return Err(DecodeError {
                reason: "trailing bytes",
            });
        }
        Ok(CallState {
            cooldown_until,
            expires_at,
            buckets,
        })
    }

    /// The bucket of limit `index` for `part`, if it exists. A call's first
    /// request makes its buckets in policy order, so the bucket at `index`
    /// is tried first.
    #[inline]
    fn find(&self, index: usize, part: Option<&str>) -> Option<usize> {
        let part = part.map(str::as_bytes);
        let is = |b: &Bucket| {
            usize::from(b.limit) == index
                && match (&b.part, part) {
                    (None, None) => true,
                    (Some(have), Some(want)) => eq_bytes(have.as_bytes(), want),
                    _ => false,
                }
        };
        if self.buckets.get(index).is_some_and(is) {
            return Some(index);
        }
        self.buckets.iter().position(is)
    }

    /// Admitted requests bucket `i` counts at `now` (dropping window entries
    /// that left the window of `window` ms), and its oldest entry for
    /// window limits.
    #[inline]
    fn observe(&mut self, i: Option<usize>, window: u64, now: u64) -> (u64, Option<u64>) {
        let Some(i) = i else {
            return (0, None);
        };
        match &mut self.buckets[i].counter {
            Counter::Count(count) => (*count, None),
            Counter::Log(log) => {
                while log
                    .front()
                    .is_some_and(|&t| t.saturating_add(window) <= now)
                {
                    log.pop_front();
                }
                (log.len() as u64, log.front().copied())
            }
        }
    }

    /// Decides one request at `now` and records it: all-or-nothing. Two
    /// passes over the policy: the first checks every applicable limit, the
    /// second records an admission and reports each limit, so nothing is
    /// collected in between.
    #[cfg(test)]
    pub(crate) fn decide(&mut self, policy: &Policy, key: &CallKey, now: u64) -> Decision {
        let mut decision = Decision::unlimited(DecisionSource::Memory);
        self.decide_into(policy, key, now, &mut decision);
        decision
    }

    /// [`decide`](Self::decide) writing into `decision`, which must have no
    /// limits yet: the caller's value is filled in place, so the rather
    /// large decision is not copied on its way out.
    #[inline(always)]
    pub(crate) fn decide_into(
        &mut self,
        policy: &Policy,
        key: &CallKey,
        now: u64,
        decision: &mut Decision,
    ) {
        if self.expires_at != 0 && now >= self.expires_at {
            *self = CallState::default();
        }
        let in_cooldown = self.cooldown_until > now;
        let mut fits = true;
        // Where the first pass found each limit's bucket, so the second
        // does not search (and compare parts) again. Buckets added in the
        // second pass go to the end, so these positions stay valid.
        let mut found = [NOT_LOOKED; MAX_LIMITS];
        let rules = policy.rules();
        for (index, limit) in policy.limits().iter().enumerate() {
            let Some(part) = key.bucket_for(limit.scope()) else {
                continue;
            };
            let rule = &rules[index];
            let position = self.find(index, part);
            // A call with hundreds of buckets searches again instead.
            found[index] = match position {
                None => ABSENT,
                Some(i) => u8::try_from(i)
                    .ok()
                    .filter(|&i| i < ABSENT)
                    .unwrap_or(NOT_LOOKED),
            };
            let (used, _) = self.observe(position, rule.window, now);
            if used >= rule.quota {
                fits = false;
                break;
            }
        }
        let admitted = fits && !in_cooldown;
        if admitted {
            self.expires_at = now.saturating_add(policy.idle_ttl_millis());
        } else if !in_cooldown && policy.cooldown().is_some() {
            self.cooldown_until = now.saturating_add(policy.cooldown_millis());
            self.expires_at = self.expires_at.max(self.cooldown_until);
        }
        let after = After {
            admitted,
            in_cooldown,
            cooldown_until: self.cooldown_until,
            expires_at: self.expires_at,
        };
        decision.admitted = admitted;
        decision.cooldown = in_cooldown;
        decision.retry_after = None;
        let mut retry = 0;
        for (index, limit) in policy.limits().iter().enumerate() {
            let Some(part) = key.bucket_for(limit.scope()) else {
                continue;
            };
            let position = match found[index] {
                NOT_LOOKED => self.find(index, part),
                ABSENT => None,
                i => Some(usize::from(i)),
            };
            let rule = &rules[index];
            let (used, oldest) = self.observe(position, rule.window, now);
            if admitted {
                let i = match position {
                    Some(i) => i,
                    None => {
                        self.buckets.push(Bucket {
                            // Policies have at most 16 limits.
                            limit: index as u8,
                            part: part.map(InlineStr::new),
                            counter: if rule.window != 0 {
                                Counter::Log(VecDeque::new())
                            } else {
                                Counter::Count(0)
                            },
                        });
                        self.buckets.len() - 1
                    }
                };
                match &mut self.buckets[i].counter {
                    Counter::Count(count) => *count = count.saturating_add(1),
                    Counter::Log(log) => log.push_back(now),
                }
            }
            let observed = Observed {
                limit: index,
                used,
                oldest,
            };
            push_status(
                &mut decision.limits,
                rule,
                observed,
                &after,
                now,
                &mut retry,
            );
        }
        finish(decision, &after, now, retry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Limit, Period, Scope};
    use proptest::prelude::*;

    /// The brute-force reference: keeps every admitted request since the last
    /// expiry and counts from scratch.
    #[derive(Default)]
    struct Reference {
        admitted: Vec<(u64, String)>,
        cooldown_until: u64,
        last_admitted: Option<u64>,
    }

    impl Reference {
        fn decide(&mut self, policy: &Policy, function: &str, now: u64) -> bool {
            let expired = self
                .last_admitted
                .is_some_and(|t| now >= t + policy.idle_ttl_millis())
                && now >= self.cooldown_until;
            if expired {
                *self = Reference::default();
            }
            let in_cooldown = self.cooldown_until > now;
            let fits = policy.limits().iter().all(|limit| {
                let counted = self
                    .admitted
                    .iter()
                    .filter(|(t, f)| {
                        let in_scope = match limit.scope() {
                            Scope::CallAndFunction => f == function,
                            _ => true,
                        };
                        let in_period = match limit.window_millis() {
                            None => true,
                            Some(w) => t + w > now,
                        };
                        in_scope && in_period
                    })
                    .count();
                (counted as u64) < u64::from(limit.quota())
            });
            let admitted = fits && !in_cooldown;
            if admitted {
                self.admitted.push((now, function.to_owned()));
                self.last_admitted = Some(now);
            } else if !in_cooldown && policy.cooldown().is_some() {
                self.cooldown_until = now + policy.cooldown_millis();
            }
            admitted
        }
    }

    fn arb_policy() -> impl Strategy<Value = Policy> {
        (
            1u32..6,
            1u32..8,
            1u64..5_000,
            1u32..5,
            proptest::option::of(1u64..3_000),
            1u64..20_000,
            any::<bool>(),
        )
            .prop_map(
                |(total, windowed, window, per_fn, cooldown, ttl, fn_window)| {
                    let per_fn_period = if fn_window {
                        Period::Window(Duration::from_millis(window * 2))
                    } else {
                        Period::Lifetime
                    };
                    Policy::builder()
                        .limit(Limit::lifetime("total", total * 4))
                        .limit(Limit::per_window(
                            "per_window",
                            windowed,
                            Duration::from_millis(window),
                        ))
                        .limit(Limit::new(
                            "per_function",
                            Scope::CallAndFunction,
                            per_fn,
                            per_fn_period,
                        ))
                        .cooldown(cooldown.map(Duration::from_millis))
                        .idle_ttl(Duration::from_millis(ttl))
                        .build()
                        .unwrap()
                },
            )
    }

    fn arb_steps() -> impl Strategy<Value = Vec<(u64, u8)>> {
        proptest::collection::vec((0u64..2_500, 0u8..3), 1..200)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Same answer as the brute-force reference at every step: no limit
        /// is exceeded and no request that fits is refused.
        #[test]
        fn matches_brute_force(policy in arb_policy(), steps in arb_steps()) {
            let mut state = CallState::default();
            let mut reference = Reference::default();
            let mut now = 1_000;
            for (delta, f) in steps {
                now += delta;
                let function = format!("fn{f}");
                let key = CallKey::new("c").with_function(function.clone());
                let got = state.decide(&policy, &key, now);
                let want = reference.decide(&policy, &function, now);
                prop_assert_eq!(got.admitted, want, "at {} for {}", now, function);
                if !got.admitted {
                    prop_assert!(got.retry_after.is_some());
                }
                for status in &got.limits {
                    prop_assert!(status.used <= status.quota);
                    prop_assert_eq!(status.remaining, status.quota - status.used);
                }
            }
        }

        /// Invariant on the admitted history alone: for every admitted
        /// request, the admitted requests in the window ending at it (since
        /// the state last expired) never exceed the quota.
        #[test]
        fn windows_never_overfill(policy in arb_policy(), steps in arb_steps()) {
            let mut state = CallState::default();
            let mut admitted: Vec<(u64, u8)> = Vec::new();
            let mut now = 0;
            for (delta, f) in steps {
                now += delta;
                let before_expiry = state.expiry_millis();
                if before_expiry != 0 && now >= before_expiry {
                    admitted.clear();
                }
                let key = CallKey::new("c").with_function(format!("fn{f}"));
                if state.decide(&policy, &key, now).admitted {
                    admitted.push((now, f));
                }
            }
            for limit in policy.limits() {
                for &(t, f) in &admitted {
                    let n = admitted.iter().filter(|&&(u, g)| {
                        let scope = !matches!(limit.scope(), Scope::CallAndFunction) || g == f;
                        let period = limit.window_millis().is_none_or(|w| u <= t && u + w > t);
                        scope && period
                    }).count();
                    prop_assert!(n as u64 <= u64::from(limit.quota()), "{} over quota", limit.name());
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A state read back from its encoding is the same state and decides
        /// the same way from there on.
        #[test]
        fn encoding_round_trips(policy in arb_policy(), steps in arb_steps()) {
            let mut state = CallState::default();
            let mut now = 1_000;
            for (i, (delta, f)) in steps.into_iter().enumerate() {
                now += delta;
                let key = CallKey::new("c").with_function(format!("fn{f}-ü-{}", "x".repeat(i % 30)));
                let bytes = state.to_bytes();
                let mut copy = CallState::decode(&bytes).unwrap();
                prop_assert_eq!(&copy, &state);
                prop_assert_eq!(copy.decide(&policy, &key, now), state.decide(&policy, &key, now));
            }
        }

        /// Any bytes: a state or an error, never a panic; a decoded state
        /// decides without panicking either.
        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), now in any::<u64>()) {
            let mut input = bytes.clone();
            input.insert(0, FORMAT);
            for candidate in [&bytes[..], &input[..]] {
                if let Ok(mut state) = CallState::decode(candidate) {
                    let key = CallKey::new("c").with_function("f");
                    let _ = state.decide(&Policy::default(), &key, now);
                    let _ = state.ttl(now);
                }
            }
        }
    }

    #[test]
    fn encoding_is_compact_and_checked() {
        let policy = Policy::default();
        let mut state = CallState::default();
        let key = CallKey::new("call_1").with_function("book_appointment");
        for t in 0..5 {
            state.decide(&policy, &key, 1_767_225_600_000 + t * 1_000);
        }
        let bytes = state.to_bytes();
        assert!(bytes.len() < 64, "{} bytes", bytes.len());
        assert_eq!(CallState::decode(&bytes).unwrap(), state);
        for cut in 0..bytes.len() {
            assert!(CallState::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            CallState::decode(&longer).unwrap_err().to_string(),
            "stored call state is unreadable: trailing bytes"
        );
        assert_eq!(state.expires_at(), Some(1_767_225_604_000 + 1_800_000));
        assert_eq!(
            state.ttl(1_767_225_604_000),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(state.ttl(1_767_225_604_000 + 1_800_000), None);
    }

    #[test]
    fn sliding_window_admits_exactly_quota_in_any_span() {
        // A fixed window would admit 40 across a boundary; we admit 20.
        let policy = Policy::builder()
            .limit(Limit::per_window("per_minute", 20, Duration::from_secs(60)))
            .build()
            .unwrap();
        let mut state = CallState::default();
        let key = CallKey::new("c");
        let mut admitted = Vec::new();
        // 59 s of nothing, then a burst, then a burst right after the minute mark.
        for t in [59_000_u64, 61_000] {
            for _ in 0..30 {
                if state.decide(&policy, &key, t).admitted {
                    admitted.push(t);
                }
            }
        }
        assert_eq!(admitted.len(), 20);
        // The burst leaves the window exactly 60 s later, not earlier.
        assert!(!state.decide(&policy, &key, 118_999).admitted);
        assert!(state.decide(&policy, &key, 119_000).admitted);
    }

    #[test]
    fn all_or_nothing_and_cooldown() {
        let policy = Policy::default();
        let mut state = CallState::default();
        let book = CallKey::new("c").with_function("book");
        let check = CallKey::new("c").with_function("check");
        let mut now = 0;
        for _ in 0..10 {
            assert!(state.decide(&policy, &book, now).admitted);
            now += 10_000;
        }
        let refused = state.decide(&policy, &book, now);
        assert!(!refused.admitted);
        assert_eq!(refused.limits_exceeded(), vec!["per_function (10/10)"]);
        // `book` is spent for the call's lifetime: its state expires 30 min
        // after the last admitted request (at 90 s).
        assert_eq!(refused.retry_after, Some(Duration::from_secs(1800 - 10)));
        // The rejection consumed nothing from `total` and started a cooldown.
        let blocked = state.decide(&policy, &check, now + 299_999);
        assert!(blocked.cooldown && !blocked.admitted);
        let total = blocked.limits.iter().find(|l| l.name == "total").unwrap();
        assert_eq!(total.used, 10);
        // Not extended by the blocked request.
        assert!(state.decide(&policy, &check, now + 300_000).admitted);
    }

    #[test]
    fn custom_parts_count_separately_and_missing_parts_are_not_limited() {
        let policy = Policy::builder()
            .limit(Limit::lifetime("per_tenant", 2).scoped(Scope::Part("tenant".into())))
            .build()
            .unwrap();
        let mut state = CallState::default();
        let a = CallKey::new("ip-1").with_part("tenant", "a");
        let b = CallKey::new("ip-1").with_part("tenant", "b");
        let none = CallKey::new("ip-1");
        assert!(state.decide(&policy, &a, 0).admitted);
        assert!(state.decide(&policy, &a, 0).admitted);
        let refused = state.decide(&policy, &a, 0);
        assert_eq!(refused.limits_exceeded(), vec!["per_tenant (2/2)"]);
        assert!(state.decide(&policy, &b, 0).admitted);
        let unlimited = state.decide(&policy, &none, 0);
        assert!(unlimited.admitted && unlimited.limits.is_empty());
    }

    #[test]
    fn retry_after_is_the_later_of_cooldown_and_window() {
        let policy = Policy::builder()
            .limit(Limit::per_window("per_10m", 1, Duration::from_secs(600)))
            .cooldown(Some(Duration::from_secs(300)))
            .build()
            .unwrap();
        let mut state = CallState::default();
        let key = CallKey::new("c");
        assert!(state.decide(&policy, &key, 0).admitted);
        let refused = state.decide(&policy, &key, 1_000);
        assert_eq!(refused.retry_after, Some(Duration::from_secs(599)));
        assert_eq!(refused.limits[0].reset, Duration::from_secs(599));
    }

    #[test]
    fn state_expires_after_idle_ttl() {
        let policy = Policy::default();
        let mut state = CallState::default();
        let key = CallKey::new("c").with_function("f");
        for _ in 0..10 {
            assert!(state.decide(&policy, &key, 0).admitted);
        }
        let d = state.decide(&policy, &key, 1);
        assert!(!d.admitted);
        // Cooldown ends at 300 s but the lifetime counts live 30 min.
        assert!(!state.decide(&policy, &key, 300_001).admitted);
        assert!(state.decide(&policy, &key, 1_800_000).admitted);
    }
}
