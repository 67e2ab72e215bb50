//! Event types (`cal-api-version: 2024-06-14`): list and get.

use serde::Deserialize;

/// Filters of `GET /v2/event-types`. Without any, the authenticated user's event types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventTypesQuery {
    /// A user's event types.
    pub username: Option<String>,
    /// One event type by slug (needs `username`).
    pub event_slug: Option<String>,
    /// The organization slug of the user.
    pub org_slug: Option<String>,
    /// The organization id of the user.
    pub org_id: Option<u64>,
}

impl EventTypesQuery {
    pub(crate) fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(username) = &self.username {
            pairs.push(("username", username.clone()));
        }
        if let Some(slug) = &self.event_slug {
            pairs.push(("eventSlug", slug.clone()));
        }
        if let Some(org) = &self.org_slug {
            pairs.push(("orgSlug", org.clone()));
        }
        if let Some(id) = self.org_id {
            pairs.push(("orgId", id.to_string()));
        }
        pairs
    }
}

/// An event type (the parts a booking flow needs; unknown fields are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventType {
    /// Id.
    pub id: u64,
    /// Default length in minutes.
    #[serde(deserialize_with = "super::lenient::u32")]
    pub length_in_minutes: u32,
    /// Selectable lengths, if several.
    #[serde(default, deserialize_with = "super::lenient::vec_u32")]
    pub length_in_minutes_options: Vec<u32>,
    /// Title (empty when Cal.com leaves it out).
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub title: String,
    /// Slug (empty when Cal.com leaves it out).
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub slug: String,
    /// Description.
    #[serde(default, deserialize_with = "super::lenient::opt_text")]
    pub description: Option<String>,
    /// Locations, as Cal.com describes them.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub locations: Vec<serde_json::Value>,
    /// Booking questions, as Cal.com describes them.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub booking_fields: Vec<serde_json::Value>,
    /// Minimum notice in minutes.
    #[serde(default, deserialize_with = "super::lenient::opt_u32")]
    pub minimum_booking_notice: Option<u32>,
    /// Buffer before, minutes.
    #[serde(default, deserialize_with = "super::lenient::opt_u32")]
    pub before_event_buffer: Option<u32>,
    /// Buffer after, minutes.
    #[serde(default, deserialize_with = "super::lenient::opt_u32")]
    pub after_event_buffer: Option<u32>,
    /// Hidden from the profile page.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub hidden: bool,
    /// Owner user id (user event types).
    #[serde(default, deserialize_with = "super::lenient::opt_id_or_object")]
    pub owner_id: Option<u64>,
    /// Team id (team event types).
    #[serde(default)]
    pub team_id: Option<u64>,
    /// Public booking page.
    #[serde(default, deserialize_with = "super::lenient::opt_text")]
    pub booking_url: Option<String>,
    /// Schedule id.
    #[serde(default)]
    pub schedule_id: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_quirks_decode_and_ids_stay_strict() {
        let base = json!({"id": 1, "lengthInMinutes": "60", "lengthInMinutesOptions": [15, "30"],
            "ownerId": {}, "title": null, "minimumBookingNotice": "120", "hidden": null, "locations": null});
        let event_type: EventType = serde_json::from_value(base.clone()).unwrap();
        assert_eq!(event_type.length_in_minutes, 60);
        assert_eq!(event_type.length_in_minutes_options, [15, 30]);
        assert_eq!(event_type.minimum_booking_notice, Some(120));
        assert_eq!(
            (
                event_type.owner_id,
                event_type.title.as_str(),
                event_type.hidden
            ),
            (None, "", false)
        );
        for (key, value) in [
            ("id", json!("1")),
            ("ownerId", json!("10")),
            ("teamId", json!(1.5)),
            ("lengthInMinutes", json!(null)),
        ] {
            let mut json = base.clone();
            json[key] = value.clone();
            assert!(
                serde_json::from_value::<EventType>(json).is_err(),
                "{key} = {value}"
            );
        }
    }
}
