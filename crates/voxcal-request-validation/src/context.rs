//! The moment and place a request is judged in.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// "Now" and the tenant's time zone: relative dates (`morgen`, `Dienstag`) and
/// the past-date check are computed in this zone.
///
/// Time is injected so that tests and replays are deterministic; the axum
/// extractor (feature `axum`) reads it from the [`Clock`](voxcal_core::Clock) of its
/// `ValidationConfig`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidationContext {
    /// The current instant.
    pub now: DateTime<Utc>,
    /// The tenant's IANA time zone, e.g. `Europe/Berlin`.
    pub tz: Tz,
}

impl ValidationContext {
    /// A context for `now` in `tz`.
    pub fn new(now: DateTime<Utc>, tz: Tz) -> Self {
        Self { now, tz }
    }

    /// Today's date in the tenant's zone.
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }
}
