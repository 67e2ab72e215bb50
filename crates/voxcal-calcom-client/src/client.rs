//! [`CalcomClient`]: the endpoints, the retry loop and the no-double-booking path.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;
use voxcal_core::{Clock, SystemClock};

use crate::auth::Credentials;
use crate::decode;
use crate::error::{CalcomError, ErrorKind};
use crate::models::{
    Booking, BookingStatus, BookingsPage, BookingsQuery, CancelBookingRequest,
    CreateBookingRequest, EventType, EventTypeTarget, EventTypesQuery, Me,
    RescheduleBookingRequest, ReserveSlotRequest, SlotReservation, Slots, SlotsQuery, SortOrder,
};
use crate::quota::{Quota, QuotaState};
use crate::retry::{self, Jitter, RetryConfig};

/// `cal-api-version` of the slots endpoints.
pub const SLOTS_API_VERSION: &str = "2024-09-04";
/// `cal-api-version` of the bookings endpoints.
pub const BOOKINGS_API_VERSION: &str = "2024-08-13";
/// `cal-api-version` of the event-type endpoints.
pub const EVENT_TYPES_API_VERSION: &str = "2024-06-14";
/// Cal.com's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.cal.com";

/// Timeouts per operation class. Each bounds one attempt from sending to the last
/// body byte; `connect` bounds establishing a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutConfig {
    /// Establishing a TCP + TLS connection.
    pub connect: Duration,
    /// `GET /v2/slots` (the agent is waiting mid-sentence).
    pub slots: Duration,
    /// Other reads.
    pub reads: Duration,
    /// Creating, cancelling, rescheduling, reserving.
    pub writes: Duration,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            slots: Duration::from_secs(2),
            reads: Duration::from_secs(5),
            writes: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpClass {
    Slots,
    Read,
    Write,
}

/// Which failures a call may be repeated after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Connection errors, 5xx and 429.
    Idempotent,
    /// Connection errors only (nothing reached Cal.com).
    ConnectOnly,
}

struct Call {
    name: &'static str,
    method: Method,
    path: Vec<String>,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    version: Option<&'static str>,
    class: OpClass,
    repeat: Repeat,
}

struct Success {
    status: StatusCode,
    request_id: Option<String>,
    body: Vec<u8>,
}

/// Builder of [`CalcomClient`].
pub struct CalcomClientBuilder {
    credentials: Credentials,
    base_url: String,
    timeouts: TimeoutConfig,
    retry: RetryConfig,
    quota: Option<Quota>,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    #[cfg(feature = "breaker")]
    breaker: crate::breaker::BreakerChoice,
}

impl fmt::Debug for CalcomClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalcomClientBuilder")
            .field("credentials", &self.credentials)
            .field("base_url", &self.base_url)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

