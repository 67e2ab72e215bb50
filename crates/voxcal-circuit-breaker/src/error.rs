//! Errors of the breaker and the words a person hears about them.

use std::time::Duration;

use crate::State;

/// The language of a [`user_message`](BreakerError::user_message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Lang {
    /// German (the default: the voice agent speaks German).
    #[default]
    De,
    /// English.
    En,
}

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

    /// A sentence a voice agent can say to the caller. It never contains
    /// details of the inner error.
    pub fn user_message(&self, lang: Lang) -> String {
        match (self, lang) {
            (BreakerError::Open { retry_after }, Lang::De) => format!(
                "Der Kalender ist gerade nicht erreichbar. Bitte versuchen Sie es in etwa {} Sekunden noch einmal.",
                retry_after_secs(*retry_after)
            ),
            (BreakerError::Open { retry_after }, _) => format!(
                "The calendar is not reachable right now. Please try again in about {} seconds.",
                retry_after_secs(*retry_after)
            ),
            (BreakerError::Inner(_), Lang::De) => {
                "Bei der Anfrage ist leider ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal."
                    .to_owned()
            }
            (BreakerError::Inner(_), _) => {
                "Sorry, the request failed. Please try again later.".to_owned()
            }
        }
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

/// A [`Config`](crate::Config) that makes no sense.
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

/// Whole seconds, rounded up, at least 1: what `Retry-After` carries.
pub(crate) fn retry_after_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}
