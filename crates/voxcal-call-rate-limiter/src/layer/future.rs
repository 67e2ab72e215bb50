use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::decision::Decision;
use crate::layer::extract::KeyExtractor;
use crate::layer::response::{write_headers, OnRejection, Rejection};
use crate::layer::{CallRateLimitLayer, MissingCallId};
use crate::policy::CallKey;
use crate::store::Store;

pin_project! {
    /// The response future of [`CallRateLimit`](crate::CallRateLimit): reads
    /// the body (unless the request carries its [`CallKey`] already), waits
    /// for the store's decision, then either runs the inner service or yields
    /// the rejection.
    pub struct CallRateLimitFuture<S, St, K, R, ReqBody>
    where
        S: Service<Request<ReqBody>>,
        St: Store,
    {
        #[pin]
        state: State<ReqBody, St::Future, S::Future, S::Response>,
        inner: Option<S>,
        shared: Arc<CallRateLimitLayer<St, K, R>>,
        parts: Option<Parts>,
        buf: BytesMut,
        // The body, unread, when the key came with the request.
        unread: Option<ReqBody>,
        decision: Option<Decision>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, D, F, Res> {
        Collecting { #[pin] body: B },
        Deciding { #[pin] decision: D },
        Inner { #[pin] future: F },
        Done { response: Option<Res> },
    }
}

impl<S, St, K, R, ReqBody, ResBody> CallRateLimitFuture<S, St, K, R, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    St: Store,
    K: KeyExtractor,
    R: OnRejection<ResBody>,
    ReqBody: Body + From<Bytes>,
    ReqBody::Error: Into<BoxError>,
{
    pub(crate) fn new(
        inner: S,
        shared: Arc<CallRateLimitLayer<St, K, R>>,
        req: Request<ReqBody>,
    ) -> Self {
        let (parts, body) = req.into_parts();
        // An earlier layer that parsed the body already (a Retell envelope
        // reader, a signature check) hands over the key: the body is passed
        // on unread.
        if let Some(key) = parts.extensions.get::<CallKey>() {
            let decision = shared.store.decide(&shared.policy, key);
            return CallRateLimitFuture {
                state: State::Deciding { decision },
                inner: Some(inner),
                shared,
                parts: Some(parts),
                buf: BytesMut::new(),
                unread: Some(body),
                decision: None,
            };
        }
        let limit = shared.max_body_bytes;
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
            .max(body.size_hint().lower());
        let state = if declared > limit as u64 {
            State::Done {
                response: Some(reject(&shared, Rejection::PayloadTooLarge { limit }, None)),
            }
        } else {
            State::Collecting { body }
        };
        let capacity = usize::try_from(declared).unwrap_or(0).min(limit);
        CallRateLimitFuture {
            state,
            inner: Some(inner),
            shared,
            parts: Some(parts),
            buf: BytesMut::with_capacity(capacity),
            unread: None,
            decision: None,
        }
    }
}

/// Builds a rejection response with the layer's headers and extensions.
fn reject<St, K, R: OnRejection<B>, B>(
    shared: &CallRateLimitLayer<St, K, R>,
    rejection: Rejection<'_>,
    decision: Option<&Decision>,
) -> Response<B> {
    let kind = rejection.kind();
    let mut response = shared.rejection.response(rejection);
    if let Some(decision) = decision {
        write_headers(decision, response.headers_mut());
        response.extensions_mut().insert(decision.clone());
    }
    response.extensions_mut().insert(kind);
    response
}

impl<S, St, K, R, ReqBody, ResBody> Future for CallRateLimitFuture<S, St, K, R, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    St: Store,
    K: KeyExtractor,
    R: OnRejection<ResBody>,
    ReqBody: Body + From<Bytes>,
    ReqBody::Error: Into<BoxError>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Collecting { body } => match ready!(body.poll_frame(cx)) {
                    Some(Ok(frame)) => {
                        // Trailers are not passed on; Retell sends none.
                        if let Ok(mut data) = frame.into_data() {
                            let limit = this.shared.max_body_bytes;
                            if this.buf.len() + data.remaining() > limit {
                                let rejection = Rejection::PayloadTooLarge { limit };
                                done(reject(this.shared, rejection, None))
                            } else {
                                while data.has_remaining() {
                                    let chunk = data.chunk();
                                    let n = chunk.len();
                                    this.buf.put_slice(chunk);
                                    data.advance(n);
                                }
                                continue;
                            }
                        } else {
                            continue;
                        }
                    }
                    Some(Err(err)) => {
                        // A body-limit layer in front of this one (tower-http's
                        // `RequestBodyLimitLayer`, axum's `DefaultBodyLimit`)
                        // reports an oversized chunked body as a read error:
                        // that is still "too large", not "unreadable".
                        let rejection = if is_length_limit(&*err.into()) {
                            Rejection::PayloadTooLarge {
                                limit: this.shared.max_body_bytes,
                            }
                        } else {
                            Rejection::BodyUnreadable
                        };
                        done(reject(this.shared, rejection, None))
                    }
                    None => {
                        let parts = this.parts.as_ref().expect("parts are taken only once");
                        match this.shared.extractor.extract(parts, this.buf) {
                            Some(key) => State::Deciding {
                                decision: this.shared.store.decide(&this.shared.policy, &key),
                            },
                            None if this.shared.missing == MissingCallId::PassThrough => {
                                let body = ReqBody::from(this.buf.split().freeze());
                                call_inner(this.inner, this.parts, body, None)
                            }
                            None => done(reject(this.shared, Rejection::MissingCallId, None)),
                        }
                    }
                },
                StateProj::Deciding { decision } => match ready!(decision.poll(cx)) {
                    Ok(decision) if decision.admitted => {
                        let body = this
                            .unread
                            .take()
                            .unwrap_or_else(|| ReqBody::from(this.buf.split().freeze()));
                        let state = call_inner(this.inner, this.parts, body, Some(&decision));
                        *this.decision = Some(decision);
                        state
                    }
                    Ok(decision) => done(reject(
                        this.shared,
                        Rejection::RateLimited(&decision),
                        Some(&decision),
                    )),
                    Err(error) => done(reject(this.shared, Rejection::Unavailable(&error), None)),
                },
                StateProj::Inner { future } => {
                    let mut response = ready!(future.poll(cx))?;
                    if let Some(decision) = this.decision.take() {
                        write_headers(&decision, response.headers_mut());
                        response.extensions_mut().insert(decision);
                    }
                    return Poll::Ready(Ok(response));
                }
                StateProj::Done { response } => {
                    let response = response.take().expect("future polled after completion");
                    return Poll::Ready(Ok(response));
                }
            };
            this.state.set(next);
        }
    }
}

fn done<B, D, F, Res>(response: Res) -> State<B, D, F, Res> {
    State::Done {
        response: Some(response),
    }
}

/// Rebuilds the request (with the identical bytes, or the unread body) and
/// starts the inner service.
fn call_inner<S, ReqBody, D>(
    inner: &mut Option<S>,
    parts: &mut Option<Parts>,
    body: ReqBody,
    decision: Option<&Decision>,
) -> State<ReqBody, D, S::Future, S::Response>
where
    S: Service<Request<ReqBody>>,
{
    let mut parts = parts.take().expect("parts are taken only once");
    if let Some(decision) = decision {
        parts.extensions.insert(decision.clone());
    }
    let mut service = inner.take().expect("the inner service is called only once");
    State::Inner {
        future: service.call(Request::from_parts(parts, body)),
    }
}

impl<S, St, K, R, ReqBody> fmt::Debug for CallRateLimitFuture<S, St, K, R, ReqBody>
where
    S: Service<Request<ReqBody>>,
    St: Store,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallRateLimitFuture")
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

/// Errors a body may fail with, as a body-limit layer boxes them.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Whether `err`, or an error it wraps, is `http_body_util`'s length-limit
/// error.
fn is_length_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}
