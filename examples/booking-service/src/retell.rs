//! The nine Retell functions.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde_json::{json, Map, Value};
use voxcal_appointment_finder::{CalendarError, FindRequest, Offer, Outcome, TenantId, Unmet};
use voxcal_calcom_client::{
    Attendee, BookingStatus, CalcomError, CancelBookingRequest, CreateBookingRequest,
    ErrorKind as CalcomErrorKind, EventTypeTarget, RescheduleBookingRequest,
};
use voxcal_call_rate_limiter::{is_placeholder_call_id, strip_version_suffix};
use voxcal_core::{Lang, UserMessage};
use voxcal_request_validation::{
    clean_text_max, parse_date, parse_time, AppointmentRequest, FieldError, Validate,
    ValidationContext, ValidationError, ValidationErrors,
};

use crate::idempotency::{AttemptKey, Claim, IdempotencyError};
use crate::reply::{
    clock_hm, date_de, protocol_error, spoken_de, time_de, weekday_de, Availability, Reply, SlotOut,
};
use crate::state::{AppState, Backend, BookingHandle, BookingRecord, Service, TenantRuntime};

/// The functions, by their Retell name.
pub(crate) const FUNCTIONS: [&str; 9] = [
    "check_availability",
    "collect_appointment",
    "book_appointment",
    "cancel_appointment",
    "reschedule_appointment",
    "get_alternatives",
    "find_next_available",
    "get_opening_hours",
    "list_services",
];

/// Header naming the tenant.
pub(crate) const TENANT_HEADER: &str = "x-tenant-id";

