//! `collect_appointment` and `book_appointment`: only the wished slot
//! itself is ever booked, idempotently per call and slot.

use super::*;

impl Call<'_> {
    /// `collect_appointment` (`book` false: books only with `bestaetigung`)
    /// and `book_appointment` (`book` true).
    pub(super) async fn collect(&self, args: &Value, book: bool) -> Reply {
        let (request, index) = match self.request_and_service(args) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let service = &self.tenant.services[index];
        if request.time.is_none() && (book || request.confirm_booking == Some(true)) {
            return single_error("uhrzeit", ValidationError::Required);
        }
        let wished = self.wished_at(service, &request);
        if let Some(reply) = self.past(wished) {
            return reply;
        }
        let confirmed = book || request.confirm_booking == Some(true);
        if confirmed {
            if request.name.is_none() {
                return single_error("name", ValidationError::Required);
            }
            // Cal.com needs an attendee e-mail address for every booking.
            if self.tenant.backend.needs_email() && request.email.is_none() {
                return single_error("email", ValidationError::Required);
            }
            // Only the wished slot itself is booked: a wish outside the
            // opening hours (or in a clock-change gap) is never moved and
            // booked; the caller hears why and what is free instead.
            let inside = self
                .tenant
                .tenant
                .hours()
                .adjust(wished, service.duration)
                .is_some_and(|a| a.adjustment.is_none());
            let start = self.instant(wished).filter(|_| inside);
            let Some(start) = start else {
                let outcome = self.find(service, wished, 3).await;
                return self.not_offered(&outcome, service);
            };
            let customer = Customer {
                name: request.name.clone().unwrap_or_default(),
                email: request.email.clone(),
                phone: request.phone.clone(),
            };
            return self.book(index, start, wished, Some(&customer)).await;
        }
        let outcome = self.find(service, wished, 3).await;
        match &outcome {
            // Only the wished slot itself: anything else is offered, not
            // held for confirmation.
            Outcome::Available { offer, .. } if outcome.unmet().is_none() => Reply::ok(
                Status::AwaitingConfirmation,
                format!(
                    "Ich habe {} für {} frei. Soll ich den Termin verbindlich für Sie buchen?",
                    speak::slot(offer.local_date, offer.local_time, self.today()),
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
            _ => self.not_offered(&outcome, service),
        }
    }

    /// The reply when the wish itself cannot be booked: why, and the
    /// alternatives (`data.reason`, `data.alternatives`); nothing is booked.
    pub(super) fn not_offered(&self, outcome: &Outcome, service: &Service) -> Reply {
        let message = outcome.speak(Lang::De);
        let reason = outcome.unmet().map(Unmet::as_str);
        let mut offers: Vec<Offer> = outcome.alternatives().to_vec();
        if let Outcome::Available { offer, .. } = outcome {
            offers.push(*offer);
        }
        match outcome {
            Outcome::Available { .. } | Outcome::Alternatives { .. } => Reply::fail(
                Status::Unavailable,
                message,
                json!({
                    "alternatives": self.offers_json(&offers, service),
                    "reason": reason,
                }),
            ),
            Outcome::NoAvailability { .. } => Reply::fail(
                Status::NoAvailability,
                message,
                json!({"alternatives": [], "reason": reason}),
            ),
            _ => source_unavailable(message),
        }
    }

    /// Books `start` for this call, idempotently per call id + slot.
    pub(super) async fn book(
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
        let backend = &*self.tenant.backend;
        // Shared by the replicas with Redis when every replica sees the
        // same calendar: a retry elsewhere replays. A calendar in this
        // process's memory keeps its record here.
        let records = if backend.shared() {
            &self.state.inner.idempotency
        } else {
            &self.state.inner.local_idempotency
        };
        let existing = self
            .state
            .inner
            .bookings
            .lock()
            .by_call
            .get(&call_key)
            .cloned();
        let attempt = AttemptKey {
            tenant: tenant_id.to_string(),
            call_id: self.call_id.to_owned(),
            service: index,
            start_ms: start.timestamp_millis(),
        };
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
                // Booking without the shared record beats not booking
                // while Redis is down.
                tracing::warn!(error = %e, "booking without the shared idempotency record");
                record_ok = false;
                None
            }
        };
        let booked = match claimed {
            Some(existing) => Ok((existing, true)),
            None => {
                let made = backend
                    .create(NewBooking {
                        tenant: &self.tenant.tenant,
                        service,
                        start,
                        customer,
                        call_id: self.call_id,
                    })
                    .await;
                match made {
                    Ok(made) => {
                        let public = made.handle.public_id();
                        record_ok &= records.complete(&attempt, &public).await;
                        let mut bookings = self.state.inner.bookings.lock();
                        bookings.by_id.insert(
                            (tenant_id.clone(), public.clone()),
                            BookingRecord {
                                id: made.handle,
                                service: index,
                                start,
                            },
                        );
                        bookings.by_call.insert(call_key, public.clone());
                        Ok((public, made.recovered))
                    }
                    Err(error) => {
                        records.abandon(&attempt).await;
                        match error {
                            BackendError::SlotTaken => Err(CalendarError::SlotNotFree),
                            other => return Self::backend_failure(other),
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
                    Status::Booked,
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
                // Taken meanwhile (or never a slot start): why, and what is
                // free instead, as `check_availability` would say it.
                let outcome = self.find(service, wished, 3).await;
                let mut offers: Vec<Offer> = outcome.alternatives().to_vec();
                if let Outcome::Available { offer, .. } = &outcome {
                    if offer.start != start {
                        offers.push(*offer);
                    }
                }
                let message = if outcome.alternatives().is_empty() {
                    let mut message = CalendarError::SlotNotFree
                        .user_message(Lang::De)
                        .into_owned();
                    if !offers.is_empty() {
                        let slots: Vec<_> = offers
                            .iter()
                            .map(|o| (o.local_date, o.local_time))
                            .collect();
                        message.push_str(&format!(
                            " Ich kann Ihnen {} anbieten.",
                            speak::list(&slots, self.today())
                        ));
                    }
                    message
                } else {
                    outcome.speak(Lang::De)
                };
                Reply::fail(
                    Status::SlotTaken,
                    message,
                    json!({
                        "alternatives": self.offers_json(&offers, service),
                        "reason": outcome.unmet().map(Unmet::as_str),
                        "idempotency_record": record_state(record_ok),
                    }),
                )
            }
            Err(e) => source_unavailable(e.user_message(Lang::De)),
        }
    }

    pub(super) fn spoken_at(&self, start: DateTime<Utc>) -> String {
        let local = self.tenant.tenant.hours().local(start);
        speak::slot(local.date(), local.time(), self.today())
    }

    /// Drops the cached slots of `start`'s day for every service (a booking
    /// blocks the calendar for all of them).
    pub(super) async fn invalidate(&self, start: DateTime<Utc>) {
        let day = self.tenant.tenant.hours().local_date(start);
        for s in &self.tenant.services {
            self.tenant
                .finder
                .cache()
                .invalidate(self.tenant.tenant.id(), &s.event_type, day)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing;
    use super::*;

    fn wish(uhrzeit: &str) -> Value {
        json!({"datum": "14.10.2026", "uhrzeit": uhrzeit, "name": "Max Muster"})
    }

    #[tokio::test]
    async fn the_demo_backend_books_cancels_and_refuses_what_is_not_its_own() {
        let state = testing::state(testing::demo_tenants(&["a"]));
        let a = testing::tenant(&state, "a");
        let backend = &*a.backend;
        assert!(!backend.shared(), "the demo calendar lives in one process");
        assert!(!backend.needs_email());
        assert!(backend.breaker().is_none());
        let service = &a.services[0];
        // 9:00 in Berlin, free in the demo calendar.
        let start = Utc.with_ymd_and_hms(2026, 10, 14, 7, 0, 0).unwrap();
        let booking = NewBooking {
            tenant: &a.tenant,
            service,
            start,
            customer: None,
            call_id: "call_1",
        };
        let made = backend.create(booking).await.expect("a free slot books");
        assert!(!made.recovered);
        assert!(matches!(made.handle, BookingHandle::Demo(_)));
        // The same slot again is taken: the backend knows no idempotency.
        assert_eq!(
            backend.create(booking).await.err(),
            Some(BackendError::SlotTaken)
        );
        let tenant = a.tenant.id();
        let foreign = BookingHandle::Calcom("uid_1".to_owned());
        assert_eq!(
            backend.cancel(tenant, &foreign).await,
            Err(BackendError::NotFound)
        );
        assert!(backend.reschedule(tenant, &made.handle, start).is_none());
        let looked_up = backend
            .lookup(tenant, &made.handle.public_id(), &a.services)
            .await;
        assert!(matches!(looked_up, Ok(None)), "{looked_up:?}");
        backend.cancel(tenant, &made.handle).await.expect("cancels");
        // Free again once cancelled.
        assert!(backend.create(booking).await.is_ok());
    }

    #[tokio::test]
    async fn collect_holds_nothing_until_confirmed() {
        let state = testing::state(testing::demo_tenants(&["a"]));
        let a = testing::tenant(&state, "a");
        let first = testing::call(&state, &a, "call_1");
        let held = first.collect(&wish("9 Uhr"), false).await;
        assert_eq!(
            held.status,
            Status::AwaitingConfirmation,
            "{}",
            held.message
        );
        // Another caller can still book that slot.
        testing::book(&testing::call(&state, &a, "call_2"), "9 Uhr").await;
        let confirmed = first
            .collect(&json!({"datum": "14.10.2026", "uhrzeit": "9 Uhr", "name": "Max Muster", "bestaetigung": true}), false)
            .await;
        assert_eq!(confirmed.status, Status::SlotTaken, "{}", confirmed.message);
    }

    #[tokio::test]
    async fn a_retry_of_the_same_call_replays_and_another_call_is_refused() {
        let state = testing::state(testing::demo_tenants(&["a"]));
        let a = testing::tenant(&state, "a");
        let call = testing::call(&state, &a, "call_1");
        let first = call.collect(&wish("9 Uhr"), true).await;
        let second = call.collect(&wish("9:00"), true).await;
        assert_eq!(
            (first.status, second.status),
            (Status::Booked, Status::Booked)
        );
        let (first, second) = (testing::data(&first), testing::data(&second));
        assert_eq!(first["booking_id"], second["booking_id"]);
        assert_eq!(
            (
                first["idempotent_replay"].clone(),
                second["idempotent_replay"].clone()
            ),
            (json!(false), json!(true))
        );
        let other = testing::call(&state, &a, "call_2")
            .collect(&wish("9 Uhr"), true)
            .await;
        assert_eq!(other.status, Status::SlotTaken, "{}", other.message);
        let alternatives = testing::data(&other)["alternatives"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(alternatives.len() >= 2, "{}", testing::data(&other));
    }

    #[tokio::test]
    async fn only_the_wished_slot_is_booked_and_only_with_a_name() {
        let state = testing::state(testing::demo_tenants(&["a"]));
        let a = testing::tenant(&state, "a");
        let call = testing::call(&state, &a, "call_1");
        let nameless = call
            .collect(&json!({"datum": "14.10.2026", "uhrzeit": "9 Uhr"}), true)
            .await;
        assert_eq!(nameless.status, Status::ValidationError);
        assert!(testing::data(&nameless)["errors"]
            .to_string()
            .contains("name"));
        let timeless = call
            .collect(&json!({"datum": "14.10.2026", "name": "Max Muster"}), true)
            .await;
        assert_eq!(timeless.status, Status::ValidationError);
        // 21:00 is after closing: never moved to another time and booked.
        let late = call.collect(&wish("21:00"), true).await;
        assert_eq!(late.status, Status::Unavailable, "{}", late.message);
        assert_eq!(testing::data(&late)["reason"], "after_closing");
        assert!(
            state.inner.bookings.lock().by_id.is_empty(),
            "nothing booked"
        );
    }
}
