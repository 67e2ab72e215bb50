//! `GET /v2/slots`, `POST /v2/slots/reservations`, `DELETE /v2/slots/reservations/{uid}`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::instant;

/// Which event type to ask about: by id, or by slug plus its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventTypeTarget {
    /// By numeric id.
    Id(u64),
    /// A user's event type by slug.
    UserSlug {
        /// The event type slug.
        slug: String,
        /// The owner's username.
        username: String,
        /// The organization slug, if the user belongs to one.
        organization_slug: Option<String>,
    },
    /// A team's event type by slug.
    TeamSlug {
        /// The event type slug.
        slug: String,
        /// The team slug.
        team_slug: String,
        /// The organization slug, if the team belongs to one.
        organization_slug: Option<String>,
    },
}

impl EventTypeTarget {
    /// A user's event type by slug.
    pub fn user_slug(slug: impl Into<String>, username: impl Into<String>) -> Self {
        Self::UserSlug {
            slug: slug.into(),
            username: username.into(),
            organization_slug: None,
        }
    }

    /// A team's event type by slug.
    pub fn team_slug(slug: impl Into<String>, team_slug: impl Into<String>) -> Self {
        Self::TeamSlug {
            slug: slug.into(),
            team_slug: team_slug.into(),
            organization_slug: None,
        }
    }

    /// The `(name, value)` pairs Cal.com expects for this target, with the given
    /// names for the id and slug parameters.
    pub(crate) fn pairs(
        &self,
        id_name: &'static str,
        slug_name: &'static str,
    ) -> Vec<(&'static str, String)> {
        match self {
            Self::Id(id) => vec![(id_name, id.to_string())],
            Self::UserSlug {
                slug,
                username,
                organization_slug,
            } => {
                let mut pairs = vec![(slug_name, slug.clone()), ("username", username.clone())];
                if let Some(org) = organization_slug {
                    pairs.push(("organizationSlug", org.clone()));
                }
                pairs
            }
            Self::TeamSlug {
                slug,
                team_slug,
                organization_slug,
            } => {
                let mut pairs = vec![(slug_name, slug.clone()), ("teamSlug", team_slug.clone())];
                if let Some(org) = organization_slug {
                    pairs.push(("organizationSlug", org.clone()));
                }
                pairs
            }
        }
    }
}

impl From<u64> for EventTypeTarget {
    fn from(id: u64) -> Self {
        Self::Id(id)
    }
}

/// Query of `GET /v2/slots`.
///
/// `start` and `end` are instants and sent as UTC (`2026-12-01T00:00:00.000Z`), so
/// Cal.com's "a bare date means start/end of day" rule never applies. `time_zone`
/// only changes how Cal.com groups slots into days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotsQuery {
    /// The event type.
    pub event_type: EventTypeTarget,
    /// First instant to look at.
    pub start: DateTime<Utc>,
    /// Last instant to look at.
    pub end: DateTime<Utc>,
    /// IANA zone used to group slots into days (Cal.com defaults to UTC).
    pub time_zone: Option<String>,
    /// Desired duration in minutes, for event types with several.
    pub duration: Option<u32>,
    /// Ask for slot ends as well (`format=range`).
    pub with_ends: bool,
    /// Uid of a booking being rescheduled: its own slot counts as free.
    pub booking_uid_to_reschedule: Option<String>,
}

impl SlotsQuery {
    /// Slots of `event_type` between two instants.
    pub fn new(
        event_type: impl Into<EventTypeTarget>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Self {
        Self {
            event_type: event_type.into(),
            start,
            end,
            time_zone: None,
            duration: None,
            with_ends: false,
            booking_uid_to_reschedule: None,
        }
    }

    /// Slots from `first` 00:00Z up to `last + 1 day` 00:00Z (a bare date means 00:00Z).
    pub fn for_dates(
        event_type: impl Into<EventTypeTarget>,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Self {
        let start = first.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = last
            .succ_opt()
            .unwrap_or(last)
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        Self::new(event_type, start, end)
    }

    /// Groups days in `time_zone` (IANA name).
    pub fn time_zone(mut self, time_zone: impl Into<String>) -> Self {
        self.time_zone = Some(time_zone.into());
        self
    }

    /// Asks for slots of `minutes` length.
    pub fn duration(mut self, minutes: u32) -> Self {
        self.duration = Some(minutes);
        self
    }

    /// Asks for slot ends too (`format=range`).
    pub fn with_ends(mut self) -> Self {
        self.with_ends = true;
        self
    }

    pub(crate) fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.event_type.pairs("eventTypeId", "eventTypeSlug");
        pairs.push(("start", instant(&self.start)));
        pairs.push(("end", instant(&self.end)));
        if let Some(tz) = &self.time_zone {
            pairs.push(("timeZone", tz.clone()));
        }
        if let Some(duration) = self.duration {
            pairs.push(("duration", duration.to_string()));
        }
        if self.with_ends {
            pairs.push(("format", "range".to_owned()));
        }
        if let Some(uid) = &self.booking_uid_to_reschedule {
            pairs.push(("bookingUidToReschedule", uid.clone()));
        }
        pairs
    }
}

/// One free slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// When the slot starts.
    pub start: DateTime<Utc>,
    /// When it ends (only with [`SlotsQuery::with_ends`]).
    pub end: Option<DateTime<Utc>>,
    /// For seated events: seats already taken.
    pub attendees_count: Option<u32>,
    /// For seated events: the booking the seats belong to.
    pub booking_uid: Option<String>,
}

