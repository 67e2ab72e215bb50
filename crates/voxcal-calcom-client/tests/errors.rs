//! Every error kind, produced over real HTTP (wiremock on loopback) or by the
//! client itself, with status, Cal.com code/details, X-Request-Id and the sentence.

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;
use voxcal_calcom_client::{
    Attendee, CalcomClient, CalcomError, CreateBookingRequest, Credentials, ErrorKind, FakeClock,
    Lang, Quota, RetryConfig, SlotsQuery, UserMessage,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn me_error(template: ResponseTemplate) -> CalcomError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(template)
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server, &FakeClock::new(), RetryConfig::none());
    client.me().await.unwrap_err()
}

#[tokio::test]
async fn http_statuses_become_kinds_with_context() {
    let cases: Vec<(u16, serde_json::Value, ErrorKind, &str)> = vec![
        (
            401,
            error_body("UnauthorizedException", "Invalid API key"),
            ErrorKind::Unauthorized,
            "Terminbuchungssystem: Authentifizierungsfehler. Bitte kontaktieren Sie den Support.",
        ),
        (
            403,
            error_body("ForbiddenException", "no access"),
            ErrorKind::Forbidden,
            "Terminbuchungssystem: Authentifizierungsfehler. Bitte kontaktieren Sie den Support.",
        ),
        (
            404,
            error_body("NotFoundException", "Booking not found"),
            ErrorKind::NotFound,
            "Terminbuchungssystem: Angeforderte Ressource nicht gefunden.",
        ),
        (
            409,
            error_body("ConflictException", "conflict"),
            ErrorKind::Conflict,
            "Terminbuchungssystem: Der gewünschte Termin ist leider nicht mehr frei. Bitte wählen Sie einen anderen Termin.",
        ),
        (
            498,
            error_body("TokenExpiredException", "ACCESS_TOKEN_IS_EXPIRED"),
            ErrorKind::TokenExpired,
            "Terminbuchungssystem: Authentifizierungsfehler. Bitte kontaktieren Sie den Support.",
        ),
        (
            500,
            error_body("InternalServerErrorException", "boom"),
            ErrorKind::Server,
            "Terminbuchungssystem ist momentan nicht verfügbar. Bitte versuchen Sie es später erneut.",
        ),
        (
            418,
            json!({"unexpected": true}),
            ErrorKind::UnexpectedStatus,
            "Terminbuchungssystem: Unerwarteter Fehler. Bitte versuchen Sie es später erneut.",
        ),
    ];
    for (status, body, kind, sentence) in cases {
        let err = me_error(
            ResponseTemplate::new(status)
                .insert_header("x-request-id", format!("req-{status}").as_str())
                .set_body_json(body),
        )
        .await;
        assert_eq!(err.kind(), &kind, "status {status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.request_id(), Some(format!("req-{status}").as_str()));
        assert_eq!(err.user_message(Lang::De), sentence, "status {status}");
        assert!(!err.is_client_side());
        if status != 418 {
            assert!(err.code().unwrap().ends_with("Exception"));
        }
    }
}

#[tokio::test]
async fn rate_limited_carries_retry_after() {
    let err = me_error(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "42")
            .set_body_json(error_body("ThrottlerException", "Too Many Requests")),
    )
    .await;
    assert_eq!(
        err.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(42))
        }
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(42)));
    assert_eq!(
        err.user_message(Lang::De),
        "Terminbuchungssystem: Zu viele Anfragen. Bitte versuchen Sie es in wenigen Minuten erneut."
    );
}

