//! The outcome of one rate-limit check.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

/// What the limiter decided for one request, and where each limit stands.
///
/// The layer puts it in the request's extensions (admitted requests) and the
/// response's extensions (both), so handlers and logs can read it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Whether the request may go on.
    pub admitted: bool,
    /// Whether it was refused because the call is cooling down after an
    /// earlier rejection.
    pub cooldown: bool,
    /// When a refused request is worth retrying.
    pub retry_after: Option<Duration>,
    /// Every limit of the policy that applied to the request, in policy order.
    pub limits: Limits,
    /// Which backend decided.
    pub source: DecisionSource,
}

/// Where one limit stands after a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimitStatus {
    /// The limit's name.
    pub name: LimitName,
    /// Its quota.
    pub quota: u32,
    /// Its window, `None` for a lifetime limit.
    pub window: Option<Duration>,
    /// Admitted requests it counts now (including this one if admitted).
    pub used: u32,
    /// How many more it would admit now.
    pub remaining: u32,
    /// When it next gains room: the oldest counted request leaving the
    /// window, or the call's state expiring for a lifetime limit.
    pub reset: Duration,
    /// Whether this limit was full when the request came (so it refused it).
    pub exceeded: bool,
}

/// Which backend made a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecisionSource {
    /// A [`MemoryStore`](crate::MemoryStore).
    Memory,
    /// Redis, through the Lua script.
    Redis,
    /// The local fallback store while Redis was unreachable.
    Fallback,
    /// Nothing: Redis was unreachable and the policy is to fail open.
    FailOpen,
    /// A store written outside this crate (a
    /// [`CallStateStore`](crate::CallStateStore) with the default
    /// [`SOURCE`](crate::CallStateStore::SOURCE)).
    Custom,
}

impl Decision {
    /// An admission: the request may go on. Add the limits' statuses with
    /// [`with_limits`](Self::with_limits).
    ///
    /// A store that implements [`Store`](crate::Store) itself (instead of
    /// [`CallStateStore`](crate::CallStateStore), which builds decisions for
    /// it) answers with these constructors:
    ///
    /// ```
    /// use std::time::Duration;
    /// use voxcal_call_rate_limiter::{Decision, DecisionSource, LimitName, LimitStatus, Limits};
    ///
    /// let name = LimitName::new("per_minute").unwrap();
    /// let status = LimitStatus::new(name, 20, Some(Duration::from_secs(60)))
    ///     .with_used(20)
    ///     .with_reset(Duration::from_secs(12))
    ///     .with_exceeded(true);
    /// let refused = Decision::refused(Duration::from_secs(12), DecisionSource::Custom)
    ///     .with_limits([status].into_iter().collect::<Limits>());
    /// assert!(!refused.admitted);
    /// assert_eq!(refused.limits_exceeded(), vec!["per_minute (20/20)"]);
    /// assert_eq!(refused.limits[0].remaining, 0);
    ///
    /// let admitted = Decision::admitted(DecisionSource::Custom);
    /// assert!(admitted.admitted && admitted.retry_after.is_none());
    /// ```
    pub fn admitted(source: DecisionSource) -> Self {
        Self::unlimited(source)
    }

    /// A refusal, worth retrying after `retry_after` (at least 1 ms is
    /// reported). Add the limits' statuses with
    /// [`with_limits`](Self::with_limits), and mark a refusal during a
    /// cooldown with [`with_cooldown`](Self::with_cooldown).
    pub fn refused(retry_after: Duration, source: DecisionSource) -> Self {
        Decision {
            admitted: false,
            cooldown: false,
            retry_after: Some(retry_after.max(Duration::from_millis(1))),
            limits: Limits::EMPTY,
            source,
        }
    }

