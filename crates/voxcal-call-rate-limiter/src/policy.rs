//! Policies as data: named limits with a scope, a quota and a period.

use std::borrow::Cow;
use std::time::Duration;

use voxcal_core::{Lang, UserMessage};

use crate::decision::{LimitName, LimitStatus};

/// The most limits one policy may have.
pub(crate) const MAX_LIMITS: usize = 16;

/// What a limit counts within one call (more generally: one subject key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Every admitted request of the call.
    Call,
    /// Admitted requests of the call to the same function.
    CallAndFunction,
    /// Admitted requests of the call with the same value of the named custom
    /// key part (see [`CallKey::with_part`]). A request whose key lacks the
    /// part is not counted by, nor limited by, this limit.
    Part(String),
}

/// Over which time a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Period {
    /// Over the whole life of the call's state (until it expires after the
    /// policy's [idle TTL](PolicyBuilder::idle_ttl)).
    Lifetime,
    /// In any span of this length (an exact sliding log, millisecond precision).
    Window(Duration),
}

/// One named limit: at most `quota` admitted requests per `scope` in `period`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Limit {
    name: String,
    scope: Scope,
    quota: u32,
    period: Period,
}

impl Limit {
    /// A limit with every part given.
    pub fn new(name: impl Into<String>, scope: Scope, quota: u32, period: Period) -> Self {
        Limit {
            name: name.into(),
            scope,
            quota,
            period,
        }
    }

    /// At most `quota` admitted requests in any span of `window`, per call.
    pub fn per_window(name: impl Into<String>, quota: u32, window: Duration) -> Self {
        Self::new(name, Scope::Call, quota, Period::Window(window))
    }

    /// At most `quota` admitted requests over the call's lifetime.
    pub fn lifetime(name: impl Into<String>, quota: u32) -> Self {
        Self::new(name, Scope::Call, quota, Period::Lifetime)
    }

    /// The same limit, counted per `scope` instead.
    pub fn scoped(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// The name used in headers, keys and `limits_exceeded`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the limit counts.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The most admitted requests it allows.
    pub fn quota(&self) -> u32 {
        self.quota
    }

    /// The period it counts over.
    pub fn period(&self) -> Period {
        self.period
    }

    /// The window in milliseconds, `None` for a lifetime limit.
    pub(crate) fn window_millis(&self) -> Option<u64> {
        match self.period {
            Period::Lifetime => None,
            Period::Window(w) => Some(millis(w)),
        }
    }
}

/// A set of limits checked together, plus cooldown and state expiry.
///
/// A request is admitted only if every applicable limit admits it; then all
/// their counters move together. A rejected request consumes nothing. With a
/// cooldown, a rejection blocks the whole call for that long (a rejection
/// during the cooldown does not extend it).
///
/// ```
/// use voxcal_call_rate_limiter::{Limit, Policy, Scope};
/// use std::time::Duration;
///
/// // The default: 50 per call, 20 in any minute, 10 per function, 300 s cooldown.
/// let retell = Policy::default();
/// assert_eq!(retell.limits().len(), 3);
///
/// // Something else: 5 requests per second per call, no cooldown.
/// let custom = Policy::builder()
///     .limit(Limit::per_window("per_second", 5, Duration::from_secs(1)))
///     .cooldown(None)
///     .build()
///     .unwrap();
/// assert!(custom.cooldown().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    limits: Vec<Limit>,
    /// What a decision needs of each limit, worked out once.
    rules: Vec<Rule>,
    cooldown: Option<Duration>,
    idle_ttl: Duration,
}