impl CalcomClientBuilder {
    /// Talks to `base_url` instead of [`DEFAULT_BASE_URL`] (a self-hosted Cal.com, a
    /// test server). A path prefix is kept.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the timeouts.
    pub fn timeouts(mut self, timeouts: TimeoutConfig) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Enables the client-side quota (off by default; Cal.com allows 120/min per key).
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// Injects the clock (default [`SystemClock`]; tests use
    /// [`FakeClock`](crate::FakeClock)). An `Arc<dyn Clock>` shared with other
    /// components is kept as it is, and (feature `breaker`) the client's own
    /// breakers read the same one.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        let any: &dyn std::any::Any = &clock;
        self.clock = match any.downcast_ref::<Arc<dyn Clock>>() {
            Some(shared) => Arc::clone(shared),
            None => Arc::new(clock),
        };
        self
    }

    /// Uses this `reqwest` client (and its connection pool). Its own connect timeout
    /// applies instead of [`TimeoutConfig::connect`].
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidRequest`] for a base URL that is not `http(s)://…` or
    /// credentials that cannot be sent as headers; [`ErrorKind::Network`] if the TLS
    /// stack cannot be set up.
    pub fn build(self) -> Result<CalcomClient, CalcomError> {
        let base_url = Url::parse(&self.base_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && !url.cannot_be_a_base())
            .ok_or_else(|| {
                CalcomError::invalid_request("base_url", "base URL must be an http(s) URL")
            })?;
        let auth_headers = self.credentials.headers()?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.timeouts.connect)
                .user_agent(concat!("calcom-client/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(CalcomError::from_reqwest)?,
        };
        #[cfg(feature = "breaker")]
        let breaker = self
            .breaker
            .resolve(&base_url, &self.credentials, &self.clock);
        Ok(CalcomClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                auth_headers,
                quota: self.quota.map(QuotaState::new),
                credentials: self.credentials,
                timeouts: self.timeouts,
                retry: self.retry,
                clock: self.clock,
                jitter: Jitter::new(),
                #[cfg(feature = "breaker")]
                breaker,
            }),
        })
    }

    /// Sends every attempt through `breaker` (feature `breaker`). Share one breaker
    /// between clients to trip them together.
    #[cfg(feature = "breaker")]
    pub fn circuit_breaker(mut self, breaker: voxcal_circuit_breaker::CircuitBreaker) -> Self {
        self.breaker = crate::breaker::BreakerChoice::Shared(breaker);
        self
    }

    /// Configures the client's own breaker (feature `breaker`; by default one per
    /// base URL + credentials with [`voxcal_circuit_breaker::BreakerConfig::default`]).
    #[cfg(feature = "breaker")]
    pub fn breaker_config(mut self, config: voxcal_circuit_breaker::BreakerConfig) -> Self {
        self.breaker = crate::breaker::BreakerChoice::PerClientWith(config);
        self
    }

    /// Turns the circuit breaker off (feature `breaker`).
    #[cfg(feature = "breaker")]
    pub fn without_circuit_breaker(mut self) -> Self {
        self.breaker = crate::breaker::BreakerChoice::Disabled;
        self
    }
}

/// A Cal.com API v2 client for one tenant's credentials.
///
/// Cheap to clone (an `Arc`). [`with_credentials`](Self::with_credentials) makes a
/// client for another tenant that shares the connection pool and settings.
/// `Debug` never shows the credentials' secrets.
#[derive(Clone)]
pub struct CalcomClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    credentials: Credentials,
    auth_headers: HeaderMap,
    timeouts: TimeoutConfig,
    retry: RetryConfig,
    quota: Option<QuotaState>,
    clock: Arc<dyn Clock>,
    jitter: Jitter,
    #[cfg(feature = "breaker")]
    breaker: Option<Arc<crate::breaker::Breaker>>,
}

impl fmt::Debug for CalcomClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalcomClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("credentials", &self.inner.credentials)
            .field("timeouts", &self.inner.timeouts)
            .field("retry", &self.inner.retry)
            .field("quota", &self.inner.quota.is_some())
            .finish_non_exhaustive()
    }
}

impl CalcomClient {
    /// Starts building a client for `credentials`.
    pub fn builder(credentials: Credentials) -> CalcomClientBuilder {
        CalcomClientBuilder {
            credentials,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeouts: TimeoutConfig::default(),
            retry: RetryConfig::default(),
            quota: None,
            clock: Arc::new(SystemClock),
            http: None,
            #[cfg(feature = "breaker")]
            breaker: crate::breaker::BreakerChoice::default(),
        }
    }

    /// The error every request would fail with right now, without being sent,
    /// because the client's circuit breaker refuses calls (open with time left
    /// before its probes, or forced open): a caller can skip work that would
    /// only end in that call (a cache lock, a wait for another replica).
    /// `None` while calls go through, and always without the `breaker`
    /// feature or with the breaker turned off.
    ///
    /// ```
    /// # use voxcal_calcom_client::{CalcomClient, Credentials};
    /// let client = CalcomClient::builder(Credentials::api_key("cal_live_example"))
    ///     .build()
    ///     .unwrap();
    /// assert!(client.refusal().is_none()); // a new breaker is closed
    /// ```
    pub fn refusal(&self) -> Option<CalcomError> {
        #[cfg(feature = "breaker")]
        if let Some(breaker) = &self.inner.breaker {
            return breaker.refusal();
        }
        None
    }

