//! The `collect_appointment` / `book_appointment` argument object.

use chrono::{NaiveDate, NaiveTime};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::context::ValidationContext;
use crate::email::normalize_email;
use crate::error::{FieldError, ValidationError, ValidationErrors};
use crate::phone::normalize_phone;
use crate::text::{clean_text, clean_text_max};
use crate::window::typical_business_hours;
use crate::wish::{wish_fields, Wish};

/// A type that can be built from an untrusted JSON argument object.
pub trait Validate: Sized {
    /// Validates and normalizes `args`, collecting every field error.
    fn validate(args: &Value, ctx: &ValidationContext) -> Result<Self, ValidationErrors>;
}

/// Default appointment length in minutes.
pub const DEFAULT_DURATION_MINUTES: u32 = 60;
/// Shortest appointment in minutes.
pub const MIN_DURATION_MINUTES: u32 = 15;
/// Longest appointment in minutes.
pub const MAX_DURATION_MINUTES: u32 = 480;

/// Inputs far longer than a field's limit are refused before cleaning, so a
/// huge value costs no HTML parsing: `limit * RAW_FACTOR + RAW_SLACK` characters.
const RAW_FACTOR: usize = 8;
const RAW_SLACK: usize = 256;

/// `(German name, English alias, max characters)`.
const TEXT_FIELDS: &[(&str, &str, usize)] = &[
    ("datum", "date", 40),
    ("uhrzeit", "time", 40),
    ("name", "customer_name", 150),
    ("dienstleistung", "service", 250),
    ("email", "email", 254),
    ("telefonnummer", "phone", 40),
    ("mitarbeiter", "staff", 150),
    ("notiz", "notes", 1000),
    ("call_id", "call_id", 100),
];
const OTHER_FIELDS: &[(&str, &str)] = &[
    ("bestaetigung", "confirm_booking"),
    ("duration", "duration"),
];

/// A validated, normalized appointment request.
///
/// `datum` and `uhrzeit` are read together as a [`Wish`] (see
/// [`parse_wish`](crate::parse_wish)): `datum` may name one day (`übermorgen`)
/// or a window of days (`nächste Woche`, `so bald wie möglich`) and may carry
/// the time of day (`morgen vormittag`); `uhrzeit` may be a clock time (`halb
/// drei`), a window (`vormittags`, `ab 16 Uhr`) or `egal`. `date` and `time`
/// keep their old meaning for exact wishes; [`AppointmentRequest::wish`] has
/// the whole wish.
///
/// Only `datum` is required; every other field is optional. Field names are
/// German with an English alias (`datum`/`date`, `uhrzeit`/`time`,
/// `name`/`customer_name`, `dienstleistung`/`service`, `email`,
/// `telefonnummer`/`phone`, `mitarbeiter`/`staff`, `notiz`/`notes`,
/// `bestaetigung`/`confirm_booking`, `duration`, `call_id`); an empty German
/// value falls back to the alias. Unknown fields are errors.
///
/// ```
/// use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
/// use voxcal_request_validation::{AppointmentRequest, ValidationContext};
///
/// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
/// let args = serde_json::json!({
///     "datum": "übermorgen", "uhrzeit": "halb drei", "name": "<b>Max</b> Müller",
///     "email": "max punkt müller at gmx punkt de", "telefonnummer": "0171 1234567",
/// });
/// let request = AppointmentRequest::parse(&args, &ctx).unwrap();
/// assert_eq!(request.date, NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
/// assert_eq!(request.time, NaiveTime::from_hms_opt(14, 30, 0));
/// assert_eq!(request.name.as_deref(), Some("Max Müller"));
/// assert_eq!(request.email.as_deref(), Some("max.müller@gmx.de"));
/// assert_eq!(request.phone.as_deref(), Some("+491711234567"));
/// assert_eq!(request.duration_minutes, 60);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppointmentRequest {
    /// The appointment day (`datum`), never in the past; for a window of days
    /// (`nächste Woche`) its first day ([`Wish::days`] has the window).
    pub date: NaiveDate,
    /// The clock time (`uhrzeit`, or a time said in `datum`) as
    /// [`parse_time`](crate::parse_time) reads it (an hour 1–7 is the
    /// afternoon); `None` when no time was given or the wish is a window
    /// (`vormittags`, `ab 16 Uhr`) or `egal`. [`Wish::time`] keeps both
    /// readings of an ambiguous hour.
    pub time: Option<NaiveTime>,
    /// What the caller wished: the days and the time of day, windows
    /// included, read from `datum` and `uhrzeit` with ambiguous window bounds
    /// against [`typical_business_hours`].
    ///
    /// ```
    /// use chrono::{NaiveDate, TimeZone, Utc};
    /// use voxcal_request_validation::{AppointmentRequest, PartOfDay, TimeWish, ValidationContext};
    ///
    /// let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
    /// let args = serde_json::json!({"datum": "nächste Woche", "uhrzeit": "vormittags"});
    /// let request = AppointmentRequest::parse(&args, &ctx).unwrap();
    /// assert_eq!(request.wish.days.to, NaiveDate::from_ymd_opt(2026, 12, 6).unwrap());
    /// assert_eq!(request.wish.time, TimeWish::Window(PartOfDay::Vormittag.window()));
    /// assert_eq!(request.date, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    /// assert_eq!(request.time, None);
    /// ```
    pub wish: Wish,
    /// The caller's name, cleaned.
    pub name: Option<String>,
    /// The requested service, cleaned.
    pub service: Option<String>,
    /// The e-mail address, normalized (domain lower-cased).
    pub email: Option<String>,
    /// The phone number in E.164.
    pub phone: Option<String>,
    /// The requested staff member, cleaned.
    pub staff: Option<String>,
    /// Free-text notes, cleaned.
    pub notes: Option<String>,
    /// Whether the caller confirmed the booking.
    pub confirm_booking: Option<bool>,
    /// Length in minutes, 15–480, default 60.
    pub duration_minutes: u32,
    /// The Retell call id, cleaned.
    pub call_id: Option<String>,
}

