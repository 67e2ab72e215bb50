//! The tower layer, driven with `ServiceBuilder` + `oneshot` and a fake clock.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, BoxError, Service, ServiceBuilder, ServiceExt};
use voxcal_call_rate_limiter::{
    CallRateLimitLayer, Decision, FakeClock, MemoryStore, MissingCallId, Policy, RejectionKind,
};

/// Echoes the body it got and reports the decision it saw in the request.
async fn echo(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let remaining = req
        .extensions()
        .get::<Decision>()
        .and_then(|d| d.limits.iter().find(|l| l.name == "per_function"))
        .map_or(-1, |l| i64::from(l.remaining));
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let mut res = Response::new(Full::new(body));
    res.headers_mut()
        .insert("x-per-function-remaining", remaining.into());
    Ok(res)
}

fn retell_body(call_id: &str, name: &str) -> String {
    format!(
        r#"{{"call":{{"call_id":"{call_id}","agent_id":"ag"}},"name":"{name}","args":{{"date":"übermorgen"}}}}"#
    )
}

fn post(body: &str) -> Request<Full<Bytes>> {
    Request::post("/api/retell/fn")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

fn layer(clock: &FakeClock) -> CallRateLimitLayer<MemoryStore> {
    CallRateLimitLayer::new(
        MemoryStore::new().with_clock(clock.clone()),
        Policy::default(),
    )
}

async fn body_json(res: Response<Full<Bytes>>) -> serde_json::Value {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

#[test]
fn auto_traits() {
    type Svc = voxcal_call_rate_limiter::CallRateLimit<
        tower::util::BoxCloneSyncService<Request<Full<Bytes>>, Response<Full<Bytes>>, Infallible>,
        MemoryStore,
        voxcal_call_rate_limiter::RetellExtractor,
        voxcal_call_rate_limiter::JsonRejection,
    >;
    assert_send_sync::<CallRateLimitLayer<MemoryStore>>();
    assert_send_sync::<Svc>();
    assert_send::<<Svc as Service<Request<Full<Bytes>>>>::Future>();
}

#[tokio::test]
async fn admitted_requests_pass_identical_bytes_and_carry_headers() {
    let clock = FakeClock::new();
    let svc = ServiceBuilder::new()
        .layer(layer(&clock))
        .service(service_fn(echo));
    let body = retell_body("call_a1b2c3", "check_availability_v2");
    let res = svc.oneshot(post(&body)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-per-function-remaining"], "9");
    assert_eq!(
        res.headers()["ratelimit-policy"],
        r#""total";q=50, "per_minute";q=20;w=60, "per_function";q=10"#
    );
    assert_eq!(
        res.headers()["ratelimit"],
        r#""total";r=49;t=1800, "per_minute";r=19;t=60, "per_function";r=9;t=1800"#
    );
    assert!(res
        .extensions()
        .get::<Decision>()
        .is_some_and(|d| d.admitted));
    let echoed = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(echoed, body.as_bytes());
}

#[tokio::test]
async fn eleventh_call_of_a_function_gets_429_with_headers_and_german_json() {
    let clock = FakeClock::new();
    let mut svc = ServiceBuilder::new()
        .layer(layer(&clock))
        .service(service_fn(echo));
    for i in 0..10 {
        let res = svc
            .ready()
            .await
            .unwrap()
            .call(post(&retell_body("call_x", "book_appointment")))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "request {i}");
        clock.advance(Duration::from_secs(1));
    }
    let res = svc
        .ready()
        .await
        .unwrap()
        .call(post(&retell_body("call_x", "book_appointment_v3")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Lifetime limit spent: retry once the call's state expires (30 min after the last admission at 9 s; now is 10 s).
    assert_eq!(res.headers()["retry-after"], "1799");
    assert_eq!(res.headers()["content-type"], "application/json");
    assert!(res.headers()["ratelimit"]
        .to_str()
        .unwrap()
        .contains(r#""per_function";r=0;t=1799"#));
    assert_eq!(
        res.extensions().get::<RejectionKind>(),
        Some(&RejectionKind::RateLimited)
    );
    let json = body_json(res).await;
    assert_eq!(json["success"], false);
    assert_eq!(json["status"], "rate_limited");
    assert_eq!(json["error_code"], "call_rate_limit_exceeded");
    assert_eq!(
        json["limits_exceeded"],
        serde_json::json!(["per_function (10/10)"])
    );
    let message = json["message"].as_str().unwrap();
    assert!(
        message.contains("Anfragen") && message.contains("Minuten"),
        "{message}"
    );

    // The cooldown now blocks every function of the call for 300 s...
    let blocked = svc
        .ready()
        .await
        .unwrap()
        .call(post(&retell_body("call_x", "check_availability")))
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(blocked.headers()["retry-after"], "300");
    assert_eq!(body_json(blocked).await["limits_exceeded"][0], "cooldown");
    // ...but not other calls.
    let other = svc
        .ready()
        .await
        .unwrap()
        .call(post(&retell_body("call_y", "book_appointment")))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    clock.advance(Duration::from_secs(300));
    let after = svc
        .ready()
        .await
        .unwrap()
        .call(post(&retell_body("call_x", "check_availability")))
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::OK);
}

#[tokio::test]
async fn twenty_per_minute_across_functions() {
    let clock = FakeClock::new();
    let mut svc = ServiceBuilder::new()
        .layer(layer(&clock))
        .service(service_fn(echo));
    let mut admitted = 0;
    for i in 0..25 {
        let res = svc
            .ready()
            .await
            .unwrap()
            .call(post(&retell_body("call_m", &format!("f{i}"))))
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            admitted += 1;
        } else {
            assert_eq!(
                body_json(res).await["limits_exceeded"][0],
                "per_minute (20/20)"
            );
            break;
        }
    }
    assert_eq!(admitted, 20);
}

#[tokio::test]
async fn missing_call_id_is_400_or_passes_through() {
    let clock = FakeClock::new();
    for body in [
        r#"{"call":{"call_id":"undefined"},"name":"x"}"#,
        r#"{"call":{"call_id":"123"},"name":"x"}"#,
        "",
        "{not json",
    ] {
        let svc = ServiceBuilder::new()
            .layer(layer(&clock))
            .service(service_fn(echo));
        let res = svc.oneshot(post(body)).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            res.extensions().get::<RejectionKind>(),
            Some(&RejectionKind::MissingCallId)
        );
        assert_eq!(body_json(res).await["error_code"], "missing_call_id");
    }
    let svc = ServiceBuilder::new()
        .layer(layer(&clock).on_missing_call_id(MissingCallId::PassThrough))
        .service(service_fn(echo));
    let res = svc.oneshot(post(r#"{"name":"x"}"#)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("ratelimit").is_none());
    assert_eq!(res.headers()["x-per-function-remaining"], "-1");
}

#[tokio::test]
async fn header_call_id_is_used() {
    let clock = FakeClock::new();
    let svc = ServiceBuilder::new()
        .layer(layer(&clock))
        .service(service_fn(echo));
    let mut req = post(r#"{"args":{}}"#);
    req.headers_mut()
        .insert("x-retell-call-id", "call_from_header".parse().unwrap());
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// A streamed body of unknown length.
struct Chunks(Vec<Bytes>);

impl From<Bytes> for Chunks {
    fn from(b: Bytes) -> Self {
        Chunks(vec![b])
    }
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        if self.0.is_empty() {
            Poll::Ready(None)
        } else {
            Poll::Ready(Some(Ok(http_body::Frame::data(self.0.remove(0)))))
        }
    }
}

#[tokio::test]
async fn large_bodies_get_413_without_reaching_the_service() {
    let clock = FakeClock::new();
    let inner = service_fn(|_req: Request<Chunks>| async {
        panic!("an oversized request must not reach the service");
        #[allow(unreachable_code)]
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    });
    let svc = ServiceBuilder::new()
        .layer(layer(&clock).with_max_body_bytes(1024))
        .service(inner);
    // Announced by Content-Length: refused before reading.
    let req = Request::post("/f")
        .header("content-length", "5000")
        .body(Chunks(vec![]))
        .unwrap();
    let res = svc.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Streamed without a length: refused once the limit is crossed.
    let chunks = (0..10).map(|_| Bytes::from(vec![b'x'; 200])).collect();
    let res = svc
        .oneshot(Request::post("/f").body(Chunks(chunks)).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.extensions().get::<RejectionKind>(),
        Some(&RejectionKind::PayloadTooLarge)
    );
}

/// A body that a body-limit layer in front has wrapped: it fails with
/// `http_body_util`'s length-limit error once its own limit is crossed.
struct LimitedChunks(http_body_util::Limited<Chunks>);

impl From<Bytes> for LimitedChunks {
    fn from(bytes: Bytes) -> Self {
        LimitedChunks(http_body_util::Limited::new(
            Chunks(vec![bytes]),
            usize::MAX,
        ))
    }
}

impl http_body::Body for LimitedChunks {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }
}

#[tokio::test]
async fn a_body_limit_in_front_still_gets_413_not_400() {
    let clock = FakeClock::new();
    let inner = service_fn(|_req: Request<LimitedChunks>| async {
        panic!("an oversized request must not reach the service");
        #[allow(unreachable_code)]
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    });
    let svc = ServiceBuilder::new()
        .layer(layer(&clock).with_max_body_bytes(64 * 1024))
        .service(inner);
    // The front limit (1000 bytes) is crossed long before this layer's.
    let chunks = (0..10).map(|_| Bytes::from(vec![b'x'; 200])).collect();
    let body = LimitedChunks(http_body_util::Limited::new(Chunks(chunks), 1000));
    let res = svc
        .oneshot(Request::post("/f").body(body).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.extensions().get::<RejectionKind>(),
        Some(&RejectionKind::PayloadTooLarge)
    );
}

#[tokio::test]
async fn streamed_body_under_the_limit_arrives_whole() {
    let clock = FakeClock::new();
    let inner = service_fn(|req: Request<Chunks>| async move {
        let bytes = req.into_body().collect().await.unwrap().to_bytes();
        Ok::<_, Infallible>(Response::new(Full::new(bytes)))
    });
    let svc = ServiceBuilder::new().layer(layer(&clock)).service(inner);
    let body = retell_body("call_stream", "collect_appointment");
    let (a, b) = body.as_bytes().split_at(17);
    let req = Request::post("/f")
        .body(Chunks(vec![
            Bytes::copy_from_slice(a),
            Bytes::copy_from_slice(b),
        ]))
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let echoed = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(echoed, body.as_bytes());
}

#[tokio::test]
async fn works_inside_an_axum_router() {
    let clock = FakeClock::new();
    let app = axum::Router::new()
        .route(
            "/api/retell/{function}",
            axum::routing::post(|body: String| async move { body }),
        )
        .layer(layer(&clock));
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let req = Request::post("/api/retell/book_appointment")
            .body(axum::body::Body::from(retell_body(
                "call_ax",
                "book_appointment",
            )))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 10);
    assert_eq!(statuses[10], 429);
}

#[tokio::test]
async fn a_key_in_the_extensions_is_used_and_the_body_passed_on_unread() {
    use voxcal_call_rate_limiter::CallKey;
    let clock = FakeClock::new();
    let mut svc = ServiceBuilder::new()
        .layer(layer(&clock))
        .service(service_fn(echo));
    // Not JSON: read by the layer, this body has no call id (400). With the
    // key handed over, the layer never looks at it.
    let keyed = |body: &str| {
        let mut req = post(body);
        req.extensions_mut()
            .insert(CallKey::new("call_keyed").with_function("book_appointment"));
        req
    };
    for i in 0..10 {
        let body = format!("not json {i}");
        let res = svc.ready().await.unwrap().call(keyed(&body)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "request {i}");
        assert_eq!(
            res.headers()["x-per-function-remaining"],
            (9 - i).to_string().as_str(),
            "request {i}"
        );
        let echoed = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(echoed, body.as_bytes(), "request {i}");
    }
    // The eleventh of the key's function is refused like any other.
    let res = svc
        .ready()
        .await
        .unwrap()
        .call(keyed("not json 10"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Without the key the same body is read, and has no call id.
    let res = svc
        .ready()
        .await
        .unwrap()
        .call(post("not json"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
