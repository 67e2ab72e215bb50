//! Reply shapes: domain outcomes (HTTP 200) and protocol errors (4xx).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use serde_json::{json, Value};

/// What a function answered, as the agent reads it in `status`: every
/// status the service can send, so a reply cannot carry a misspelt one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// The wished slot is free (`exact`), or a window has free slots.
    Available,
    /// The wish cannot be met; `data.reason` says why, `data.alternatives` what is free.
    Unavailable,
    /// Nothing free in the search horizon.
    NoAvailability,
    /// `get_alternatives` / `find_next_available`: slots offered.
    Alternatives,
    /// `collect_appointment`: the slot is free, the caller must confirm.
    AwaitingConfirmation,
    /// The booking exists (`data.idempotent_replay` on a retry).
    Booked,
    /// The slot went to someone else meanwhile.
    SlotTaken,
    /// The booking is cancelled.
    Cancelled,
    /// The booking moved.
    Rescheduled,
    /// No booking with that id for this tenant.
    NotFound,
    /// The wish lies in the past.
    PastTime,
    /// An argument could not be understood; `data.errors` lists them.
    ValidationError,
    /// The calendar could not be reached.
    ServiceUnavailable,
    /// `get_opening_hours`.
    OpeningHours,
    /// `list_services`.
    Services,
}

impl Status {
    /// Every status, in declaration order (a new one goes here and in
    /// `as_str`; tests check that the words are distinct and that the
    /// README names each).
    #[cfg(test)]
    pub(crate) const ALL: [Status; 15] = [
        Status::Available,
        Status::Unavailable,
        Status::NoAvailability,
        Status::Alternatives,
        Status::AwaitingConfirmation,
        Status::Booked,
        Status::SlotTaken,
        Status::Cancelled,
        Status::Rescheduled,
        Status::NotFound,
        Status::PastTime,
        Status::ValidationError,
        Status::ServiceUnavailable,
        Status::OpeningHours,
        Status::Services,
    ];

    /// The status as the agent reads it.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Status::Available => "available",
            Status::Unavailable => "unavailable",
            Status::NoAvailability => "no_availability",
            Status::Alternatives => "alternatives",
            Status::AwaitingConfirmation => "awaiting_confirmation",
            Status::Booked => "booked",
            Status::SlotTaken => "slot_taken",
            Status::Cancelled => "cancelled",
            Status::Rescheduled => "rescheduled",
            Status::NotFound => "not_found",
            Status::PastTime => "past_time",
            Status::ValidationError => "validation_error",
            Status::ServiceUnavailable => "service_unavailable",
            Status::OpeningHours => "opening_hours",
            Status::Services => "services",
        }
    }
}

/// A domain outcome the agent reads out: always HTTP 200.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) success: bool,
    pub(crate) status: Status,
    pub(crate) message: String,
    pub(crate) data: Data,
}

/// The `data` of a [`Reply`]: any JSON value, or the availability shape of
/// `check_availability` / `get_alternatives`, serialized straight from its
/// fields (no intermediate `Value` tree; the same bytes as the `json!` it
/// replaces, keys in the same sorted order).
#[derive(Debug, Clone)]
pub(crate) enum Data {
    Json(Value),
    Availability(Box<Availability>),
}

impl Data {
    /// The data as a JSON value, when it is one.
    pub(crate) fn as_json(&self) -> Option<&Value> {
        match self {
            Data::Json(value) => Some(value),
            Data::Availability(_) => None,
        }
    }
}

impl From<Value> for Data {
    fn from(value: Value) -> Self {
        Data::Json(value)
    }
}

impl From<Availability> for Data {
    fn from(value: Availability) -> Self {
        Data::Availability(Box::new(value))
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Json(value) => value.serialize(serializer),
            Data::Availability(a) => a.serialize(serializer),
        }
    }
}

/// `{"alternatives":[…],"available":…,"exact":…,"requested_available":…,"slot":…}`
/// with the absent fields left out (fields in sorted order, as a `Value`
/// map writes them).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Availability {
    pub(crate) alternatives: Vec<SlotOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) available: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exact: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) requested_available: Option<bool>,
    /// Why the wish itself is not offered ([`Unmet::as_str`]).
    ///
    /// [`Unmet::as_str`]: voxcal_appointment_finder::Unmet::as_str
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<&'static str>,
    /// `Some(None)` is written as `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) slot: Option<Option<SlotOut>>,
}

/// One slot as the agent gets it:
/// `{"date","end","service","spoken","start","time"}`.
#[derive(Debug, Clone)]
pub(crate) struct SlotOut {
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) local_date: NaiveDate,
    pub(crate) local_time: NaiveTime,
    pub(crate) spoken: String,
    pub(crate) service: String,
}

