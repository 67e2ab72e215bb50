//! Finds the appointment a caller wished for, or the best alternatives when
//! it is taken, for a voice agent that has to offer them in one breath.
//!
//! - [`AlternativeFinder::find`] moves the wish into the tenant's
//!   [`BusinessHours`] (saying why), answers [`Outcome::Available`] only for
//!   the wished slot itself, and otherwise offers verified free slots as a
//!   receptionist would: after closing that day's last ones, before opening
//!   its first ones, on a closed day or holiday the wished time on the next
//!   open days, for a taken or off-grid time its nearest neighbours; at
//!   least two whenever two are free ([`Unmet`] says why the wish failed).
//! - [`Outcome::speak`] turns the answer into natural German ("Um 21 Uhr
//!   haben wir schon geschlossen. Ich kann Ihnen heute um 17 Uhr oder um
//!   17:30 Uhr anbieten.") or English; the [`speak`] module phrases days and
//!   times for every message ("am Montag, dem 25. Januar, um 9 Uhr", never
//!   "25.1.").
//! - [`AvailabilitySource`] is where slots come from: [`InMemoryCalendar`]
//!   (business hours, bookings, slot interval, buffers, minimum notice) or
//!   Cal.com.
//! - [`SlotCache`] sits in front of the source, per tenant, event type and
//!   day, with single-flight; its entries live in a [`CacheStore`]: memory
//!   ([`MemoryCacheStore`]), Redis (feature `redis`) or your own, chosen at
//!   runtime through [`BoxCacheStore`] ([`BoxSource`] does the same for
//!   sources).
//! - A [`TenantId`] is part of every lookup and cache key; all date-time
//!   math happens in the tenant's IANA zone (DST-safe), the source is asked
//!   in UTC.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use voxcal_appointment_finder::{
//!     AlternativeFinder, BusinessHours, EventType, EventTypeId, FakeClock, FindRequest,
//!     InMemoryCalendar, Lang, Outcome, SlotCache, Tenant, TenantId,
//! };
//! use chrono::{Duration, NaiveDate, TimeZone, Utc};
//!
//! // Monday 2026-10-12, 08:00 in Berlin.
//! let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap());
//! let tenant = Tenant::new(TenantId::new("praxis-mueller").unwrap(), BusinessHours::default());
//! let consult = EventTypeId::from(30_u64);
//!
//! let calendar = InMemoryCalendar::new(clock.clone());
//! calendar.add_tenant(&tenant);
//! calendar
//!     .add_event_type(tenant.id(), consult.clone(), EventType::new(Duration::minutes(30)))
//!     .unwrap();
//!
//! // 14:00 is taken, and so is everything else that afternoon but 17:30.
//! let at = |h, m| NaiveDate::from_ymd_opt(2026, 10, 12).unwrap().and_hms_opt(h, m, 0).unwrap();
//! let berlin = |h, m| tenant.hours().zone().from_local_datetime(&at(h, m)).unwrap().to_utc();
//! calendar
//!     .block(tenant.id(), voxcal_appointment_finder::TimeRange::new(berlin(9, 0), berlin(17, 30)))
//!     .unwrap();
//!
//! let finder = AlternativeFinder::new(SlotCache::memory(calendar.clone(), clock.clone()), clock);
//! let request = FindRequest::new(consult, at(14, 0), Duration::minutes(30));
//! let outcome = finder.find(&tenant, &request).await;
//!
//! assert!(matches!(outcome, Outcome::Alternatives { .. }));
//! assert_eq!(
//!     outcome.speak(Lang::De),
//!     "Um 14 Uhr ist leider schon belegt. Ich kann Ihnen heute um 17:30 Uhr oder \
//!      morgen um 14 Uhr anbieten. Welcher Termin passt Ihnen besser?"
//! );
//! # });
//! ```
//!
//! # Features
//!
//! - `redis`: `RedisCacheStore`, a [`CacheStore`] for [`SlotCache`] in Redis
//!   (standalone and Cluster).
//! - `conformance`: `conformance`, the tests every [`CacheStore`] must pass
//!   (run them on your own store).
//! - `serde`: `Serialize` for [`Offer`], [`OfferKind`] and [`Slot`].
//! - `calcom`: `CalcomSource`, an [`AvailabilitySource`] over
//!   `voxcal-calcom-client`'s `GET /v2/slots` (its docs show `find` with Cal.com).
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
#[cfg(feature = "calcom")]
mod calcom;
mod calendar;
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod finder;
mod holidays;
mod hours;
mod outcome;
mod source;
pub mod speak;
mod tenant;
mod zone_day;

#[cfg(feature = "redis")]
pub use cache::RedisCacheStore;
pub use cache::{
    BoxCacheStore, CacheConfig, CacheKey, CacheStats, CacheStore, CacheStoreError, DaySlots,
    FetchLock, Generation, LockToken, MemoryCacheStore, SlotCache,
};
#[cfg(feature = "calcom")]
pub use calcom::CalcomSource;
pub use calendar::{BookingId, CalendarError, EventType, InMemoryCalendar};
pub use finder::{AlternativeFinder, FindRequest, FinderConfig, ScoreWeights, TimePreference};
pub use holidays::{
    easter_sunday, holiday_on, nationwide_holiday_on, public_holidays, Bundesland, Holiday,
};
pub use hours::{
    AdjustReason, Adjusted, Adjustment, BusinessHours, Closure, HoursError, OpeningInterval,
};
pub use outcome::{Offer, OfferKind, Outcome, SearchContext, Unmet, MAX_SPOKEN};
pub use source::{AvailabilitySource, BoxSource, Slot, SourceError, SourceErrorKind, TimeRange};
pub use tenant::{EventTypeId, IdError, Tenant, TenantId};
#[cfg(feature = "redis")]
pub use voxcal_core::redis::RedisConnection;
pub use voxcal_core::{Clock, FakeClock, Lang, SystemClock, UserMessage};

#[cfg(test)]
mod assert_traits {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<crate::SlotCache<crate::InMemoryCalendar>>();
        assert_send_sync::<crate::SlotCache<crate::BoxSource, crate::MemoryCacheStore>>();
        assert_send_sync::<crate::BoxCacheStore>();
        assert_send_sync::<crate::AlternativeFinder<crate::InMemoryCalendar>>();
        assert_send_sync::<crate::Outcome>();
        assert_send_sync::<crate::InMemoryCalendar>();
    }
}
