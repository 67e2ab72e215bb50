//! Errors of the breaker and the words a person hears about them.

use std::borrow::Cow;
use std::time::Duration;

use voxcal_core::{Lang, UserMessage};

use crate::State;

/// What [`CircuitBreaker::call`](crate::CircuitBreaker::call) returns when it
/// does not return `Ok`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BreakerError<E> {
    /// The breaker rejected the call without running it.
    #[error("circuit breaker is open; retry in {}s", retry_after_secs(*.retry_after))]
    Open {
        /// How long until the breaker lets a call through again (at least an
        /// estimate); use it for `Retry-After`.
        retry_after: Duration,
    },
    /// The call ran and failed with its own error.
    #[error(transparent)]
    Inner(E),
}

impl<E> BreakerError<E> {
    /// Whether the breaker rejected the call.
    pub fn is_open(&self) -> bool {
        matches!(self, BreakerError::Open { .. })
    }

    /// The remaining open time of a rejection, `None` for an inner error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            BreakerError::Open { retry_after } => Some(*retry_after),
            BreakerError::Inner(_) => None,
        }
    }

    /// The inner error, if the call ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            BreakerError::Inner(e) => Some(e),
            BreakerError::Open { .. } => None,
        }
    }
}

/// A sentence a voice agent can say to the caller. It never contains
/// details of the inner error.
///
/// ```
/// use std::time::Duration;
/// use voxcal_circuit_breaker::{BreakerError, Lang, UserMessage};
///
/// let open: BreakerError<&str> = BreakerError::Open { retry_after: Duration::from_secs(30) };
/// assert_eq!(
///     open.user_message(Lang::De),
///     "Der Kalender ist gerade nicht erreichbar. Bitte versuchen Sie es in etwa 30 Sekunden noch einmal."
/// );
/// let inner: BreakerError<&str> = BreakerError::Inner("token cal_live_secret expired");
/// assert!(!inner.user_message(Lang::En).contains("secret"));
/// ```
impl<E> UserMessage for BreakerError<E> {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        match self {
            BreakerError::Open { retry_after } => unavailable(*retry_after, lang),
            BreakerError::Inner(_) => match lang {
                Lang::En => "Sorry, the request failed. Please try again later.".into(),
                _ => "Bei der Anfrage ist leider ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal."
                    .into(),
            },
        }
    }
}

/// The sentence for a call the breaker did not let through.
fn unavailable(retry_after: Duration, lang: Lang) -> Cow<'static, str> {
    let secs = retry_after_secs(retry_after);
    match lang {
        Lang::En => format!(
            "The calendar is not reachable right now. Please try again in about {secs} seconds."
        )
        .into(),
        _ => format!(
            "Der Kalender ist gerade nicht erreichbar. Bitte versuchen Sie es in etwa {secs} Sekunden noch einmal."
        )
        .into(),
    }
}

impl<E> From<Rejected> for BreakerError<E> {
    fn from(rejected: Rejected) -> Self {
        BreakerError::Open {
            retry_after: rejected.retry_after,
        }
    }
}

/// A call the breaker did not admit (from [`try_acquire`](crate::CircuitBreaker::try_acquire)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker is {state}; retry in {}s", retry_after_secs(*.retry_after))]
pub struct Rejected {
    pub(crate) retry_after: Duration,
    pub(crate) state: State,
}

impl Rejected {
    /// How long until the breaker lets a call through again.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// The state that rejected the call (open, half-open with all probes
    /// taken, or forced open).
    pub fn state(&self) -> State {
        self.state
    }
}

/// The same sentence as [`BreakerError::Open`]: the upstream is not
/// reachable, try again in about [`retry_after`](Rejected::retry_after).
impl UserMessage for Rejected {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        unavailable(self.retry_after, lang)
    }
}

/// A [`BreakerConfig`](crate::BreakerConfig) that makes no sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A rate threshold outside `(0, 1]`.
    #[error("{what} must be in (0, 1], got {value}")]
    Rate {
        /// Which setting.
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// A count or duration that must be positive was zero.
    #[error("{what} must be greater than zero")]
    Zero {
        /// Which setting.
        what: &'static str,
    },
    /// The open-duration backoff multiplier is below 1 or not finite.
    #[error("backoff multiplier must be a finite number >= 1, got {0}")]
    Backoff(f64),
    /// No condition would ever open the breaker.
    #[error("no trip condition: set consecutive failures, a failure rate or a slow-call rate")]
    NoTripCondition,
}

/// A misconfigured breaker is the operator's problem: the caller hears
/// only that the service cannot help right now, never which setting is wrong.
impl UserMessage for ConfigError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        match lang {
            Lang::En => "The service is not set up correctly right now. Please try again later.".into(),
            _ => "Der Dienst ist gerade nicht richtig eingerichtet. Bitte versuchen Sie es später noch einmal."
                .into(),
        }
    }
}

/// Whole seconds, rounded up, at least 1: what `Retry-After` carries.
pub(crate) fn retry_after_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}