impl Serialize for SlotOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SlotOut", 6)?;
        let mut buf = [0u8; 10];
        s.serialize_field("date", write_date_de(&mut buf, self.local_date).as_ref())?;
        let mut buf = [0u8; 20];
        s.serialize_field("end", write_rfc3339(&mut buf, self.end).as_ref())?;
        s.serialize_field("service", &self.service)?;
        s.serialize_field("spoken", &self.spoken)?;
        let mut buf = [0u8; 20];
        s.serialize_field("start", write_rfc3339(&mut buf, self.start).as_ref())?;
        let mut buf = [0u8; 5];
        s.serialize_field("time", write_clock_hm(&mut buf, self.local_time))?;
        s.end()
    }
}

impl Reply {
    pub(crate) fn ok(status: Status, message: impl Into<String>, data: impl Into<Data>) -> Self {
        Reply {
            success: true,
            status,
            message: message.into(),
            data: data.into(),
        }
    }

    pub(crate) fn fail(status: Status, message: impl Into<String>, data: impl Into<Data>) -> Self {
        Reply {
            success: false,
            status,
            message: message.into(),
            data: data.into(),
        }
    }
}

/// The wire shape of a [`Reply`], serialized straight from borrowed fields
/// (no intermediate `Value` map).
#[derive(serde::Serialize)]
struct Wire<'a> {
    success: bool,
    status: &'a str,
    message: &'a str,
    data: &'a Data,
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let wire = Wire {
            success: self.success,
            status: self.status.as_str(),
            message: &self.message,
            data: &self.data,
        };
        // One allocation sized for a typical reply (a check_availability
        // answer with three alternatives is ~800 bytes).
        let mut body = Vec::with_capacity(1024);
        match serde_json::to_writer(&mut body, &wire) {
            Ok(()) => (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// A protocol error: `{"success":false,"status":<code>,"message":…}` with a
/// 4xx status.
pub(crate) fn protocol_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"success": false, "status": code, "message": message});
    (status, Json(body)).into_response()
}

/// Two ASCII digits of `n` (< 100).
fn two(n: u32) -> [u8; 2] {
    // Both digits are below 10, so the casts cannot truncate.
    #[allow(clippy::cast_possible_truncation)]
    [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]
}

/// A stack-formatted ASCII text, or a heap one for the rare values the fast
/// path does not cover.
pub(crate) enum Formatted<'a> {
    Stack(&'a str),
    Heap(String),
}

impl AsRef<str> for Formatted<'_> {
    fn as_ref(&self) -> &str {
        match self {
            Formatted::Stack(s) => s,
            Formatted::Heap(s) => s,
        }
    }
}

fn ascii(buf: &[u8]) -> &str {
    // Only ASCII digits and separators are ever written.
    std::str::from_utf8(buf).unwrap_or_default()
}

/// `dd.mm.yyyy` into `buf` (years 0–9999; others through `format!`).
fn write_date_de(buf: &mut [u8; 10], date: NaiveDate) -> Formatted<'_> {
    let Ok(year) = u32::try_from(date.year()) else {
        return Formatted::Heap(date_de_slow(date));
    };
    if year > 9999 {
        return Formatted::Heap(date_de_slow(date));
    }
    let [d0, d1] = two(date.day());
    let [m0, m1] = two(date.month());
    let [y0, y1] = two(year / 100);
    let [y2, y3] = two(year % 100);
    *buf = [d0, d1, b'.', m0, m1, b'.', y0, y1, y2, y3];
    Formatted::Stack(ascii(buf))
}

fn date_de_slow(date: NaiveDate) -> String {
    format!("{:02}.{:02}.{:04}", date.day(), date.month(), date.year())
}

/// `dd.mm.yyyy` (what `%d.%m.%Y` gives, without parsing a format string).
pub(crate) fn date_de(date: NaiveDate) -> String {
    let mut buf = [0u8; 10];
    match write_date_de(&mut buf, date) {
        Formatted::Stack(s) => s.to_owned(),
        Formatted::Heap(s) => s,
    }
}

/// `HH:MM` into `buf`.
fn write_clock_hm(buf: &mut [u8; 5], time: NaiveTime) -> &str {
    let [h0, h1] = two(time.hour());
    let [m0, m1] = two(time.minute());
    *buf = [h0, h1, b':', m0, m1];
    ascii(buf)
}

/// `HH:MM` (what `%H:%M` gives).
pub(crate) fn clock_hm(time: NaiveTime) -> String {
    write_clock_hm(&mut [0u8; 5], time).to_owned()
}

