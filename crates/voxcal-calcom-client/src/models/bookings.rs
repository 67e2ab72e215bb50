//! Bookings (`cal-api-version: 2024-08-13`): create, get, list, cancel, reschedule.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::{instant, redacted_opt, EventTypeTarget, Redacted};
use crate::error::CalcomError;

/// The person the booking is for.
///
/// `Debug` redacts name, e-mail and phone number.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    /// Full name.
    pub name: String,
    /// E-mail address (optional: phone callers often have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// IANA time zone of the attendee (`Europe/Berlin`).
    pub time_zone: String,
    /// Phone number in E.164 (`+4930123456`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Language of Cal.com's e-mails to the attendee (`de`, `en`, …).
    pub language: String,
}

impl Attendee {
    /// An attendee in `time_zone`, language `de`.
    pub fn new(name: impl Into<String>, time_zone: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            email: None,
            time_zone: time_zone.into(),
            phone_number: None,
            language: "de".to_owned(),
        }
    }

    /// Sets the e-mail address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the phone number (E.164).
    pub fn phone_number(mut self, phone: impl Into<String>) -> Self {
        self.phone_number = Some(phone.into());
        self
    }

    /// Sets the language.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }
}

impl fmt::Debug for Attendee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attendee")
            .field("name", &Redacted)
            .field("email", &redacted_opt(&self.email))
            .field("time_zone", &self.time_zone)
            .field("phone_number", &redacted_opt(&self.phone_number))
            .field("language", &self.language)
            .finish()
    }
}

/// Where the meeting takes place (one of the event type's locations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum BookingLocation {
    /// The organizer's address.
    Address,
    /// The attendee's address.
    AttendeeAddress {
        /// The address.
        address: String,
    },
    /// A location the attendee typed.
    AttendeeDefined {
        /// The location text.
        location: String,
    },
    /// The organizer calls the attendee.
    AttendeePhone {
        /// The attendee's number.
        phone: String,
    },
    /// A conferencing integration.
    Integration {
        /// The integration (`cal-video`, `google-meet`, `zoom`, …).
        integration: String,
    },
    /// The organizer's link.
    Link,
    /// The attendee calls the organizer.
    Phone,
    /// The organizer's default conferencing app (team events).
    OrganizersDefaultApp,
}

/// Cal.com's `metadata` limits, enforced before sending.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MetadataLimits;

impl MetadataLimits {
    pub(crate) const MAX_KEYS: usize = 50;
    pub(crate) const MAX_KEY_CHARS: usize = 40;
    pub(crate) const MAX_VALUE_CHARS: usize = 500;
}

/// Body of `POST /v2/bookings`.
///
/// ```
/// use voxcal_calcom_client::{Attendee, BookingLocation, CreateBookingRequest};
///
/// let start = "2026-12-01T09:00:00Z".parse().unwrap();
/// let request = CreateBookingRequest::new(42, start, Attendee::new("Max Müller", "Europe/Berlin"))
///     .location(BookingLocation::Phone)
///     .metadata("call_id", "call_abc");
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["eventTypeId"], 42);
/// assert_eq!(json["start"], "2026-12-01T09:00:00.000Z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateBookingRequest {
    /// Start instant.
    pub start: DateTime<Utc>,
    /// Who books.
    pub attendee: Attendee,
    /// The event type, by id or slug.
    pub event_type: EventTypeTarget,
    /// Length in minutes, for event types with several.
    pub length_in_minutes: Option<u32>,
    /// Extra guests' e-mail addresses.
    pub guests: Vec<String>,
    /// Meeting location.
    pub location: Option<BookingLocation>,
    /// Up to 50 string values (keys ≤ 40 chars, values ≤ 500 chars).
    pub metadata: BTreeMap<String, String>,
    /// Answers to the event type's booking questions, by field slug.
    pub booking_fields_responses: serde_json::Map<String, serde_json::Value>,
}