    /// The same decision with these limit statuses (in policy order).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The same decision, marked as refused because the call is cooling down
    /// (`true`) or not.
    pub fn with_cooldown(mut self, cooldown: bool) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The same decision, reported as made by `source`.
    pub fn with_source(mut self, source: DecisionSource) -> Self {
        self.source = source;
        self
    }

    /// An admission without counting (fail-open, or a request passed through
    /// without a call id).
    pub fn unlimited(source: DecisionSource) -> Self {
        Decision {
            admitted: true,
            cooldown: false,
            retry_after: None,
            limits: Limits::default(),
            source,
        }
    }

    /// The limits that refused the request, as `"name (used/quota)"`, with
    /// `"cooldown"` first when the call was cooling down.
    pub fn limits_exceeded(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.cooldown {
            out.push("cooldown".to_owned());
        }
        out.extend(
            self.limits
                .iter()
                .filter(|l| l.exceeded)
                .map(|l| format!("{} ({}/{})", l.name, l.used, l.quota)),
        );
        out
    }

    /// The limit with the fewest remaining requests (the one a client should
    /// watch), if any applied.
    pub fn tightest(&self) -> Option<&LimitStatus> {
        self.limits.iter().min_by_key(|l| (l.remaining, l.reset))
    }
}

/// How many statuses a [`Limits`] holds without allocating.
const INLINE_LIMITS: usize = 3;

/// The statuses of the limits that applied to one [`Decision`], in policy
/// order. It dereferences to a slice (`decision.limits[0]`,
/// `decision.limits.iter()`); up to three (the default policy's number) are kept inline, so a decision
/// under a typical policy costs no allocation.
#[derive(Clone)]
pub struct Limits(LimitsRepr);

#[derive(Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "inline on purpose: the common case must not allocate"
)]
enum LimitsRepr {
    Inline {
        len: u8,
        items: [LimitStatus; INLINE_LIMITS],
    },
    Heap(Vec<LimitStatus>),
}

/// Fills unused inline slots; never visible through the slice. All zero
/// bytes (so `Some(ZERO)`, not `None`, as the window), which lets an empty
/// [`Limits`] be made by clearing memory instead of copying a constant.
const VACANT: LimitStatus = LimitStatus {
    name: LimitName {
        len: 0,
        bytes: [0; LimitName::MAX_LEN],
    },
    quota: 0,
    window: Some(Duration::ZERO),
    used: 0,
    remaining: 0,
    reset: Duration::ZERO,
    exceeded: false,
};

impl LimitStatus {
    /// A limit with nothing counted yet: `used` 0, `remaining` = `quota`,
    /// `reset` zero, not exceeded. `window` is `None` for a lifetime limit.
    pub fn new(name: LimitName, quota: u32, window: Option<Duration>) -> Self {
        LimitStatus {
            name,
            quota,
            window,
            used: 0,
            remaining: quota,
            reset: Duration::ZERO,
            exceeded: false,
        }
    }

    /// The same status with `used` admitted requests counted (and
    /// `remaining` = `quota - used`, at least 0).
    pub fn with_used(mut self, used: u32) -> Self {
        self.used = used;
        self.remaining = self.quota.saturating_sub(used);
        self
    }

    /// The same status, next gaining room in `reset`.
    pub fn with_reset(mut self, reset: Duration) -> Self {
        self.reset = reset;
        self
    }

    /// The same status, marked as the (or a) limit that refused the request.
    pub fn with_exceeded(mut self, exceeded: bool) -> Self {
        self.exceeded = exceeded;
        self
    }
}

impl Limits {
    /// No statuses yet (inline: no allocation up to three).
    pub fn new() -> Self {
        Limits::EMPTY
    }

    /// Appends the status of the next limit (statuses stay in policy order).
    #[inline(always)]
    pub fn push(&mut self, status: LimitStatus) {
        match &mut self.0 {
            LimitsRepr::Inline { len, items } => {
                let n = usize::from(*len);
                if n < INLINE_LIMITS {
                    items[n] = status;
                    *len += 1;
                } else {
                    let mut heap = Vec::with_capacity(INLINE_LIMITS * 2);
                    heap.extend_from_slice(&items[..]);
                    heap.push(status);
                    self.0 = LimitsRepr::Heap(heap);
                }
            }
            LimitsRepr::Heap(heap) => heap.push(status),
        }
    }
}