impl AppointmentRequest {
    /// Validates a Retell `args` object; the same as [`Validate::validate`].
    pub fn parse(args: &Value, ctx: &ValidationContext) -> Result<Self, ValidationErrors> {
        <Self as Validate>::validate(args, ctx)
    }
}

impl Validate for AppointmentRequest {
    fn validate(args: &Value, ctx: &ValidationContext) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let Some(map) = args.as_object() else {
            errors.push(FieldError::new(
                "args",
                ValidationError::WrongType { expected: "object" },
            ));
            return Err(errors);
        };
        let mut fields = Fields { map, errors };

        // datum and uhrzeit are read together; each field's cleaning error
        // stays before its parse error, and datum's before uhrzeit's.
        let datum = fields.text("datum", |s| Ok(s.to_owned()), true);
        let datum_errors = std::mem::take(&mut fields.errors);
        let uhrzeit = fields.text("uhrzeit", |s| Ok(s.to_owned()), false);
        let uhrzeit_errors = std::mem::replace(&mut fields.errors, datum_errors);
        let (days, when) = wish_fields(
            datum.as_deref(),
            uhrzeit.as_deref(),
            ctx.today(),
            &typical_business_hours,
        );
        let days = days.map_err(|e| fields.fail("datum", e)).ok();
        for e in uhrzeit_errors.errors() {
            fields.errors.push(e.clone());
        }
        let when = when.map_err(|e| fields.fail("uhrzeit", e)).ok();
        let wish = match (days.filter(|_| datum.is_some()), when) {
            (Some(days), Some((time, legacy))) => Some((Wish { days, time }, legacy)),
            _ => None,
        };
        let name = fields.text("name", |s| Ok(s.to_owned()), false);
        let service = fields.text("dienstleistung", |s| Ok(s.to_owned()), false);
        let email = fields.email();
        let phone = fields.phone();
        let staff = fields.text("mitarbeiter", |s| Ok(s.to_owned()), false);
        let notes = fields.text("notiz", |s| Ok(s.to_owned()), false);
        let confirm_booking = fields.boolean("bestaetigung");
        let duration = fields.duration();
        let call_id = fields.text("call_id", |s| Ok(s.to_owned()), false);