impl CreateBookingRequest {
    /// A booking of `event_type` at `start` for `attendee`.
    pub fn new(
        event_type: impl Into<EventTypeTarget>,
        start: DateTime<Utc>,
        attendee: Attendee,
    ) -> Self {
        Self {
            start,
            attendee,
            event_type: event_type.into(),
            length_in_minutes: None,
            guests: Vec::new(),
            location: None,
            metadata: BTreeMap::new(),
            booking_fields_responses: serde_json::Map::new(),
        }
    }

    /// Sets the location.
    pub fn location(mut self, location: BookingLocation) -> Self {
        self.location = Some(location);
        self
    }

    /// Adds one metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds one booking-field answer.
    pub fn booking_field(
        mut self,
        slug: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.booking_fields_responses
            .insert(slug.into(), value.into());
        self
    }

    /// Sets the length in minutes.
    pub fn length_in_minutes(mut self, minutes: u32) -> Self {
        self.length_in_minutes = Some(minutes);
        self
    }

    /// Checks what Cal.com would reject without telling us why: the `metadata` limits.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) naming the field.
    pub fn validate(&self) -> Result<(), CalcomError> {
        if self.metadata.len() > MetadataLimits::MAX_KEYS {
            return Err(CalcomError::invalid_request(
                "metadata",
                format!(
                    "metadata has {} keys, at most {} are allowed",
                    self.metadata.len(),
                    MetadataLimits::MAX_KEYS
                ),
            ));
        }
        for (key, value) in &self.metadata {
            if key.chars().count() > MetadataLimits::MAX_KEY_CHARS {
                return Err(CalcomError::invalid_request(
                    "metadata",
                    format!(
                        "metadata key of {} characters, at most {} are allowed",
                        key.chars().count(),
                        MetadataLimits::MAX_KEY_CHARS
                    ),
                ));
            }
            if value.chars().count() > MetadataLimits::MAX_VALUE_CHARS {
                return Err(CalcomError::invalid_request(
                    &format!("metadata.{key}"),
                    format!(
                        "metadata value of {} characters, at most {} are allowed",
                        value.chars().count(),
                        MetadataLimits::MAX_VALUE_CHARS
                    ),
                ));
            }
        }
        if self.attendee.name.trim().is_empty() {
            return Err(CalcomError::invalid_request(
                "attendee.name",
                "attendee name is empty",
            ));
        }
        Ok(())
    }
}

impl Serialize for CreateBookingRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("start", &instant(&self.start))?;
        map.serialize_entry("attendee", &self.attendee)?;
        for (name, value) in self.event_type.pairs("eventTypeId", "eventTypeSlug") {
            match (name, &self.event_type) {
                ("eventTypeId", EventTypeTarget::Id(id)) => map.serialize_entry(name, id)?,
                _ => map.serialize_entry(name, &value)?,
            }
        }
        if let Some(minutes) = self.length_in_minutes {
            map.serialize_entry("lengthInMinutes", &minutes)?;
        }
        if !self.guests.is_empty() {
            map.serialize_entry("guests", &self.guests)?;
        }
        if let Some(location) = &self.location {
            map.serialize_entry("location", location)?;
        }
        if !self.metadata.is_empty() {
            map.serialize_entry("metadata", &self.metadata)?;
        }
        if !self.booking_fields_responses.is_empty() {
            map.serialize_entry("bookingFieldsResponses", &self.booking_fields_responses)?;
        }
        map.end()
    }
}

/// Body of `POST /v2/bookings/{uid}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelBookingRequest {
    /// Why (shown to the attendee).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// For recurring bookings: cancel later occurrences too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_subsequent_bookings: Option<bool>,
}

impl CancelBookingRequest {
    /// A cancellation with a reason.
    pub fn with_reason(reason: impl Into<String>) -> Self {
        Self {
            cancellation_reason: Some(reason.into()),
            cancel_subsequent_bookings: None,
        }
    }
}