impl Limits {
    /// Appends a copy of `template` and returns it, to be filled in place.
    #[inline(always)]
    pub(crate) fn push_template(&mut self, template: &LimitStatus) -> &mut LimitStatus {
        self.push(*template);
        match &mut self.0 {
            LimitsRepr::Inline { len, items } => &mut items[usize::from(*len) - 1],
            LimitsRepr::Heap(heap) => {
                let last = heap.len() - 1;
                &mut heap[last]
            }
        }
    }

    /// No limits (a constant, so it is written straight into place).
    pub(crate) const EMPTY: Limits = Limits(LimitsRepr::Inline {
        len: 0,
        items: [VACANT; INLINE_LIMITS],
    });
}

impl Default for Limits {
    #[inline(always)]
    fn default() -> Self {
        Limits::EMPTY
    }
}

impl Deref for Limits {
    type Target = [LimitStatus];

    fn deref(&self) -> &[LimitStatus] {
        match &self.0 {
            LimitsRepr::Inline { len, items } => &items[..usize::from(*len)],
            LimitsRepr::Heap(heap) => heap,
        }
    }
}

impl PartialEq for Limits {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Limits {}

impl fmt::Debug for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl FromIterator<LimitStatus> for Limits {
    fn from_iter<I: IntoIterator<Item = LimitStatus>>(iter: I) -> Self {
        let mut limits = Limits::default();
        for status in iter {
            limits.push(status);
        }
        limits
    }
}

impl<'a> IntoIterator for &'a Limits {
    type Item = &'a LimitStatus;
    type IntoIter = std::slice::Iter<'a, LimitStatus>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A limit's name, stored inline (at most [`LimitName::MAX_LEN`] bytes) so a
/// [`Decision`] costs no allocation per limit.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitName {
    len: u8,
    bytes: [u8; LimitName::MAX_LEN],
}

impl LimitName {
    /// The longest name a policy accepts, in bytes.
    pub const MAX_LEN: usize = 32;

    /// `name` if it fits, else `None`.
    pub fn new(name: &str) -> Option<Self> {
        let len = name.len();
        if len > Self::MAX_LEN {
            return None;
        }
        let mut bytes = [0; Self::MAX_LEN];
        bytes[..len].copy_from_slice(name.as_bytes());
        Some(LimitName {
            len: u8::try_from(len).ok()?,
            bytes,
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl Deref for LimitName {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for LimitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for LimitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for LimitName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LimitName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(name: &str, used: u32) -> LimitStatus {
        LimitStatus {
            name: LimitName::new(name).unwrap(),
            used,
            ..VACANT
        }
    }

    #[test]
    fn limits_spill_to_the_heap_past_four_and_keep_order() {
        for n in [0_u32, 1, 3, 4, 16] {
            let limits: Limits = (0..n).map(|i| status(&format!("l{i}"), i)).collect();
            assert_eq!(limits.len(), n as usize);
            assert_eq!(
                matches!(limits.0, LimitsRepr::Heap(_)),
                n as usize > INLINE_LIMITS
            );
            for (i, l) in limits.iter().enumerate() {
                assert_eq!(l.name, format!("l{i}").as_str());
                assert_eq!(l.used as usize, i);
            }
            let same: Limits = (0..n).map(|i| status(&format!("l{i}"), i)).collect();
            assert_eq!(limits, same);
        }
        let a: Limits = [status("a", 1)].into_iter().collect();
        let b: Limits = [status("a", 2)].into_iter().collect();
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), format!("{:?}", [status("a", 1)]));
    }
}
