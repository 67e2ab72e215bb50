//! The nine Retell functions.

use std::sync::OnceLock;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use serde_json::{json, Map, Value};
use voxcal_appointment_finder::speak::{self, weekday as weekday_de};
use voxcal_appointment_finder::{
    CalendarError, FindRequest, Offer, Outcome, TimePreference, Unmet,
};
use voxcal_core::{Lang, UserMessage};
use voxcal_request_validation::{
    clean_text_max, parse_clock, parse_date, AppointmentRequest, ClockTime, FieldError, TimeWish,
    Validate, ValidationContext, ValidationError, ValidationErrors,
};

use crate::backend::{BackendError, Customer, NewBooking};
pub(crate) use crate::envelope::Function;
use crate::envelope::{Envelope, ReadCall};
use crate::idempotency::{AttemptKey, Claim, IdempotencyError};
use crate::reply::{clock_hm, date_de, Availability, Reply, SlotOut, Status};
use crate::state::{AppState, BookingHandle, BookingRecord, Service, TenantRuntime};

mod availability;
mod booking;
mod cancel;
mod info;
mod reschedule;

/// `booking_requests_total{function, status}`, registered once per pair: a
/// labelled `counter!` builds and hashes its key at every call. (The handle
/// is taken after [`app`](crate::app) has installed the recorder.)
fn requests_counter(function: Function, status: Status) -> &'static metrics::Counter {
    const STATUSES: usize = Status::COUNT;
    static COUNTERS: [[OnceLock<metrics::Counter>; STATUSES]; Function::ALL.len()] =
        [const { [const { OnceLock::new() }; STATUSES] }; Function::ALL.len()];
    COUNTERS[function as usize][status as usize].get_or_init(|| {
        metrics::counter!(
            "booking_requests_total",
            "function" => function.name(),
            "status" => status.as_str()
        )
    })
}

/// `/api/retell/{function}` behind [`envelope::read`](crate::envelope): one
/// function call, answered.
pub(crate) async fn handle(State(state): State<AppState>, read: ReadCall) -> Response {
    let ReadCall { tenant, envelope } = read;
    let Envelope {
        call_id,
        function,
        args,
    } = match envelope {
        Ok(envelope) => envelope,
        Err(e) => return e.into_response(),
    };
    let tenant = match tenant {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    // Raw arguments at debug level: the log writer redacts them.
    let name = function.name();
    tracing::debug!(function = name, call_id, args = %args, "function call");
    let call = Call {
        now: state.now(),
        state: &state,
        tenant: &tenant,
        call_id: &call_id,
    };
    let reply = match function {
        Function::CheckAvailability => call.check_availability(&args).await,
        Function::CollectAppointment => call.collect(&args, false).await,
        Function::BookAppointment => call.collect(&args, true).await,
        Function::CancelAppointment => call.cancel(&args).await,
        Function::RescheduleAppointment => call.reschedule(&args).await,
        Function::GetAlternatives => call.alternatives(&args).await,
        Function::FindNextAvailable => call.next_available(&args).await,
        Function::GetOpeningHours => call.opening_hours(),
        Function::ListServices => call.list_services(),
    };
    requests_counter(function, reply.status).increment(1);
    tracing::info!(function = name, tenant = %tenant.tenant.id(), status = reply.status.as_str(), "function answered");
    crate::cap::cap_reply(reply.into_response()).await
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
        Status::ValidationError,
        errors.user_message(Lang::De),
        json!({"errors": errors.to_json(Lang::De)}),
    )
}

fn single_error(field: &str, error: ValidationError) -> Reply {
    let mut errors = ValidationErrors::new();
    errors.push(FieldError::new(field, error));
    validation_reply(&errors)
}

/// [`Call::slot_json`] as a typed value, serialized without a `Value` tree
/// (same bytes).
fn slot_out(offer: &Offer, service: &Service, today: NaiveDate) -> SlotOut {
    SlotOut {
        start: offer.start,
        end: offer.end,
        local_date: offer.local_date,
        local_time: offer.local_time,
        spoken: speak::slot(offer.local_date, offer.local_time, today),
        service: service.name.clone(),
    }
}