/// Free slots grouped by day (days as Cal.com grouped them, in the query's zone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    /// Slots per day, days in order.
    pub days: BTreeMap<NaiveDate, Vec<Slot>>,
}

impl Slots {
    /// All slots in time order.
    pub fn iter(&self) -> impl Iterator<Item = &Slot> + '_ {
        self.days.values().flatten()
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.days.values().map(Vec::len).sum()
    }

    /// True when no slot is free.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Wire form: a slot is an object (`{start, end?, attendeesCount?, bookingUid?}`) or,
/// as the spec's schema says for the default format, a bare string.
#[derive(Deserialize)]
#[serde(untagged)]
enum WireSlot {
    Bare(DateTime<Utc>),
    Object {
        start: DateTime<Utc>,
        #[serde(default)]
        end: Option<DateTime<Utc>>,
        #[serde(
            default,
            rename = "attendeesCount",
            deserialize_with = "super::lenient::opt_u32"
        )]
        attendees_count: Option<u32>,
        #[serde(default, rename = "bookingUid")]
        booking_uid: Option<String>,
    },
}

/// The slots `data` map.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct SlotsData(BTreeMap<NaiveDate, Vec<WireSlot>>);

impl From<SlotsData> for Slots {
    fn from(data: SlotsData) -> Self {
        let days = data
            .0
            .into_iter()
            .map(|(day, slots)| {
                let mut slots: Vec<Slot> = slots
                    .into_iter()
                    .map(|slot| match slot {
                        WireSlot::Bare(start) => Slot {
                            start,
                            end: None,
                            attendees_count: None,
                            booking_uid: None,
                        },
                        WireSlot::Object {
                            start,
                            end,
                            attendees_count,
                            booking_uid,
                        } => Slot {
                            start,
                            end,
                            attendees_count,
                            booking_uid,
                        },
                    })
                    .collect();
                slots.sort_by_key(|slot| slot.start);
                (day, slots)
            })
            .collect();
        Self { days }
    }
}

/// Body of `POST /v2/slots/reservations`: hold a slot while the caller confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveSlotRequest {
    /// The event type id.
    pub event_type_id: u64,
    /// Start of the slot to hold.
    #[serde(with = "super::utc_millis")]
    pub slot_start: DateTime<Utc>,
    /// Slot length in minutes, for event types with several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot_duration: Option<u32>,
    /// How long to hold it, in minutes (Cal.com's default is 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_duration: Option<u32>,
}

impl ReserveSlotRequest {
    /// Holds the slot at `slot_start` of `event_type_id`.
    pub fn new(event_type_id: u64, slot_start: DateTime<Utc>) -> Self {
        Self {
            event_type_id,
            slot_start,
            slot_duration: None,
            reservation_duration: None,
        }
    }
}

