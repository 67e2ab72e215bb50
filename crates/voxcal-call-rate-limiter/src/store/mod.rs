//! Where call state lives: the [`Store`] trait, the [`CallStateStore`] trait
//! for stores that only keep state, and the backends.

use std::borrow::Cow;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use voxcal_core::{Lang, UserMessage};

use crate::core::CallState;
use crate::decision::{Decision, DecisionSource};
use crate::policy::{CallKey, Policy};

mod boxed;
#[cfg(feature = "redis")]
mod lua;
mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use boxed::{BoxDecision, BoxStore};
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{OutagePolicy, RedisDecision, RedisStore};

/// A backend that decides one request atomically: reads the call's state,
/// applies the [`Policy`], and records the outcome in one step, so requests
/// racing for the last slot never both get it.
///
/// Most backends implement [`CallStateStore`] instead (keep a
/// [`CallState`] per call, atomically) and get this trait from it, with the
/// crate's algorithm. Implement `Store` itself to run the whole decision
/// elsewhere, as [`RedisStore`](crate::RedisStore) does in one Lua script;
/// answer with [`Decision`]'s constructors, and check the result with the
/// [conformance suite](crate::conformance) (feature `conformance`).
///
/// The future is an associated type (like `tower::Service::Future`) so the
/// layer's response future can hold it without boxing; it owns what it needs
/// (`'static`). [`MemoryStore`] answers with a ready future. To choose a
/// store at runtime, wrap it in a [`BoxStore`].
pub trait Store: Send + Sync + 'static {
    /// The future of one decision.
    type Future: Future<Output = Result<Decision, StoreError>> + Send + 'static;

    /// Decides whether the request identified by `key` is admitted under
    /// `policy`, and records it. An `Err` must have recorded nothing: a
    /// failed decision counts in no limit.
    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future;

    /// A short name of the backend for health pages and logs:
    /// `"in-memory"`, `"redis"`, or `"custom"` (the default).
    fn backend(&self) -> &'static str {
        "custom"
    }

    /// Forgets everything recorded for `call_id`, on every instance that
    /// shares the state: the call starts fresh. A service calls it when a
    /// call has ended (Retell's `call_ended` webhook), so its state does not
    /// wait for its TTL. Releasing an unknown call is no error.
    ///
    /// The default does nothing and the state expires by its TTL
    /// ([`Policy::idle_ttl`]); the crate's stores remove it.
    fn release(&self, call_id: &str) -> ReleaseFuture {
        let _ = call_id;
        Box::pin(ready(Ok(())))
    }
}

/// The future of [`Store::release`]: boxed, since a call is released once.
pub type ReleaseFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'static>>;

impl<S: Store + ?Sized> Store for Arc<S> {
    type Future = S::Future;

    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future {
        (**self).decide(policy, key)
    }

    fn backend(&self) -> &'static str {
        (**self).backend()
    }

    fn release(&self, call_id: &str) -> ReleaseFuture {
        (**self).release(call_id)
    }
}

