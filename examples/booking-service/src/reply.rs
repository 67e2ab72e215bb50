//! Reply shapes: domain outcomes (HTTP 200) and protocol errors (4xx).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};
use serde_json::{json, Value};

/// A domain outcome the agent reads out: always HTTP 200.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) success: bool,
    pub(crate) status: &'static str,
    pub(crate) message: String,
    pub(crate) data: Value,
}

impl Reply {
    pub(crate) fn ok(status: &'static str, message: impl Into<String>, data: Value) -> Self {
        Reply {
            success: true,
            status,
            message: message.into(),
            data,
        }
    }

    pub(crate) fn fail(status: &'static str, message: impl Into<String>, data: Value) -> Self {
        Reply {
            success: false,
            status,
            message: message.into(),
            data,
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
    data: &'a Value,
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let wire = Wire {
            success: self.success,
            status: self.status,
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

pub(crate) fn weekday_de(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Montag",
        Weekday::Tue => "Dienstag",
        Weekday::Wed => "Mittwoch",
        Weekday::Thu => "Donnerstag",
        Weekday::Fri => "Freitag",
        Weekday::Sat => "Samstag",
        Weekday::Sun => "Sonntag",
    }
}

/// `dd.mm.yyyy` (what `%d.%m.%Y` gives, without parsing a format string).
pub(crate) fn date_de(date: NaiveDate) -> String {
    format!("{:02}.{:02}.{:04}", date.day(), date.month(), date.year())
}

/// `HH:MM` (what `%H:%M` gives).
pub(crate) fn clock_hm(time: NaiveTime) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

/// "14:30 Uhr", "9 Uhr".
pub(crate) fn time_de(time: NaiveTime) -> String {
    if time.minute() == 0 {
        format!("{} Uhr", time.hour())
    } else {
        format!("{}:{:02} Uhr", time.hour(), time.minute())
    }
}

/// "heute um 14:30 Uhr", "morgen um 9 Uhr", "am Dienstag, dem 13.10., um 10 Uhr".
pub(crate) fn spoken_de(date: NaiveDate, time: NaiveTime, today: NaiveDate) -> String {
    let day = match (date - today).num_days() {
        0 => "heute".to_owned(),
        1 => "morgen".to_owned(),
        2 => "übermorgen".to_owned(),
        _ => format!(
            "am {}, dem {:02}.{:02}.,",
            weekday_de(date.weekday()),
            date.day(),
            date.month()
        ),
    };
    format!("{day} um {}", time_de(time))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn spoken_forms() {
        let today = NaiveDate::from_ymd_opt(2026, 10, 12).unwrap();
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(spoken_de(today, t(14, 30), today), "heute um 14:30 Uhr");
        assert_eq!(
            spoken_de(today.succ_opt().unwrap(), t(9, 0), today),
            "morgen um 9 Uhr"
        );
        assert_eq!(
            spoken_de(
                NaiveDate::from_ymd_opt(2026, 10, 15).unwrap(),
                t(10, 0),
                today
            ),
            "am Donnerstag, dem 15.10., um 10 Uhr"
        );
    }
}