/// A held slot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotReservation {
    /// The event type id.
    pub event_type_id: u64,
    /// Slot start.
    pub slot_start: DateTime<Utc>,
    /// Slot end.
    pub slot_end: DateTime<Utc>,
    /// Slot length in minutes (Cal.com documents it as `"30"`, a string: both
    /// forms are read).
    #[serde(deserialize_with = "super::lenient::u32")]
    pub slot_duration: u32,
    /// The reservation's uid (to release it).
    pub reservation_uid: String,
    /// Hold length in minutes.
    #[serde(deserialize_with = "super::lenient::u32")]
    pub reservation_duration: u32,
    /// When the hold lapses.
    pub reservation_until: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};
    use proptest::prelude::*;

    fn parse(json: serde_json::Value) -> Slots {
        serde_json::from_value::<SlotsData>(json).unwrap().into()
    }

    #[test]
    fn bare_strings_objects_and_unknown_fields() {
        let slots = parse(serde_json::json!({
            "2026-12-01": [
                "2026-12-01T10:00:00Z",
                {"start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T09:30:00+01:00", "x": 1}
            ]
        }));
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let starts: Vec<String> = slots.days[&day]
            .iter()
            .map(|s| s.start.to_rfc3339())
            .collect();
        assert_eq!(
            starts,
            ["2026-12-01T08:00:00+00:00", "2026-12-01T10:00:00+00:00"]
        );
        assert!(
            serde_json::from_value::<SlotsData>(serde_json::json!({"not-a-date": []})).is_err()
        );
        assert!(serde_json::from_value::<SlotsData>(
            serde_json::json!({"2026-12-01": [{"end": "2026-12-01T09:30:00Z"}]})
        )
        .is_err());
    }

    #[test]
    fn reservations_read_durations_as_numbers_or_strings() {
        let wire = |duration: serde_json::Value, id: serde_json::Value| {
            serde_json::json!({
                "eventTypeId": id, "slotStart": "2024-09-04T09:00:00Z", "slotEnd": "2024-09-04T10:00:00Z",
                "slotDuration": duration, "reservationUid": "r", "reservationDuration": 5,
                "reservationUntil": "2024-09-04T10:00:00Z", "new": true
            })
        };
        // The spec's own example: `"slotDuration": "30"`.
        for duration in [
            serde_json::json!("30"),
            serde_json::json!(30),
            serde_json::json!(30.0),
        ] {
            let held: SlotReservation =
                serde_json::from_value(wire(duration, serde_json::json!(1))).unwrap();
            assert_eq!(held.slot_duration, 30);
        }
        assert!(serde_json::from_value::<SlotReservation>(wire(
            serde_json::json!("dreißig"),
            serde_json::json!(1)
        ))
        .is_err());
        assert!(serde_json::from_value::<SlotReservation>(wire(
            serde_json::json!(30),
            serde_json::json!("1")
        ))
        .is_err());
        let counted = parse(
            serde_json::json!({"2026-12-01": [{"start": "2026-12-01T10:00:00Z", "attendeesCount": "2"}]}),
        );
        assert_eq!(counted.iter().next().unwrap().attendees_count, Some(2));
    }

    #[test]
    fn query_pairs_for_dates_are_utc_midnights() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let pairs =
            SlotsQuery::for_dates(EventTypeTarget::user_slug("s", "u"), day, day).to_pairs();
        assert_eq!(
            pairs,
            [
                ("eventTypeSlug", "s".to_owned()),
                ("username", "u".to_owned()),
                ("start", "2026-03-29T00:00:00.000Z".to_owned()),
                ("end", "2026-03-30T00:00:00.000Z".to_owned()),
            ]
        );
    }

    proptest! {
        /// Any instant, written with any offset, in any order, comes back as the same
        /// UTC instant, sorted within its day.
        #[test]
        fn slots_round_trip_through_any_offset(
            entries in proptest::collection::vec((0i64..4_000_000_000, -14i32 * 60..=14 * 60, any::<bool>()), 0..20)
        ) {
            let mut wire: Vec<serde_json::Value> = Vec::new();
            let mut expected: Vec<DateTime<Utc>> = Vec::new();
            for (secs, offset_minutes, with_end) in &entries {
                let at = DateTime::from_timestamp(*secs, 0).unwrap();
                let offset = FixedOffset::east_opt(offset_minutes * 60).unwrap();
                let local = offset.from_utc_datetime(&at.naive_utc()).to_rfc3339();
                expected.push(at);
                wire.push(if *with_end {
                    serde_json::json!({"start": local, "end": local})
                } else {
                    serde_json::json!(local)
                });
            }
            let slots = parse(serde_json::json!({"2026-12-01": wire}));
            let got: Vec<DateTime<Utc>> = slots.iter().map(|s| s.start).collect();
            expected.sort();
            prop_assert_eq!(got, expected);
            prop_assert_eq!(slots.len(), entries.len());
        }

        /// The start/end query values always parse back to the same instant and
        /// never contain characters that need care in a query (`+`, spaces).
        #[test]
        fn query_instants_round_trip(secs in 0i64..4_000_000_000, nanos in 0u32..1_000_000_000) {
            let at = DateTime::from_timestamp(secs, nanos).unwrap();
            let text = instant(&at);
            prop_assert!(text.ends_with('Z'));
            prop_assert!(!text.contains('+') && !text.contains(' '));
            let back: DateTime<Utc> = text.parse().unwrap();
            prop_assert_eq!(back.timestamp_millis(), at.timestamp_millis());
        }
    }
}
