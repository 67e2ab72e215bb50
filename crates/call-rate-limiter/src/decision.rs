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
    pub limits: Vec<LimitStatus>,
    /// Which backend decided.
    pub source: DecisionSource,
}

/// Where one limit stands after a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl Decision {
    /// An admission without counting (fail-open, or a request passed through
    /// without a call id).
    pub fn unlimited(source: DecisionSource) -> Self {
        Decision {
            admitted: true,
            cooldown: false,
            retry_after: None,
            limits: Vec::new(),
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
