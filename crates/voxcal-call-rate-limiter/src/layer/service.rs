use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::layer::extract::KeyExtractor;
use crate::layer::future::{BoxError, CallRateLimitFuture};
use crate::layer::response::OnRejection;
use crate::layer::CallRateLimitLayer;
use crate::store::Store;

/// The service built by [`CallRateLimitLayer`].
///
/// It reads the body (up to the layer's limit) to find the call, asks the
/// store, and either calls the inner service with the identical bytes or
/// answers itself. It is ready whenever the inner service is.
pub struct CallRateLimit<S, St, K, R> {
    inner: S,
    shared: Arc<CallRateLimitLayer<St, K, R>>,
}

impl<S, St, K, R> CallRateLimit<S, St, K, R> {
    /// Wraps `inner` with the configuration of `layer`.
    pub fn new(inner: S, layer: CallRateLimitLayer<St, K, R>) -> Self {
        CallRateLimit {
            inner,
            shared: Arc::new(layer),
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, St, K, R> Clone for CallRateLimit<S, St, K, R> {
    fn clone(&self) -> Self {
        CallRateLimit {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, St: fmt::Debug, K: fmt::Debug, R: fmt::Debug> fmt::Debug
    for CallRateLimit<S, St, K, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallRateLimit")
            .field("inner", &self.inner)
            .field("layer", &self.shared)
            .finish()
    }
}

impl<S, St, K, R, ReqBody, ResBody> Service<Request<ReqBody>> for CallRateLimit<S, St, K, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    St: Store,
    K: KeyExtractor,
    R: OnRejection<ResBody>,
    ReqBody: Body + From<Bytes>,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = CallRateLimitFuture<S, St, K, R, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The instance polled ready goes with the request; a fresh clone stays.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        CallRateLimitFuture::new(inner, Arc::clone(&self.shared), req)
    }
}
