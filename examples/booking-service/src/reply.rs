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
    /// How many statuses there are (the last one's index + 1).
    pub(crate) const COUNT: usize = Status::Services as usize + 1;

    /// Every status, in declaration order (a new one goes here and in
    /// `as_str`; tests check that the words are distinct and that the
    /// README names each).
    #[cfg(test)]
    pub(crate) const ALL: [Status; Status::COUNT] = [
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

/// The wire shape of a [`Reply`] through `serde_json`: what
/// [`Reply::write_json`] must write, byte for byte.
#[cfg(test)]
#[derive(serde::Serialize)]
struct Wire<'a> {
    success: bool,
    status: &'a str,
    message: &'a str,
    data: &'a Data,
}

impl Reply {
    /// The reply's JSON, appended to `out`: the bytes `serde_json` writes
    /// for [`Wire`], with the availability shape written by hand (keys as
    /// literals, one escape pass per text), which is most of a
    /// `check_availability` answer.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(if self.success {
            b"{\"success\":true,\"status\":"
        } else {
            b"{\"success\":false,\"status\":"
        });
        push_str(out, self.status.as_str());
        out.extend_from_slice(b",\"message\":");
        push_str(out, &self.message);
        out.extend_from_slice(b",\"data\":");
        match &self.data {
            Data::Json(value) => serde_json::to_writer(&mut *out, value)?,
            Data::Availability(availability) => availability.write_json(out),
        }
        out.push(b'}');
        Ok(())
    }
}

impl Availability {
    /// What `Serialize` writes, by hand (fields in declaration order).
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"alternatives\":[");
        for (i, slot) in self.alternatives.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            slot.write_json(out);
        }
        out.push(b']');
        let flags = [
            (&b",\"available\":"[..], self.available),
            (&b",\"exact\":"[..], self.exact),
            (&b",\"requested_available\":"[..], self.requested_available),
        ];
        for (key, flag) in flags {
            if let Some(flag) = flag {
                out.extend_from_slice(key);
                out.extend_from_slice(if flag { b"true" } else { b"false" });
            }
        }
        if let Some(reason) = self.reason {
            out.extend_from_slice(b",\"reason\":");
            push_str(out, reason);
        }
        match &self.slot {
            None => {}
            Some(None) => out.extend_from_slice(b",\"slot\":null"),
            Some(Some(slot)) => {
                out.extend_from_slice(b",\"slot\":");
                slot.write_json(out);
            }
        }
        out.push(b'}');
    }
}

impl SlotOut {
    /// What `Serialize` writes, by hand. The dates and times are digits and
    /// separators, written without an escape pass.
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"date\":");
        push_plain(out, write_date_de(&mut [0u8; 10], self.local_date).as_ref());
        out.extend_from_slice(b",\"end\":");
        push_plain(out, write_rfc3339(&mut [0u8; 20], self.end).as_ref());
        out.extend_from_slice(b",\"service\":");
        push_str(out, &self.service);
        out.extend_from_slice(b",\"spoken\":");
        push_str(out, &self.spoken);
        out.extend_from_slice(b",\"start\":");
        push_plain(out, write_rfc3339(&mut [0u8; 20], self.start).as_ref());
        out.extend_from_slice(b",\"time\":");
        push_plain(out, write_clock_hm(&mut [0u8; 5], self.local_time));
        out.push(b'}');
    }
}

