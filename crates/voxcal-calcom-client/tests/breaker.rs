//! Feature `breaker`: an open breaker answers `CircuitOpen` without touching the network.
#![cfg(feature = "breaker")]

mod support;

use std::time::Duration;

use support::*;
use voxcal_calcom_client::{
    CalcomClient, Credentials, ErrorKind, FakeClock, Lang, RetryConfig, UserMessage,
};
use voxcal_circuit_breaker::{BreakerConfig, CircuitBreaker, State};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn two_failures() -> BreakerConfig {
    BreakerConfig::builder()
        .consecutive_failures(2)
        .build()
        .unwrap()
}

fn client(server: &MockServer, clock: &FakeClock, key: &str, retry: RetryConfig) -> CalcomClient {
    CalcomClient::builder(Credentials::api_key(key))
        .base_url(server.uri())
        .clock(clock.clone())
        .retry(retry)
        .breaker_config(two_failures())
        .build()
        .unwrap()
}

/// `/v2/me` answering `status` `failures` times, then 200.
async fn me_failing_then_ok(status: u16, failures: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(status))
        .up_to_n_times(failures)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn open_breaker_fails_fast_then_recovers() {
    let server = me_failing_then_ok(503, 2).await;
    let clock = FakeClock::new();
    let client = client(&server, &clock, API_KEY, RetryConfig::none());
    for _ in 0..2 {
        assert_eq!(client.me().await.unwrap_err().kind(), &ErrorKind::Server);
    }
    let err = client.me().await.unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::CircuitOpen {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    assert!(err.is_client_side());
    assert_eq!(
        err.user_message(Lang::De),
        "Terminbuchungssystem ist momentan nicht verfügbar. Bitte versuchen Sie es später erneut."
    );
    // The rejected call never reached the server.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    clock.advance(Duration::from_secs(60));
    client.me().await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn refusal_says_what_an_open_breaker_would_answer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let client = client(&server, &clock, API_KEY, RetryConfig::none());
    assert!(client.refusal().is_none(), "closed: calls go through");
    for _ in 0..2 {
        client.me().await.unwrap_err();
    }
    let refusal = client.refusal().expect("open: calls are refused");
    assert_eq!(
        refusal.kind(),
        &ErrorKind::CircuitOpen {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    assert_eq!(
        refusal.user_message(Lang::De),
        client.me().await.unwrap_err().user_message(Lang::De)
    );
    clock.advance(Duration::from_secs(59));
    assert_eq!(
        client.refusal().map(|e| e.kind().clone()),
        Some(ErrorKind::CircuitOpen {
            retry_after: Some(Duration::from_secs(1))
        })
    );
    // Time is up: the next call is a probe, so nothing is refused in advance.
    clock.advance(Duration::from_secs(1));
    assert!(client.refusal().is_none());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // A shared breaker forced open refuses; reset, it lets calls through.
    let breaker = CircuitBreaker::builder("shared").build();
    let shared = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .circuit_breaker(breaker.clone())
        .build()
        .unwrap();
    breaker.force_open();
    assert!(matches!(
        shared.refusal().map(|e| e.kind().clone()),
        Some(ErrorKind::CircuitOpen { .. })
    ));
    breaker.reset();
    assert!(shared.refusal().is_none());
}

#[tokio::test]
async fn client_errors_do_not_trip_the_breaker() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(error_body("NotFoundException", "x")),
        )
        .mount(&server)
        .await;
    let client = client(&server, &FakeClock::new(), API_KEY, RetryConfig::none());
    for _ in 0..5 {
        assert_eq!(client.me().await.unwrap_err().kind(), &ErrorKind::NotFound);
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

#[tokio::test]
async fn retries_stop_once_the_breaker_opens() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let client = client(&server, &clock, API_KEY, exact_retries(5));
    let err = client.me().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::CircuitOpen { .. }), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    // One back-off between the two failures; none after the second, which
    // opened the breaker: waiting would only end in its refusal.
    assert_eq!(clock.sleeps().len(), 1, "{:?}", clock.sleeps());
}

#[tokio::test]
async fn a_retry_that_would_be_a_probe_still_waits() {
    // The breaker opens for less time than the back-off: after the wait the
    // retry is its half-open probe, so the client waits and sends it.
    let server = me_failing_then_ok(500, 2).await;
    let clock = FakeClock::new();
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .clock(clock.clone())
        .retry(exact_retries(5))
        .breaker_config(
            BreakerConfig::builder()
                .consecutive_failures(2)
                .open_duration(Duration::from_millis(50))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    client.me().await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(clock.sleeps().len(), 2, "{:?}", clock.sleeps());
}

#[tokio::test]
async fn tenants_have_their_own_breakers_unless_one_is_shared() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .and(header("authorization", "Bearer cal_down"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let down = client(&server, &clock, "cal_down", RetryConfig::none());
    let up = down
        .with_credentials(Credentials::api_key("cal_up"))
        .unwrap();
    for _ in 0..3 {
        let _ = down.me().await;
    }
    assert!(matches!(
        down.me().await.unwrap_err().kind(),
        ErrorKind::CircuitOpen { .. }
    ));
    up.me().await.unwrap();

    // One breaker shared on purpose: both clients see it open.
    let shared = CircuitBreaker::builder("calcom-shared")
        .config(two_failures())
        .build();
    let a = CalcomClient::builder(Credentials::api_key("cal_down"))
        .base_url(server.uri())
        .retry(RetryConfig::none())
        .circuit_breaker(shared.clone())
        .build()
        .unwrap();
    let b = a.with_credentials(Credentials::api_key("cal_up")).unwrap();
    let _ = a.me().await;
    let _ = a.me().await;
    assert_eq!(shared.state(), State::Open);
    assert!(matches!(
        b.me().await.unwrap_err().kind(),
        ErrorKind::CircuitOpen { .. }
    ));
}

#[tokio::test]
async fn breaker_can_be_turned_off() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .retry(RetryConfig::none())
        .without_circuit_breaker()
        .build()
        .unwrap();
    for _ in 0..8 {
        assert_eq!(client.me().await.unwrap_err().kind(), &ErrorKind::Server);
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_back_off_ends_when_another_task_opens_the_breaker() {
    // A 500, then a 30 s back-off; meanwhile the shared breaker opens (here
    // an operator forces it; in a fleet, another replica's trip). The
    // caller hears the refusal then, not after 30 s.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let breaker = CircuitBreaker::builder("shared").build();
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .retry(RetryConfig {
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(30),
            jitter: false,
            ..exact_retries(1)
        })
        .circuit_breaker(breaker.clone())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let call = tokio::spawn(async move { client.me().await });
    // Bounded wait for the first attempt to reach the server (milliseconds
    // normally; 10 s is the margin for a loaded machine).
    let deadline = started + Duration::from_secs(10);
    loop {
        let seen = server.received_requests().await.unwrap().len();
        if seen == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first attempt never arrived ({seen} requests)"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    breaker.force_open();
    let err = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("the back-off did not end when the breaker opened")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::CircuitOpen { .. }), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "took {:?}, about the 30 s back-off",
        started.elapsed()
    );
}