impl Policy {
    /// Starts an empty policy (no limits, no cooldown, 30 min idle TTL).
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder {
            limits: Vec::new(),
            cooldown: None,
            idle_ttl: Duration::from_secs(30 * 60),
        }
    }

    /// The Retell defaults: `total` 50 over the call's lifetime, `per_minute`
    /// 20 in any 60 s, `per_function` 10 per function name, a 300 s cooldown
    /// after a rejection, and state kept 30 min after the last admitted request.
    pub fn retell_default() -> Self {
        let built = Policy::builder()
            .limit(Limit::lifetime("total", 50))
            .limit(Limit::per_window("per_minute", 20, Duration::from_secs(60)))
            .limit(Limit::lifetime("per_function", 10).scoped(Scope::CallAndFunction))
            .cooldown(Some(Duration::from_secs(300)))
            .idle_ttl(Duration::from_secs(30 * 60))
            .build();
        match built {
            Ok(policy) => policy,
            // The defaults above are valid; this arm is never taken.
            Err(_) => Policy {
                limits: Vec::new(),
                rules: Vec::new(),
                cooldown: None,
                idle_ttl: Duration::from_secs(30 * 60),
            },
        }
    }

    /// The limits, in the order they were given.
    pub fn limits(&self) -> &[Limit] {
        &self.limits
    }

    /// How long a rejection blocks the whole call, if at all.
    pub fn cooldown(&self) -> Option<Duration> {
        self.cooldown
    }

    /// How long a call's state lives after its last admitted request (never
    /// shorter than the longest window).
    pub fn idle_ttl(&self) -> Duration {
        self.idle_ttl
    }

    /// The limits as a decision reads them (same order as [`limits`](Self::limits)).
    #[inline]
    pub(crate) fn rules(&self) -> &[Rule] {
        &self.rules
    }

    #[inline]
    pub(crate) fn cooldown_millis(&self) -> u64 {
        self.cooldown.map_or(0, millis)
    }

    #[inline]
    pub(crate) fn idle_ttl_millis(&self) -> u64 {
        millis(self.idle_ttl).max(1)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::retell_default()
    }
}

/// One limit as the decision reads it: plain numbers, and the status with
/// its constant fields (name, quota, window) already filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The window in ms, 0 for a lifetime limit.
    pub(crate) window: u64,
    pub(crate) quota: u64,
    pub(crate) template: LimitStatus,
}

/// Builds a [`Policy`]; see [`Policy::builder`].
#[derive(Debug, Clone)]
pub struct PolicyBuilder {
    limits: Vec<Limit>,
    cooldown: Option<Duration>,
    idle_ttl: Duration,
}

impl PolicyBuilder {
    /// Adds a limit.
    pub fn limit(mut self, limit: Limit) -> Self {
        self.limits.push(limit);
        self
    }

    /// Sets the cooldown after a rejection (`None`: no cooldown).
    pub fn cooldown(mut self, cooldown: Option<Duration>) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets how long a call's state lives after its last admitted request.
    pub fn idle_ttl(mut self, ttl: Duration) -> Self {
        self.idle_ttl = ttl;
        self
    }