    /// A client for another tenant's credentials: same connection pool, base URL,
    /// timeouts, retry policy and clock; its own quota (and breaker).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidRequest`] if the credentials cannot be sent as headers.
    pub fn with_credentials(&self, credentials: Credentials) -> Result<Self, CalcomError> {
        let inner = &self.inner;
        let quota = inner
            .quota
            .as_ref()
            .map(|state| QuotaState::new(state.quota()));
        Ok(Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                base_url: inner.base_url.clone(),
                auth_headers: credentials.headers()?,
                #[cfg(feature = "breaker")]
                breaker: inner
                    .breaker
                    .as_ref()
                    .map(|b| b.for_credentials(&inner.base_url, &credentials, &inner.clock)),
                credentials,
                timeouts: inner.timeouts,
                retry: inner.retry.clone(),
                quota,
                clock: Arc::clone(&inner.clock),
                jitter: Jitter::new(),
            }),
        })
    }

    /// The credentials' non-secret label (see [`Credentials::label`]).
    pub fn credentials_label(&self) -> String {
        self.inner.credentials.label()
    }

    /// Free slots (`GET /v2/slots`).
    ///
    /// # Errors
    /// Any [`CalcomError`]; retried on 5xx, 429 and connection errors.
    pub async fn slots(&self, query: &SlotsQuery) -> Result<Slots, CalcomError> {
        let call = Call {
            name: "slots.get",
            method: Method::GET,
            path: segments(&["v2", "slots"]),
            query: query.to_pairs(),
            body: None,
            version: Some(SLOTS_API_VERSION),
            class: OpClass::Slots,
            repeat: Repeat::Idempotent,
        };
        let success = self.send(&call).await?;
        // The spec's schema leaves out the {status, data} envelope the API sends:
        // `decode::slots` accepts both.
        decode::slots(&success.body).map_err(|err| decode_error(err, &success))
    }

    /// Holds a slot while the caller confirms (`POST /v2/slots/reservations`).
    ///
    /// # Errors
    /// Any [`CalcomError`]; only connection errors are retried.
    pub async fn reserve_slot(
        &self,
        request: &ReserveSlotRequest,
    ) -> Result<SlotReservation, CalcomError> {
        let call = Call {
            name: "slots.reserve",
            method: Method::POST,
            path: segments(&["v2", "slots", "reservations"]),
            query: Vec::new(),
            body: Some(to_body(request)?),
            version: Some(SLOTS_API_VERSION),
            class: OpClass::Write,
            repeat: Repeat::ConnectOnly,
        };
        self.fetch(&call).await
    }

    /// Releases a held slot (`DELETE /v2/slots/reservations/{uid}`).
    ///
    /// # Errors
    /// Any [`CalcomError`]; retried like a read.
    pub async fn release_slot(&self, reservation_uid: &str) -> Result<(), CalcomError> {
        let call = Call {
            name: "slots.release",
            method: Method::DELETE,
            path: segments(&["v2", "slots", "reservations", reservation_uid]),
            query: Vec::new(),
            body: None,
            version: Some(SLOTS_API_VERSION),
            class: OpClass::Write,
            repeat: Repeat::Idempotent,
        };
        self.send(&call).await.map(drop)
    }

    /// Creates a booking (`POST /v2/bookings`), without ever booking twice.
    ///
    /// The request is checked first ([`CreateBookingRequest::validate`]). A connection
    /// error is retried at once (nothing reached Cal.com). After an ambiguous failure
    /// (timeout, 5xx, a connection lost mid-request) the client lists the attendee's
    /// bookings around `start`: if the booking exists it is returned, otherwise the
    /// creation is tried again, up to [`RetryConfig::max_retries`] times. If that check
    /// itself fails, the original error is returned and nothing is retried.
    ///
    /// # Errors
    /// Any [`CalcomError`]; [`ErrorKind::SlotTaken`] when the slot is gone.
    pub async fn create_booking(
        &self,
        request: &CreateBookingRequest,
    ) -> Result<Booking, CalcomError> {
        request.validate()?;
        let call = Call {
            name: "bookings.create",
            method: Method::POST,
            path: segments(&["v2", "bookings"]),
            query: Vec::new(),
            body: Some(to_body(request)?),
            version: Some(BOOKINGS_API_VERSION),
            class: OpClass::Write,
            repeat: Repeat::ConnectOnly,
        };
        let mut retries = 0;
        let mut uncertain = false;
        loop {
            let err = match self.send(&call).await {
                Ok(success) => {
                    return decode_booking(&success);
                }
                Err(err) => err,
            };
            let ambiguous = err.is_ambiguous_outcome();
            // A retry that finds the slot taken may have lost against our own first try.
            let maybe_ours = uncertain && matches!(err.kind(), ErrorKind::SlotTaken);
            if !ambiguous && !maybe_ours {
                return Err(err);
            }
            match self.find_created(request).await {
                Ok(Some(booking)) => {
                    tracing::info!(
                        op = call.name,
                        booking_uid = %booking.uid,
                        "booking existed after an ambiguous failure; not creating it again"
                    );
                    return Ok(booking);
                }
                Ok(None) if ambiguous && retries < self.inner.retry.max_retries => {
                    tracing::warn!(
                        op = call.name,
                        kind = %err.kind(),
                        retry = retries + 1,
                        "booking not found after an ambiguous failure; trying again"
                    );
                    if let Some(refused) = self.back_off(self.backoff(retries)).await {
                        return Err(refused);
                    }
                    retries += 1;
                    uncertain = true;
                }
                Ok(None) => return Err(err),
                Err(check) => {
                    tracing::warn!(
                        op = call.name,
                        kind = %err.kind(),
                        check_kind = %check.kind(),
                        "could not check for the booking after an ambiguous failure; not retrying"
                    );
                    return Err(err);
                }
            }
        }
    }

    /// Looks for a booking `request` may already have created.
    async fn find_created(
        &self,
        request: &CreateBookingRequest,
    ) -> Result<Option<Booking>, CalcomError> {
        let mut query = BookingsQuery::new()
            .between(
                request.start - chrono::Duration::minutes(1),
                request.start + chrono::Duration::days(1),
            )
            .take(50);
        query.sort_start = Some(SortOrder::Asc);
        match &request.attendee.email {
            Some(email) => query.attendee_email = Some(email.clone()),
            None => query.attendee_name = Some(request.attendee.name.clone()),
        }
        if let EventTypeTarget::Id(id) = request.event_type {
            query.event_type_ids = vec![id];
        }
        let page = self.list_bookings(&query).await?;
        Ok(page.bookings.into_iter().find(|booking| {
            // Cal.com keeps milliseconds; compare at that precision.
            booking.start.timestamp_millis() == request.start.timestamp_millis()
                && !matches!(
                    booking.status,
                    BookingStatus::Cancelled | BookingStatus::Rejected
                )
                && match request.event_type {
                    EventTypeTarget::Id(id) => booking
                        .event_type_id
                        .or(booking.event_type.as_ref().map(|e| e.id))
                        .is_none_or(|found| found == id),
                    _ => true,
                }
                && booking
                    .attendees
                    .iter()
                    .any(|attendee| match &request.attendee.email {
                        Some(email) => attendee.email.eq_ignore_ascii_case(email),
                        None => attendee.name == request.attendee.name,
                    })
        }))
    }

    /// One booking by uid (`GET /v2/bookings/{uid}`). For a recurring booking, its
    /// first occurrence.
    ///
    /// # Errors
    /// Any [`CalcomError`]; [`ErrorKind::NotFound`] for an unknown uid.
    pub async fn booking(&self, uid: &str) -> Result<Booking, CalcomError> {
        let call = Call {
            name: "bookings.get",
            method: Method::GET,
            path: segments(&["v2", "bookings", uid]),
            query: Vec::new(),
            body: None,
            version: Some(BOOKINGS_API_VERSION),
            class: OpClass::Read,
            repeat: Repeat::Idempotent,
        };
        let success = self.send(&call).await?;
        decode_booking(&success)
    }

    /// One page of bookings (`GET /v2/bookings`).
    ///
    /// # Errors
    /// Any [`CalcomError`].
    pub async fn list_bookings(&self, query: &BookingsQuery) -> Result<BookingsPage, CalcomError> {
        let call = Call {
            name: "bookings.list",
            method: Method::GET,
            path: segments(&["v2", "bookings"]),
            query: query.to_pairs(),
            body: None,
            version: Some(BOOKINGS_API_VERSION),
            class: OpClass::Read,
            repeat: Repeat::Idempotent,
        };
        let success = self.send(&call).await?;
        decode::bookings_page(&success.body).map_err(|err| decode_error(err, &success))
    }

    /// All bookings matching `query`, page by page (`take`/`skip`).
    pub fn booking_pages(&self, query: BookingsQuery) -> BookingPages {
        let skip = query.skip.unwrap_or(0);
        BookingPages {
            client: self.clone(),
            query,
            skip,
            done: false,
        }
    }

    /// All bookings matching `query` as a stream; stops after the first error.
    pub fn bookings_stream(
        &self,
        query: BookingsQuery,
    ) -> impl Stream<Item = Result<Booking, CalcomError>> + Send + 'static {
        let state = (self.booking_pages(query), VecDeque::<Booking>::new());
        futures_util::stream::unfold(state, |(mut pages, mut buffer)| async move {
            loop {
                if let Some(booking) = buffer.pop_front() {
                    return Some((Ok(booking), (pages, buffer)));
                }
                match pages.next_page().await? {
                    Ok(page) => buffer.extend(page.bookings),
                    Err(err) => return Some((Err(err), (pages, buffer))),
                }
            }
        })
    }

    /// Cancels a booking (`POST /v2/bookings/{uid}/cancel`).
    ///
    /// # Errors
    /// Any [`CalcomError`]; only connection errors are retried.
    pub async fn cancel_booking(
        &self,
        uid: &str,
        request: &CancelBookingRequest,
    ) -> Result<Booking, CalcomError> {
        self.booking_action("bookings.cancel", uid, "cancel", to_body(request)?)
            .await
    }

    /// Moves a booking (`POST /v2/bookings/{uid}/reschedule`). Returns the new booking;
    /// its `uid` differs from the old one.
    ///
    /// # Errors
    /// Any [`CalcomError`]; only connection errors are retried.
    pub async fn reschedule_booking(
        &self,
        uid: &str,
        request: &RescheduleBookingRequest,
    ) -> Result<Booking, CalcomError> {
        self.booking_action("bookings.reschedule", uid, "reschedule", to_body(request)?)
            .await
    }

    /// `POST /v2/bookings/{uid}/{action}` with `body`, answering one booking.
    /// Only connection errors are retried: the action may have happened.
    async fn booking_action(
        &self,
        name: &'static str,
        uid: &str,
        action: &str,
        body: Vec<u8>,
    ) -> Result<Booking, CalcomError> {
        let call = Call {
            name,
            method: Method::POST,
            path: segments(&["v2", "bookings", uid, action]),
            query: Vec::new(),
            body: Some(body),
            version: Some(BOOKINGS_API_VERSION),
            class: OpClass::Write,
            repeat: Repeat::ConnectOnly,
        };
        let success = self.send(&call).await?;
        decode_booking(&success)
    }

    /// Event types (`GET /v2/event-types`).
    ///
    /// # Errors
    /// Any [`CalcomError`].
    pub async fn event_types(
        &self,
        query: &EventTypesQuery,
    ) -> Result<Vec<EventType>, CalcomError> {
        let call = Call {
            name: "event_types.list",
            method: Method::GET,
            path: segments(&["v2", "event-types"]),
            query: query.to_pairs(),
            body: None,
            version: Some(EVENT_TYPES_API_VERSION),
            class: OpClass::Read,
            repeat: Repeat::Idempotent,
        };
        self.fetch(&call).await
    }

    /// One event type (`GET /v2/event-types/{id}`).
    ///
    /// # Errors
    /// Any [`CalcomError`]; [`ErrorKind::NotFound`] for an unknown id.
    pub async fn event_type(&self, id: u64) -> Result<EventType, CalcomError> {
        let id = id.to_string();
        let call = Call {
            name: "event_types.get",
            method: Method::GET,
            path: segments(&["v2", "event-types", &id]),
            query: Vec::new(),
            body: None,
            version: Some(EVENT_TYPES_API_VERSION),
            class: OpClass::Read,
            repeat: Repeat::Idempotent,
        };
        self.fetch(&call).await
    }

    /// The authenticated user (`GET /v2/me`): a connection and credentials test.
    ///
    /// # Errors
    /// Any [`CalcomError`]; [`ErrorKind::Unauthorized`] for bad credentials.
    pub async fn me(&self) -> Result<Me, CalcomError> {
        let call = Call {
            name: "me.get",
            method: Method::GET,
            path: segments(&["v2", "me"]),
            query: Vec::new(),
            body: None,
            version: None,
            class: OpClass::Read,
            repeat: Repeat::Idempotent,
        };
        self.fetch(&call).await
    }

    async fn fetch<T: DeserializeOwned>(&self, call: &Call) -> Result<T, CalcomError> {
        let success = self.send(call).await?;
        decode_data(&success)
    }

    /// Whether the breaker still refuses calls once `delay` has passed: open
    /// with more than `delay` left before its probes, or forced open.
    #[cfg(feature = "breaker")]
    fn refused_after(&self, delay: Duration) -> Option<CalcomError> {
        self.refusal()
            .filter(|refused| refused.retry_after().is_none_or(|left| left > delay))
    }

    fn backoff(&self, retry: u32) -> Duration {
        let delay = self.inner.retry.backoff(retry);
        if self.inner.retry.jitter {
            self.inner.jitter.apply(delay)
        } else {
            delay
        }
    }

    /// Sends `call`, retrying as its [`Repeat`] and the policy allow.
    async fn send(&self, call: &Call) -> Result<Success, CalcomError> {
        let policy = &self.inner.retry;
        let mut retries = 0;
        loop {
            let err = match self.attempt_guarded(call).await {
                Ok(success) => return Ok(success),
                Err(err) => err,
            };
            if retries >= policy.max_retries || !may_repeat(call.repeat, &err) {
                return Err(err);
            }
            let delay = match err.kind() {
                ErrorKind::RateLimited {
                    retry_after: Some(wait),
                } => {
                    if *wait > policy.max_retry_after {
                        return Err(err);
                    }
                    *wait
                }
                _ => self.backoff(retries),
            };
            tracing::debug!(
                op = call.name,
                retry = retries + 1,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                kind = %err.kind(),
                status = err.status().map(|s| s.as_u16()),
                request_id = err.request_id(),
                "retrying Cal.com request"
            );
            if let Some(refused) = self.back_off(delay).await {
                tracing::debug!(
                    op = call.name,
                    kind = %err.kind(),
                    "retry dropped: the circuit is open"
                );
                return Err(refused);
            }
            retries += 1;
        }
    }

    /// Sleeps `delay` before a retry, unless the breaker opens meanwhile
    /// (this client's failures, another task's, or another replica's) and
    /// would still refuse the retry when the wait is over: then that
    /// refusal is returned at once, rather than after the wait.
    async fn back_off(&self, delay: Duration) -> Option<CalcomError> {
        #[cfg(feature = "breaker")]
        if let Some(breaker) = &self.inner.breaker {
            use futures_util::future::{select, Either};
            // Open already (the failure just counted may have opened it):
            // no wait at all.
            if let Some(refused) = self.refused_after(delay) {
                return Some(refused);
            }
            let sleep = self.inner.clock.sleep(delay);
            return match select(breaker.opened(), sleep).await {
                Either::Right(((), _)) => None,
                Either::Left(((), sleep)) => match self.refused_after(delay) {
                    Some(refused) => Some(refused),
                    // Open, but its probes are due by then: the retry is one.
                    None => {
                        sleep.await;
                        None
                    }
                },
            };
        }
        self.inner.clock.sleep(delay).await;
        None
    }

    /// One attempt, behind the quota and (feature `breaker`) the circuit breaker.
    async fn attempt_guarded(&self, call: &Call) -> Result<Success, CalcomError> {
        if let Some(quota) = &self.inner.quota {
            quota
                .try_acquire(self.inner.clock.now())
                .map_err(CalcomError::quota_exhausted)?;
        }
        #[cfg(feature = "breaker")]
        if let Some(breaker) = &self.inner.breaker {
            return breaker.run(self.attempt(call)).await;
        }
        self.attempt(call).await
    }

    async fn attempt(&self, call: &Call) -> Result<Success, CalcomError> {
        let inner = &self.inner;
        let mut url = inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| CalcomError::invalid_request("base_url", "base URL cannot take a path"))?
            .pop_if_empty()
            .extend(&call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        let timeout = match call.class {
            OpClass::Slots => inner.timeouts.slots,
            OpClass::Read => inner.timeouts.reads,
            OpClass::Write => inner.timeouts.writes,
        };
        let mut request = inner
            .http
            .request(call.method.clone(), url)
            .headers(inner.auth_headers.clone())
            .timeout(timeout);
        if let Some(version) = call.version {
            request = request.header("cal-api-version", HeaderValue::from_static(version));
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let started = inner.clock.now();
        let response = request.send().await.map_err(CalcomError::from_reqwest)?;
        let status = response.status();
        let headers = response.headers().clone();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|err| CalcomError::from_reqwest(err).with_request_id(request_id.clone()))?
            .to_vec();
        tracing::debug!(
            op = call.name,
            status = status.as_u16(),
            request_id = request_id.as_deref(),
            elapsed_ms = u64::try_from(
                inner
                    .clock
                    .now()
                    .saturating_duration_since(started)
                    .as_millis()
            )
            .unwrap_or(u64::MAX),
            "Cal.com response"
        );
        if status.is_success() {
            Ok(Success {
                status,
                request_id,
                body,
            })
        } else {
            let wait = retry::retry_after(&headers, inner.clock.now_utc());
            Err(CalcomError::from_response(status, request_id, wait, &body))
        }
    }
}