/// Body of `POST /v2/bookings/{uid}/reschedule`. Cal.com answers with a new booking
/// (new uid); the old one is cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RescheduleBookingRequest {
    /// New start instant.
    #[serde(with = "super::utc_millis")]
    pub start: DateTime<Utc>,
    /// E-mail of whoever reschedules (organizer or attendee).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescheduled_by: Option<String>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescheduling_reason: Option<String>,
}

impl RescheduleBookingRequest {
    /// Move to `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            start,
            rescheduled_by: None,
            rescheduling_reason: None,
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.rescheduling_reason = Some(reason.into());
        self
    }
}

/// A booking's state. Read case-insensitively (`accepted` in the API, `ACCEPTED` in
/// webhooks); a value this client does not know is [`Unknown`](Self::Unknown)
/// instead of a decoding failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BookingStatus {
    /// Confirmed.
    Accepted,
    /// Waiting for the organizer's confirmation.
    Pending,
    /// Cancelled.
    Cancelled,
    /// Rejected by the organizer.
    Rejected,
    /// A status this client does not know yet (`awaiting_host`, …).
    Unknown,
}

impl BookingStatus {
    /// The status for Cal.com's text, in any letter case.
    pub fn from_wire(text: &str) -> Self {
        match text.trim().to_ascii_lowercase().as_str() {
            "accepted" => Self::Accepted,
            "pending" => Self::Pending,
            "cancelled" | "canceled" => Self::Cancelled,
            "rejected" => Self::Rejected,
            _ => Self::Unknown,
        }
    }
}

impl<'de> Deserialize<'de> for BookingStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Self::from_wire(&text))
    }
}

/// The event type a booking belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EventTypeSummary {
    /// Id.
    pub id: u64,
    /// Slug.
    pub slug: String,
}

/// A host (organizer) of a booking. `Debug` redacts name and e-mail.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingHost {
    /// User id.
    pub id: u64,
    /// Name.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub name: String,
    /// E-mail.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub email: String,
    /// Username.
    #[serde(default)]
    pub username: Option<String>,
    /// Time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl fmt::Debug for BookingHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookingHost")
            .field("id", &self.id)
            .field("name", &Redacted)
            .field("email", &Redacted)
            .field("time_zone", &self.time_zone)
            .finish_non_exhaustive()
    }
}

/// An attendee of a booking. `Debug` redacts name, e-mail and phone.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingAttendee {
    /// Name.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub name: String,
    /// E-mail.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub email: String,
    /// Time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Language.
    #[serde(default, deserialize_with = "super::lenient::opt_text")]
    pub language: Option<String>,
    /// Marked as no-show.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub absent: bool,
    /// Phone number.
    #[serde(default)]
    pub phone_number: Option<String>,
}

impl fmt::Debug for BookingAttendee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookingAttendee")
            .field("name", &Redacted)
            .field("email", &Redacted)
            .field("time_zone", &self.time_zone)
            .field("absent", &self.absent)
            .field("phone_number", &redacted_opt(&self.phone_number))
            .finish_non_exhaustive()
    }
}

/// A booking as Cal.com returns it. Unknown fields are ignored, optional ones default.
///
/// `Debug` leaves out title, description, location, guests, metadata and answers
/// (they carry personal data).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Booking {
    /// Numeric id.
    pub id: u64,
    /// Uid (used in URLs).
    pub uid: String,
    /// Title.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub title: String,
    /// Description.
    #[serde(default, deserialize_with = "super::lenient::opt_text")]
    pub description: Option<String>,
    /// State.
    pub status: BookingStatus,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Length in minutes.
    #[serde(default, deserialize_with = "super::lenient::opt_u32")]
    pub duration: Option<u32>,
    /// Event type id.
    #[serde(default)]
    pub event_type_id: Option<u64>,
    /// Event type.
    #[serde(default)]
    pub event_type: Option<EventTypeSummary>,
    /// Location (URL, address or phone).
    #[serde(default, deserialize_with = "super::lenient::opt_text")]
    pub location: Option<String>,
    /// Organizer was absent.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub absent_host: bool,
    /// Created at.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated at.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Hosts.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub hosts: Vec<BookingHost>,
    /// Attendees.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub attendees: Vec<BookingAttendee>,
    /// Guests' e-mails.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub guests: Vec<String>,
    /// Metadata.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Booking-field answers.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub booking_fields_responses: serde_json::Map<String, serde_json::Value>,
    /// Why it was cancelled.
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    /// Why it was rescheduled.
    #[serde(default)]
    pub rescheduling_reason: Option<String>,
    /// Uid of the booking this one replaced.
    #[serde(default)]
    pub rescheduled_from_uid: Option<String>,
    /// Uid of the booking that replaced this one.
    #[serde(default)]
    pub rescheduled_to_uid: Option<String>,
}