/// `POST /api/retell/{function}`: `function` is `function` (dispatch on the
/// body's `name`) or one of the nine names with dashes.
/// The envelope of a call without a body: `{"call":{"call_id":<header>},
/// "args":{<query but tenant>}}`.
fn bodyless_call(headers: &HeaderMap, query: &HashMap<String, String>) -> Value {
    let call_id = headers
        .get(voxcal_call_rate_limiter::CALL_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let args: Map<String, Value> = query
        .iter()
        .filter(|(k, _)| k.as_str() != "tenant")
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({"call": {"call_id": call_id}, "args": args})
}

pub(crate) async fn handle(
    State(state): State<AppState>,
    Path(function): Path<String>,
    method: Method,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Functions configured as GET or DELETE arrive without a body (the
    // signature covers the empty string): the call id comes from the
    // `X-Retell-Call-Id` header, the arguments from the query.
    let parsed = if body.is_empty() && (method == Method::GET || method == Method::DELETE) {
        Ok(bodyless_call(&headers, &query))
    } else {
        serde_json::from_slice::<Value>(&body)
    };
    let Ok(mut json) = parsed else {
        return protocol_error(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "Die Anfrage war kein gültiges JSON.",
        );
    };
    // The arguments are moved out, not copied.
    let args = json
        .as_object_mut()
        .and_then(|o| o.remove("args"))
        .unwrap_or_else(|| json!({}));
    let Some(call_id) = json
        .get("call")
        .and_then(|c| c.get("call_id"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| !is_placeholder_call_id(id))
    else {
        return protocol_error(
            StatusCode::BAD_REQUEST,
            "missing_call_id",
            "Die Anfrage enthält keine gültige Anruf-ID (call.call_id).",
        );
    };
    let name = if function == "function" {
        json.get("name")
            .and_then(Value::as_str)
            .map(strip_version_suffix)
            .unwrap_or_default()
            .to_owned()
    } else if function.contains('_') {
        String::new()
    } else {
        function.replace('-', "_")
    };
    let Some(name) = FUNCTIONS.iter().copied().find(|f| *f == name) else {
        return protocol_error(
            StatusCode::NOT_FOUND,
            "unknown_function",
            "Diese Funktion gibt es nicht.",
        );
    };
    let tenant_id = headers
        .get(TENANT_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.get("tenant").cloned());
    let tenant = match resolve_tenant(&state, tenant_id.as_deref()) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    // Raw arguments and headers at debug level: the log writer redacts them.
    tracing::debug!(function = name, call_id, args = %args, headers = ?headers, "function call");
    let call = Call {
        now: state.now(),
        state: &state,
        tenant: &tenant,
        call_id,
    };
    let reply = match name {
        "check_availability" => call.check_availability(&args).await,
        "collect_appointment" => call.collect(&args, false).await,
        "book_appointment" => call.collect(&args, true).await,
        "cancel_appointment" => call.cancel(&args).await,
        "reschedule_appointment" => call.reschedule(&args).await,
        "get_alternatives" => call.alternatives(&args).await,
        "find_next_available" => call.next_available(&args).await,
        "get_opening_hours" => call.opening_hours(),
        _ => call.list_services(),
    };
    metrics::counter!(
        "booking_requests_total",
        "function" => name,
        "status" => reply.status
    )
    .increment(1);
    tracing::info!(function = name, tenant = %tenant.tenant.id(), status = reply.status, "function answered");
    reply.into_response()
}

/// Why no tenant could be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TenantError {
    /// The named tenant does not exist (404).
    Unknown,
    /// Several tenants and none named (400).
    Required,
}

impl IntoResponse for TenantError {
    fn into_response(self) -> Response {
        match self {
            TenantError::Unknown => protocol_error(
                StatusCode::NOT_FOUND,
                "unknown_tenant",
                "Dieses Unternehmen ist hier nicht eingerichtet.",
            ),
            TenantError::Required => protocol_error(
                StatusCode::BAD_REQUEST,
                "tenant_required",
                "Bitte geben Sie das Unternehmen an (X-Tenant-Id oder ?tenant=).",
            ),
        }
    }
}

/// The tenant named by header or query, else the only one.
pub(crate) fn resolve_tenant(
    state: &AppState,
    id: Option<&str>,
) -> Result<Arc<TenantRuntime>, TenantError> {
    let tenants = &state.inner.tenants;
    match id {
        Some(id) => tenants.get(id).cloned().ok_or(TenantError::Unknown),
        None if tenants.len() == 1 => tenants
            .values()
            .next()
            .cloned()
            .ok_or(TenantError::Required),
        None => Err(TenantError::Required),
    }
}

/// One function call: the state, the tenant, the call id and "now".
struct Call<'a> {
    state: &'a AppState,
    tenant: &'a TenantRuntime,
    call_id: &'a str,
    now: DateTime<Utc>,
}

fn validation_reply(errors: &ValidationErrors) -> Reply {
    Reply::fail(
        "validation_error",
        errors.user_message(Lang::De),
        json!({"errors": errors.to_json(Lang::De)}),
    )
}

fn single_error(field: &str, error: ValidationError) -> Reply {
    let mut errors = ValidationErrors::new();
    errors.push(FieldError::new(field, error));
    validation_reply(&errors)
}

/// Who books (from `collect_appointment` / `book_appointment`).
struct Customer {
    name: String,
    email: Option<String>,
    phone: Option<String>,
}

/// A Cal.com failure (or its open breaker) as the agent's sentence.
fn calcom_unavailable(err: &CalcomError) -> Reply {
    tracing::warn!(kind = ?err.kind(), "cal.com request failed");
    source_unavailable(err.user_message(Lang::De))
}

fn record_upstream(tenant: &TenantId, operation: &'static str, started: std::time::Instant) {
    metrics::histogram!(
        "upstream_request_seconds",
        "tenant" => tenant.to_string(),
        "source" => "calcom",
        "operation" => operation
    )
    .record(started.elapsed().as_secs_f64());
}

/// [`Call::slot_json`] as a typed value, serialized without a `Value` tree
/// (same bytes).
fn slot_out(offer: &Offer, service: &Service, today: NaiveDate) -> SlotOut {
    SlotOut {
        start: offer.start,
        end: offer.end,
        local_date: offer.local_date,
        local_time: offer.local_time,
        spoken: spoken_de(offer.local_date, offer.local_time, today),
        service: service.name.clone(),
    }
}

fn source_unavailable(message: impl Into<String>) -> Reply {
    Reply::fail("service_unavailable", message, json!({}))
}

impl Call<'_> {
    fn vctx(&self) -> ValidationContext {
        ValidationContext::new(self.now, self.tenant.tenant.hours().zone())
    }

    fn today(&self) -> NaiveDate {
        self.tenant.tenant.hours().local_date(self.now)
    }

    fn slot_json(&self, offer: &Offer, service: &Service) -> Value {
        json!({
            "start": offer.iso_instant(),
            "end": offer.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "date": date_de(offer.local_date),
            "time": clock_hm(offer.local_time),
            "spoken": spoken_de(offer.local_date, offer.local_time, self.today()),
            "service": service.name,
        })
    }

    fn slot_json_at(&self, start: DateTime<Utc>, service: &Service) -> Value {
        let local = self.tenant.tenant.hours().local(start);
        json!({
            "start": start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "end": (start + service.duration).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "date": date_de(local.date()),
            "time": clock_hm(local.time()),
            "spoken": spoken_de(local.date(), local.time(), self.today()),
            "service": service.name,
        })
    }

    fn offers_json(&self, offers: &[Offer], service: &Service) -> Value {
        Value::Array(offers.iter().map(|o| self.slot_json(o, service)).collect())
    }

    fn slots_out(&self, offers: &[Offer], service: &Service) -> Vec<SlotOut> {
        let today = self.today();
        offers.iter().map(|o| slot_out(o, service, today)).collect()
    }

    /// The service named by `dienstleistung` (default: the first one).
    fn service(&self, wanted: Option<&str>) -> Result<usize, Reply> {
        let services = &self.tenant.services;
        let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
            return Ok(0);
        };
        let wanted = wanted.to_lowercase();
        services
            .iter()
            .position(|s| {
                s.event_type.as_str().eq_ignore_ascii_case(&wanted)
                    || s.name.to_lowercase() == wanted
            })
            .or_else(|| {
                services
                    .iter()
                    .position(|s| wanted.contains(&s.name.to_lowercase()))
            })
            .ok_or_else(|| {
                let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
                Reply::fail(
                    "validation_error",
                    format!(
                        "Diese Dienstleistung bieten wir leider nicht an. Wir bieten {} an.",
                        join_de(&names)
                    ),
                    json!({"errors": {"dienstleistung": [{
                        "code": "unknown_service",
                        "params": {"known": names},
                        "message": "Diese Dienstleistung bieten wir leider nicht an.",
                    }]}}),
                )
            })
    }

    /// The local date-time asked for: the time, or the day's first opening.
    fn wished(&self, date: NaiveDate, time: Option<NaiveTime>) -> NaiveDateTime {
        let hours = self.tenant.tenant.hours();
        let time = time.unwrap_or_else(|| {
            hours
                .intervals_on(date)
                .first()
                .map(|iv| iv.start())
                .unwrap_or(NaiveTime::MIN)
        });
        date.and_time(time)
    }

    fn instant(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.tenant
            .tenant
            .hours()
            .zone()
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.to_utc())
    }

    fn past(&self, local: NaiveDateTime) -> Option<Reply> {
        match self.instant(local) {
            Some(at) if at >= self.now => None,
            _ => Some(Reply::fail(
                "past_time",
                "Dieser Zeitpunkt liegt leider in der Vergangenheit. Welcher andere Termin passt Ihnen?",
                json!({"requested": local.format("%d.%m.%Y %H:%M").to_string()}),
            )),
        }
    }

    async fn find(&self, service: &Service, wished: NaiveDateTime, max: usize) -> Outcome {
        let request = FindRequest::new(service.event_type.clone(), wished, service.duration)
            .with_max_alternatives(max);
        self.tenant.finder.find(&self.tenant.tenant, &request).await
    }

    async fn check_availability(&self, args: &Value) -> Reply {
        let request = match AppointmentRequest::parse(args, &self.vctx()) {
            Ok(r) => r,
            Err(errors) => return validation_reply(&errors),
        };
        let index = match self.service(request.service.as_deref()) {
            Ok(i) => i,
            Err(reply) => return reply,
        };
        let service = &self.tenant.services[index];
        let wished = self.wished(request.date, request.time);
        if let Some(reply) = self.past(wished) {
            return reply;
        }
        let outcome = self.find(service, wished, 3).await;
        let message = outcome.speak(Lang::De);
        let unmet = outcome.unmet();
        match &outcome {
            // `available` only for the wished slot itself.
            Outcome::Available { offer, .. } if unmet.is_none() => Reply::ok(
                "available",
                message,
                Availability {
                    alternatives: Vec::new(),
                    available: Some(true),
                    exact: Some(true),
                    slot: Some(Some(slot_out(offer, service, self.today()))),
                    ..Availability::default()
                },
            ),
            // Moved into business hours or near the wish: an alternative.
            Outcome::Available { offer, .. } => Reply::ok(
                "unavailable",
                message,
                Availability {
                    alternatives: vec![slot_out(offer, service, self.today())],
                    available: Some(false),
                    exact: Some(false),
                    reason: unmet.map(Unmet::as_str),
                    slot: Some(None),
                    ..Availability::default()
                },
            ),
            Outcome::Alternatives { alternatives, .. } => Reply::ok(
                "unavailable",
                message,
                Availability {
                    alternatives: self.slots_out(alternatives, service),
                    available: Some(false),
                    reason: unmet.map(Unmet::as_str),
                    slot: Some(None),
                    ..Availability::default()
                },
            ),
            Outcome::NoAvailability { .. } => Reply::fail(
                "no_availability",
                message,
                json!({"available": false, "slot": null, "alternatives": []}),
            ),
            _ => source_unavailable(message),
        }
    }

    /// `collect_appointment` (`book` false: books only with `bestaetigung`)
    /// and `book_appointment` (`book` true).
    async fn collect(&self, args: &Value, book: bool) -> Reply {
        let request = match AppointmentRequest::parse(args, &self.vctx()) {
            Ok(r) => r,
            Err(errors) => return validation_reply(&errors),
        };
        let index = match self.service(request.service.as_deref()) {
            Ok(i) => i,
            Err(reply) => return reply,
        };
        let service = &self.tenant.services[index];
        if request.time.is_none() && (book || request.confirm_booking == Some(true)) {
            return single_error("uhrzeit", ValidationError::Required);
        }
        let wished = self.wished(request.date, request.time);
        if let Some(reply) = self.past(wished) {
            return reply;
        }
        let confirmed = book || request.confirm_booking == Some(true);
        if confirmed {
            if request.name.is_none() {
                return single_error("name", ValidationError::Required);
            }
            // Cal.com needs an attendee e-mail address for every booking.
            if matches!(self.tenant.backend, Backend::Calcom { .. }) && request.email.is_none() {
                return single_error("email", ValidationError::Required);
            }
            let Some(start) = self.instant(wished) else {
                return Reply::fail(
                    "slot_taken",
                    "Diese Uhrzeit gibt es an diesem Tag nicht.",
                    json!({}),
                );
            };
            let customer = Customer {
                name: request.name.clone().unwrap_or_default(),
                email: request.email.clone(),
                phone: request.phone.clone(),
            };
            return self.book(index, start, wished, Some(&customer)).await;
        }
        let outcome = self.find(service, wished, 3).await;
        let message = outcome.speak(Lang::De);
        match &outcome {
            Outcome::Available { offer, .. } => Reply::ok(
                "awaiting_confirmation",
                format!(
                    "Ich habe {} für {} frei. Soll ich den Termin verbindlich für Sie buchen?",
                    spoken_de(offer.local_date, offer.local_time, self.today()),
                    service.name
                ),
                json!({
                    "slot": self.slot_json(offer, service),
                    "service": service.name,
                    "customer": {
                        "name_given": request.name.is_some(),
                        "email_given": request.email.is_some(),
                        "phone_given": request.phone.is_some(),
                    },
                }),
            ),
            Outcome::Alternatives { alternatives, .. } => Reply::fail(
                "unavailable",
                message,
                json!({"alternatives": self.offers_json(alternatives, service)}),
            ),
            Outcome::NoAvailability { .. } => {
                Reply::fail("no_availability", message, json!({"alternatives": []}))
            }
            _ => source_unavailable(message),
        }
    }

    /// Books `start` for this call, idempotently per call id + slot.
    async fn book(
        &self,
        index: usize,
        start: DateTime<Utc>,
        wished: NaiveDateTime,
        customer: Option<&Customer>,
    ) -> Reply {
        let service = &self.tenant.services[index];
        let tenant_id = self.tenant.tenant.id().clone();
        let call_key = (tenant_id.clone(), self.call_id.to_owned(), index, start);
        // Whether this attempt could use the idempotency record: `false`
        // when the record's store failed (Redis down), so a retry elsewhere
        // cannot replay it. Reported as `data.idempotency_record`.
        let mut record_ok = true;
        let booked = match &self.tenant.backend {
            Backend::Demo(calendar) => {
                let mut bookings = self.state.inner.bookings.lock();
                if let Some(existing) = bookings.by_call.get(&call_key) {
                    Ok((existing.clone(), true))
                } else {
                    match calendar.book(&tenant_id, &service.event_type, start) {
                        Ok(id) => {
                            let public = id.to_string();
                            bookings.by_id.insert(
                                (tenant_id.clone(), public.clone()),
                                BookingRecord {
                                    id: BookingHandle::Demo(id),
                                    service: index,
                                    start,
                                },
                            );
                            bookings.by_call.insert(call_key, public.clone());
                            Ok((public, false))
                        }
                        Err(e) => Err(e),
                    }
                }
            }
            Backend::Calcom {
                client,
                event_types,
                ..
            } => {
                let existing = self
                    .state
                    .inner
                    .bookings
                    .lock()
                    .by_call
                    .get(&call_key)
                    .cloned();
                // Shared by the replicas with Redis: a retry elsewhere replays.
                let attempt = AttemptKey {
                    tenant: tenant_id.to_string(),
                    call_id: self.call_id.to_owned(),
                    service: index,
                    start_ms: start.timestamp_millis(),
                };
                let records = &self.state.inner.idempotency;
                let claim = match existing {
                    Some(existing) => Ok(Claim::Done(existing)),
                    None => records.claim(&attempt).await,
                };
                let claimed = match claim {
                    Ok(Claim::Done(existing)) => Some(existing),
                    Ok(Claim::Won) => None,
                    Err(IdempotencyError::Busy) => {
                        return source_unavailable(
                            "Ihr Termin wird gerade noch eingetragen. Bitte fragen Sie gleich noch einmal nach.",
                        );
                    }
                    Err(e) => {
                        // Booking without the shared record beats not
                        // booking while Redis is down.
                        tracing::warn!(error = %e, "booking without the shared idempotency record");
                        record_ok = false;
                        None
                    }
                };
                if let Some(existing) = claimed {
                    Ok((existing, true))
                } else {
                    let Some(cal_id) = event_types.get(&service.event_type) else {
                        records.abandon(&attempt).await;
                        return source_unavailable(
                            CalendarError::UnknownEventType(service.event_type.clone())
                                .user_message(Lang::De),
                        );
                    };
                    let zone = self.tenant.tenant.hours().zone().name();
                    let name = customer.map_or("Anrufer", |c| c.name.as_str());
                    let mut attendee = Attendee::new(name, zone).language("de");
                    if let Some(email) = customer.and_then(|c| c.email.as_deref()) {
                        attendee = attendee.email(email);
                    }
                    if let Some(phone) = customer.and_then(|c| c.phone.as_deref()) {
                        attendee = attendee.phone_number(phone);
                    }
                    let request =
                        CreateBookingRequest::new(EventTypeTarget::Id(*cal_id), start, attendee)
                            .metadata("call_id", self.call_id);
                    let started = std::time::Instant::now();
                    let result = client.create_booking(&request).await;
                    record_upstream(self.tenant.tenant.id(), "bookings.create", started);
                    match result {
                        Ok(booking) => {
                            let public = booking.uid.clone();
                            record_ok &= records.complete(&attempt, &public).await;
                            let mut bookings = self.state.inner.bookings.lock();
                            bookings.by_id.insert(
                                (tenant_id.clone(), public.clone()),
                                BookingRecord {
                                    id: BookingHandle::Calcom(booking.uid),
                                    service: index,
                                    start,
                                },
                            );
                            bookings.by_call.insert(call_key, public.clone());
                            Ok((public, false))
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                CalcomErrorKind::SlotTaken | CalcomErrorKind::Conflict
                            ) =>
                        {
                            records.abandon(&attempt).await;
                            Err(CalendarError::SlotNotFree)
                        }
                        Err(e) => {
                            records.abandon(&attempt).await;
                            return calcom_unavailable(&e);
                        }
                    }
                }
            }
        };
        match booked {
            Ok((booking_id, replay)) => {
                if !replay {
                    self.invalidate(start).await;
                    metrics::counter!("bookings_total", "tenant" => tenant_id.to_string())
                        .increment(1);
                }
                Reply::ok(
                    "booked",
                    format!(
                        "Ihr Termin für {} ist gebucht: {}. Ihre Buchungsnummer ist {}.",
                        service.name,
                        self.spoken_at(start),
                        booking_id
                    ),
                    json!({
                        "booking_id": booking_id,
                        "idempotent_replay": replay,
                        "idempotency_record": record_state(record_ok),
                        "slot": self.slot_json_at(start, service),
                    }),
                )
            }
            Err(CalendarError::SlotNotFree) => {
                let outcome = self.find(service, wished, 3).await;
                let mut offers: Vec<Offer> = outcome.alternatives().to_vec();
                if let Outcome::Available { offer, .. } = &outcome {
                    if offer.start != start {
                        offers.push(*offer);
                    }
                }
                let mut message = CalendarError::SlotNotFree
                    .user_message(Lang::De)
                    .into_owned();
                if !offers.is_empty() {
                    let spoken: Vec<String> = offers
                        .iter()
                        .map(|o| spoken_de(o.local_date, o.local_time, self.today()))
                        .collect();
                    let spoken: Vec<&str> = spoken.iter().map(String::as_str).collect();
                    message.push_str(&format!(
                        " Ich kann Ihnen {} anbieten.",
                        join_de_or(&spoken)
                    ));
                }
                Reply::fail(
                    "slot_taken",
                    message,
                    json!({
                        "alternatives": self.offers_json(&offers, service),
                        "idempotency_record": record_state(record_ok),
                    }),
                )
            }
            Err(e) => source_unavailable(e.user_message(Lang::De)),
        }
    }

    fn spoken_at(&self, start: DateTime<Utc>) -> String {
        let local = self.tenant.tenant.hours().local(start);
        spoken_de(local.date(), local.time(), self.today())
    }

    /// Drops the cached slots of `start`'s day for every service (a booking
    /// blocks the calendar for all of them).
    async fn invalidate(&self, start: DateTime<Utc>) {
        let day = self.tenant.tenant.hours().local_date(start);
        for s in &self.tenant.services {
            self.tenant
                .finder
                .cache()
                .invalidate(self.tenant.tenant.id(), &s.event_type, day)
                .await;
        }
    }

    /// Cancels a booking in the tenant's calendar; the reply is what to
    /// answer when that fails.
    async fn cancel_upstream(&self, handle: &BookingHandle) -> Result<(), Reply> {
        let tenant_id = self.tenant.tenant.id();
        match (&self.tenant.backend, handle) {
            (Backend::Demo(calendar), BookingHandle::Demo(id)) => calendar
                .cancel(tenant_id, *id)
                .map_err(|e| source_unavailable(e.user_message(Lang::De))),
            (Backend::Calcom { client, .. }, BookingHandle::Calcom(uid)) => {
                let started = std::time::Instant::now();
                let result = client
                    .cancel_booking(
                        uid,
                        &CancelBookingRequest::with_reason("Vom Anrufer storniert"),
                    )
                    .await;
                record_upstream(self.tenant.tenant.id(), "bookings.cancel", started);
                result.map(drop).map_err(|e| calcom_unavailable(&e))
            }
            _ => Err(Self::not_found()),
        }
    }

    /// The booking `booking_id` of this tenant: from this process's index,
    /// or, for a Cal.com tenant, from Cal.com itself (a booking made through
    /// another replica or before a restart). A Cal.com booking counts only
    /// if it is live and of one of this tenant's event types, so a uid of
    /// another tenant on the same Cal.com account stays "not found".
    async fn record(&self, booking_id: &str) -> Result<Option<BookingRecord>, Reply> {
        let key = (self.tenant.tenant.id().clone(), booking_id.to_owned());
        if let Some(record) = self.state.inner.bookings.lock().by_id.get(&key).cloned() {
            return Ok(Some(record));
        }
        let Backend::Calcom {
            client,
            event_types,
            ..
        } = &self.tenant.backend
        else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let result = client.booking(booking_id).await;
        record_upstream(self.tenant.tenant.id(), "bookings.get", started);
        match result {
            Ok(booking) => {
                let live = matches!(
                    booking.status,
                    BookingStatus::Accepted | BookingStatus::Pending
                );
                let service = booking.event_type_id.and_then(|id| {
                    self.tenant
                        .services
                        .iter()
                        .position(|s| event_types.get(&s.event_type) == Some(&id))
                });
                Ok(service.filter(|_| live).map(|service| BookingRecord {
                    id: BookingHandle::Calcom(booking.uid),
                    service,
                    start: booking.start,
                }))
            }
            Err(e) if matches!(e.kind(), CalcomErrorKind::NotFound) => Ok(None),
            Err(e) => Err(calcom_unavailable(&e)),
        }
    }

    fn not_found() -> Reply {
        Reply::fail(
            "not_found",
            "Diesen Termin kann ich leider nicht finden. Können Sie mir die Buchungsnummer noch einmal nennen?",
            json!({}),
        )
    }

    async fn cancel(&self, args: &Value) -> Reply {
        let args = match BookingRef::validate(args, &self.vctx()) {
            Ok(a) => a,
            Err(errors) => return validation_reply(&errors),
        };
        let tenant_id = self.tenant.tenant.id().clone();
        let key = (tenant_id.clone(), args.booking_id.clone());
        let record = match self.record(&args.booking_id).await {
            Ok(record) => record,
            Err(reply) => return reply,
        };
        let removed = match record {
            None => None,
            Some(record) => match self.cancel_upstream(&record.id).await {
                Ok(()) => {
                    let mut bookings = self.state.inner.bookings.lock();
                    bookings.by_id.remove(&key);
                    bookings.by_call.retain(|_, v| *v != args.booking_id);
                    Some(record)
                }
                Err(reply) => return reply,
            },
        };
        match removed {
            None => Self::not_found(),
            Some(record) => {
                self.invalidate(record.start).await;
                let service = &self.tenant.services[record.service];
                Reply::ok(
                    "cancelled",
                    format!("Ihr Termin {} ist storniert.", self.spoken_at(record.start)),
                    json!({
                        "booking_id": args.booking_id,
                        "slot": self.slot_json_at(record.start, service),
                    }),
                )
            }
        }
    }

    async fn reschedule(&self, args: &Value) -> Reply {
        let args = match Reschedule::validate(args, &self.vctx()) {
            Ok(a) => a,
            Err(errors) => return validation_reply(&errors),
        };
        let tenant_id = self.tenant.tenant.id().clone();
        let key = (tenant_id.clone(), args.booking_id.clone());
        let old = match self.record(&args.booking_id).await {
            Ok(Some(record)) => record,
            Ok(None) => return Self::not_found(),
            Err(reply) => return reply,
        };
        let wished = args.date.and_time(args.time);
        if let Some(reply) = self.past(wished) {
            return reply;
        }
        let Some(start) = self.instant(wished) else {
            return Self::not_found();
        };
        let new_id = match &self.tenant.backend {
            Backend::Demo(_) => {
                let reply = self.book(old.service, start, wished, None).await;
                if reply.status != "booked" {
                    return reply;
                }
                let new_id = reply
                    .data
                    .as_json()
                    .and_then(|d| d["booking_id"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                if new_id == args.booking_id {
                    return reply;
                }
                if self.cancel_upstream(&old.id).await.is_ok() {
                    let mut bookings = self.state.inner.bookings.lock();
                    bookings.by_id.remove(&key);
                    bookings.by_call.retain(|_, v| *v != args.booking_id);
                }
                new_id
            }
            Backend::Calcom { client, .. } => {
                let BookingHandle::Calcom(uid) = &old.id else {
                    return Self::not_found();
                };
                let started = std::time::Instant::now();
                let result = client
                    .reschedule_booking(uid, &RescheduleBookingRequest::new(start))
                    .await;
                record_upstream(self.tenant.tenant.id(), "bookings.reschedule", started);
                let booking = match result {
                    Ok(booking) => booking,
                    Err(e)
                        if matches!(
                            e.kind(),
                            CalcomErrorKind::SlotTaken | CalcomErrorKind::Conflict
                        ) =>
                    {
                        return Reply::fail(
                            "slot_taken",
                            CalendarError::SlotNotFree.user_message(Lang::De),
                            json!({"alternatives": []}),
                        );
                    }
                    Err(e) => return calcom_unavailable(&e),
                };
                {
                    let mut bookings = self.state.inner.bookings.lock();
                    bookings.by_id.remove(&key);
                    bookings.by_call.retain(|_, v| *v != args.booking_id);
                    bookings.by_id.insert(
                        (tenant_id.clone(), booking.uid.clone()),
                        BookingRecord {
                            id: BookingHandle::Calcom(booking.uid.clone()),
                            service: old.service,
                            start,
                        },
                    );
                }
                self.invalidate(start).await;
                booking.uid
            }
        };
        self.invalidate(old.start).await;
        let service = &self.tenant.services[old.service];
        Reply::ok(
            "rescheduled",
            format!(
                "Ihr Termin ist verschoben auf {}. Ihre neue Buchungsnummer ist {}.",
                self.spoken_at(start),
                new_id
            ),
            json!({
                "booking_id": new_id,
                "previous_booking_id": args.booking_id,
                "slot": self.slot_json_at(start, service),
            }),
        )
    }

    async fn alternatives(&self, args: &Value) -> Reply {
        let request = match AppointmentRequest::parse(args, &self.vctx()) {
            Ok(r) => r,
            Err(errors) => return validation_reply(&errors),
        };
        let index = match self.service(request.service.as_deref()) {
            Ok(i) => i,
            Err(reply) => return reply,
        };
        let service = &self.tenant.services[index];
        let wished = self.wished(request.date, request.time);
        if let Some(reply) = self.past(wished) {
            return reply;
        }
        let outcome = self.find(service, wished, 3).await;
        let message = outcome.speak(Lang::De);
        match &outcome {
            Outcome::Available { offer, .. } => Reply::ok(
                "alternatives",
                message,
                Availability {
                    alternatives: self.slots_out(&[*offer], service),
                    requested_available: Some(true),
                    ..Availability::default()
                },
            ),
            Outcome::Alternatives { alternatives, .. } => Reply::ok(
                "alternatives",
                message,
                Availability {
                    alternatives: self.slots_out(alternatives, service),
                    requested_available: Some(false),
                    ..Availability::default()
                },
            ),
            Outcome::NoAvailability { .. } => {
                Reply::fail("no_availability", message, json!({"alternatives": []}))
            }
            _ => source_unavailable(message),
        }
    }

    async fn next_available(&self, args: &Value) -> Reply {
        let mut args = args.as_object().cloned().unwrap_or_default();
        let has_date = ["datum", "date"].iter().any(|k| {
            args.get(*k)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
        });
        if !has_date {
            args.insert("datum".to_owned(), Value::String("heute".to_owned()));
        }
        let request = match AppointmentRequest::parse(&Value::Object(args), &self.vctx()) {
            Ok(r) => r,
            Err(errors) => return validation_reply(&errors),
        };
        let index = match self.service(request.service.as_deref()) {
            Ok(i) => i,
            Err(reply) => return reply,
        };
        let service = &self.tenant.services[index];
        let hours = self.tenant.tenant.hours();
        let from = self
            .instant(self.wished(request.date, request.time.or(Some(NaiveTime::MIN))))
            .unwrap_or(self.now)
            .max(self.now);
        for offset in 0..=self.tenant.finder.config().horizon_days {
            let day = request.date + Duration::days(i64::from(offset));
            if !hours.is_open_on(day) {
                continue;
            }
            let slots = match self
                .tenant
                .finder
                .cache()
                .day_slots(
                    self.tenant.tenant.id(),
                    &service.event_type,
                    day,
                    hours.zone(),
                )
                .await
            {
                Ok(s) => s,
                Err(e) => return source_unavailable(e.user_message(Lang::De)),
            };
            if let Some(slot) = slots
                .iter()
                .find(|s| s.start >= from && hours.contains(s.start, service.duration))
            {
                return Reply::ok(
                    "available",
                    format!(
                        "Der nächste freie Termin für {} ist {}.",
                        service.name,
                        self.spoken_at(slot.start)
                    ),
                    json!({"available": true, "slot": self.slot_json_at(slot.start, service)}),
                );
            }
        }
        Reply::fail(
            "no_availability",
            "In den nächsten zwei Wochen ist leider kein Termin frei. Soll ich Sie zurückrufen lassen?",
            json!({"available": false, "slot": null}),
        )
    }

    fn opening_hours(&self) -> Reply {
        let hours = self.tenant.tenant.hours();
        let weekdays = [
            chrono::Weekday::Mon,
            chrono::Weekday::Tue,
            chrono::Weekday::Wed,
            chrono::Weekday::Thu,
            chrono::Weekday::Fri,
            chrono::Weekday::Sat,
            chrono::Weekday::Sun,
        ];
        let fmt_iv = |iv: &voxcal_appointment_finder::OpeningInterval| {
            let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            format!("{}-{}", hm(iv.start_minutes()), hm(iv.end_minutes()))
        };
        let days: Vec<Value> = weekdays
            .iter()
            .map(|d| {
                let ivs: Vec<String> = hours.weekday_intervals(*d).iter().map(fmt_iv).collect();
                json!({"weekday": weekday_de(*d), "open": !ivs.is_empty(), "intervals": ivs})
            })
            .collect();
        // Group consecutive days with the same hours: "Montag bis Freitag von 9 bis 18 Uhr".
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < weekdays.len() {
            let ivs = hours.weekday_intervals(weekdays[i]);
            let mut j = i;
            while j + 1 < weekdays.len() && hours.weekday_intervals(weekdays[j + 1]) == ivs {
                j += 1;
            }
            if !ivs.is_empty() {
                let span = if i == j {
                    weekday_de(weekdays[i]).to_owned()
                } else {
                    format!(
                        "{} bis {}",
                        weekday_de(weekdays[i]),
                        weekday_de(weekdays[j])
                    )
                };
                let times: Vec<String> = ivs
                    .iter()
                    .map(|iv| {
                        let t = |m: u16| {
                            time_de(
                                NaiveTime::from_hms_opt(u32::from(m / 60), u32::from(m % 60), 0)
                                    .unwrap_or(NaiveTime::MIN),
                            )
                            .trim_end_matches(" Uhr")
                            .to_owned()
                        };
                        format!(
                            "von {} bis {} Uhr",
                            t(iv.start_minutes()),
                            t(iv.end_minutes())
                        )
                    })
                    .collect();
                let times: Vec<&str> = times.iter().map(String::as_str).collect();
                parts.push(format!("{span} {}", join_de(&times)));
            }
            i = j + 1;
        }
        let message = if parts.is_empty() {
            "Wir haben derzeit leider keine Öffnungszeiten.".to_owned()
        } else {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            format!("Wir haben {} geöffnet.", join_de(&parts))
        };
        Reply::ok(
            "opening_hours",
            message,
            json!({
                "business": self.tenant.name,
                "time_zone": hours.zone().name(),
                "public_holidays": hours
                    .public_holidays()
                    .map(|b| b.code())
                    .or(hours.nationwide_holidays().then_some("DE")),
                "days": days,
            }),
        )
    }

    fn list_services(&self) -> Reply {
        let services: Vec<Value> = self
            .tenant
            .services
            .iter()
            .map(|s| {
                json!({
                    "id": s.event_type.as_str(),
                    "name": s.name,
                    "duration_minutes": s.duration.num_minutes(),
                })
            })
            .collect();
        let spoken: Vec<String> = self
            .tenant
            .services
            .iter()
            .map(|s| format!("{} ({} Minuten)", s.name, s.duration.num_minutes()))
            .collect();
        let spoken: Vec<&str> = spoken.iter().map(String::as_str).collect();
        Reply::ok(
            "services",
            format!("Wir bieten {} an.", join_de(&spoken)),
            json!({"services": services}),
        )
    }
}

/// `data.idempotency_record` of a booking answer: `"kept"`, or
/// `"unavailable"` when its store failed (a retry on another replica then
/// cannot replay the booking).
fn record_state(ok: bool) -> &'static str {
    if ok {
        "kept"
    } else {
        "unavailable"
    }
}

