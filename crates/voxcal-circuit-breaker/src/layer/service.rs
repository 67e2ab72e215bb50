use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use tower_service::Service;

use super::future::{BreakerFuture, HttpBreakerFuture};
use crate::{BreakerError, CircuitBreaker, Classify, Outcome};

/// Decides whether an HTTP response (or the service's error) counts as a
/// failure. Implemented for closures `Fn(&Result<Response<B>, E>) -> Outcome`.
pub trait HttpClassifier<B, E> {
    /// The outcome of `result`.
    fn classify_response(&self, result: &Result<Response<B>, E>) -> Outcome;
}

/// 5xx, `429 Too Many Requests`, `408 Request Timeout` and every service
/// error (a timeout layer's error included) are failures; other statuses,
/// 4xx included, are successes: they say the upstream is alive.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultHttpClassifier;

impl<B, E> HttpClassifier<B, E> for DefaultHttpClassifier {
    fn classify_response(&self, result: &Result<Response<B>, E>) -> Outcome {
        match result {
            Ok(res) => {
                let status = res.status();
                if status.is_server_error()
                    || status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::REQUEST_TIMEOUT
                {
                    Outcome::Failure
                } else {
                    Outcome::Success
                }
            }
            Err(_) => Outcome::Failure,
        }
    }
}

impl<B, E, F> HttpClassifier<B, E> for F
where
    F: Fn(&Result<Response<B>, E>) -> Outcome,
{
    fn classify_response(&self, result: &Result<Response<B>, E>) -> Outcome {
        self(result)
    }
}

/// The HTTP service made by [`HttpBreakerLayer`](crate::HttpBreakerLayer).
#[derive(Debug, Clone)]
pub struct HttpBreaker<S, C> {
    inner: S,
    breaker: CircuitBreaker,
    classifier: C,
}

impl<S, C> HttpBreaker<S, C> {
    /// Wraps `inner`.
    pub fn new(inner: S, breaker: CircuitBreaker, classifier: C) -> Self {
        HttpBreaker {
            inner,
            breaker,
            classifier,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }
}

impl<S, C, ReqB, ResB> Service<Request<ReqB>> for HttpBreaker<S, C>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Clone,
    C: HttpClassifier<ResB, S::Error> + Clone,
    ResB: Default,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = HttpBreakerFuture<S, Request<ReqB>, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let mut acquire = self.breaker.try_acquire();
        match acquire.take_ready() {
            Some(Ok(permit)) => {
                HttpBreakerFuture::called(self.inner.call(req), permit, self.classifier.clone())
            }
            Some(Err(rejected)) => HttpBreakerFuture::rejected(rejected, self.classifier.clone()),
            None => {
                // The decision needs Redis: keep the ready service and the request.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                HttpBreakerFuture::acquiring(acquire, ready, req, self.classifier.clone())
            }
        }
    }
}

/// The service made by [`BreakerLayer`](crate::BreakerLayer).
#[derive(Debug, Clone)]
pub struct Breaker<S, C> {
    inner: S,
    breaker: CircuitBreaker,
    classifier: C,
}

impl<S, C> Breaker<S, C> {
    /// Wraps `inner`.
    pub fn new(inner: S, breaker: CircuitBreaker, classifier: C) -> Self {
        Breaker {
            inner,
            breaker,
            classifier,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }
}

impl<S, C, R> Service<R> for Breaker<S, C>
where
    S: Service<R> + Clone,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BreakerError<S::Error>;
    type Future = BreakerFuture<S, R, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(BreakerError::Inner)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let mut acquire = self.breaker.try_acquire();
        match acquire.take_ready() {
            Some(Ok(permit)) => {
                BreakerFuture::called(self.inner.call(req), permit, self.classifier.clone())
            }
            Some(Err(rejected)) => BreakerFuture::rejected(rejected, self.classifier.clone()),
            None => {
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                BreakerFuture::acquiring(acquire, ready, req, self.classifier.clone())
            }
        }
    }
}