fn source_unavailable(message: impl Into<String>) -> Reply {
    Reply::fail(Status::ServiceUnavailable, message, json!({}))
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
            "spoken": speak::slot(offer.local_date, offer.local_time, self.today()),
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
            "spoken": speak::slot(local.date(), local.time(), self.today()),
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

    /// The validated arguments of an appointment function and the index of
    /// the service they name; the reply to give when either fails.
    fn request_and_service(&self, args: &Value) -> Result<(AppointmentRequest, usize), Reply> {
        let request =
            AppointmentRequest::parse(args, &self.vctx()).map_err(|e| validation_reply(&e))?;
        let index = self.service(request.service.as_deref())?;
        Ok((request, index))
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
                    Status::ValidationError,
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
        // A wall time skipped by the clock change is judged by the hour
        // after it (the finder says it does not exist), not as past.
        let at = self
            .instant(local)
            .or_else(|| self.instant(local + Duration::hours(1)));
        match at {
            Some(at) if at >= self.now => None,
            _ => Some(Reply::fail(
                Status::PastTime,
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

/// What the function modules' unit tests share: the demo service on a
/// fixed clock, and a [`Call`] of one of its tenants.
#[cfg(test)]
mod testing {
    use super::*;
    use crate::{ServiceConfig, TenantConfig};
    use voxcal_core::FakeClock;

    /// Monday 2026-10-12, 08:00 in Berlin. The demo calendar blocks
    /// 10:00–11:00 and 14:00–14:30 on every open day.
    pub(super) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap()
    }

    /// The demo service with one demo tenant per id, on [`now`].
    pub(super) fn state(tenants: Vec<TenantConfig>) -> AppState {
        let mut config = ServiceConfig::demo();
        config.tenants = tenants;
        AppState::builder(config)
            .clock(FakeClock::at(now()))
            .build()
            .expect("the demo configuration builds")
    }

    /// Demo tenants named `ids`.
    pub(super) fn demo_tenants(ids: &[&str]) -> Vec<TenantConfig> {
        ids.iter().map(|id| TenantConfig::demo(id)).collect()
    }

    /// The runtime of tenant `id`.
    pub(super) fn tenant(state: &AppState, id: &str) -> std::sync::Arc<TenantRuntime> {
        crate::envelope::resolve_tenant(state, Some(id)).expect("a configured tenant")
    }

    /// A call of `call_id` to `tenant`, at the state's time.
    pub(super) fn call<'a>(
        state: &'a AppState,
        tenant: &'a TenantRuntime,
        call_id: &'a str,
    ) -> Call<'a> {
        Call {
            now: state.now(),
            state,
            tenant,
            call_id,
        }
    }

    /// The reply's `data` as JSON (the typed availability data serialized).
    pub(super) fn data(reply: &Reply) -> Value {
        serde_json::to_value(&reply.data).expect("reply data serializes")
    }

    /// Books `uhrzeit` on 14.10.2026 (a Wednesday) through
    /// `book_appointment`; the booking id.
    pub(super) async fn book(call: &Call<'_>, uhrzeit: &str) -> String {
        let reply = call
            .collect(
                &json!({"datum": "14.10.2026", "uhrzeit": uhrzeit, "name": "Max Muster"}),
                true,
            )
            .await;
        assert_eq!(reply.status, Status::Booked, "{}", reply.message);
        data(&reply)["booking_id"]
            .as_str()
            .expect("a booked reply names its booking")
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{resolve_tenant, TenantError};

    #[test]
    fn a_tenant_is_the_named_one_or_the_only_one() {
        let one = testing::state(testing::demo_tenants(&["a"]));
        assert_eq!(
            resolve_tenant(&one, None).unwrap().tenant.id().as_str(),
            "a"
        );
        assert_eq!(
            resolve_tenant(&one, Some("b")).err(),
            Some(TenantError::Unknown)
        );
        let two = testing::state(testing::demo_tenants(&["a", "b"]));
        assert_eq!(
            resolve_tenant(&two, None).err(),
            Some(TenantError::Required)
        );
        assert_eq!(
            resolve_tenant(&two, Some("b"))
                .unwrap()
                .tenant
                .id()
                .as_str(),
            "b"
        );
    }

    #[test]
    fn german_lists_join_with_commas_and_und() {
        assert_eq!(join_de(&[]), "");
        assert_eq!(join_de(&["A"]), "A");
        assert_eq!(join_de(&["A", "B"]), "A und B");
        assert_eq!(join_de(&["A", "B", "C"]), "A, B und C");
    }

    #[test]
    fn every_function_is_found_by_its_name_and_nothing_else() {
        for f in Function::ALL {
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
        let names: std::collections::HashSet<_> = Function::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Function::ALL.len(), "names are distinct");
        for unknown in [
            "",
            "list-services",
            "Check_Availability",
            "book_appointment_v2",
            "function",
        ] {
            assert_eq!(Function::from_name(unknown), None, "{unknown:?}");
        }
    }
}