fn join_with(items: &[&str], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., tail] => format!("{}{last}{tail}", init.join(", ")),
    }
}

/// "A, B und C".
fn join_de(items: &[&str]) -> String {
    join_with(items, " und ")
}

/// "A, B oder C".
fn join_de_or(items: &[&str]) -> String {
    join_with(items, " oder ")
}

/// Field value by German name or English alias, as a non-blank string.
fn field<'a>(
    map: &'a Map<String, Value>,
    names: &[&str],
    errors: &mut ValidationErrors,
    required: bool,
) -> Option<&'a str> {
    let value = names
        .iter()
        .find_map(|n| map.get(*n).filter(|v| !v.is_null()));
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        Some(Value::String(_)) | None => {
            if required {
                errors.push(FieldError::new(names[0], ValidationError::Required));
            }
            None
        }
        Some(_) => {
            errors.push(FieldError::new(
                names[0],
                ValidationError::WrongType { expected: "string" },
            ));
            None
        }
    }
}

fn booking_id(map: &Map<String, Value>, errors: &mut ValidationErrors) -> Option<String> {
    let raw = field(map, &["booking_id", "buchungsnummer"], errors, true)?;
    match clean_text_max(raw, 40) {
        Ok(clean) => Some(clean.replace(' ', "").to_lowercase()),
        Err(e) => {
            errors.push(FieldError::new("booking_id", e));
            None
        }
    }
}

