//! What a good receptionist would answer: a table of wishes, as the agent
//! passes them (`datum`/`uhrzeit` strings), run against the service's
//! router on a fixed clock, each with the expected status, reason, first
//! offer (local time and UTC instant) and key phrases. Every message the
//! table produces is scanned for a numeric "d.m." date.
//!
//! Tenants (every slot free unless a row books it first, 30-minute slots):
//! - `demo`: Mon–Fri 09:00–18:00, nationwide holidays (the demo tenant
//!   without its seeded bookings);
//! - `samstag`: Mon–Fri 09:00–12:00 and 13:00–18:00 (lunch break),
//!   Sat 10:00–14:00, nationwide holidays;
//! - `nacht`: every day 00:00–06:00, no holidays (for the clock-change
//!   nights).

use axum::body::Body;
use axum::Router;
use booking_service::{app, AppState, ServiceConfig, TenantConfig};
use chrono::{NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use voxcal_appointment_finder::{speak::has_numeric_date, BusinessHours, OpeningInterval};
use voxcal_core::FakeClock;

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

fn iv(from: (u32, u32), to: (u32, u32)) -> OpeningInterval {
    OpeningInterval::new(from, to).unwrap()
}

fn hours(tenant: &str) -> BusinessHours {
    match tenant {
        "demo" => BusinessHours::closed(Berlin)
            .with_weekdays(WEEKDAYS, [iv((9, 0), (18, 0))])
            .with_nationwide_holidays(),
        "samstag" => BusinessHours::closed(Berlin)
            .with_weekdays(WEEKDAYS, [iv((9, 0), (12, 0)), iv((13, 0), (18, 0))])
            .with_day(Weekday::Sat, [iv((10, 0), (14, 0))])
            .with_nationwide_holidays(),
        "nacht" => BusinessHours::closed(Berlin).with_weekdays(
            [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            [iv((0, 0), (6, 0))],
        ),
        other => panic!("no tenant {other}"),
    }
}

/// The router for one tenant, its clock at Berlin wall time `now`
/// ("YYYY-MM-DD HH:MM").
fn router(tenant: &str, now: &str) -> Router {
    let mut config = ServiceConfig::demo();
    let mut t = TenantConfig::demo(tenant);
    t.hours = hours(tenant);
    t.calendar = booking_service::CalendarConfig::Demo {
        seed_bookings: false,
    };
    config.tenants = vec![t];
    let now = chrono::NaiveDateTime::parse_from_str(now, "%Y-%m-%d %H:%M").unwrap();
    let now = Berlin.from_local_datetime(&now).earliest().unwrap();
    let state = AppState::builder(config)
        .clock(FakeClock::at(now.with_timezone(&Utc)))
        .build()
        .unwrap();
    app(state)
}

async fn call(app: &Router, call_id: &str, name: &str, args: Value) -> Value {
    let body =
        json!({"call": {"call_id": call_id, "agent_id": "agent_1"}, "name": name, "args": args})
            .to_string();
    let request = Request::post("/api/retell/function")
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// Books "YYYY-MM-DD HH:MM" (Berlin) for another caller.
async fn book(app: &Router, at: &str) {
    let (date, time) = at.split_once(' ').unwrap();
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let reply = call(
        app,
        &format!("call_other_{at}"),
        "book_appointment",
        json!({"datum": date.format("%d.%m.%Y").to_string(), "uhrzeit": time,
               "dienstleistung": "Beratung", "name": "Erika Muster"}),
    )
    .await;
    assert_eq!(reply["status"], "booked", "booking {at}: {reply}");
}

/// One scenario.
struct Row {
    tenant: &'static str,
    /// Berlin wall time of the clock.
    now: &'static str,
    /// Slots booked by other callers first (Berlin, "YYYY-MM-DD HH:MM").
    booked: &'static [&'static str],
    datum: &'static str,
    uhrzeit: &'static str,
    status: &'static str,
    reason: Option<&'static str>,
    /// The first slot offered (the slot itself when available), Berlin.
    first: Option<&'static str>,
    /// Its UTC instant, where the row is about the conversion.
    first_utc: Option<&'static str>,
    /// Phrases the message must hold.
    says: &'static [&'static str],
    /// Phrases it must not hold.
    never: &'static [&'static str],
}

const NONE: &[&str] = &[];

