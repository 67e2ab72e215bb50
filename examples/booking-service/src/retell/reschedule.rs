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
        // "um 7" read in the day's opening hours, as for a new booking.
        let wished = args
            .date
            .and_time(self.read_clock(args.time, args.date, args.date));
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
        let moved = self.tenant.backend.reschedule(&tenant_id, &old.id, start);
        let new_id = match moved {
            // The calendar cannot move bookings: book anew, then cancel.
            None => {
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
            Some(moved) => {
                let handle = match moved.await {
                    Ok(handle) => handle,
                    Err(BackendError::SlotTaken) => {
                        return Reply::fail(
                            Status::SlotTaken,
                            CalendarError::SlotNotFree.user_message(Lang::De),
                            json!({"alternatives": []}),
                        );
                    }
                    Err(e) => return Self::backend_failure(e),
                };
                let new_id = handle.public_id();
                {
                    let mut bookings = self.state.inner.bookings.lock();
                    bookings.by_id.remove(&key);
                    bookings.by_call.retain(|_, v| *v != args.booking_id);
                    bookings.by_id.insert(
                        (tenant_id.clone(), new_id.clone()),
                        BookingRecord {
                            id: handle,
                            service: old.service,
                            start,
                        },
                    );
                }
                self.invalidate(start).await;
                new_id
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
    /// Both readings of an ambiguous hour; the opening hours pick one.
    time: ClockTime,
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
            parse_clock(&s)
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

#[cfg(test)]
mod tests {
    use super::super::testing;
    use super::*;

    fn validate(args: Value) -> Result<Reschedule, ValidationErrors> {
        Reschedule::validate(
            &args,
            &ValidationContext::new(testing::now(), chrono_tz::Europe::Berlin),
        )
    }

    #[test]
    fn the_new_date_and_time_are_read_under_their_names_and_aliases() {
        let ok = validate(
            json!({"booking_id": "B1", "neues_datum": "14.10.2026", "neue_uhrzeit": "halb zwölf"}),
        )
        .unwrap();
        assert_eq!(
            (ok.date, ok.time.literal),
            (
                NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
                NaiveTime::from_hms_opt(11, 30, 0).unwrap()
            )
        );
        let alias =
            validate(json!({"booking_id": "B1", "datum": "14.10.2026", "uhrzeit": "11:30"}))
                .unwrap();
        assert_eq!((alias.date, alias.time.literal), (ok.date, ok.time.literal));
        let errors = validate(json!({"neues_datum": "gestern vielleicht", "neue_uhrzeit": ""}))
            .err()
            .unwrap();
        assert!(
            errors.has("booking_id", "required"),
            "{:?}",
            errors.errors()
        );
        assert!(
            errors.has("neue_uhrzeit", "required"),
            "{:?}",
            errors.errors()
        );
        assert!(
            errors.errors().iter().any(|e| e.field() == "neues_datum"),
            "{:?}",
            errors.errors()
        );
    }

    #[tokio::test]
    async fn a_move_out_of_hours_or_into_the_past_keeps_the_booking() {
        let state = testing::state(testing::demo_tenants(&["a"]));
        let a = testing::tenant(&state, "a");
        let call = testing::call(&state, &a, "call_a");
        let id = testing::book(&call, "9 Uhr").await;

        let late = call
            .reschedule(&json!({"booking_id": id, "datum": "14.10.2026", "uhrzeit": "21:00"}))
            .await;
        assert_ne!(late.status, Status::Rescheduled, "{}", late.message);
        let past = call
            .reschedule(&json!({"booking_id": id, "datum": "12.10.2026", "uhrzeit": "7:30"}))
            .await;
        assert_eq!(past.status, Status::PastTime, "{}", past.message);

        // "halb drei" is 14:30 where the business is open then, not 02:30.
        let afternoon = call
            .reschedule(&json!({"booking_id": id, "datum": "14.10.2026", "uhrzeit": "halb drei"}))
            .await;
        assert_eq!(
            afternoon.status,
            Status::Rescheduled,
            "{}",
            afternoon.message
        );
        assert_eq!(testing::data(&afternoon)["slot"]["time"], "14:30");
        let id = testing::data(&afternoon)["booking_id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Still booked under its id: it can be moved again.
        let moved = call
            .reschedule(&json!({"booking_id": id, "datum": "14.10.2026", "uhrzeit": "11:30"}))
            .await;
        assert_eq!(moved.status, Status::Rescheduled, "{}", moved.message);
        let data = testing::data(&moved);
        assert_eq!(data["previous_booking_id"], id.as_str());
        assert_eq!(data["slot"]["time"], "11:30");
        let new_id = data["booking_id"].as_str().unwrap();
        assert_ne!(new_id, id);
        // The old id is gone, the new one is there.
        assert!(call.record(&id).await.ok().flatten().is_none());
        assert!(call.record(new_id).await.ok().flatten().is_some());
    }

    #[tokio::test]
    async fn another_tenants_booking_is_not_moved() {
        let state = testing::state(testing::demo_tenants(&["a", "b"]));
        let (a, b) = (testing::tenant(&state, "a"), testing::tenant(&state, "b"));
        let id = testing::book(&testing::call(&state, &a, "call_a"), "9 Uhr").await;
        let reply = testing::call(&state, &b, "call_b")
            .reschedule(&json!({"booking_id": id, "datum": "14.10.2026", "uhrzeit": "11:30"}))
            .await;
        assert_eq!(reply.status, Status::NotFound, "{}", reply.message);
    }
}