impl fmt::Debug for Booking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Booking")
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("status", &self.status)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("event_type_id", &self.event_type_id)
            .field("hosts", &self.hosts)
            .field("attendees", &self.attendees)
            .field("rescheduled_from_uid", &self.rescheduled_from_uid)
            .field("rescheduled_to_uid", &self.rescheduled_to_uid)
            .finish_non_exhaustive()
    }
}

/// A booking `data` value: one booking, or (recurring bookings) a list.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum BookingData {
    One(Box<Booking>),
    Many(Vec<Booking>),
}

impl BookingData {
    /// The booking, or the first occurrence of a recurring one.
    pub(crate) fn into_first(self) -> Option<Booking> {
        match self {
            Self::One(booking) => Some(*booking),
            Self::Many(bookings) => bookings.into_iter().next(),
        }
    }
}

/// Pagination of a bookings list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// All matching bookings.
    #[serde(default, deserialize_with = "super::lenient::u64_or_zero")]
    pub total_items: u64,
    /// Matching bookings after this page.
    #[serde(default, deserialize_with = "super::lenient::u64_or_zero")]
    pub remaining_items: u64,
    /// Bookings on this page.
    #[serde(default, deserialize_with = "super::lenient::u64_or_zero")]
    pub returned_items: u64,
    /// Page size.
    #[serde(default, deserialize_with = "super::lenient::u64_or_zero")]
    pub items_per_page: u64,
    /// 1-based page number.
    #[serde(default, deserialize_with = "super::lenient::u64_or_zero")]
    pub current_page: u64,
    /// Pages in all.
    #[serde(default, deserialize_with = "super::lenient::u64_or_zero")]
    pub total_pages: u64,
    /// Another page follows.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub has_next_page: bool,
    /// A page precedes.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub has_previous_page: bool,
}

/// One page of `GET /v2/bookings`.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingsPage {
    /// The bookings.
    pub bookings: Vec<Booking>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SortOrder {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

impl SortOrder {
    fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// Filters of `GET /v2/bookings`. `Debug` redacts the attendee filters.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BookingsQuery {
    /// Statuses (`upcoming`, `recurring`, `past`, `cancelled`, `unconfirmed`).
    pub status: Vec<String>,
    /// Attendee e-mail.
    pub attendee_email: Option<String>,
    /// Attendee name.
    pub attendee_name: Option<String>,
    /// Event type ids.
    pub event_type_ids: Vec<u64>,
    /// Start at or after.
    pub after_start: Option<DateTime<Utc>>,
    /// End at or before.
    pub before_end: Option<DateTime<Utc>>,
    /// Sort by start.
    pub sort_start: Option<SortOrder>,
    /// Page size (Cal.com's default 100).
    pub take: Option<u32>,
    /// Items to skip.
    pub skip: Option<u32>,
}

impl fmt::Debug for BookingsQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookingsQuery")
            .field("status", &self.status)
            .field("attendee_email", &redacted_opt(&self.attendee_email))
            .field("attendee_name", &redacted_opt(&self.attendee_name))
            .field("event_type_ids", &self.event_type_ids)
            .field("after_start", &self.after_start)
            .field("before_end", &self.before_end)
            .field("sort_start", &self.sort_start)
            .field("take", &self.take)
            .field("skip", &self.skip)
            .finish()
    }
}