    /// Checks and builds the policy. The idle TTL is raised to the longest
    /// window if it is shorter, so no window forgets early.
    pub fn build(self) -> Result<Policy, PolicyError> {
        let mut seen = std::collections::HashSet::new();
        for limit in &self.limits {
            let name = limit.name.as_str();
            if name.is_empty()
                || name.len() > LimitName::MAX_LEN
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            {
                return Err(PolicyError::InvalidName(limit.name.clone()));
            }
            if !seen.insert(name) {
                return Err(PolicyError::DuplicateName(limit.name.clone()));
            }
            if limit.quota == 0 {
                return Err(PolicyError::ZeroQuota(limit.name.clone()));
            }
            if limit.window_millis() == Some(0) {
                return Err(PolicyError::ZeroWindow(limit.name.clone()));
            }
        }
        if self.limits.is_empty() {
            return Err(PolicyError::NoLimits);
        }
        if self.limits.len() > MAX_LIMITS {
            return Err(PolicyError::TooManyLimits(self.limits.len()));
        }
        let rules = self
            .limits
            .iter()
            .map(|l| {
                let name = LimitName::new(&l.name)
                    .ok_or_else(|| PolicyError::InvalidName(l.name.clone()))?;
                let window = l.window_millis();
                Ok(Rule {
                    window: window.unwrap_or(0),
                    quota: u64::from(l.quota),
                    template: LimitStatus::new(name, l.quota, window.map(Duration::from_millis)),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let longest = self
            .limits
            .iter()
            .filter_map(Limit::window_millis)
            .max()
            .unwrap_or(0);
        let idle_ttl = self.idle_ttl.max(Duration::from_millis(longest));
        Ok(Policy {
            limits: self.limits,
            rules,
            cooldown: self.cooldown.filter(|c| !c.is_zero()),
            idle_ttl,
        })
    }
}

/// Why a policy could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy has no limits.
    #[error("a rate-limit policy needs at least one limit")]
    NoLimits,
    /// A limit name is empty, longer than 32 bytes, or has characters other
    /// than `A-Z a-z 0-9 _ - .`.
    #[error("limit name {0:?} must be 1 to 32 letters, digits, '_', '-' or '.'")]
    InvalidName(String),
    /// More than 16 limits.
    #[error("a policy may have at most 16 limits, not {0}")]
    TooManyLimits(usize),
    /// Two limits share a name.
    #[error("two limits are named {0:?}; names must be unique")]
    DuplicateName(String),
    /// A limit has quota 0 (it would refuse everything).
    #[error("limit {0:?} has quota 0; use at least 1")]
    ZeroQuota(String),
    /// A window of zero length.
    #[error("limit {0:?} has a zero-length window")]
    ZeroWindow(String),
}

impl UserMessage for PolicyError {
    /// What is wrong with the policy, German by default.
    ///
    /// ```
    /// use voxcal_call_rate_limiter::{Lang, Limit, Policy, UserMessage};
    ///
    /// let err = Policy::builder().limit(Limit::lifetime("total", 0)).build().unwrap_err();
    /// assert_eq!(
    ///     err.user_message(Lang::De),
    ///     "Das Limit „total“ hat das Kontingent 0; es muss mindestens 1 sein."
    /// );
    /// assert_eq!(err.user_message(Lang::En), "The limit “total” has quota 0; it must be at least 1.");
    /// ```
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        let en = matches!(lang, Lang::En);
        let text = match self {
            PolicyError::NoLimits if en => "A rate-limit policy needs at least one limit.".to_owned(),
            PolicyError::NoLimits => "Eine Ratenbegrenzung braucht mindestens ein Limit.".to_owned(),
            PolicyError::InvalidName(name) if en => format!(
                "The limit name “{name}” is invalid: use 1 to 32 letters, digits, “_”, “-” or “.”."
            ),
            PolicyError::InvalidName(name) => format!(
                "Der Limitname „{name}“ ist ungültig: erlaubt sind 1 bis 32 Buchstaben, Ziffern, „_“, „-“ oder „.“."
            ),
            PolicyError::TooManyLimits(n) if en => {
                format!("A rate-limit policy may have at most 16 limits, not {n}.")
            }
            PolicyError::TooManyLimits(n) => {
                format!("Eine Ratenbegrenzung darf höchstens 16 Limits haben, nicht {n}.")
            }
            PolicyError::DuplicateName(name) if en => {
                format!("Two limits are named “{name}”; names must be unique.")
            }
            PolicyError::DuplicateName(name) => {
                format!("Zwei Limits heißen „{name}“; die Namen müssen verschieden sein.")
            }
            PolicyError::ZeroQuota(name) if en => {
                format!("The limit “{name}” has quota 0; it must be at least 1.")
            }
            PolicyError::ZeroQuota(name) => {
                format!("Das Limit „{name}“ hat das Kontingent 0; es muss mindestens 1 sein.")
            }
            PolicyError::ZeroWindow(name) if en => {
                format!("The limit “{name}” has a window of zero length.")
            }
            PolicyError::ZeroWindow(name) => {
                format!("Das Limit „{name}“ hat ein Zeitfenster der Länge null.")
            }
        };
        text.into()
    }
}

/// What identifies a request to the limiter: the call id (the subject every
/// limit of a policy counts within), the function name, and custom parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallKey {
    call_id: String,
    function: Option<String>,
    parts: Vec<(String, String)>,
}

impl CallKey {
    /// A key for `call_id` with no function name.
    pub fn new(call_id: impl Into<String>) -> Self {
        CallKey {
            call_id: call_id.into(),
            function: None,
            parts: Vec::new(),
        }
    }