/// A store that keeps one [`CallState`] per call id and lets the crate's
/// algorithm change it atomically (governor's split: the store does the
/// atomic per-key work, the algorithm stays in the crate). Every
/// implementation is a [`Store`].
///
/// [`update`](Self::update) must run `decide` exactly once on the call's
/// state (or on [`CallState::new`] if it has none), with no other update of
/// the same call id in between, across every instance that shares the
/// state (a lock, a transaction, a compare-and-swap loop); then keep the
/// state until [`CallState::expires_at`] (its [`ttl`](CallState::ttl)),
/// or drop it if that is `None`. A store may keep a state as bytes
/// ([`CallState::encode`] / [`CallState::decode`]). An `Err` must leave the
/// stored state as it was (the decision is then not made, and counts
/// nowhere). [`MemoryStore`] is one implementation; check yours with the
/// [conformance suite](crate::conformance) (feature `conformance`).
///
/// A complete store, a `Mutex<HashMap>`:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use voxcal_call_rate_limiter::{
///     CallKey, CallState, CallStateStore, Clock, FakeClock, Policy, Store, StoreError,
/// };
///
/// #[derive(Debug)]
/// struct MapStore {
///     calls: Mutex<HashMap<String, CallState>>,
///     clock: FakeClock,
/// }
///
/// impl CallStateStore for MapStore {
///     fn now_millis(&self) -> u64 {
///         // Wall time, so every instance sharing the state agrees.
///         self.clock.now_utc().timestamp_millis().max(0) as u64
///     }
///
///     fn update<R>(
///         &self,
///         call_id: &str,
///         decide: impl FnOnce(&mut CallState) -> R,
///     ) -> Result<R, StoreError> {
///         let mut calls = self.calls.lock().map_err(|_| StoreError::unavailable("poisoned"))?;
///         let mut state = calls.remove(call_id).unwrap_or_default();
///         let answer = decide(&mut state);
///         if state.expires_at().is_some() {
///             calls.insert(call_id.to_owned(), state);
///         }
///         Ok(answer)
///     }
///
///     fn remove(&self, call_id: &str) -> Result<(), StoreError> {
///         let mut calls = self.calls.lock().map_err(|_| StoreError::unavailable("poisoned"))?;
///         calls.remove(call_id);
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let clock = FakeClock::new();
/// let store = MapStore { calls: Mutex::new(HashMap::new()), clock: clock.clone() };
/// let policy = Arc::new(Policy::default());
/// let key = CallKey::new("call_1").with_function("book");
/// for _ in 0..10 {
///     assert!(store.decide(&policy, &key).await.unwrap().admitted);
/// }
/// let refused = store.decide(&policy, &key).await.unwrap();
/// assert_eq!(refused.limits_exceeded(), vec!["per_function (10/10)"]);
///
/// // The call ended: it starts fresh.
/// store.release("call_1").await.unwrap();
/// assert!(store.decide(&policy, &key).await.unwrap().admitted);
/// # }
/// ```
///
/// (A real one also drops expired states now and then, like
/// [`MemoryStore`], or sets a TTL in its backend.)
pub trait CallStateStore: Send + Sync + 'static {
    /// Which [`DecisionSource`] its decisions report
    /// ([`DecisionSource::Custom`] unless set).
    const SOURCE: DecisionSource = DecisionSource::Custom;

    /// Its [`Store::backend`] name (`"custom"` unless set).
    const BACKEND: &'static str = "custom";

    /// Now, in milliseconds on the store's timeline. Every instance that
    /// shares the state must read the same timeline: wall time since the
    /// Unix epoch from a [`Clock`](crate::Clock) (`now_utc`) is the usual
    /// choice; [`MemoryStore`], alone with its map, counts monotonic time
    /// since it was made.
    fn now_millis(&self) -> u64;

    /// Runs `decide` on the call's state atomically and keeps the result
    /// (see the [trait docs](CallStateStore)).
    fn update<R>(
        &self,
        call_id: &str,
        decide: impl FnOnce(&mut CallState) -> R,
    ) -> Result<R, StoreError>;

    /// Drops the call's state, if any ([`Store::release`]). The default
    /// keeps it until it expires.
    fn remove(&self, call_id: &str) -> Result<(), StoreError> {
        let _ = call_id;
        Ok(())
    }
}

/// One decision through a [`CallStateStore`]: the crate's algorithm on the
/// store's state, built in place.
#[inline(always)]
pub(crate) fn decide_with<T: CallStateStore + ?Sized>(
    store: &T,
    policy: &Policy,
    key: &CallKey,
) -> Result<Decision, StoreError> {
    let now = store.now_millis();
    let mut decision = Decision::unlimited(T::SOURCE);
    store.update(key.call_id(), |state| {
        state.decide_into(policy, key, now, &mut decision);
    })?;
    Ok(decision)
}

impl<T: CallStateStore> Store for T {
    type Future = Ready<Result<Decision, StoreError>>;

    #[inline]
    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> Self::Future {
        ready(decide_with(self, policy, key))
    }

    fn backend(&self) -> &'static str {
        T::BACKEND
    }

    fn release(&self, call_id: &str) -> ReleaseFuture {
        Box::pin(ready(self.remove(call_id)))
    }
}

/// The sentence of every store error: a caller cannot act on the difference.
pub(crate) fn unavailable_sentence(lang: Lang) -> Cow<'static, str> {
    match lang {
        Lang::En => "Our system is briefly unavailable. Please try again in a moment.".into(),
        _ => "Unser System ist gerade kurz nicht erreichbar. Bitte versuchen Sie es gleich noch einmal."
            .into(),
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
        unavailable_sentence(lang)
    }
}

impl StoreError {
    /// The backend failed with `error` (a message or any error): the
    /// [`Unavailable`](Self::Unavailable) variant.
    ///
    /// ```
    /// use voxcal_call_rate_limiter::StoreError;
    ///
    /// let err = StoreError::unavailable("connection reset");
    /// assert_eq!(err.to_string(), "rate-limit backend unavailable: connection reset");
    /// ```
    pub fn unavailable(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Unavailable(error.into())
    }
}

impl From<crate::core::DecodeError> for StoreError {
    fn from(e: crate::core::DecodeError) -> Self {
        StoreError::Unavailable(Box::new(e))
    }
}