impl BookingsQuery {
    /// No filters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Page size.
    pub fn take(mut self, take: u32) -> Self {
        self.take = Some(take);
        self
    }

    /// Bookings starting in `[after_start, ...)` and ending by `before_end`.
    pub fn between(mut self, after_start: DateTime<Utc>, before_end: DateTime<Utc>) -> Self {
        self.after_start = Some(after_start);
        self.before_end = Some(before_end);
        self
    }

    pub(crate) fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if !self.status.is_empty() {
            pairs.push(("status", self.status.join(",")));
        }
        if let Some(email) = &self.attendee_email {
            pairs.push(("attendeeEmail", email.clone()));
        }
        if let Some(name) = &self.attendee_name {
            pairs.push(("attendeeName", name.clone()));
        }
        if !self.event_type_ids.is_empty() {
            let ids: Vec<String> = self.event_type_ids.iter().map(u64::to_string).collect();
            pairs.push(("eventTypeIds", ids.join(",")));
        }
        if let Some(at) = &self.after_start {
            pairs.push(("afterStart", instant(at)));
        }
        if let Some(at) = &self.before_end {
            pairs.push(("beforeEnd", instant(at)));
        }
        if let Some(order) = self.sort_start {
            pairs.push(("sortStart", order.as_str().to_owned()));
        }
        if let Some(take) = self.take {
            pairs.push(("take", take.to_string()));
        }
        if let Some(skip) = self.skip {
            pairs.push(("skip", skip.to_string()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn request() -> CreateBookingRequest {
        CreateBookingRequest::new(
            7,
            "2026-12-01T09:00:00Z".parse().unwrap(),
            Attendee::new("Max Müller", "Europe/Berlin").email("max@example.com"),
        )
    }

    #[test]
    fn metadata_limits_are_enforced_at_the_boundary() {
        let mut ok = request();
        for n in 0..50 {
            ok = ok.metadata(format!("k{n}"), "v");
        }
        assert!(ok.validate().is_ok());
        let too_many = ok.clone().metadata("k50", "v");
        let err = too_many.validate().unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(err.field_errors()[0].field, "metadata");

        assert!(request().metadata("ä".repeat(40), "v").validate().is_ok());
        assert!(request().metadata("a".repeat(41), "v").validate().is_err());
        assert!(request().metadata("k", "ü".repeat(500)).validate().is_ok());
        let err = request()
            .metadata("k", "x".repeat(501))
            .validate()
            .unwrap_err();
        assert_eq!(err.field_errors()[0].field, "metadata.k");
    }

    #[test]
    fn serialization_is_flat_and_skips_empty_parts() {
        let json = serde_json::to_value(request()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "start": "2026-12-01T09:00:00.000Z",
                "attendee": {"name": "Max Müller", "email": "max@example.com", "timeZone": "Europe/Berlin", "language": "de"},
                "eventTypeId": 7
            })
        );
        let slug = CreateBookingRequest::new(
            EventTypeTarget::team_slug("beratung", "praxis"),
            "2026-12-01T09:00:00Z".parse().unwrap(),
            Attendee::new("A", "Europe/Berlin"),
        )
        .location(BookingLocation::AttendeePhone {
            phone: "+4930123".to_owned(),
        });
        let json = serde_json::to_value(slug).unwrap();
        assert_eq!(json["eventTypeSlug"], "beratung");
        assert_eq!(json["teamSlug"], "praxis");
        assert_eq!(
            json["location"],
            serde_json::json!({"type": "attendeePhone", "phone": "+4930123"})
        );
        assert!(json.get("eventTypeId").is_none());
    }

    #[test]
    fn debug_redacts_personal_data() {
        let text = format!("{:?}", request());
        assert!(!text.contains("Müller"), "{text}");
        assert!(!text.contains("max@example.com"), "{text}");
        let query = BookingsQuery {
            attendee_email: Some("max@example.com".to_owned()),
            ..BookingsQuery::default()
        };
        assert!(!format!("{query:?}").contains("max@"));
    }
}

#[cfg(test)]
mod decode_tests {
    use super::*;
    use proptest::prelude::*;

