//! `reschedule_appointment`: a booking of this tenant moved to a free slot.

use super::*;

impl Call<'_> {
    pub(super) async fn reschedule(&self, args: &Value) -> Reply {
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
        let service = &self.tenant.services[old.service];
        let inside = self
            .tenant
            .tenant
            .hours()
            .adjust(wished, service.duration)
            .is_some_and(|a| a.adjustment.is_none());
        let Some(start) = self.instant(wished).filter(|_| inside) else {
            // Outside the opening hours: never moved there unasked.
            let outcome = self.find(service, wished, 3).await;
            return self.not_offered(&outcome, service);
        };
        let new_id = match &self.tenant.backend {
            Backend::Demo(_) => {
                let reply = self.book(old.service, start, wished, None).await;
                if reply.status != Status::Booked {
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
                            Status::SlotTaken,
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
            Status::Rescheduled,
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