/// Thursday 2026-12-03, 08:00 in Berlin.
const THU: &str = "2026-12-03 08:00";

#[allow(clippy::too_many_arguments)]
const fn row(
    tenant: &'static str,
    now: &'static str,
    booked: &'static [&'static str],
    datum: &'static str,
    uhrzeit: &'static str,
    status: &'static str,
    reason: Option<&'static str>,
    first: Option<&'static str>,
    first_utc: Option<&'static str>,
    says: &'static [&'static str],
    never: &'static [&'static str],
) -> Row {
    Row {
        tenant,
        now,
        booked,
        datum,
        uhrzeit,
        status,
        reason,
        first,
        first_utc,
        says,
        never,
    }
}

const U: &str = "unavailable";
const A: &str = "available";
/// A window's answer: `available`, not `exact`, the first free slots in it
/// as alternatives.
const W: &str = "window";

fn table() -> Vec<Row> {
    vec![
        // --- the table (demo tenant, Friday 2026-12-04 = morgen) ---
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "21 Uhr",
            U,
            Some("after_closing"),
            Some("2026-12-04 17:00"),
            Some("2026-12-04T16:00:00Z"),
            &[
                "Um 21 Uhr haben wir schon geschlossen.",
                "morgen um 17 Uhr, um 17:30 Uhr oder am Montag um 9 Uhr",
            ],
            &["belegt", "noch frei"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "07:00",
            U,
            Some("before_opening"),
            Some("2026-12-04 09:00"),
            Some("2026-12-04T08:00:00Z"),
            &[
                "Um 7 Uhr haben wir noch nicht geöffnet.",
                "morgen um 9 Uhr, um 9:30 Uhr",
            ],
            &["geschlossen", "belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "05.12.2026",
            "10 Uhr",
            U,
            Some("closed_day"),
            Some("2026-12-07 10:00"),
            None,
            &[
                "Samstags haben wir geschlossen.",
                "am Montag um 10 Uhr, am Dienstag um 10 Uhr oder am Mittwoch um 10 Uhr",
            ],
            &["9 Uhr"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "viertel nach zehn",
            U,
            Some("off_grid"),
            Some("2026-12-04 10:00"),
            None,
            &[
                "Um 10:15 Uhr vergeben wir keine Termine",
                "morgen um 10 Uhr, um 10:30 Uhr oder am Montag um 10 Uhr",
            ],
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "21.12.2026",
            "10 Uhr",
            A,
            None,
            Some("2026-12-21 10:00"),
            None,
            &["Am Montag, dem 21. Dezember, um 10 Uhr ist noch frei."],
            NONE,
        ),
        // --- exact and free: available, nothing else ---
        row(
            "demo",
            THU,
            NONE,
            "morgen",
            "16:30",
            A,
            None,
            Some("2026-12-04 16:30"),
            Some("2026-12-04T15:30:00Z"),
            &["Morgen um 16:30 Uhr ist noch frei."],
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "heute",
            "9 Uhr",
            A,
            None,
            Some("2026-12-03 09:00"),
            None,
            &["Heute um 9 Uhr ist noch frei."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "übermorgen",
            "",
            U,
            Some("closed_day"),
            Some("2026-12-07 09:00"),
            None,
            &["Samstags haben wir geschlossen."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "07.12.2026",
            "17:30",
            A,
            None,
            Some("2026-12-07 17:30"),
            None,
            &["Am Montag um 17:30 Uhr ist noch frei."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "09.12.2026",
            "12 Uhr",
            A,
            None,
            Some("2026-12-09 12:00"),
            None,
            &["Am Mittwoch um 12 Uhr ist noch frei."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "10.12.2026",
            "12 Uhr",
            A,
            None,
            Some("2026-12-10 12:00"),
            None,
            &["Am Donnerstag, dem 10. Dezember, um 12 Uhr ist noch frei."],
            NONE,
        ),
        // --- taken: the nearest neighbours ---
        row(
            "demo",
            THU,
            &["2026-12-04 10:00"],
            "04.12.2026",
            "10 Uhr",
            U,
            Some("taken"),
            Some("2026-12-04 09:30"),
            None,
            &[
                "Um 10 Uhr ist leider schon belegt.",
                "morgen um 9:30 Uhr, um 10:30 Uhr oder am Montag um 10 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            THU,
            &["2026-12-04 09:00"],
            "04.12.2026",
            "9 Uhr",
            U,
            Some("taken"),
            Some("2026-12-04 09:30"),
            None,
            &[
                "Um 9 Uhr ist leider schon belegt.",
                "morgen um 9:30 Uhr oder am Montag um 9 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            THU,
            &["2026-12-04 17:30"],
            "04.12.2026",
            "17:30",
            U,
            Some("taken"),
            Some("2026-12-04 17:00"),
            None,
            &[
                "Um 17:30 Uhr ist leider schon belegt.",
                "morgen um 17 Uhr oder am Montag um 17:30 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            THU,
            &["2026-12-04 14:00", "2026-12-04 14:30", "2026-12-04 13:30"],
            "04.12.2026",
            "14 Uhr",
            U,
            Some("taken"),
            Some("2026-12-04 13:00"),
            None,
            &["morgen um 13 Uhr, um 15 Uhr oder am Montag um 14 Uhr"],
            NONE,
        ),
        row(
            "demo",
            THU,
            &["2026-12-07 10:00"],
            "07.12.2026",
            "10 Uhr",
            U,
            Some("taken"),
            Some("2026-12-07 09:30"),
            None,
            &["am Montag um 9:30 Uhr, um 10:30 Uhr oder am Dienstag um 10 Uhr"],
            NONE,
        ),
        // --- off the grid: never "belegt" ---
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "10:15",
            U,
            Some("off_grid"),
            Some("2026-12-04 10:00"),
            None,
            &[
                "Um 10:15 Uhr vergeben wir keine Termine",
                "morgen um 10 Uhr, um 10:30 Uhr",
            ],
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "10:45",
            U,
            Some("off_grid"),
            Some("2026-12-04 10:30"),
            None,
            &[
                "Um 10:45 Uhr vergeben wir keine Termine",
                "morgen um 10:30 Uhr, um 11 Uhr",
            ],
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            &["2026-12-04 10:00", "2026-12-04 10:30"],
            "04.12.2026",
            "10:15",
            U,
            Some("off_grid"),
            Some("2026-12-04 09:30"),
            None,
            &["morgen um 9:30 Uhr, um 11 Uhr"],
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "07.12.2026",
            "9:10",
            U,
            Some("off_grid"),
            Some("2026-12-07 09:00"),
            None,
            &[
                "Um 9:10 Uhr vergeben wir keine Termine",
                "am Montag um 9 Uhr, um 9:30 Uhr",
            ],
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "07.12.2026",
            "17:50",
            U,
            Some("after_closing"),
            Some("2026-12-07 17:00"),
            None,
            &["Um 17:50 Uhr reicht die Zeit nicht mehr, wir schließen um 18 Uhr."],
            &["belegt"],
        ),
        // --- before opening / after closing on other days ---
        row(
            "demo",
            THU,
            NONE,
            "07.12.2026",
            "06:30",
            U,
            Some("before_opening"),
            Some("2026-12-07 09:00"),
            None,
            &[
                "Um 6:30 Uhr haben wir noch nicht geöffnet.",
                "am Montag um 9 Uhr, um 9:30 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "07.12.2026",
            "19:00",
            U,
            Some("after_closing"),
            Some("2026-12-07 17:00"),
            None,
            &[
                "Um 19 Uhr haben wir schon geschlossen.",
                "am Montag um 17 Uhr, um 17:30 Uhr oder am Dienstag um 9 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "heute",
            "20 Uhr",
            U,
            Some("after_closing"),
            Some("2026-12-03 17:00"),
            None,
            &[
                "Um 20 Uhr haben wir schon geschlossen.",
                "heute um 17 Uhr, um 17:30 Uhr oder morgen um 9 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            "2026-12-03 17:10",
            NONE,
            "heute",
            "20 Uhr",
            U,
            Some("after_closing"),
            Some("2026-12-03 17:30"),
            None,
            &["heute um 17:30 Uhr oder morgen um 9 Uhr"],
            &["17 Uhr,"],
        ),
        row(
            "demo",
            THU,
            &["2026-12-04 17:00", "2026-12-04 17:30"],
            "04.12.2026",
            "21 Uhr",
            U,
            Some("after_closing"),
            Some("2026-12-04 16:00"),
            None,
            &["morgen um 16 Uhr, um 16:30 Uhr oder am Montag um 9 Uhr"],
            NONE,
        ),
        row(
            "demo",
            THU,
            &["2026-12-07 09:00"],
            "07.12.2026",
            "08:00",
            U,
            Some("before_opening"),
            Some("2026-12-07 09:30"),
            None,
            &["am Montag um 9:30 Uhr, um 10 Uhr"],
            NONE,
        ),
        // --- closed days: the wished time on the next open days ---
        row(
            "demo",
            THU,
            NONE,
            "06.12.2026",
            "11 Uhr",
            U,
            Some("closed_day"),
            Some("2026-12-07 11:00"),
            None,
            &["Sonntags haben wir geschlossen.", "am Montag um 11 Uhr"],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "05.12.2026",
            "20 Uhr",
            U,
            Some("closed_day"),
            Some("2026-12-07 17:30"),
            None,
            &["Samstags haben wir geschlossen.", "am Montag um 17:30 Uhr"],
            NONE,
        ),
        row(
            "demo",
            THU,
            &["2026-12-07 10:00"],
            "05.12.2026",
            "10 Uhr",
            U,
            Some("closed_day"),
            Some("2026-12-07 09:30"),
            None,
            &["am Montag um 9:30 Uhr, am Dienstag um 10 Uhr"],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "12.12.2026",
            "14:30",
            U,
            Some("closed_day"),
            Some("2026-12-14 14:30"),
            None,
            &[
                "Samstags haben wir geschlossen.",
                "am Montag, dem 14. Dezember, um 14:30 Uhr",
            ],
            NONE,
        ),
        // --- holidays ---
        row(
            "demo",
            THU,
            NONE,
            "01.01.2027",
            "10 Uhr",
            U,
            Some("holiday"),
            Some("2027-01-04 10:00"),
            Some("2027-01-04T09:00:00Z"),
            &[
                "Am 1. Januar ist Neujahr, da haben wir geschlossen.",
                "am Montag, dem 4. Januar, um 10 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "25.12.2026",
            "10 Uhr",
            U,
            Some("holiday"),
            Some("2026-12-28 10:00"),
            None,
            &["Am 25. Dezember ist der 1. Weihnachtstag, da haben wir geschlossen."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "26.12.2026",
            "10 Uhr",
            U,
            Some("holiday"),
            Some("2026-12-28 10:00"),
            None,
            &["Am 26. Dezember ist der 2. Weihnachtstag, da haben wir geschlossen."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "26.03.2027",
            "10 Uhr",
            U,
            Some("holiday"),
            Some("2027-03-30 10:00"),
            Some("2027-03-30T08:00:00Z"),
            &[
                "Am 26. März ist Karfreitag, da haben wir geschlossen.",
                "am Dienstag, dem 30. März, um 10 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "29.03.2027",
            "10 Uhr",
            U,
            Some("holiday"),
            Some("2027-03-30 10:00"),
            Some("2027-03-30T08:00:00Z"),
            &["Am 29. März ist Ostermontag, da haben wir geschlossen."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "01.05.2027",
            "10 Uhr",
            U,
            Some("holiday"),
            Some("2027-05-03 10:00"),
            None,
            &["Am 1. Mai ist der Tag der Arbeit, da haben wir geschlossen."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "03.10.2027",
            "10 Uhr",
            U,
            Some("holiday"),
            Some("2027-10-04 10:00"),
            None,
            &["Am 3. Oktober ist der Tag der Deutschen Einheit, da haben wir geschlossen."],
            NONE,
        ),
        row(
            "demo",
            "2026-12-24 08:00",
            NONE,
            "morgen",
            "10 Uhr",
            U,
            Some("holiday"),
            Some("2026-12-28 10:00"),
            None,
            &[
                "Morgen ist der 1. Weihnachtstag, da haben wir geschlossen.",
                "am Montag um 10 Uhr, am Dienstag um 10 Uhr",
            ],
            NONE,
        ),
        row(
            "demo",
            "2026-12-31 08:00",
            NONE,
            "morgen",
            "9 Uhr",
            U,
            Some("holiday"),
            Some("2027-01-04 09:00"),
            None,
            &[
                "Morgen ist Neujahr, da haben wir geschlossen.",
                "am Montag um 9 Uhr",
            ],
            NONE,
        ),
        // --- both clock changes: the right UTC instant either side ---
        row(
            "demo",
            THU,
            NONE,
            "26.03.2027",
            "21 Uhr",
            U,
            Some("holiday"),
            Some("2027-03-30 17:30"),
            Some("2027-03-30T15:30:00Z"),
            NONE,
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "25.03.2027",
            "10 Uhr",
            A,
            None,
            Some("2027-03-25 10:00"),
            Some("2027-03-25T09:00:00Z"),
            NONE,
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "28.03.2027",
            "02:30",
            U,
            Some("closed_day"),
            Some("2027-03-30 09:00"),
            Some("2027-03-30T07:00:00Z"),
            &["Sonntags haben wir geschlossen."],
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "29.10.2027",
            "10 Uhr",
            A,
            None,
            Some("2027-10-29 10:00"),
            Some("2027-10-29T08:00:00Z"),
            NONE,
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "31.10.2027",
            "10 Uhr",
            U,
            Some("closed_day"),
            Some("2027-11-01 10:00"),
            Some("2027-11-01T09:00:00Z"),
            NONE,
            NONE,
        ),
        row(
            "demo",
            THU,
            NONE,
            "01.11.2027",
            "07:00",
            U,
            Some("before_opening"),
            Some("2027-11-01 09:00"),
            Some("2027-11-01T08:00:00Z"),
            NONE,
            NONE,
        ),
        row(
            "nacht",
            THU,
            NONE,
            "28.03.2027",
            "02:30",
            U,
            Some("off_grid"),
            Some("2027-03-28 01:30"),
            Some("2027-03-28T00:30:00Z"),
            &["Wegen der Zeitumstellung gibt es am Sonntag, dem 28. März, 2:30 Uhr nicht."],
            &["belegt"],
        ),
        row(
            "nacht",
            THU,
            NONE,
            "28.03.2027",
            "03:00",
            A,
            None,
            Some("2027-03-28 03:00"),
            Some("2027-03-28T01:00:00Z"),
            NONE,
            NONE,
        ),
        row(
            "nacht",
            THU,
            NONE,
            "28.03.2027",
            "01:30",
            A,
            None,
            Some("2027-03-28 01:30"),
            Some("2027-03-28T00:30:00Z"),
            NONE,
            NONE,
        ),
        row(
            "nacht",
            THU,
            NONE,
            "31.10.2027",
            "02:30",
            A,
            None,
            Some("2027-10-31 02:30"),
            Some("2027-10-31T00:30:00Z"),
            NONE,
            NONE,
        ),
        row(
            "nacht",
            THU,
            NONE,
            "31.10.2027",
            "03:00",
            A,
            None,
            Some("2027-10-31 03:00"),
            Some("2027-10-31T02:00:00Z"),
            NONE,
            NONE,
        ),
        row(
            "nacht",
            THU,
            NONE,
            "31.10.2027",
            "07:00",
            U,
            Some("after_closing"),
            Some("2027-10-31 05:00"),
            Some("2027-10-31T04:00:00Z"),
            &["Um 7 Uhr haben wir schon geschlossen."],
            NONE,
        ),
        // --- a tenant with a lunch break and Saturday hours ---
        row(
            "samstag",
            THU,
            NONE,
            "05.12.2026",
            "10 Uhr",
            A,
            None,
            Some("2026-12-05 10:00"),
            None,
            &["Übermorgen um 10 Uhr ist noch frei."],
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "05.12.2026",
            "15 Uhr",
            U,
            Some("after_closing"),
            Some("2026-12-05 13:00"),
            None,
            &[
                "Um 15 Uhr haben wir schon geschlossen.",
                "übermorgen um 13 Uhr, um 13:30 Uhr oder am Montag um 9 Uhr",
            ],
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "05.12.2026",
            "9 Uhr",
            U,
            Some("before_opening"),
            Some("2026-12-05 10:00"),
            None,
            &[
                "Um 9 Uhr haben wir noch nicht geöffnet.",
                "übermorgen um 10 Uhr, um 10:30 Uhr",
            ],
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "07.12.2026",
            "12:30",
            U,
            Some("after_closing"),
            Some("2026-12-07 11:30"),
            None,
            &[
                "Um 12:30 Uhr haben wir Pause.",
                "am Montag um 11:30 Uhr, um 13 Uhr",
            ],
            &["belegt", "geschlossen"],
        ),
        row(
            "samstag",
            THU,
            NONE,
            "04.12.2026",
            "12 Uhr",
            U,
            Some("after_closing"),
            Some("2026-12-04 11:30"),
            None,
            &["Um 12 Uhr haben wir Pause."],
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "06.12.2026",
            "11 Uhr",
            U,
            Some("closed_day"),
            Some("2026-12-07 11:00"),
            None,
            &["Sonntags haben wir geschlossen.", "am Montag um 11 Uhr"],
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "06.12.2026",
            "13 Uhr",
            U,
            Some("closed_day"),
            Some("2026-12-07 13:00"),
            None,
            NONE,
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "26.12.2026",
            "11 Uhr",
            U,
            Some("holiday"),
            Some("2026-12-28 11:00"),
            None,
            &["Am 26. Dezember ist der 2. Weihnachtstag, da haben wir geschlossen."],
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "01.05.2027",
            "11 Uhr",
            U,
            Some("holiday"),
            Some("2027-05-03 11:00"),
            None,
            &["Am 1. Mai ist der Tag der Arbeit, da haben wir geschlossen."],
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "08.05.2027",
            "11 Uhr",
            A,
            None,
            Some("2027-05-08 11:00"),
            None,
            NONE,
            NONE,
        ),
        row(
            "samstag",
            THU,
            &["2026-12-05 10:00"],
            "05.12.2026",
            "10 Uhr",
            U,
            Some("taken"),
            Some("2026-12-05 10:30"),
            None,
            &["Um 10 Uhr ist leider schon belegt."],
            NONE,
        ),
        row(
            "samstag",
            THU,
            NONE,
            "05.12.2026",
            "10:20",
            U,
            Some("off_grid"),
            Some("2026-12-05 10:00"),
            None,
            &["übermorgen um 10 Uhr, um 10:30 Uhr"],
            &["belegt"],
        ),
        row(
            "samstag",
            THU,
            NONE,
            "05.12.2026",
            "13:45",
            U,
            Some("after_closing"),
            Some("2026-12-05 13:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "samstag",
            THU,
            NONE,
            "07.12.2026",
            "11:45",
            U,
            Some("after_closing"),
            Some("2026-12-07 11:30"),
            None,
            NONE,
            &["belegt"],
        ),
        // --- the past ---
        row(
            "demo",
            THU,
            NONE,
            "heute",
            "07:00",
            "past_time",
            None,
            None,
            None,
            &["Vergangenheit"],
            NONE,
        ),
        // Too late to finish before closing: not "closed", "we close at".
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "17:50",
            U,
            Some("after_closing"),
            Some("2026-12-04 17:00"),
            None,
            &["Um 17:50 Uhr reicht die Zeit nicht mehr, wir schließen um 18 Uhr."],
            &["schon geschlossen", "belegt"],
        ),
        // --- vague wishes: the first free slots in the window (demo
        // tenant unless said; Thursday 2026-12-03 08:00) ---
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "früh",
            W,
            None,
            Some("2026-12-04 09:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "nach 16 Uhr",
            W,
            None,
            Some("2026-12-04 16:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "so bald wie möglich",
            "",
            W,
            None,
            Some("2026-12-03 09:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "Freitag",
            "nachmittags",
            W,
            None,
            Some("2026-12-04 12:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "vormittags",
            W,
            None,
            Some("2026-12-04 09:00"),
            None,
            NONE,
            &["belegt", "geschlossen"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "nachmittags",
            W,
            None,
            Some("2026-12-04 12:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "später Nachmittag",
            W,
            None,
            Some("2026-12-04 15:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "ab 16 Uhr",
            W,
            None,
            Some("2026-12-04 16:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "vor 10",
            W,
            None,
            Some("2026-12-04 09:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "zwischen 14 und 16 Uhr",
            W,
            None,
            Some("2026-12-04 14:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "ab halb drei",
            W,
            None,
            Some("2026-12-04 14:30"),
            None,
            NONE,
            &["2:30", "02:30"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "gegen Mittag",
            W,
            None,
            Some("2026-12-04 11:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            &["2026-12-04 09:00", "2026-12-04 09:30"],
            "04.12.2026",
            "vormittags",
            W,
            None,
            Some("2026-12-04 10:00"),
            None,
            NONE,
            &["09:00", "9 Uhr"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "nächste Woche",
            "vormittags",
            W,
            None,
            Some("2026-12-07 09:00"),
            Some("2026-12-07T08:00:00Z"),
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "Ende nächster Woche",
            "",
            W,
            None,
            Some("2026-12-10 09:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "Anfang nächster Woche",
            "nachmittags",
            W,
            None,
            Some("2026-12-07 12:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "morgen vormittag",
            "",
            W,
            None,
            Some("2026-12-04 09:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "Montag",
            "",
            W,
            None,
            Some("2026-12-07 09:00"),
            None,
            NONE,
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "05.12.2026",
            "vormittags",
            U,
            Some("closed_day"),
            Some("2026-12-07 09:00"),
            None,
            &["Samstags haben wir geschlossen."],
            &["belegt"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "abends",
            U,
            Some("after_closing"),
            Some("2026-12-04 17:00"),
            None,
            &["Um 18 Uhr haben wir schon geschlossen."],
            &["belegt"],
        ),
        row(
            "samstag",
            THU,
            NONE,
            "05.12.2026",
            "vormittags",
            W,
            None,
            Some("2026-12-05 10:00"),
            None,
            NONE,
            &["geschlossen"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "7 Uhr",
            U,
            Some("before_opening"),
            Some("2026-12-04 09:00"),
            None,
            &["Um 7 Uhr haben wir noch nicht geöffnet."],
            &["19 Uhr"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "um 3",
            A,
            None,
            Some("2026-12-04 15:00"),
            Some("2026-12-04T14:00:00Z"),
            NONE,
            &["3 Uhr morgens", "03:00"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "halb drei",
            A,
            None,
            Some("2026-12-04 14:30"),
            None,
            NONE,
            &["02:30"],
        ),
        row(
            "demo",
            THU,
            NONE,
            "04.12.2026",
            "um 10",
            A,
            None,
            Some("2026-12-04 10:00"),
            None,
            NONE,
            &["22 Uhr"],
        ),
        row(
            "nacht",
            THU,
            NONE,
            "04.12.2026",
            "um 3",
            A,
            None,
            Some("2026-12-04 03:00"),
            None,
            NONE,
            &["15 Uhr"],
        ),
    ]
}

/// The first offered slot's local "YYYY-MM-DD HH:MM" and UTC instant.
fn first_offer(data: &Value) -> Option<(String, String)> {
    let slot = if data["slot"].is_object() {
        &data["slot"]
    } else {
        data["alternatives"].get(0)?
    };
    let date = NaiveDate::parse_from_str(slot["date"].as_str()?, "%d.%m.%Y").ok()?;
    Some((
        format!("{} {}", date.format("%Y-%m-%d"), slot["time"].as_str()?),
        slot["start"].as_str()?.to_owned(),
    ))
}

#[tokio::test]
async fn a_receptionist_answers_every_row() {
    let rows = table();
    assert!(rows.len() >= 60, "{} rows", rows.len());
    let mut failures = Vec::new();
    let mut messages = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let app = router(r.tenant, r.now);
        for at in r.booked {
            book(&app, at).await;
        }
        let mut args = json!({"datum": r.datum, "dienstleistung": "Beratung"});
        if !r.uhrzeit.is_empty() {
            args["uhrzeit"] = json!(r.uhrzeit);
        }
        let reply = call(&app, "call_table", "check_availability", args).await;
        let message = reply["message"].as_str().unwrap_or_default().to_owned();
        let data = &reply["data"];
        let mut wrong = Vec::new();
        let status = if r.status == W { A } else { r.status };
        if reply["status"] != status {
            wrong.push(format!("status {}", reply["status"]));
        }
        if r.status == W {
            let alternatives = data["alternatives"].as_array().map_or(0, Vec::len);
            if !(2..=3).contains(&alternatives) {
                wrong.push(format!("{alternatives} slots in the window"));
            }
            if data["exact"] != false || data["available"] != true || !data["slot"].is_null() {
                wrong.push(
                    "a window answer must be available, not exact, without one slot".to_owned(),
                );
            }
        }
        if data["reason"].as_str() != r.reason {
            wrong.push(format!("reason {}", data["reason"]));
        }
        let offered = first_offer(data);
        if offered.as_ref().map(|o| o.0.as_str()) != r.first {
            wrong.push(format!("first {offered:?}"));
        }
        if let Some(utc) = r.first_utc {
            if offered.as_ref().map(|o| o.1.as_str()) != Some(utc) {
                wrong.push(format!("utc {offered:?}"));
            }
        }
        if r.status == "unavailable" {
            let alternatives = data["alternatives"].as_array().map_or(0, Vec::len);
            if !(2..=3).contains(&alternatives) {
                wrong.push(format!("{alternatives} alternatives"));
            }
            if data["exact"] != false || data["available"] != false {
                wrong.push("exact/available not false".to_owned());
            }
        }
        if r.status == "available" && (data["exact"] != true || data["available"] != true) {
            wrong.push("available but not exact".to_owned());
        }
        for phrase in r.says {
            if !message.contains(phrase) {
                wrong.push(format!("missing {phrase:?}"));
            }
        }
        for phrase in r.never {
            if message.contains(phrase) {
                wrong.push(format!("holds {phrase:?}"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "row {i} ({} {} {}): {}\n    {message}",
                r.tenant,
                r.datum,
                r.uhrzeit,
                wrong.join(", ")
            ));
        }
        messages.push(message);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for message in &messages {
        assert!(!has_numeric_date(message), "numeric date in {message:?}");
    }
}

/// A confirmation books only the wish itself: a closed or out-of-hours
/// wish is never moved and booked, the caller hears why and what is free.
#[tokio::test]
async fn a_confirmation_never_books_a_slot_that_was_not_offered() {
    let mut messages = Vec::new();
    for (function, datum, uhrzeit, reason) in [
        ("collect_appointment", "05.12.2026", "10 Uhr", "closed_day"),
        ("book_appointment", "05.12.2026", "10 Uhr", "closed_day"),
        ("book_appointment", "04.12.2026", "21 Uhr", "after_closing"),
        (
            "collect_appointment",
            "04.12.2026",
            "07:00",
            "before_opening",
        ),
        ("book_appointment", "01.01.2027", "10 Uhr", "holiday"),
    ] {
        let app = router("demo", THU);
        let mut args = json!({"datum": datum, "uhrzeit": uhrzeit, "dienstleistung": "Beratung",
                              "name": "Max Müller", "telefonnummer": "0171 1234567"});
        if function == "collect_appointment" {
            args["bestaetigung"] = json!(true);
        }
        let reply = call(&app, "call_confirm", function, args).await;
        let what = format!("{function} {datum} {uhrzeit}: {reply}");
        assert_eq!(reply["status"], "unavailable", "{what}");
        assert_eq!(reply["success"], false, "{what}");
        assert_eq!(reply["data"]["reason"], reason, "{what}");
        assert!(reply["data"].get("booking_id").is_none(), "{what}");
        let alternatives = reply["data"]["alternatives"].as_array().unwrap();
        assert!(alternatives.len() >= 2, "{what}");
        // Nothing was booked: the first alternative is still free.
        let alt = &alternatives[0];
        let check = call(
            &app,
            "call_confirm",
            "check_availability",
            json!({"datum": alt["date"], "uhrzeit": alt["time"], "dienstleistung": "Beratung"}),
        )
        .await;
        assert_eq!(check["status"], "available", "{what} / {check}");
        messages.push(reply["message"].as_str().unwrap().to_owned());
    }
    // Without confirmation, an unmet wish is offered, not held for
    // confirmation.
    let app = router("demo", THU);
    let reply = call(
        &app,
        "call_confirm",
        "collect_appointment",
        json!({"datum": "05.12.2026", "uhrzeit": "10 Uhr", "dienstleistung": "Beratung", "name": "Max Müller"}),
    )
    .await;
    assert_eq!(reply["status"], "unavailable", "{reply}");
    assert_eq!(reply["data"]["reason"], "closed_day", "{reply}");
    // The offered alternative, confirmed: booked exactly there.
    let alt = reply["data"]["alternatives"][0].clone();
    let booked = call(
        &app,
        "call_confirm",
        "collect_appointment",
        json!({"datum": alt["date"], "uhrzeit": alt["time"], "dienstleistung": "Beratung",
               "name": "Max Müller", "bestaetigung": true}),
    )
    .await;
    assert_eq!(booked["status"], "booked", "{booked}");
    assert_eq!(booked["data"]["slot"]["start"], alt["start"], "{booked}");
    messages.push(booked["message"].as_str().unwrap().to_owned());
    for message in &messages {
        assert!(!has_numeric_date(message), "numeric date in {message:?}");
    }
}
