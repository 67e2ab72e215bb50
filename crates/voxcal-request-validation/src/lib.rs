//! Turns what a caller said into clean, safe, validated booking data.
//!
//! A voice agent sends the caller's words as function arguments, transcribed
//! by speech-to-text: `"datum": "übermorgen"`, `"uhrzeit": "halb drei"`,
//! `"email": "max punkt müller at gmx punkt de"`, `"name": "<b>Max</b>"`. This
//! crate parses German dates and times relative to an injected "now" in the
//! tenant's time zone, normalizes spoken e-mail addresses and phone numbers
//! (E.164), strips markup from every text with an HTML parser, and reports
//! every problem as `{field, code, params}` with a sentence the agent can say.
//!
//! ```
//! use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
//! use voxcal_request_validation::{AppointmentRequest, Lang, UserMessage, ValidationContext};
//!
//! // Friday, 27 November 2026, 10:00 in Berlin.
//! let ctx = ValidationContext::new(
//!     Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(),
//!     chrono_tz::Europe::Berlin,
//! );
//! let args = serde_json::json!({
//!     "datum": "nächsten Dienstag",
//!     "uhrzeit": "viertel nach zwei",
//!     "name": "<b>Max</b> Müller-Lüdenscheidt",
//!     "telefonnummer": "null eins sieben eins eins zwei drei vier fünf sechs sieben",
//! });
//! let request = AppointmentRequest::parse(&args, &ctx).unwrap();
//! assert_eq!(request.date, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
//! assert_eq!(request.time, NaiveTime::from_hms_opt(14, 15, 0));
//! assert_eq!(request.name.as_deref(), Some("Max Müller-Lüdenscheidt"));
//! assert_eq!(request.phone.as_deref(), Some("+491711234567"));
//!
//! let errors = AppointmentRequest::parse(&serde_json::json!({"datum": "gestern"}), &ctx).unwrap_err();
//! assert_eq!(errors.errors()[0].code(), "invalid_date");
//! assert!(errors.user_message(Lang::De).starts_with("Das Datum habe ich nicht verstanden"));
//! ```
//!
//! # Building blocks
//! - [`clean_text`] / [`clean_text_max`]: the text hygiene pipeline (NFKC →
//!   HTML-aware markup removal with `ammonia` → entities decoded once →
//!   control, bidi and zero-width characters removed → whitespace collapsed →
//!   limits in characters).
//! - [`parse_date`], [`parse_time`]: German dates and clock times; the
//!   documented readings of ambiguous phrases are on each function.
//! - Wishes in context: [`parse_clock`] keeps both readings of an ambiguous
//!   hour (`um 7` is 07:00 or 19:00, [`ClockTime::pick`] decides with the
//!   opening hours); [`parse_time_window`] reads `vormittags`, `später
//!   Nachmittag`, `ab halb drei`, `zwischen 14 und 16 Uhr` as a
//!   [`TimeWindow`] (bounds in [`PartOfDay`]); [`parse_date_window`] reads
//!   `nächste Woche`, `Ende nächster Woche`, `so bald wie möglich` as a
//!   [`DateWindow`]; [`parse_wish`] / [`parse_wish_in`] combine `datum` and
//!   `uhrzeit` (`morgen vormittag`) into a [`Wish`], which
//!   [`AppointmentRequest::wish`] carries.
//!
//! ```
//! use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
//! use voxcal_request_validation::{parse_wish_in, TimeWish, ValidationContext};
//!
//! let ctx = ValidationContext::new(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(), chrono_tz::Europe::Berlin);
//! let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
//! let open = |time: NaiveTime| t(9, 0) <= time && time < t(18, 0);
//!
//! let wish = parse_wish_in(Some("nächste Woche"), Some("um 3"), &ctx, open).unwrap();
//! assert_eq!((wish.days.from, wish.days.to), (NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()));
//! match wish.time {
//!     TimeWish::At(clock) => assert_eq!(clock.pick(open), t(15, 0)),
//!     TimeWish::Window(window) => unreachable!("{window}"),
//!     TimeWish::Any => unreachable!(),
//! }
//! ```
//! - [`normalize_email`], [`normalize_phone`]: spoken forms, then a strict
//!   policy; phone numbers via the `phonenumber` crate, region DE.
//! - [`AppointmentRequest`] and the [`Validate`] trait for whole argument
//!   objects; [`ValidationErrors`] with German and English messages
//!   ([`UserMessage`], implemented by every error of the crate).
//!
//! # Features
//! - `axum`: `ValidatedArgs`, an extractor for Retell's `{call, name, args}`
//!   body that answers validation failures with HTTP 200 and
//!   `{"success":false,"status":"validation_error",…}` (or 422, configurable),
//!   reading "now" from a [`voxcal_core::Clock`] (the crate re-exports
//!   `Clock`, `SystemClock` and `FakeClock` with this feature).
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod context;
mod date;
mod email;
mod error;
#[cfg(feature = "axum")]
mod extract;
mod phone;
mod request;
mod text;
mod time;
mod window;
mod wish;
mod words;

pub use context::ValidationContext;
pub use date::parse_date;
pub use email::normalize_email;
pub use error::{FieldError, ValidationError, ValidationErrors};
#[cfg(feature = "axum")]
pub use extract::{RetellCall, ValidatedArgs, ValidationConfig, ValidationRejection};
pub use phone::normalize_phone;
pub use request::{
    AppointmentRequest, Validate, DEFAULT_DURATION_MINUTES, MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
};
pub use text::{clean_text, clean_text_max};
pub use time::{parse_clock, parse_time, ClockTime};
#[cfg(feature = "axum")]
pub use voxcal_core::{Clock, FakeClock, SystemClock};
pub use voxcal_core::{Lang, UserMessage};
pub use window::{
    parse_time_window, parse_time_window_in, parse_time_wish, typical_business_hours, PartOfDay,
    TimeWindow, TimeWindowKind, TimeWish, END_OF_DAY,
};
pub use wish::{parse_date_window, parse_wish, parse_wish_in, DateWindow, Wish, SOON_DAYS};