        let Fields { mut errors, .. } = fields;
        // Unknown fields last: the first error is what the agent says.
        for key in map.keys() {
            let known = TEXT_FIELDS.iter().any(|(de, en, _)| key == de || key == en)
                || OTHER_FIELDS.iter().any(|(de, en)| key == de || key == en);
            if !known {
                errors.push(FieldError::new(key.as_str(), ValidationError::UnknownField));
            }
        }
        match (wish, errors.is_empty()) {
            (Some((wish, time)), true) => Ok(Self {
                date: wish.days.from,
                time,
                wish,
                name,
                service,
                email,
                phone,
                staff,
                notes,
                confirm_booking,
                duration_minutes: duration,
                call_id,
            }),
            _ => Err(errors),
        }
    }
}

struct Fields<'a> {
    map: &'a Map<String, Value>,
    errors: ValidationErrors,
}

/// The German value unless it is absent, null or blank; then the alias.
fn raw<'a>(map: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    let usable = |v: &&Value| match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    };
    map.get(field)
        .filter(usable)
        .or_else(|| map.get(alias_of(field)).filter(usable))
}

impl<'a> Fields<'a> {
    fn fail(&mut self, field: &str, error: ValidationError) {
        self.errors.push(FieldError::new(field, error));
    }

    fn string(&mut self, field: &str, required: bool) -> Option<&'a str> {
        match raw(self.map, field) {
            None => {
                if required {
                    self.fail(field, ValidationError::Required);
                }
                None
            }
            Some(Value::String(s)) => {
                let max = max_of(field);
                let actual = s.chars().count();
                if actual > max * RAW_FACTOR + RAW_SLACK {
                    self.fail(field, ValidationError::TooLong { max, actual });
                    return None;
                }
                Some(s.as_str())
            }
            Some(_) => {
                self.fail(field, ValidationError::WrongType { expected: "string" });
                None
            }
        }
    }

    fn text<T>(
        &mut self,
        field: &'static str,
        parse: impl FnOnce(&str) -> Result<T, ValidationError>,
        required: bool,
    ) -> Option<T> {
        let raw = self.string(field, required)?;
        let result = clean_text_max(raw, max_of(field)).and_then(|clean| parse(&clean));
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(field, e);
                None
            }
        }
    }

    /// The phone limit applies after spoken digit words are converted.
    fn phone(&mut self) -> Option<String> {
        let raw = self.string("telefonnummer", false)?;
        match clean_text(raw).and_then(|clean| normalize_phone(&clean)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail("telefonnummer", e);
                None
            }
        }
    }

    /// E-mail gets its own hygiene: NFKC, then control and invisible
    /// characters are refused instead of removed.
    fn email(&mut self) -> Option<String> {
        let raw = self.string("email", false)?;
        let result = normalize_email(raw).and_then(|email| {
            let actual = email.chars().count();
            if actual > 254 {
                Err(ValidationError::TooLong { max: 254, actual })
            } else {
                Ok(email)
            }
        });
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail("email", e);
                None
            }
        }
    }

    fn boolean(&mut self, field: &'static str) -> Option<bool> {
        let parsed = match raw(self.map, field)? {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) => match n.as_i64() {
                Some(1) => Ok(true),
                Some(0) => Ok(false),
                _ => Err(ValidationError::InvalidBoolean),
            },
            Value::String(s) => match s.trim().to_lowercase().as_str() {
                "true" | "1" | "ja" => Ok(true),
                "false" | "0" | "nein" => Ok(false),
                _ => Err(ValidationError::InvalidBoolean),
            },
            _ => Err(ValidationError::InvalidBoolean),
        };
        parsed.map_err(|e| self.fail(field, e)).ok()
    }

    fn duration(&mut self) -> u32 {
        let range = ValidationError::OutOfRange {
            min: MIN_DURATION_MINUTES.into(),
            max: MAX_DURATION_MINUTES.into(),
        };
        let parsed: Result<i64, ValidationError> = match raw(self.map, "duration") {
            None => return DEFAULT_DURATION_MINUTES,
            Some(Value::Number(n)) => n.as_i64().ok_or(ValidationError::WrongType {
                expected: "integer",
            }),
            Some(Value::String(s)) => {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| ValidationError::WrongType {
                        expected: "integer",
                    })
            }
            Some(_) => Err(ValidationError::WrongType {
                expected: "integer",
            }),
        };
        match parsed {
            Ok(n)
                if (i64::from(MIN_DURATION_MINUTES)..=i64::from(MAX_DURATION_MINUTES))
                    .contains(&n) =>
            {
                u32::try_from(n).unwrap_or(DEFAULT_DURATION_MINUTES)
            }
            Ok(_) => {
                self.fail("duration", range);
                DEFAULT_DURATION_MINUTES
            }
            Err(e) => {
                self.fail("duration", e);
                DEFAULT_DURATION_MINUTES
            }
        }
    }
}

