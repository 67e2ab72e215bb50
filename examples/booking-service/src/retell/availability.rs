//! `check_availability`, `get_alternatives` and `find_next_available`:
//! what the caller wished, as the finder's request, and the answers.

use super::*;

impl Call<'_> {
    /// What the caller wished, as the finder's request: one clock time on
    /// one day (with the other reading of an ambiguous hour, so the finder
    /// takes the one in the opening hours), or a window: several days
    /// (`nächste Woche`), a part of the day (`vormittags`, `ab 16 Uhr`), or
    /// a day without a time (its first free slots).
    pub(super) fn find_request(
        &self,
        service: &Service,
        request: &AppointmentRequest,
    ) -> FindRequest {
        let wish = &request.wish;
        let event = service.event_type.clone();
        let window = || {
            FindRequest::window(
                event.clone(),
                wish.days.from,
                wish.days.to,
                service.duration,
            )
        };
        match (wish.time, wish.days.single_day()) {
            (TimeWish::At(clock), Some(day)) => {
                let at =
                    FindRequest::new(event.clone(), day.and_time(clock.literal), service.duration);
                match clock.alternative {
                    Some(other) => at.with_alternative_reading(other),
                    None => at,
                }
            }
            (TimeWish::At(clock), None) => {
                // "nächste Woche um 10": that time of day on the days, the
                // reading some opening interval holds.
                let time = self.read_clock(clock, wish.days.from, wish.days.to);
                window().with_preference(TimePreference::From(time))
            }
            (TimeWish::Window(w), _) => {
                window().with_preference(TimePreference::Window(w.start, w.end))
            }
            (TimeWish::Any, _) => window(),
        }
        .with_max_alternatives(3)
    }

    /// The reading of `clock` ("um 7": 07:00 or 19:00) that an opening
    /// interval of a day from `from` to `to` holds, when exactly one does;
    /// otherwise the literal one.
    pub(super) fn read_clock(&self, clock: ClockTime, from: NaiveDate, to: NaiveDate) -> NaiveTime {
        let hours = self.tenant.tenant.hours();
        clock.pick(|t| {
            let minute = u16::try_from(t.num_seconds_from_midnight() / 60).unwrap_or(u16::MAX);
            from.iter_days().take_while(|d| *d <= to).any(|d| {
                hours
                    .intervals_on(d)
                    .iter()
                    .any(|iv| iv.start_minutes() <= minute && minute < iv.end_minutes())
            })
        })
    }

    /// For a wish of one day without a clock time (`übermorgen`, `Montag
    /// vormittags`): the request for the start of its window (or the day's
    /// first opening), so a day with nothing free in the window is answered
    /// like a wished time: why (`closed_day`, `holiday`, `taken`) and the
    /// same time on the next open days.
    pub(super) fn single_day_fallback(
        &self,
        service: &Service,
        request: &AppointmentRequest,
    ) -> Option<FindRequest> {
        let day = request.wish.days.single_day()?;
        // The window's start stands for the wish; its end does not narrow
        // the alternatives, which the finder ranks around that time (a
        // window after closing, "abends", gets the day's last slots).
        let wished = match request.wish.time {
            TimeWish::Window(w) => day.and_time(w.start),
            TimeWish::Any => self.wished(day, None),
            TimeWish::At(_) => return None,
        };
        Some(
            FindRequest::new(service.event_type.clone(), wished, service.duration)
                .with_max_alternatives(3),
        )
    }

    /// The local date-time a request names: its clock time on its day, read
    /// in the opening hours (`um 3` is 15:00 where the business is open
    /// then); a day without a time at its first opening.
    pub(super) fn wished_at(
        &self,
        service: &Service,
        request: &AppointmentRequest,
    ) -> NaiveDateTime {
        match (request.wish.time, request.wish.days.single_day()) {
            (TimeWish::At(_), Some(_)) => self
                .find_request(service, request)
                .reading(self.tenant.tenant.hours()),
            _ => self.wished(request.date, request.time),
        }
    }

    pub(super) async fn check_availability(&self, args: &Value) -> Reply {
        let (request, index) = match self.request_and_service(args) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let service = &self.tenant.services[index];
        let find = self.find_request(service, &request);
        if find.window_end.is_none() {
            if let Some(reply) = self.past(find.reading(self.tenant.tenant.hours())) {
                return reply;
            }
        }
        let mut outcome = self.tenant.finder.find(&self.tenant.tenant, &find).await;
        if find.window_end.is_some() {
            let found =
                matches!(outcome, Outcome::Available { .. }) || !outcome.alternatives().is_empty();
            match self.single_day_fallback(service, &request) {
                // Nothing free in one day's window (closed, a holiday, all
                // taken): why, and the wished time on the next days.
                Some(at) if !found => {
                    outcome = self.tenant.finder.find(&self.tenant.tenant, &at).await;
                }
                _ => {
                    let message = outcome.speak(Lang::De);
                    return self.window_reply(&outcome, service, message);
                }
            }
        }
        let message = outcome.speak(Lang::De);
        let unmet = outcome.unmet();
        match &outcome {
            // `available` only for the wished slot itself.
            Outcome::Available { offer, .. } if unmet.is_none() => Reply::ok(
                Status::Available,
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
                Status::Unavailable,
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
                Status::Unavailable,
                message,
                Availability {
                    alternatives: self.slots_out(alternatives, service),
                    available: Some(false),
                    exact: Some(false),
                    reason: unmet.map(Unmet::as_str),
                    slot: Some(None),
                    ..Availability::default()
                },
            ),
            Outcome::NoAvailability { .. } => Reply::fail(
                Status::NoAvailability,
                message,
                json!({"available": false, "slot": null, "alternatives": []}),
            ),
            _ => source_unavailable(message),
        }
    }

    /// `check_availability` for a window (several days, a part of the day,
    /// a day without a time): the first free slots in it. `available` with
    /// `exact: false` (no single slot was wished), the slots as
    /// `alternatives`; `no_availability` when the window has none.
    pub(super) fn window_reply(
        &self,
        outcome: &Outcome,
        service: &Service,
        message: String,
    ) -> Reply {
        let mut offers: Vec<Offer> = Vec::new();
        if let Outcome::Available { offer, .. } = outcome {
            offers.push(*offer);
        }
        offers.extend_from_slice(outcome.alternatives());
        match outcome {
            Outcome::Available { .. } | Outcome::Alternatives { .. } if !offers.is_empty() => {
                Reply::ok(
                    Status::Available,
                    message,
                    Availability {
                        alternatives: self.slots_out(&offers, service),
                        available: Some(true),
                        exact: Some(false),
                        slot: Some(None),
                        ..Availability::default()
                    },
                )
            }
            Outcome::SourceUnavailable { .. } => source_unavailable(message),
            _ => Reply::fail(
                Status::NoAvailability,
                message,
                json!({"available": false, "slot": null, "alternatives": []}),
            ),
        }
    }

    pub(super) async fn alternatives(&self, args: &Value) -> Reply {
        let (request, index) = match self.request_and_service(args) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let service = &self.tenant.services[index];
        let wished = self.wished_at(service, &request);
        if let Some(reply) = self.past(wished) {
            return reply;
        }
        let outcome = self.find(service, wished, 3).await;
        let message = outcome.speak(Lang::De);
        match &outcome {
            Outcome::Available { offer, .. } => Reply::ok(
                Status::Alternatives,
                message,
                Availability {
                    alternatives: self.slots_out(&[*offer], service),
                    requested_available: Some(true),
                    ..Availability::default()
                },
            ),
            Outcome::Alternatives { alternatives, .. } => Reply::ok(
                Status::Alternatives,
                message,
                Availability {
                    alternatives: self.slots_out(alternatives, service),
                    requested_available: Some(false),
                    ..Availability::default()
                },
            ),
            Outcome::NoAvailability { .. } => {
                Reply::fail(Status::NoAvailability, message, json!({"alternatives": []}))
            }
            _ => source_unavailable(message),
        }
    }

    pub(super) async fn next_available(&self, args: &Value) -> Reply {
        let mut args = args.as_object().cloned().unwrap_or_default();
        let has_date = ["datum", "date"].iter().any(|k| {
            args.get(*k)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
        });
        if !has_date {
            args.insert("datum".to_owned(), Value::String("heute".to_owned()));
        }
        let (request, index) = match self.request_and_service(&Value::Object(args)) {
            Ok(found) => found,
            Err(reply) => return reply,
        };
        let service = &self.tenant.services[index];
        // From the wished time (read in the opening hours), else the
        // day's start.
        let wished = match request.wish.time {
            TimeWish::At(_) => self.wished_at(service, &request),
            _ => request.date.and_time(NaiveTime::MIN),
        };
        // The finder's window search: the first free slot from the wished
        // time on, inside the hours and the notice, up to the horizon.
        let mut find = FindRequest::new(service.event_type.clone(), wished, service.duration)
            .with_max_alternatives(1);
        find.window_end = request.date.checked_add_signed(Duration::days(i64::from(
            self.tenant.finder.config().horizon_days,
        )));
        match self.tenant.finder.find(&self.tenant.tenant, &find).await {
            Outcome::SourceUnavailable { error, .. } => {
                return source_unavailable(error.user_message(Lang::De));
            }
            outcome => {
                if let Some(first) = outcome.alternatives().first() {
                    return Reply::ok(
                        Status::Available,
                        format!(
                            "Der nächste freie Termin für {} ist {}.",
                            service.name,
                            self.spoken_at(first.start)
                        ),
                        json!({"available": true, "slot": self.slot_json_at(first.start, service)}),
                    );
                }
            }
        }
        Reply::fail(
            Status::NoAvailability,
            "In den nächsten zwei Wochen ist leider kein Termin frei. Soll ich Sie zurückrufen lassen?",
            json!({"available": false, "slot": null}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing;
    use super::*;

    async fn check(datum: &str, uhrzeit: &str) -> (Reply, Value) {
        let state = testing::state(testing::demo_tenants(&["a"]));
        let a = testing::tenant(&state, "a");
        let reply = testing::call(&state, &a, "call_1")
            .check_availability(&json!({"datum": datum, "uhrzeit": uhrzeit}))
            .await;
        let data = testing::data(&reply);
        (reply, data)
    }

    #[tokio::test]
    async fn a_free_wished_slot_is_available_and_exact() {
        let (reply, data) = check("14.10.2026", "9 Uhr").await;
        assert_eq!(reply.status, Status::Available, "{}", reply.message);
        assert_eq!(data["exact"], true, "{data}");
        assert_eq!(data["slot"]["time"], "09:00", "{data}");
    }

    #[tokio::test]
    async fn an_unmet_wish_names_its_reason_and_two_alternatives() {
        // The demo blocks 10:00–11:00; 17.10.2026 is a Saturday.
        for (datum, uhrzeit, reason) in [
            ("14.10.2026", "10 Uhr", "taken"),
            ("17.10.2026", "10 Uhr", "closed_day"),
            ("14.10.2026", "21 Uhr", "after_closing"),
            ("14.10.2026", "viertel nach neun", "off_grid"),
        ] {
            let (reply, data) = check(datum, uhrzeit).await;
            assert_eq!(
                reply.status,
                Status::Unavailable,
                "{datum} {uhrzeit}: {}",
                reply.message
            );
            assert_eq!(data["exact"], false, "{datum} {uhrzeit}: {data}");
            assert_eq!(data["reason"], reason, "{datum} {uhrzeit}: {data}");
            let offered = data["alternatives"].as_array().map_or(0, Vec::len);
            assert!(offered >= 2, "{datum} {uhrzeit}: {data}");
            assert!(
                !reply.message.contains(&format!("{}.", &datum[..5])),
                "no numeric date: {}",
                reply.message
            );
        }
    }

    /// `get_alternatives` and `find_next_available` on 14.10.2026 at `uhrzeit`.
    async fn around(function: Function, uhrzeit: &str) -> Value {
        let state = testing::state(testing::demo_tenants(&["a"]));
        let a = testing::tenant(&state, "a");
        let call = testing::call(&state, &a, "call_1");
        let args = json!({"datum": "14.10.2026", "uhrzeit": uhrzeit});
        let reply = match function {
            Function::GetAlternatives => call.alternatives(&args).await,
            _ => call.next_available(&args).await,
        };
        testing::data(&reply)
    }

    #[tokio::test]
    async fn alternatives_and_the_next_free_slot_read_the_hour_as_check_availability_does() {
        // "7:30": 07:30 and 19:30 are both closed, so the literal reading
        // counts: before opening, that day's first slot (not the next day's,
        // as after a closing time of 19:30).
        let alternatives = around(Function::GetAlternatives, "7:30").await;
        assert_eq!(
            alternatives["alternatives"][0]["date"], "14.10.2026",
            "{alternatives}"
        );
        assert_eq!(
            alternatives["alternatives"][0]["time"], "09:00",
            "{alternatives}"
        );
        let next = around(Function::FindNextAvailable, "7:30").await;
        assert_eq!(next["slot"]["date"], "14.10.2026", "{next}");
        assert_eq!(next["slot"]["time"], "09:00", "{next}");
        // "um 4": 16:00 is open, 04:00 is not.
        let next = around(Function::FindNextAvailable, "um 4").await;
        assert_eq!(next["slot"]["time"], "16:00", "{next}");
    }

    #[tokio::test]
    async fn a_past_wish_is_refused_and_a_past_day_is_no_date() {
        // Earlier today (it is 08:00): past. A day before today is no
        // date the caller can mean: a validation error naming `datum`.
        let (reply, _) = check("12.10.2026", "7:30").await;
        assert_eq!(reply.status, Status::PastTime, "{}", reply.message);
        let (reply, data) = check("09.10.2026", "9 Uhr").await;
        assert_eq!(reply.status, Status::ValidationError, "{}", reply.message);
        assert!(data["errors"].to_string().contains("datum"), "{data}");
    }
}