/// Pages of `GET /v2/bookings`, from [`CalcomClient::booking_pages`].
#[derive(Debug)]
pub struct BookingPages {
    client: CalcomClient,
    query: BookingsQuery,
    skip: u32,
    done: bool,
}

impl BookingPages {
    /// The next page, `None` after the last one (or after an error).
    pub async fn next_page(&mut self) -> Option<Result<BookingsPage, CalcomError>> {
        if self.done {
            return None;
        }
        let mut query = self.query.clone();
        query.skip = Some(self.skip);
        match self.client.list_bookings(&query).await {
            Ok(page) => {
                let returned = u32::try_from(page.bookings.len()).unwrap_or(u32::MAX);
                self.skip = self.skip.saturating_add(returned);
                self.done = !page.pagination.has_next_page || returned == 0;
                Some(Ok(page))
            }
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }
}

fn may_repeat(repeat: Repeat, err: &CalcomError) -> bool {
    if err.is_client_side() {
        return false;
    }
    if err.is_connect_failure() {
        return true;
    }
    repeat == Repeat::Idempotent
        && matches!(
            err.kind(),
            ErrorKind::Server | ErrorKind::RateLimited { .. } | ErrorKind::Network
        )
}

fn segments(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|part| (*part).to_owned()).collect()
}

fn to_body(value: &impl serde::Serialize) -> Result<Vec<u8>, CalcomError> {
    serde_json::to_vec(value)
        .map_err(|err| CalcomError::invalid_request("body", format!("cannot serialize: {err}")))
}

fn decode_data<T: DeserializeOwned>(success: &Success) -> Result<T, CalcomError> {
    decode::data(&success.body).map_err(|err| decode_error(err, success))
}

/// The booking of a single-booking response; an empty recurring list is a
/// decode error.
fn decode_booking(success: &Success) -> Result<Booking, CalcomError> {
    decode::booking(&success.body)
        .map_err(|err| decode_error(err, success))?
        .ok_or_else(|| decode_error("empty booking list", success))
}

fn decode_error(
    err: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    success: &Success,
) -> CalcomError {
    CalcomError::decode(err, success.status).with_request_id(success.request_id.clone())
}