fn object(args: &Value) -> Result<&Map<String, Value>, ValidationErrors> {
    args.as_object().ok_or_else(|| {
        let mut errors = ValidationErrors::new();
        errors.push(FieldError::new(
            "args",
            ValidationError::WrongType { expected: "object" },
        ));
        errors
    })
}

/// A required text field, cleaned, with the name it is reported under.
fn clean_field(
    map: &Map<String, Value>,
    names: &[&'static str],
    errors: &mut ValidationErrors,
) -> Option<(&'static str, String)> {
    let raw = field(map, names, errors, true)?;
    match clean_text_max(raw, 30) {
        Ok(clean) => Some((names[0], clean)),
        Err(e) => {
            errors.push(FieldError::new(names[0], e));
            None
        }
    }
}

/// `cancel_appointment` arguments.
struct BookingRef {
    booking_id: String,
}

impl Validate for BookingRef {
    fn validate(args: &Value, _ctx: &ValidationContext) -> Result<Self, ValidationErrors> {
        let map = object(args)?;
        let mut errors = ValidationErrors::new();
        match booking_id(map, &mut errors) {
            Some(booking_id) if errors.is_empty() => Ok(BookingRef { booking_id }),
            _ => Err(errors),
        }
    }
}

/// `reschedule_appointment` arguments.
struct Reschedule {
    booking_id: String,
    date: NaiveDate,
    time: NaiveTime,
}

impl Validate for Reschedule {
    fn validate(args: &Value, ctx: &ValidationContext) -> Result<Self, ValidationErrors> {
        let map = object(args)?;
        let mut errors = ValidationErrors::new();
        let booking_id = booking_id(map, &mut errors);
        let parse =
            |names: &[&'static str], errors: &mut ValidationErrors| clean_field(map, names, errors);
        let date = parse(&["neues_datum", "datum", "date"], &mut errors).and_then(|(f, s)| {
            parse_date(&s, ctx)
                .map_err(|e| errors.push(FieldError::new(f, e)))
                .ok()
        });
        let time = parse(&["neue_uhrzeit", "uhrzeit", "time"], &mut errors).and_then(|(f, s)| {
            parse_time(&s)
                .map_err(|e| errors.push(FieldError::new(f, e)))
                .ok()
        });
        match (booking_id, date, time) {
            (Some(booking_id), Some(date), Some(time)) if errors.is_empty() => Ok(Reschedule {
                booking_id,
                date,
                time,
            }),
            _ => Err(errors),
        }
    }
}
