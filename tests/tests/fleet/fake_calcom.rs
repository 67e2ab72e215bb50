//! A fake Cal.com (API v2) on loopback with a fault switch: normal, every
//! request answered 500, or every request answered after a delay. It keeps a
//! real calendar (free slots Mon–Fri 09:00–17:00 Berlin in 30-minute steps,
//! minus its bookings), refuses a slot that is already booked the way
//! Cal.com does, and records every request and booking for the assertions.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Berlin;
use parking_lot::Mutex;
use serde_json::{json, Value};

/// How the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Normal = 0,
    Error500 = 1,
    Slow = 2,
}

impl Mode {
    fn from_u8(v: u8) -> Mode {
        match v {
            1 => Mode::Error500,
            2 => Mode::Slow,
            _ => Mode::Normal,
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) at: Instant,
    pub(crate) mode: Mode,
    pub(crate) what: &'static str,
}

/// One booking in the fake calendar.
#[derive(Debug, Clone)]
pub(crate) struct FakeBooking {
    pub(crate) uid: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) email: String,
    pub(crate) call_id: String,
    pub(crate) created_in: Mode,
}

#[derive(Debug)]
pub(crate) struct Inner {
    mode: AtomicU8,
    delay: Duration,
    next_id: AtomicU64,
    received: Mutex<Vec<Received>>,
    bookings: Mutex<Vec<FakeBooking>>,
    /// Refused creations because the slot was taken.
    pub(crate) slot_taken: AtomicU64,
}

/// The running fake; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct FakeCalcom {
    pub(crate) addr: SocketAddr,
    inner: Arc<Inner>,
}

impl FakeCalcom {
    pub(crate) async fn start(delay: Duration) -> FakeCalcom {
        let inner = Arc::new(Inner {
            mode: AtomicU8::new(Mode::Normal as u8),
            delay,
            next_id: AtomicU64::new(1),
            received: Mutex::new(Vec::new()),
            bookings: Mutex::new(Vec::new()),
            slot_taken: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/v2/slots", get(slots))
            .route("/v2/bookings", post(create).get(list))
            .route("/v2/bookings/{uid}/cancel", post(cancel))
            .fallback(|| async {
                (
                    StatusCode::NOT_FOUND,
                    Json(error_body("NOT_FOUND", "no route")),
                )
            })
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeCalcom { addr, inner }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        self.inner.mode.store(mode as u8, Ordering::SeqCst);
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.inner.received.lock().clone()
    }

    /// Books `start` the way a visitor of the website would: straight in
    /// the calendar, without any replica hearing of it. `None` when the
    /// slot is taken already; otherwise the booking's uid.
    pub(crate) fn book_outside(&self, start: DateTime<Utc>, call_id: &str) -> Option<String> {
        let mut bookings = self.inner.bookings.lock();
        if bookings.iter().any(|b| b.start == start) {
            return None;
        }
        let n = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let uid = format!("web-{n}");
        bookings.push(FakeBooking {
            uid: uid.clone(),
            start,
            email: "besucher@website.example".to_owned(),
            call_id: call_id.to_owned(),
            created_in: Mode::Normal,
        });
        Some(uid)
    }

    pub(crate) fn bookings(&self) -> Vec<FakeBooking> {
        self.inner.bookings.lock().clone()
    }

    pub(crate) fn slot_taken(&self) -> u64 {
        self.inner.slot_taken.load(Ordering::Relaxed)
    }
}

fn error_body(code: &str, message: &str) -> Value {
    json!({"status": "error", "timestamp": Utc::now().to_rfc3339(),
           "error": {"code": code, "message": message}})
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Records the request and applies the fault: `Err` is the answer to give
/// instead of the normal one.
async fn enter(inner: &Inner, what: &'static str) -> Result<Mode, Response> {
    let mode = Mode::from_u8(inner.mode.load(Ordering::SeqCst));
    inner.received.lock().push(Received {
        at: Instant::now(),
        mode,
        what,
    });
    match mode {
        Mode::Error500 => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(error_body(
                "INTERNAL_SERVER_ERROR",
                "fleet test: injected failure",
            )),
        )
            .into_response()),
        Mode::Slow => {
            tokio::time::sleep(inner.delay).await;
            Ok(mode)
        }
        Mode::Normal => Ok(mode),
    }
}

fn open_slot(start: DateTime<Utc>) -> bool {
    let local = Berlin.from_utc_datetime(&start.naive_utc());
    let weekday = local.weekday().num_days_from_monday();
    let minutes = local.hour() * 60 + local.minute();
    weekday < 5 && (9 * 60..=16 * 60 + 30).contains(&minutes) && local.minute().is_multiple_of(30)
}

fn parse_instant(text: Option<&String>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?).ok().map(|t| t.to_utc())
}

