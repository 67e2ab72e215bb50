use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::layer::extract::{KeyExtractor, RetellExtractor};
use crate::layer::response::JsonRejection;
use crate::layer::service::CallRateLimit;
use crate::policy::Policy;
use crate::store::Store;

/// What to do with a request that has no usable call id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MissingCallId {
    /// Answer 400 with a JSON error (the default).
    #[default]
    Reject,
    /// Pass it on without limiting it.
    PassThrough,
}

/// Applies a [`Policy`] per call to every request: see the [module docs](crate).
pub struct CallRateLimitLayer<St, K = RetellExtractor, R = JsonRejection> {
    pub(crate) store: Arc<St>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) extractor: K,
    pub(crate) rejection: R,
    pub(crate) max_body_bytes: usize,
    pub(crate) missing: MissingCallId,
}

impl<St: Store> CallRateLimitLayer<St> {
    /// Limits requests with `policy`, counting in `store`; Retell key
    /// extraction, JSON rejections, 256 KiB body limit, 400 without call id.
    pub fn new(store: St, policy: Policy) -> Self {
        Self::shared(Arc::new(store), Arc::new(policy))
    }

    /// Like [`new`](Self::new) with a store and policy already shared.
    pub fn shared(store: Arc<St>, policy: Arc<Policy>) -> Self {
        CallRateLimitLayer {
            store,
            policy,
            extractor: RetellExtractor,
            rejection: JsonRejection::default(),
            max_body_bytes: 256 * 1024,
            missing: MissingCallId::Reject,
        }
    }
}

impl<St: Store, K, R> CallRateLimitLayer<St, K, R> {
    /// The store the layer counts in (shared by its clones and services).
    pub fn store(&self) -> &Arc<St> {
        &self.store
    }

    /// Forgets what was counted for `call_id` ([`Store::release`]): for a
    /// call that has ended.
    pub async fn release(&self, call_id: &str) -> Result<(), crate::StoreError> {
        self.store.release(call_id).await
    }
}

impl<St, K, R> CallRateLimitLayer<St, K, R> {
    /// Uses another way to find the call id and function.
    pub fn with_extractor<K2: KeyExtractor>(self, extractor: K2) -> CallRateLimitLayer<St, K2, R> {
        CallRateLimitLayer {
            store: self.store,
            policy: self.policy,
            extractor,
            rejection: self.rejection,
            max_body_bytes: self.max_body_bytes,
            missing: self.missing,
        }
    }

    /// Uses another rejection response.
    pub fn with_rejection<R2>(self, rejection: R2) -> CallRateLimitLayer<St, K, R2> {
        CallRateLimitLayer {
            store: self.store,
            policy: self.policy,
            extractor: self.extractor,
            rejection,
            max_body_bytes: self.max_body_bytes,
            missing: self.missing,
        }
    }

    /// Sets the largest body read to find the key (larger ones get 413).
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets what happens to requests without a usable call id.
    pub fn on_missing_call_id(mut self, missing: MissingCallId) -> Self {
        self.missing = missing;
        self
    }
}

impl<St, K: Clone, R: Clone> Clone for CallRateLimitLayer<St, K, R> {
    fn clone(&self) -> Self {
        CallRateLimitLayer {
            store: Arc::clone(&self.store),
            policy: Arc::clone(&self.policy),
            extractor: self.extractor.clone(),
            rejection: self.rejection.clone(),
            max_body_bytes: self.max_body_bytes,
            missing: self.missing,
        }
    }
}

impl<St: fmt::Debug, K: fmt::Debug, R: fmt::Debug> fmt::Debug for CallRateLimitLayer<St, K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallRateLimitLayer")
            .field("store", &self.store)
            .field("policy", &self.policy)
            .field("extractor", &self.extractor)
            .field("rejection", &self.rejection)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("missing", &self.missing)
            .finish()
    }
}

impl<S, St, K: Clone, R: Clone> Layer<S> for CallRateLimitLayer<St, K, R> {
    type Service = CallRateLimit<S, St, K, R>;

    fn layer(&self, inner: S) -> Self::Service {
        CallRateLimit::new(inner, self.clone())
    }
}