/// `YYYY-MM-DDTHH:MM:SSZ` into `buf`: what
/// `to_rfc3339_opts(SecondsFormat::Secs, true)` gives; years outside
/// 0–9999 and leap seconds go through chrono.
pub(crate) fn write_rfc3339(buf: &mut [u8; 20], at: DateTime<Utc>) -> Formatted<'_> {
    let t = at.naive_utc();
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999);
    let (Some(year), false) = (year, t.nanosecond() >= 1_000_000_000) else {
        return Formatted::Heap(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    };
    let [y0, y1] = two(year / 100);
    let [y2, y3] = two(year % 100);
    let [mo0, mo1] = two(t.month());
    let [d0, d1] = two(t.day());
    let [h0, h1] = two(t.hour());
    let [mi0, mi1] = two(t.minute());
    let [s0, s1] = two(t.second());
    *buf = [
        y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0, s1,
        b'Z',
    ];
    Formatted::Stack(ascii(buf))
}

#[cfg(test)]
mod tests {
    #[test]
    fn statuses_are_distinct_snake_case_words() {
        let all = Status::ALL;
        let words: std::collections::HashSet<_> = all.iter().map(|s| s.as_str()).collect();
        assert_eq!(words.len(), all.len());
        for word in words {
            assert!(
                word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{word}"
            );
        }
    }

    use super::*;

    #[test]
    fn every_status_is_in_the_readme() {
        let readme = include_str!("../README.md");
        for status in Status::ALL {
            let quoted = format!("`{}`", status.as_str());
            assert!(
                readme.contains(&quoted),
                "the README's statuses lack {quoted}"
            );
        }
    }

    #[test]
    fn date_and_clock_match_strftime() {
        for (y, m, d) in [(2026, 1, 5), (2026, 12, 31), (999, 7, 9)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(date_de(date), date.format("%d.%m.%Y").to_string());
        }
        for (h, m) in [(0, 0), (9, 5), (23, 59)] {
            let time = NaiveTime::from_hms_opt(h, m, 0).unwrap();
            assert_eq!(clock_hm(time), time.format("%H:%M").to_string());
        }
    }

    #[test]
    fn hand_formatting_matches_chrono() {
        use chrono::TimeZone;
        // Every 87 109 minutes (a prime stride through minutes, hours,
        // days and months) from year 1 to 9999.
        let mut at = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        let mut n = 0;
        while at <= end {
            for t in [at, at + chrono::Duration::seconds(59)] {
                let mut buf = [0u8; 20];
                let want = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                assert_eq!(write_rfc3339(&mut buf, t).as_ref(), want);
                let local = t.naive_utc();
                assert_eq!(date_de(local.date()), local.format("%d.%m.%Y").to_string());
                assert_eq!(clock_hm(local.time()), local.format("%H:%M").to_string());
            }
            at += chrono::Duration::minutes(7919 * 11);
            n += 1;
        }
        assert!(n > 50_000, "{n}");
        // Outside the fast path: chrono's own forms.
        for t in [
            Utc.with_ymd_and_hms(10_000, 1, 2, 3, 4, 5).unwrap(),
            Utc.with_ymd_and_hms(-5, 6, 7, 8, 9, 10).unwrap(),
        ] {
            let mut buf = [0u8; 20];
            assert_eq!(
                write_rfc3339(&mut buf, t).as_ref(),
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            // What the `format!` version always gave (strftime adds a `+`
            // to five-digit years).
            let d = t.date_naive();
            let old = format!("{:02}.{:02}.{:04}", d.day(), d.month(), d.year());
            assert_eq!(date_de(d), old);
        }
    }

    #[test]
    fn availability_writes_the_bytes_of_the_json_it_replaces() {
        use chrono::TimeZone;
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 8, 30, 0).unwrap();
        let slot = SlotOut {
            start,
            end: start + chrono::Duration::minutes(30),
            local_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            local_time: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            spoken: "am Dienstag, dem 1. Dezember, um 9:30 Uhr".to_owned(),
            service: "Beratung \"Plus\"".to_owned(),
        };
        let slot_json = json!({
            "start": "2026-12-01T08:30:00Z",
            "end": "2026-12-01T09:00:00Z",
            "date": "01.12.2026",
            "time": "09:30",
            "spoken": "am Dienstag, dem 1. Dezember, um 9:30 Uhr",
            "service": "Beratung \"Plus\"",
        });
        let cases = [
            (
                Availability {
                    alternatives: vec![slot.clone(), slot.clone()],
                    available: Some(false),
                    slot: Some(None),
                    ..Availability::default()
                },
                json!({"available": false, "slot": null, "alternatives": [slot_json, slot_json]}),
            ),
            (
                Availability {
                    available: Some(true),
                    exact: Some(false),
                    slot: Some(Some(slot.clone())),
                    ..Availability::default()
                },
                json!({"available": true, "exact": false, "slot": slot_json, "alternatives": []}),
            ),
            (
                Availability {
                    alternatives: vec![slot],
                    requested_available: Some(true),
                    ..Availability::default()
                },
                json!({"requested_available": true, "alternatives": [slot_json]}),
            ),
        ];
        for (typed, value) in cases {
            assert_eq!(
                serde_json::to_string(&Data::from(typed)).unwrap(),
                value.to_string()
            );
        }
    }
}
