//! The tower layers, driven with `ServiceBuilder` + `oneshot` and a fake clock.
#![cfg(feature = "tower")]

use std::convert::Infallible;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use tower::{service_fn, ServiceBuilder, ServiceExt};
use voxcal_circuit_breaker::{
    BreakerConfig, BreakerError, BreakerLayer, CircuitBreaker, FakeClock, HttpBreakerLayer,
    Outcome, Rejected, State,
};

fn breaker(clock: &FakeClock, failures: u32) -> CircuitBreaker {
    CircuitBreaker::builder("calcom")
        .config(
            BreakerConfig::builder()
                .consecutive_failures(failures)
                .build()
                .unwrap(),
        )
        .clock(clock.clone())
        .build()
}

/// A service answering with the status in the request body.
async fn status_echo(req: Request<String>) -> Result<Response<String>, Infallible> {
    let status: u16 = req.body().parse().unwrap_or(200);
    let mut res = Response::new(String::from("upstream"));
    *res.status_mut() = StatusCode::from_u16(status).unwrap();
    Ok(res)
}

async fn send<S>(svc: &S, status: u16) -> Response<String>
where
    S: tower::Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone,
{
    svc.clone()
        .oneshot(Request::new(status.to_string()))
        .await
        .unwrap()
}

#[tokio::test]
async fn server_errors_and_429_open_the_breaker_4xx_do_not() {
    let clock = FakeClock::new();
    let breaker = breaker(&clock, 3);
    let svc = ServiceBuilder::new()
        .layer(HttpBreakerLayer::new(breaker.clone()))
        .service(service_fn(status_echo));

    for status in [400, 404, 422, 401, 400, 404] {
        assert_eq!(send(&svc, status).await.status().as_u16(), status);
    }
    assert_eq!(
        breaker.state(),
        State::Closed,
        "4xx says the upstream is alive"
    );

    for status in [500, 429, 503] {
        assert_eq!(send(&svc, status).await.status().as_u16(), status);
    }
    assert_eq!(breaker.state(), State::Open);

    let rejected = send(&svc, 200).await;
    assert_eq!(rejected.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rejected.headers()["retry-after"], "60");
    assert_eq!(rejected.body(), "", "the upstream was not called");
    let reason = rejected.extensions().get::<Rejected>().unwrap();
    assert_eq!(reason.state(), State::Open);

    clock.advance(Duration::from_secs(59) + Duration::from_millis(500));
    let rejected = send(&svc, 200).await;
    assert_eq!(rejected.headers()["retry-after"], "1");

    clock.advance(Duration::from_secs(1));
    for _ in 0..2 {
        assert_eq!(send(&svc, 200).await.status(), StatusCode::OK);
    }
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test]
async fn custom_response_classifier() {
    let clock = FakeClock::new();
    let breaker = breaker(&clock, 1);
    let only_502 = |r: &Result<Response<String>, Infallible>| match r {
        Ok(res) if res.status() == StatusCode::BAD_GATEWAY => Outcome::Failure,
        _ => Outcome::Success,
    };
    let svc = ServiceBuilder::new()
        .layer(HttpBreakerLayer::new(breaker.clone()).with_classifier(only_502))
        .service(service_fn(status_echo));
    send(&svc, 500).await;
    assert_eq!(breaker.state(), State::Closed);
    send(&svc, 502).await;
    assert_eq!(breaker.state(), State::Open);
}

#[tokio::test]
async fn generic_services_get_the_breaker_error() {
    let clock = FakeClock::new();
    let breaker = breaker(&clock, 2);
    let svc = ServiceBuilder::new()
        .layer(BreakerLayer::new(breaker.clone()))
        .service(service_fn(|fail: bool| async move {
            if fail {
                Err("timeout")
            } else {
                Ok(7)
            }
        }));
    assert_eq!(svc.clone().oneshot(false).await.unwrap(), 7);
    for _ in 0..2 {
        let err = svc.clone().oneshot(true).await.unwrap_err();
        assert!(matches!(err, BreakerError::Inner("timeout")));
    }
    let err = svc.clone().oneshot(false).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn a_cancelled_request_releases_its_probe() {
    let clock = FakeClock::new();
    let breaker = breaker(&clock, 1);
    let hang = service_fn(|_req: Request<String>| async {
        std::future::pending::<Result<Response<String>, Infallible>>().await
    });
    let svc = ServiceBuilder::new()
        .layer(HttpBreakerLayer::new(breaker.clone()))
        .service(hang);
    breaker.try_acquire().await.unwrap().failure();
    clock.advance(Duration::from_secs(60));
    for _ in 0..3 {
        // The client gives up after a moment: the probe goes back.
        let call = svc.clone().oneshot(Request::new(String::new()));
        let timed = tokio::time::timeout(Duration::from_millis(1), call).await;
        assert!(timed.is_err());
    }
    let a = breaker.try_acquire().await.unwrap();
    let b = breaker.try_acquire().await.unwrap();
    assert!(a.is_probe() && b.is_probe());
}

#[test]
fn layers_and_futures_are_send() {
    fn assert_send<T: Send>() {}
    fn assert_clone<T: Clone>() {}
    assert_send::<HttpBreakerLayer>();
    assert_clone::<HttpBreakerLayer>();
    assert_send::<BreakerLayer>();
    type Svc = voxcal_circuit_breaker::HttpBreaker<
        tower::util::ServiceFn<
            fn(Request<String>) -> std::future::Ready<Result<Response<String>, Infallible>>,
        >,
        voxcal_circuit_breaker::DefaultHttpClassifier,
    >;
    assert_send::<Svc>();
    assert_send::<
        voxcal_circuit_breaker::HttpBreakerFuture<
            tower::util::ServiceFn<
                fn(Request<String>) -> std::future::Ready<Result<Response<String>, Infallible>>,
            >,
            Request<String>,
            voxcal_circuit_breaker::DefaultHttpClassifier,
        >,
    >();
}