/// A text with nothing to escape (a formatted date or time) in quotes.
fn push_plain(out: &mut Vec<u8>, text: &str) {
    debug_assert!(text.bytes().all(|b| escape_of(b).is_none()), "{text:?}");
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// `text` as a JSON string, escaped as `serde_json` escapes it: `"` and `\`
/// with a backslash, `\b \f \n \r \t` by name, other control characters as
/// `\u00XX`, everything else (all of UTF-8, DEL included) as it is.
///
/// Eight bytes are tested at once for anything to escape, so a clean text
/// costs a word test per eight bytes and one copy.
fn push_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        if !needs_escape(u64::from_le_bytes(word)) {
            at += 8;
            continue;
        }
        for i in at..at + 8 {
            if let Some(escape) = escape_of(bytes[i]) {
                out.extend_from_slice(&bytes[run..i]);
                run = i + 1;
                escape.push_to(out);
            }
        }
        at += 8;
    }
    for i in at..bytes.len() {
        if let Some(escape) = escape_of(bytes[i]) {
            out.extend_from_slice(&bytes[run..i]);
            run = i + 1;
            escape.push_to(out);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Whether any of the eight bytes of `word` is a control character, `"` or
/// `\` (the classic "has a zero byte" word test, applied to "below 0x20"
/// and to `word` xor each quoted byte). Exact as a yes/no answer.
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0;
    below_space
        || has_zero(word ^ (ONES * u64::from(b'"')))
        || has_zero(word ^ (ONES * u64::from(b'\\')))
}

/// How one byte is escaped.
enum Escape {
    Named(&'static [u8]),
    Unicode(u8),
}

impl Escape {
    fn push_to(self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match self {
            Escape::Named(text) => out.extend_from_slice(text),
            Escape::Unicode(byte) => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
        }
    }
}

fn escape_of(byte: u8) -> Option<Escape> {
    Some(match byte {
        b'"' => Escape::Named(b"\\\""),
        b'\\' => Escape::Named(b"\\\\"),
        b'\n' => Escape::Named(b"\\n"),
        b'\r' => Escape::Named(b"\\r"),
        b'\t' => Escape::Named(b"\\t"),
        0x08 => Escape::Named(b"\\b"),
        0x0c => Escape::Named(b"\\f"),
        0x00..=0x1f => Escape::Unicode(byte),
        _ => return None,
    })
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        // One allocation sized for a typical reply (a check_availability
        // answer with three alternatives is ~800 bytes).
        let mut body = Vec::with_capacity(1024);
        match self.write_json(&mut body) {
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
    fn every_status_indexes_its_place_in_all() {
        for (i, status) in Status::ALL.iter().enumerate() {
            assert_eq!(*status as usize, i, "{status:?}");
        }
    }

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

    fn wire(reply: &Reply) -> Vec<u8> {
        serde_json::to_vec(&Wire {
            success: reply.success,
            status: reply.status.as_str(),
            message: &reply.message,
            data: &reply.data,
        })
        .unwrap()
    }

    fn written(reply: &Reply) -> Vec<u8> {
        let mut out = Vec::new();
        reply.write_json(&mut out).unwrap();
        out
    }

    #[test]
    fn every_control_character_is_escaped_as_serde_json_does() {
        let text: String = (0u8..0x80)
            .map(char::from)
            .chain("äß€😀\u{2028}".chars())
            .collect();
        let reply = Reply::ok(Status::Available, text, json!({"k": "v"}));
        assert_eq!(
            String::from_utf8(written(&reply)).unwrap(),
            String::from_utf8(wire(&reply)).unwrap()
        );
    }

    mod written_as_serde_json {
        use super::*;
        use chrono::TimeZone;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                "[ -~äöüß]{0,40}",
                any::<String>(),
                proptest::collection::vec(0u8..0x20, 0..8)
                    .prop_map(|b| b.into_iter().map(char::from).collect()),
            ]
        }

        fn slot() -> impl Strategy<Value = SlotOut> {
            // Seconds from year -300 to 12000: outside 0-9999 the slow
            // paths format the dates.
            (
                -71_700_000_000i64..316_500_000_000,
                0i64..600,
                text(),
                text(),
            )
                .prop_map(|(secs, minutes, spoken, service)| {
                    let start = Utc.timestamp_opt(secs, 0).unwrap();
                    SlotOut {
                        start,
                        end: start + chrono::Duration::minutes(minutes),
                        local_date: start.date_naive(),
                        local_time: start.time(),
                        spoken,
                        service,
                    }
                })
        }

        fn availability() -> impl Strategy<Value = Availability> {
            (
                proptest::collection::vec(slot(), 0..4),
                any::<Option<bool>>(),
                any::<Option<bool>>(),
                any::<Option<bool>>(),
                proptest::option::of(prop_oneof![Just("closed"), Just("taken"), Just("past")]),
                proptest::option::of(proptest::option::of(slot())),
            )
                .prop_map(
                    |(alternatives, available, exact, requested_available, reason, slot)| {
                        Availability {
                            alternatives,
                            available,
                            exact,
                            requested_available,
                            reason,
                            slot,
                        }
                    },
                )
        }

        fn data() -> impl Strategy<Value = Data> {
            prop_oneof![
                availability().prop_map(Data::from),
                (text(), any::<i64>(), any::<bool>()).prop_map(|(t, n, b)| Data::Json(
                    json!({"text": t, "n": n, "b": b, "list": [t, null]})
                )),
            ]
        }

        proptest! {
            #[test]
            fn the_word_test_answers_as_the_byte_test(word in prop_oneof![
                any::<[u8; 8]>(),
                proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x21, 0x7fu8..0x82, 0x5bu8..0x5e], 8)
                    .prop_map(|v| <[u8; 8]>::try_from(v).unwrap()),
            ]) {
                let by_byte = word.iter().any(|&b| escape_of(b).is_some());
                prop_assert_eq!(needs_escape(u64::from_le_bytes(word)), by_byte, "{:?}", word);
            }

            #[test]
            fn byte_for_byte(
                success in any::<bool>(),
                status in proptest::sample::select(Status::ALL.to_vec()),
                message in text(),
                data in data(),
            ) {
                let reply = Reply { success, status, message, data };
                let written = written(&reply);
                prop_assert_eq!(
                    String::from_utf8(written).unwrap(),
                    String::from_utf8(wire(&reply)).unwrap()
                );
            }
        }
    }
}