    /// Sets the function name (counted by [`Scope::CallAndFunction`]).
    pub fn with_function(mut self, function: impl Into<String>) -> Self {
        self.function = Some(function.into());
        self
    }

    /// Adds a custom part (counted by [`Scope::Part`] of the same name).
    pub fn with_part(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.push((name.into(), value.into()));
        self
    }

    /// The call id.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The function name, if any.
    #[inline]
    pub fn function(&self) -> Option<&str> {
        self.function.as_deref()
    }

    /// The value of a custom part, if present.
    pub fn part(&self, name: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The bucket this key falls in for `scope`: `Some(None)` for the whole
    /// call, `Some(Some(v))` for a sub-bucket, `None` if the limit does not apply.
    #[inline]
    pub(crate) fn bucket_for(&self, scope: &Scope) -> Option<Option<&str>> {
        match scope {
            Scope::Call => Some(None),
            Scope::CallAndFunction => self.function().map(Some),
            Scope::Part(name) => self.part(name).map(Some),
        }
    }
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_rejects_bad_policies() {
        let minute = Duration::from_secs(60);
        let cases: Vec<(PolicyBuilder, PolicyError)> = vec![
            (Policy::builder(), PolicyError::NoLimits),
            (
                Policy::builder().limit(Limit::lifetime("", 1)),
                PolicyError::InvalidName(String::new()),
            ),
            (
                Policy::builder().limit(Limit::lifetime("a:b", 1)),
                PolicyError::InvalidName("a:b".into()),
            ),
            (
                Policy::builder()
                    .limit(Limit::lifetime("x", 1))
                    .limit(Limit::per_window("x", 1, minute)),
                PolicyError::DuplicateName("x".into()),
            ),
            (
                Policy::builder().limit(Limit::lifetime("x", 0)),
                PolicyError::ZeroQuota("x".into()),
            ),
            (
                Policy::builder().limit(Limit::per_window("x", 1, Duration::ZERO)),
                PolicyError::ZeroWindow("x".into()),
            ),
        ];
        for (builder, want) in cases {
            let got = builder.build();
            assert_eq!(got, Err(want.clone()));
            // Every error speaks German by default and English on request.
            let (de, en) = (want.user_message(Lang::De), want.user_message(Lang::En));
            assert_eq!(want.user_message(Lang::default()), de);
            assert!(
                de.ends_with('.') && en.ends_with('.') && de != en,
                "{de} / {en}"
            );
        }
        assert!(PolicyError::TooManyLimits(17)
            .user_message(Lang::De)
            .contains("höchstens 16"));
    }

    #[test]
    fn idle_ttl_covers_the_longest_window() {
        let policy = Policy::builder()
            .limit(Limit::per_window("hour", 100, Duration::from_secs(3600)))
            .idle_ttl(Duration::from_secs(60))
            .cooldown(Some(Duration::ZERO))
            .build()
            .unwrap();
        assert_eq!(policy.idle_ttl(), Duration::from_secs(3600));
        assert_eq!(policy.cooldown(), None);
    }

    #[test]
    fn keys_pick_their_buckets() {
        let key = CallKey::new("c")
            .with_function("f")
            .with_part("tenant", "t1");
        assert_eq!(key.bucket_for(&Scope::Call), Some(None));
        assert_eq!(key.bucket_for(&Scope::CallAndFunction), Some(Some("f")));
        assert_eq!(
            key.bucket_for(&Scope::Part("tenant".into())),
            Some(Some("t1"))
        );
        assert_eq!(key.bucket_for(&Scope::Part("ip".into())), None);
        assert_eq!(CallKey::new("c").bucket_for(&Scope::CallAndFunction), None);
    }
}