fn alias_of(field: &str) -> &'static str {
    TEXT_FIELDS
        .iter()
        .find(|(de, _, _)| *de == field)
        .map(|(_, en, _)| *en)
        .or_else(|| {
            OTHER_FIELDS
                .iter()
                .find(|(de, _)| *de == field)
                .map(|(_, en)| *en)
        })
        .unwrap_or("")
}

fn max_of(field: &str) -> usize {
    TEXT_FIELDS
        .iter()
        .find(|(de, _, _)| *de == field)
        .map_or(0, |(_, _, max)| *max)
}

impl Serialize for AppointmentRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("date", &self.date.format("%Y-%m-%d").to_string())?;
        map.serialize_entry("time", &self.time.map(|t| t.format("%H:%M").to_string()))?;
        map.serialize_entry("wish", &self.wish)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("service", &self.service)?;
        map.serialize_entry("email", &self.email)?;
        map.serialize_entry("phone", &self.phone)?;
        map.serialize_entry("staff", &self.staff)?;
        map.serialize_entry("notes", &self.notes)?;
        map.serialize_entry("confirm_booking", &self.confirm_booking)?;
        map.serialize_entry("duration_minutes", &self.duration_minutes)?;
        map.serialize_entry("call_id", &self.call_id)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;

    fn ctx() -> ValidationContext {
        // Friday 2026-11-27, 10:00 in Berlin.
        ValidationContext::new(
            Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(),
            chrono_tz::Europe::Berlin,
        )
    }

    #[test]
    fn english_aliases_and_fallback() {
        let args = json!({"datum": "", "date": "morgen", "customer_name": "O'Brien", "confirm_booking": "ja", "duration": "30"});
        let r = AppointmentRequest::parse(&args, &ctx()).unwrap();
        assert_eq!(r.date, NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
        assert_eq!(r.name.as_deref(), Some("O'Brien"));
        assert_eq!(r.confirm_booking, Some(true));
        assert_eq!(r.duration_minutes, 30);
    }

    #[test]
    fn every_error_is_collected() {
        let args = json!({
            "datum": "gestern", "uhrzeit": "Kuchen", "name": "<script>x</script>",
            "email": "max at gmx", "telefonnummer": "0171 abc", "bestaetigung": "vielleicht",
            "duration": 5, "notiz": "a".repeat(1001), "colour": "blue",
        });
        let errors = AppointmentRequest::parse(&args, &ctx()).unwrap_err();
        for (field, code) in [
            ("datum", "invalid_date"),
            ("uhrzeit", "invalid_time"),
            ("name", "markup_only"),
            ("email", "invalid_email"),
            ("telefonnummer", "invalid_phone"),
            ("bestaetigung", "invalid_boolean"),
            ("duration", "out_of_range"),
            ("notiz", "too_long"),
            ("colour", "unknown_field"),
        ] {
            assert!(errors.has(field, code), "{field} {code}: {errors:?}");
        }
        assert_eq!(errors.errors().len(), 9);
    }

    #[test]
    fn placeholders_and_past_dates() {
        let today =
            AppointmentRequest::parse(&json!({"datum": "{{current_date}}"}), &ctx()).unwrap();
        assert_eq!(today.date, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
        let e = AppointmentRequest::parse(&json!({"datum": "{{datum}}"}), &ctx()).unwrap_err();
        assert!(e.has("datum", "unfilled_placeholder"));
        let e = AppointmentRequest::parse(&json!({"datum": "26.11.2026"}), &ctx()).unwrap_err();
        assert!(e.has("datum", "past_date"));
        assert!(crate::UserMessage::user_message(&e, crate::Lang::De).contains("Vergangenheit"));
        let e = AppointmentRequest::parse(&json!({}), &ctx()).unwrap_err();
        assert!(e.has("datum", "required"));
    }
}