#[tokio::test]
async fn validation_and_slot_taken_on_create() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "error",
            "error": {
                "code": "BadRequestException",
                "message": "Bad Request",
                "details": {"message": ["attendee.timeZone must be a valid IANA time zone"], "error": "Bad Request", "statusCode": 400}
            }
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bookings"))
        .respond_with(ResponseTemplate::new(400).set_body_json(error_body(
            "BadRequestException",
            "no_available_users_found_error",
        )))
        .mount(&server)
        .await;
    let client = client_for(&server, &FakeClock::new(), RetryConfig::none());
    let request = CreateBookingRequest::new(
        42,
        "2026-12-01T09:00:00Z".parse().unwrap(),
        Attendee::new("Max", "Mars/Olympus"),
    );
    let err = client.create_booking(&request).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Validation);
    assert_eq!(err.field_errors()[0].field, "attendee.timeZone");
    assert!(err.user_message(Lang::De).contains("Eingaben"));

    let err = client.create_booking(&request).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::SlotTaken);
    assert!(err.user_message(Lang::De).contains("nicht mehr frei"));
    // Neither was retried.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn timeout_kind() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/slots"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(success(json!({})))
                .set_delay(SLOW),
        )
        .mount(&server)
        .await;
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .timeouts(short_timeouts())
        .retry(exact_retries(3))
        .clock(FakeClock::new())
        .build()
        .unwrap();
    let query = SlotsQuery::new(
        42,
        "2026-12-01T00:00:00Z".parse().unwrap(),
        "2026-12-02T00:00:00Z".parse().unwrap(),
    );
    let err = client.slots(&query).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Timeout);
    assert!(err.status().is_none());
    assert!(err.user_message(Lang::De).contains("nicht rechtzeitig"));
    // A timed-out slots query is not repeated (the caller is waiting).
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn network_kind_for_a_closed_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let clock = FakeClock::new();
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(format!("http://{addr}"))
        .retry(exact_retries(2))
        .clock(clock.clone())
        .build()
        .unwrap();
    let err = client.me().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Network);
    assert!(err.is_connect_failure());
    assert_eq!(
        err.user_message(Lang::De),
        "Terminbuchungssystem ist nicht erreichbar. Bitte versuchen Sie es später erneut."
    );
    // Connection errors are retried with back-off: 100 ms, 200 ms.
    assert_eq!(
        clock.sleeps(),
        [Duration::from_millis(100), Duration::from_millis(200)]
    );
    // The error text carries no URL query or secret.
    let text = format!("{err} {err:?}");
    assert!(!text.contains(API_KEY), "{text}");
}

#[tokio::test]
async fn decode_kind_for_a_malformed_success() {
    let err = me_error(
        ResponseTemplate::new(200)
            .insert_header("x-request-id", "req-d")
            .set_body_json(json!({"status": "success", "data": {"id": "not a number"}})),
    )
    .await;
    assert_eq!(err.kind(), &ErrorKind::Decode);
    assert_eq!(err.request_id(), Some("req-d"));
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn invalid_request_is_rejected_before_sending() {
    let server = MockServer::start().await;
    let client = client_for(&server, &FakeClock::new(), RetryConfig::none());
    let request = CreateBookingRequest::new(
        42,
        "2026-12-01T09:00:00Z".parse().unwrap(),
        Attendee::new("Max", "Europe/Berlin"),
    )
    .metadata("k".repeat(41), "v");
    let err = client.create_booking(&request).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert!(err.is_client_side());
    assert_eq!(err.field_errors()[0].field, "metadata");
    assert!(err.to_string().contains("metadata"));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn client_side_quota_rejects_without_a_request_then_refills() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .mount(&server)
        .await;
    let clock = FakeClock::new();
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .clock(clock.clone())
        .quota(Quota::per_minute(3))
        .build()
        .unwrap();
    for _ in 0..3 {
        client.me().await.unwrap();
    }
    let err = client.me().await.unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(20))
        }
    );
    assert!(err.is_client_side());
    assert!(err.status().is_none());
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    // Another tenant's client shares the pool, not the quota.
    let other = client
        .with_credentials(Credentials::api_key("cal_other"))
        .unwrap();
    other.me().await.unwrap();

    clock.advance(Duration::from_secs(20));
    client.me().await.unwrap();
    assert!(client.me().await.is_err());
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quota_is_shared_by_concurrent_clones() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(me())))
        .mount(&server)
        .await;
    let client = CalcomClient::builder(Credentials::api_key(API_KEY))
        .base_url(server.uri())
        .clock(FakeClock::new())
        .quota(Quota::per_minute(10))
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.me().await.is_ok() })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 10);
    assert_eq!(server.received_requests().await.unwrap().len(), 10);
}
