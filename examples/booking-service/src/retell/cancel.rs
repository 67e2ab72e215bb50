//! `cancel_appointment`, and finding a booking of this tenant by its id.

use super::*;

impl Call<'_> {
    /// Cancels a booking in the tenant's calendar; the reply is what to
    /// answer when that fails.
    pub(super) async fn cancel_upstream(&self, handle: &BookingHandle) -> Result<(), Reply> {
        let tenant_id = self.tenant.tenant.id();
        self.tenant
            .backend
            .cancel(tenant_id, handle)
            .await
            .map_err(Self::backend_failure)
    }

    /// The booking `booking_id` of this tenant: from this process's index,
    /// or from the calendar itself ([`BookingBackend::lookup`](crate::backend::BookingBackend::lookup): a booking
    /// made through another replica or before a restart).
    pub(super) async fn record(&self, booking_id: &str) -> Result<Option<BookingRecord>, Reply> {
        let key = (self.tenant.tenant.id().clone(), booking_id.to_owned());
        if let Some(record) = self.state.inner.bookings.lock().by_id.get(&key).cloned() {
            return Ok(Some(record));
        }
        self.tenant
            .backend
            .lookup(self.tenant.tenant.id(), booking_id, &self.tenant.services)
            .await
            .map_err(Self::backend_failure)
    }

    /// What the caller hears when the calendar refused to find, cancel or
    /// move a booking.
    pub(super) fn backend_failure(error: BackendError) -> Reply {
        match error {
            BackendError::NotFound => Self::not_found(),
            BackendError::SlotTaken => {
                source_unavailable(CalendarError::SlotNotFree.user_message(Lang::De))
            }
            BackendError::Unavailable(message) => source_unavailable(message),
        }
    }

    pub(super) fn not_found() -> Reply {
        Reply::fail(
            Status::NotFound,
            "Diesen Termin kann ich leider nicht finden. Können Sie mir die Buchungsnummer noch einmal nennen?",
            json!({}),
        )
    }

    pub(super) async fn cancel(&self, args: &Value) -> Reply {
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
                    Status::Cancelled,
                    format!("Ihr Termin {} ist storniert.", self.spoken_at(record.start)),
                    json!({
                        "booking_id": args.booking_id,
                        "slot": self.slot_json_at(record.start, service),
                    }),
                )
            }
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

#[cfg(test)]
mod tests {
    use super::super::testing;
    use super::*;

    fn validate(args: Value) -> Result<BookingRef, ValidationErrors> {
        BookingRef::validate(
            &args,
            &ValidationContext::new(testing::now(), chrono_tz::Europe::Berlin),
        )
    }

    #[test]
    fn the_booking_id_is_required_under_either_name() {
        // As the agent heard it: spaces dropped, letters in lower case.
        assert_eq!(
            validate(json!({"booking_id": "b7"})).unwrap().booking_id,
            "b7"
        );
        assert_eq!(
            validate(json!({"buchungsnummer": "B 7"}))
                .unwrap()
                .booking_id,
            "b7"
        );
        for args in [
            json!({}),
            json!({"booking_id": ""}),
            json!({"booking_id": "  "}),
            json!({"booking_id": null}),
        ] {
            let errors = validate(args.clone()).err().expect("no booking id");
            assert!(
                errors.has("booking_id", "required"),
                "{args}: {:?}",
                errors.errors()
            );
        }
        assert!(
            validate(json!("B7")).is_err(),
            "arguments that are no object"
        );
    }

    #[tokio::test]
    async fn a_booking_is_cancelled_once_and_only_by_its_tenant() {
        let state = testing::state(testing::demo_tenants(&["a", "b"]));
        let (a, b) = (testing::tenant(&state, "a"), testing::tenant(&state, "b"));
        let id = testing::book(&testing::call(&state, &a, "call_a"), "9 Uhr").await;
        let args = json!({"booking_id": id});

        // Another tenant does not find it, and it stays booked.
        let other = testing::call(&state, &b, "call_b").cancel(&args).await;
        assert_eq!(other.status, Status::NotFound, "{}", other.message);

        let cancelled = testing::call(&state, &a, "call_a").cancel(&args).await;
        assert_eq!(cancelled.status, Status::Cancelled, "{}", cancelled.message);
        assert_eq!(testing::data(&cancelled)["booking_id"], id.as_str());
        assert_eq!(testing::data(&cancelled)["slot"]["time"], "09:00");
        assert!(
            cancelled.message.starts_with("Ihr Termin "),
            "{}",
            cancelled.message
        );

        let again = testing::call(&state, &a, "call_a").cancel(&args).await;
        assert_eq!(again.status, Status::NotFound, "{}", again.message);
    }

    #[tokio::test]
    async fn an_unknown_id_is_not_found_and_a_missing_one_is_a_validation_error() {
        let state = testing::state(testing::demo_tenants(&["a"]));
        let a = testing::tenant(&state, "a");
        let call = testing::call(&state, &a, "call_a");
        let unknown = call.cancel(&json!({"booking_id": "no-such-booking"})).await;
        assert_eq!(unknown.status, Status::NotFound);
        let missing = call.cancel(&json!({})).await;
        assert_eq!(missing.status, Status::ValidationError);
        assert!(testing::data(&missing)["errors"]
            .to_string()
            .contains("booking_id"));
    }
}
