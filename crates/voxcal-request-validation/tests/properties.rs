//! Property tests: no panic for any input, cleaning is idempotent, limits
//! count characters, and normalized values are fixed points.

use chrono::{Duration, NaiveTime};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use voxcal_request_validation::{
    clean_text, clean_text_max, normalize_email, normalize_phone, parse_clock, parse_date,
    parse_date_window, parse_time, parse_time_window, parse_time_wish, parse_wish,
    AppointmentRequest, TimeWish, ValidationContext, ValidationError,
};

/// Strings built from the pieces that matter to an HTML parser and to the
/// Unicode steps, so the interesting paths are hit often.
fn markupish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("</".to_owned()),
        Just("<b>".to_owned()),
        Just("<script>".to_owned()),
        Just("</script>".to_owned()),
        Just("<!--".to_owned()),
        Just("-->".to_owned()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("&".to_owned()),
        Just("&amp;".to_owned()),
        Just("&lt;".to_owned()),
        Just("&#x3c;".to_owned()),
        Just("&#xff1c;".to_owned()),
        Just("&nbsp;".to_owned()),
        Just("＜".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("\u{200B}".to_owned()),
        Just("\u{0301}".to_owned()),
        Just("\u{0000}".to_owned()),
        Just("\r\n".to_owned()),
        Just(" ".to_owned()),
        Just("javascript:".to_owned()),
        Just("on".to_owned()),
        Just("=".to_owned()),
        Just("Müller".to_owned()),
        Just("ß".to_owned()),
        Just("'".to_owned()),
        "[a-zA-Z0-9 ]{1,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// Clock phrases: hours as digits and words, `halb`, `viertel nach`, minutes,
/// `Uhr`, modifiers.
fn clockish() -> BoxedStrategy<String> {
    let hour = prop_oneof![
        (0u32..=25).prop_map(|h| h.to_string()),
        (0u32..=23).prop_map(|h| format!("{h:02}")),
        Just("drei".to_owned()),
        Just("sieben".to_owned()),
        Just("zwölf".to_owned()),
        Just("eins".to_owned()),
    ];
    let minute = prop_oneof![
        (0u32..=61).prop_map(|m| format!("{m:02}")),
        Just(String::new())
    ];
    let modifier = prop_oneof![
        Just(""),
        Just(" morgens"),
        Just(" vormittags"),
        Just(" mittags"),
        Just(" nachmittags"),
        Just(" abends"),
        Just(" nachts"),
    ];
    let form = prop_oneof![Just(0u8), Just(1), Just(2), Just(3), Just(4)];
    (form, hour, minute, modifier)
        .prop_map(|(form, h, m, modifier)| {
            let core = match form {
                0 => format!("um {h}"),
                1 => format!("halb {h}"),
                2 => format!("viertel nach {h}"),
                3 if !m.is_empty() => format!("{h}:{m}"),
                _ => format!("{h} Uhr"),
            };
            format!("{core}{modifier}")
        })
        .boxed()
}

/// Window phrases built from clock phrases and the window words.
fn windowish() -> BoxedStrategy<String> {
    let part = prop_oneof![
        Just("früh"),
        Just("vormittags"),
        Just("gegen Mittag"),
        Just("nachmittags"),
        Just("später Nachmittag"),
        Just("am frühen Nachmittag"),
        Just("abends"),
    ];
    prop_oneof![
        part.prop_map(str::to_owned),
        clockish().prop_map(|c| format!("ab {c}")),
        clockish().prop_map(|c| format!("nach {c}")),
        clockish().prop_map(|c| format!("bis {c}")),
        clockish().prop_map(|c| format!("vor {c}")),
        (clockish(), clockish()).prop_map(|(a, b)| format!("zwischen {a} und {b}")),
        (clockish(), clockish()).prop_map(|(a, b)| format!("von {a} bis {b}")),
        (clockish(), clockish()).prop_map(|(a, b)| format!("{a} - {b}")),
    ]
    .boxed()
}

fn ctx() -> ValidationContext {
    ValidationContext::new(
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(),
        chrono_tz::Europe::Berlin,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn cleaning_never_panics_and_is_idempotent(s in prop_oneof![any::<String>(), markupish()]) {
        if let Ok(out) = clean_text(&s) {
            prop_assert_eq!(clean_text(&out), Ok(out.clone()));
            prop_assert!(!out.is_empty());
            prop_assert_eq!(out.trim(), out.as_str());
            prop_assert!(!out.contains("  "));
            prop_assert!(!out.chars().any(|c| c.is_control()));
        }
    }

    #[test]
    fn limits_are_characters(s in prop_oneof![any::<String>(), markupish()], max in 0usize..40) {
        match clean_text_max(&s, max) {
            Ok(out) => prop_assert!(out.chars().count() <= max),
            Err(ValidationError::TooLong { max: m, actual }) => {
                prop_assert_eq!(m, max);
                let full = clean_text(&s).unwrap();
                prop_assert_eq!(actual, full.chars().count());
                prop_assert!(actual > max);
            }
            Err(other) => prop_assert_eq!(Err::<String, _>(other), clean_text(&s)),
        }
    }

    #[test]
    fn parsers_never_panic(s in prop_oneof![any::<String>(), "[a-zäöüß0-9 .:,{}-]{0,30}"]) {
        let _ = parse_date(&s, &ctx());
        let _ = parse_time(&s);
        if let Ok(email) = normalize_email(&s) {
            prop_assert_eq!(normalize_email(&email), Ok(email.clone()));
            prop_assert!(email.len() <= 254);
        }
        if let Ok(phone) = normalize_phone(&s) {
            prop_assert!(phone.starts_with('+'));
            prop_assert!(phone[1..].bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(normalize_phone(&phone), Ok(phone.clone()));
        }
    }

    #[test]
    fn dates_are_never_in_the_past(s in "(am |nächsten |übernächsten )?([0-9]{1,2}\\.[0-9]{1,2}\\.([0-9]{2,4})?|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|heute|morgen|übermorgen)") {
        if let Ok(date) = parse_date(&s, &ctx()) {
            prop_assert!(date >= ctx().today());
        }
    }

    #[test]
    fn whole_requests_never_panic(
        values in prop::collection::vec(prop_oneof![any::<String>(), markupish()], 11),
    ) {
        let keys = ["datum", "uhrzeit", "name", "dienstleistung", "email", "telefonnummer",
                    "mitarbeiter", "notiz", "bestaetigung", "duration", "call_id"];
        let args: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .zip(values)
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v)))
            .collect();
        match AppointmentRequest::parse(&serde_json::Value::Object(args), &ctx()) {
            Ok(r) => prop_assert!(r.date >= ctx().today()),
            Err(errors) => prop_assert!(!errors.is_empty()),
        }
    }

    #[test]
    fn wish_parsers_never_panic(s in prop_oneof![any::<String>(), "[a-zäöüß0-9 .:,{}-]{0,40}", windowish()]) {
        let _ = parse_clock(&s);
        let _ = parse_time_wish(&s);
        if let Ok(w) = parse_time_window(&s) {
            prop_assert!(w.start < w.end, "{s:?}: {w:?}");
        }
        if let Ok(days) = parse_date_window(&s, &ctx()) {
            prop_assert!(ctx().today() <= days.from && days.from <= days.to, "{s:?}: {days:?}");
        }
        for (datum, uhrzeit) in [(Some(s.as_str()), None), (None, Some(s.as_str())), (Some("morgen"), Some(s.as_str()))] {
            if let Ok(wish) = parse_wish(datum, uhrzeit, &ctx()) {
                prop_assert!(ctx().today() <= wish.days.from && wish.days.from <= wish.days.to);
                if let TimeWish::Window(w) = wish.time {
                    prop_assert!(w.start < w.end, "{s:?}: {w:?}");
                }
            }
        }
    }

    #[test]
    fn alternative_is_twelve_hours_later(s in prop_oneof![clockish(), windowish(), "[a-zäöü0-9 :.]{0,20}"]) {
        if let Ok(c) = parse_clock(&s) {
            if let Some(alternative) = c.alternative {
                prop_assert_eq!(alternative, c.literal + Duration::hours(12), "{:?}", s);
            }
            // pick returns a reading; the one inside when exactly one is.
            let open = |t: NaiveTime| t >= NaiveTime::from_hms_opt(9, 0, 0).unwrap() && t < NaiveTime::from_hms_opt(18, 0, 0).unwrap();
            let picked = c.pick(open);
            prop_assert!(c.readings().any(|r| r == picked));
            let inside: Vec<NaiveTime> = c.readings().filter(|t| open(*t)).collect();
            if inside.len() == 1 {
                prop_assert_eq!(picked, inside[0]);
            } else {
                prop_assert_eq!(picked, c.literal);
            }
        }
    }

    #[test]
    fn windows_round_trip_through_their_spoken_form(s in windowish()) {
        if let Ok(w) = parse_time_window(&s) {
            prop_assert!(w.start < w.end);
            let spoken = w.to_string();
            prop_assert_eq!(parse_time_window(&spoken), Ok(w), "{:?} → {:?}", s, spoken);
        }
    }
}