    fn base() -> serde_json::Value {
        serde_json::json!({
            "id": 1, "uid": "bk", "status": "accepted",
            "start": "2026-12-01T09:00:00.000Z", "end": "2026-12-01T09:30:00.000Z"
        })
    }

    #[test]
    fn unknown_status_does_not_fail_decoding() {
        let mut json = base();
        json["status"] = serde_json::json!("awaiting_payment");
        let booking: Booking = serde_json::from_value(json).unwrap();
        assert_eq!(booking.status, BookingStatus::Unknown);
    }

    #[test]
    fn nulls_strings_and_letter_case_are_tolerated() {
        let mut json = base();
        for key in [
            "title",
            "hosts",
            "attendees",
            "guests",
            "metadata",
            "bookingFieldsResponses",
            "absentHost",
            "description",
            "duration",
        ] {
            json[key] = serde_json::Value::Null;
        }
        json["status"] = serde_json::json!("ACCEPTED");
        json["location"] = serde_json::json!({"type": "phone"});
        let booking: Booking = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(booking.status, BookingStatus::Accepted);
        assert!(
            booking.title.is_empty() && booking.hosts.is_empty() && booking.attendees.is_empty()
        );
        assert_eq!((booking.location, booking.duration), (None, None));
        json["duration"] = serde_json::json!("45");
        json["attendees"] = serde_json::json!([{"name": null, "email": "a@b.de", "absent": null, "language": {"locale": "de"}}]);
        let booking: Booking = serde_json::from_value(json).unwrap();
        assert_eq!(booking.duration, Some(45));
        assert_eq!(booking.attendees[0].email, "a@b.de");
        for (status, want) in [
            ("Cancelled", BookingStatus::Cancelled),
            ("canceled", BookingStatus::Cancelled),
            ("PENDING", BookingStatus::Pending),
            ("rejected", BookingStatus::Rejected),
            ("", BookingStatus::Unknown),
        ] {
            assert_eq!(BookingStatus::from_wire(status), want, "{status}");
        }
        let page: Pagination = serde_json::from_value(
            serde_json::json!({"totalItems": "12", "hasNextPage": null, "currentPage": null}),
        )
        .unwrap();
        assert_eq!(
            (page.total_items, page.has_next_page, page.current_page),
            (12, false, 0)
        );
    }

    #[test]
    fn ids_instants_and_uids_stay_strict() {
        for (key, value) in [
            ("id", serde_json::json!("1")),
            ("id", serde_json::json!(1.5)),
            ("uid", serde_json::json!(null)),
            ("start", serde_json::json!("2026-12-01")),
            ("end", serde_json::json!(null)),
            ("eventTypeId", serde_json::json!("42")),
            ("status", serde_json::json!(1)),
        ] {
            let mut json = base();
            json[key] = value.clone();
            assert!(
                serde_json::from_value::<Booking>(json).is_err(),
                "{key} = {value}"
            );
        }
        let mut json = base();
        json.as_object_mut().unwrap().remove("uid");
        assert!(serde_json::from_value::<Booking>(json).is_err());
    }

    proptest! {
        /// Unknown extra fields of any JSON type never change or break decoding.
        #[test]
        fn unknown_fields_are_ignored(
            extra in proptest::collection::btree_map("x[A-Z][a-zA-Z]{0,10}", prop_oneof![
                any::<i64>().prop_map(serde_json::Value::from),
                ".{0,20}".prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
                Just(serde_json::Value::Null),
                Just(serde_json::json!({"nested": [1, 2]})),
            ], 0..8)
        ) {
            let plain: Booking = serde_json::from_value(base()).unwrap();
            let mut json = base();
            // No field of Booking starts with `x`.
            for (key, value) in extra {
                json[key] = value;
            }
            let decoded: Booking = serde_json::from_value(json).unwrap();
            prop_assert_eq!(decoded, plain);
        }
    }
}
