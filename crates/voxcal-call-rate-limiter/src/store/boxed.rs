//! A store chosen at runtime: any [`Store`] behind one type.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::decision::Decision;
use crate::policy::{CallKey, Policy};
use crate::store::{ReleaseFuture, Store, StoreError};

/// Any [`Store`] behind one type, with a boxed future: for a backend chosen
/// at runtime (configuration says memory or Redis) without an enum of your
/// own. Clones share the store.
///
/// Each decision boxes its future (one allocation); use the concrete store
/// where the choice is known at compile time.
///
/// ```
/// use voxcal_call_rate_limiter::{BoxStore, CallRateLimitLayer, MemoryStore, Policy};
///
/// # fn redis_store() -> Option<BoxStore> { None }
/// // e.g. `Some(BoxStore::new(RedisStore::new(conn)))` when Redis is configured
/// let store = redis_store().unwrap_or_else(|| BoxStore::new(MemoryStore::new()));
/// assert_eq!(store.backend(), "in-memory");
/// let layer = CallRateLimitLayer::new(store, Policy::default());
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct BoxStore {
    inner: Arc<dyn ErasedStore>,
}

/// [`Store`] without its associated type, so it can be a trait object.
trait ErasedStore: Send + Sync + 'static {
    fn decide_boxed(&self, policy: &Arc<Policy>, key: &CallKey) -> BoxDecision;
    fn backend_name(&self) -> &'static str;
    fn release_boxed(&self, call_id: &str) -> ReleaseFuture;
}

impl<S: Store> ErasedStore for S {
    fn decide_boxed(&self, policy: &Arc<Policy>, key: &CallKey) -> BoxDecision {
        BoxDecision {
            inner: Box::pin(self.decide(policy, key)),
        }
    }

    fn backend_name(&self) -> &'static str {
        self.backend()
    }

    fn release_boxed(&self, call_id: &str) -> ReleaseFuture {
        self.release(call_id)
    }
}

impl BoxStore {
    /// Wraps `store`.
    pub fn new(store: impl Store) -> Self {
        BoxStore {
            inner: Arc::new(store),
        }
    }

    /// The wrapped store's [`Store::backend`] name (`"in-memory"`,
    /// `"redis"`, ...).
    pub fn backend(&self) -> &'static str {
        self.inner.backend_name()
    }
}

impl fmt::Debug for BoxStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Store for BoxStore {
    type Future = BoxDecision;

    fn decide(&self, policy: &Arc<Policy>, key: &CallKey) -> BoxDecision {
        self.inner.decide_boxed(policy, key)
    }

    fn backend(&self) -> &'static str {
        self.inner.backend_name()
    }

    fn release(&self, call_id: &str) -> ReleaseFuture {
        self.inner.release_boxed(call_id)
    }
}

/// The future of one [`BoxStore`] decision.
pub struct BoxDecision {
    inner: Pin<Box<dyn Future<Output = Result<Decision, StoreError>> + Send>>,
}

impl fmt::Debug for BoxDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxDecision").finish_non_exhaustive()
    }
}

impl Future for BoxDecision {
    type Output = Result<Decision, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}
