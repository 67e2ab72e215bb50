//! Where call state lives: the [`Store`] trait and its backends.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use voxcal_core::{Lang, UserMessage};

use crate::decision::Decision;
use crate::policy::{CallKey, Policy};

mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{OutagePolicy, RedisDecision, RedisStore};

/// A backend that decides one request atomically: reads the call's state,
/// applies the [`Policy`], and records the outcome in one step, so requests
/// racing for the last slot never both get it.
///
/// The future is an associated type (like `tower::Service::Future`) so the
/// layer's response future can hold it without boxing; it owns what it needs
/// (`'static`). [`MemoryStore`] answers with a ready future.
pub trait Store: Send + Sync + 'static {
    /// The future of one decision.
    type Future: Future<Output = Result<Decision, StoreError>> + Send + 'static;

    /// Decides whether the request identified by `key` is admitted under
    /// `policy`, and records it.
    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future;
}

impl<S: Store + ?Sized> Store for Arc<S> {
    type Future = S::Future;

    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future {
        (**self).decide(policy, key)
    }
}

/// Why a store could not decide.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend did not answer within the per-decision timeout.
    #[error("rate-limit backend did not answer within {0:?}")]
    Timeout(Duration),
    /// The backend answered with an error or could not be reached.
    #[error("rate-limit backend unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl UserMessage for StoreError {
    /// A sentence the voice agent can say instead of an error (the same for
    /// every variant: a caller cannot act on the difference).
    ///
    /// ```
    /// use std::time::Duration;
    /// use voxcal_call_rate_limiter::{Lang, StoreError, UserMessage};
    ///
    /// let err = StoreError::Timeout(Duration::from_millis(50));
    /// assert!(err.user_message(Lang::De).contains("nicht erreichbar"));
    /// assert!(err.user_message(Lang::En).contains("unavailable"));
    /// ```
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        match lang {
            Lang::En => "Our system is briefly unavailable. Please try again in a moment.".into(),
            _ => "Unser System ist gerade kurz nicht erreichbar. Bitte versuchen Sie es gleich noch einmal."
                .into(),
        }
    }
}
