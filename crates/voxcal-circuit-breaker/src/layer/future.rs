use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::header::RETRY_AFTER;
use http::{HeaderValue, Response, StatusCode};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::HttpClassifier;
use crate::error::retry_after_secs;
use crate::{AcquireFuture, BreakerError, Classify, Permit, Rejected};

pin_project! {
    #[project = KindProj]
    enum Kind<S, R>
    where
        S: Service<R>,
    {
        Acquiring {
            acquire: AcquireFuture,
            service: Option<S>,
            request: Option<R>,
        },
        Called {
            #[pin]
            future: S::Future,
        },
        Rejected {
            rejected: Option<Rejected>,
        },
    }
}

impl<S: Service<R>, R> Kind<S, R> {
    /// Drives the permit decision; `Ready(Err)` is a rejection, `Ready(Ok)`
    /// means the inner future is now running.
    fn poll_admit(
        mut self: Pin<&mut Self>,
        permit: &mut Option<Permit>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Rejected>> {
        let KindProj::Acquiring {
            acquire,
            service,
            request,
        } = self.as_mut().project()
        else {
            return Poll::Ready(Ok(()));
        };
        let decision = ready!(Pin::new(acquire).poll(cx));
        match (decision, service.take(), request.take()) {
            (Ok(granted), Some(mut service), Some(request)) => {
                *permit = Some(granted);
                let future = service.call(request);
                self.set(Kind::Called { future });
                Poll::Ready(Ok(()))
            }
            (Err(rejected), _, _) => {
                self.set(Kind::Rejected { rejected: None });
                Poll::Ready(Err(rejected))
            }
            // Polled again after completion.
            (Ok(_), _, _) => Poll::Pending,
        }
    }
}

pin_project! {
    /// The response future of [`HttpBreaker`](crate::HttpBreaker).
    pub struct HttpBreakerFuture<S, R, C>
    where
        S: Service<R>,
    {
        #[pin]
        kind: Kind<S, R>,
        permit: Option<Permit>,
        classifier: C,
    }
}

impl<S: Service<R>, R, C> HttpBreakerFuture<S, R, C> {
    pub(crate) fn called(future: S::Future, permit: Permit, classifier: C) -> Self {
        HttpBreakerFuture {
            kind: Kind::Called { future },
            permit: Some(permit),
            classifier,
        }
    }

    pub(crate) fn rejected(rejected: Rejected, classifier: C) -> Self {
        HttpBreakerFuture {
            kind: Kind::Rejected {
                rejected: Some(rejected),
            },
            permit: None,
            classifier,
        }
    }

    pub(crate) fn acquiring(acquire: AcquireFuture, service: S, request: R, classifier: C) -> Self {
        HttpBreakerFuture {
            kind: Kind::Acquiring {
                acquire,
                service: Some(service),
                request: Some(request),
            },
            permit: None,
            classifier,
        }
    }
}

impl<S, R, C, B> Future for HttpBreakerFuture<S, R, C>
where
    S: Service<R, Response = Response<B>>,
    C: HttpClassifier<B, S::Error>,
    B: Default,
{
    type Output = Result<Response<B>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Err(rejected) = ready!(this.kind.as_mut().poll_admit(this.permit, cx)) {
            return Poll::Ready(Ok(unavailable(rejected)));
        }
        match this.kind.project() {
            KindProj::Called { future } => {
                let result = ready!(future.poll(cx));
                if let Some(permit) = this.permit.take() {
                    permit.record(this.classifier.classify_response(&result));
                }
                Poll::Ready(result)
            }
            KindProj::Rejected { rejected } => match rejected.take() {
                Some(rejected) => Poll::Ready(Ok(unavailable(rejected))),
                None => Poll::Pending,
            },
            KindProj::Acquiring { .. } => Poll::Pending,
        }
    }
}

/// `503 Service Unavailable` with `Retry-After` and the reason in the extensions.
fn unavailable<B: Default>(rejected: Rejected) -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        RETRY_AFTER,
        HeaderValue::from(retry_after_secs(rejected.retry_after())),
    );
    response.extensions_mut().insert(rejected);
    response
}

pin_project! {
    /// The response future of [`Breaker`](crate::Breaker).
    pub struct BreakerFuture<S, R, C>
    where
        S: Service<R>,
    {
        #[pin]
        kind: Kind<S, R>,
        permit: Option<Permit>,
        classifier: C,
    }
}

impl<S: Service<R>, R, C> BreakerFuture<S, R, C> {
    pub(crate) fn called(future: S::Future, permit: Permit, classifier: C) -> Self {
        BreakerFuture {
            kind: Kind::Called { future },
            permit: Some(permit),
            classifier,
        }
    }

    pub(crate) fn rejected(rejected: Rejected, classifier: C) -> Self {
        BreakerFuture {
            kind: Kind::Rejected {
                rejected: Some(rejected),
            },
            permit: None,
            classifier,
        }
    }

    pub(crate) fn acquiring(acquire: AcquireFuture, service: S, request: R, classifier: C) -> Self {
        BreakerFuture {
            kind: Kind::Acquiring {
                acquire,
                service: Some(service),
                request: Some(request),
            },
            permit: None,
            classifier,
        }
    }
}

impl<S, R, C> Future for BreakerFuture<S, R, C>
where
    S: Service<R>,
    C: Classify<S::Response, S::Error>,
{
    type Output = Result<S::Response, BreakerError<S::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Err(rejected) = ready!(this.kind.as_mut().poll_admit(this.permit, cx)) {
            return Poll::Ready(Err(rejected.into()));
        }
        match this.kind.project() {
            KindProj::Called { future } => {
                let result = ready!(future.poll(cx));
                if let Some(permit) = this.permit.take() {
                    permit.record(this.classifier.classify(&result));
                }
                Poll::Ready(result.map_err(BreakerError::Inner))
            }
            KindProj::Rejected { rejected } => match rejected.take() {
                Some(rejected) => Poll::Ready(Err(rejected.into())),
                None => Poll::Pending,
            },
            KindProj::Acquiring { .. } => Poll::Pending,
        }
    }
}

impl<S: Service<R>, R, C> std::fmt::Debug for HttpBreakerFuture<S, R, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpBreakerFuture").finish_non_exhaustive()
    }
}

impl<S: Service<R>, R, C> std::fmt::Debug for BreakerFuture<S, R, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerFuture").finish_non_exhaustive()
    }
}