async fn slots(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Err(answer) = enter(&inner, "slots").await {
        return answer;
    }
    let (Some(from), Some(to)) = (parse_instant(q.get("start")), parse_instant(q.get("end")))
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(error_body("BAD_REQUEST", "start and end are required")),
        )
            .into_response();
    };
    let booked: std::collections::HashSet<DateTime<Utc>> =
        inner.bookings.lock().iter().map(|b| b.start).collect();
    // First half-hour boundary at or after `from`.
    let midnight = from.date_naive().and_time(NaiveTime::MIN).and_utc();
    let mut t = midnight;
    while t < from {
        t += ChronoDuration::minutes(30);
    }
    let mut days = serde_json::Map::new();
    let mut count = 0;
    while t < to && count < 5000 {
        if open_slot(t) && !booked.contains(&t) {
            let day = Berlin
                .from_utc_datetime(&t.naive_utc())
                .format("%Y-%m-%d")
                .to_string();
            let entry = days.entry(day).or_insert_with(|| json!([]));
            if let Value::Array(list) = entry {
                list.push(
                    json!({"start": stamp(t), "end": stamp(t + ChronoDuration::minutes(30))}),
                );
            }
        }
        t += ChronoDuration::minutes(30);
        count += 1;
    }
    Json(json!({"status": "success", "data": days})).into_response()
}

fn booking_json(b: &FakeBooking, name: &str, status: &str) -> Value {
    json!({
        "id": b.uid.trim_start_matches("fleet-").parse::<u64>().unwrap_or(0),
        "uid": b.uid,
        "title": "Beratung",
        "status": status,
        "start": stamp(b.start),
        "end": stamp(b.start + ChronoDuration::minutes(30)),
        "duration": 30,
        "eventTypeId": 42,
        "attendees": [{"name": name, "email": b.email, "timeZone": "Europe/Berlin"}],
        "metadata": {"call_id": b.call_id},
        "createdAt": stamp(Utc::now()),
    })
}

async fn create(State(inner): State<Arc<Inner>>, body: axum::body::Bytes) -> Response {
    let mode = match enter(&inner, "bookings.create").await {
        Ok(mode) => mode,
        Err(answer) => return answer,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(error_body("BAD_REQUEST", "body is not JSON")),
        )
            .into_response();
    };
    let start = parse_instant(body["start"].as_str().map(str::to_owned).as_ref());
    let email = body["attendee"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = body["attendee"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let call_id = body["metadata"]["call_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Some(start) = start.filter(|s| open_slot(*s)) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(error_body("BAD_REQUEST", "start is not a bookable slot")),
        )
            .into_response();
    };
    let mut bookings = inner.bookings.lock();
    if bookings.iter().any(|b| b.start == start) {
        inner.slot_taken.fetch_add(1, Ordering::Relaxed);
        return (
            StatusCode::BAD_REQUEST,
            Json(error_body(
                "BAD_REQUEST",
                "User either already has booking at this time or is not available",
            )),
        )
            .into_response();
    }
    let n = inner.next_id.fetch_add(1, Ordering::Relaxed);
    let booking = FakeBooking {
        uid: format!("fleet-{n}"),
        start,
        email,
        call_id,
        created_in: mode,
    };
    let answer = booking_json(&booking, &name, "accepted");
    bookings.push(booking);
    (
        StatusCode::CREATED,
        Json(json!({"status": "success", "data": answer})),
    )
        .into_response()
}

async fn list(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Err(answer) = enter(&inner, "bookings.list").await {
        return answer;
    }
    let after = parse_instant(q.get("afterStart"));
    let before = parse_instant(q.get("beforeEnd"));
    let email = q.get("attendeeEmail");
    let found: Vec<Value> = inner
        .bookings
        .lock()
        .iter()
        .filter(|b| after.is_none_or(|a| b.start >= a))
        .filter(|b| before.is_none_or(|e| b.start + ChronoDuration::minutes(30) <= e))
        .filter(|b| email.is_none_or(|e| b.email.eq_ignore_ascii_case(e)))
        .map(|b| booking_json(b, "", "accepted"))
        .collect();
    let total = found.len();
    Json(json!({"status": "success", "data": found,
                "pagination": {"totalItems": total, "remainingItems": 0, "hasNextPage": false}}))
    .into_response()
}

async fn cancel(State(inner): State<Arc<Inner>>, Path(uid): Path<String>) -> Response {
    if let Err(answer) = enter(&inner, "bookings.cancel").await {
        return answer;
    }
    // The load generator never cancels; a cancel is a finding.
    (
        StatusCode::NOT_FOUND,
        Json(error_body(
            "NOT_FOUND",
            &format!("booking {uid} not cancellable here"),
        )),
    )
        .into_response()
}
