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
    pub length_in_minutes: u32,
    /// Selectable lengths, if several.
    #[serde(default)]
    pub length_in_minutes_options: Vec<u32>,
    /// Title.
    pub title: String,
    /// Slug.
    pub slug: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Locations, as Cal.com describes them.
    #[serde(default)]
    pub locations: Vec<serde_json::Value>,
    /// Booking questions, as Cal.com describes them.
    #[serde(default)]
    pub booking_fields: Vec<serde_json::Value>,
    /// Minimum notice in minutes.
    #[serde(default)]
    pub minimum_booking_notice: Option<u32>,
    /// Buffer before, minutes.
    #[serde(default)]
    pub before_event_buffer: Option<u32>,
    /// Buffer after, minutes.
    #[serde(default)]
    pub after_event_buffer: Option<u32>,
    /// Hidden from the profile page.
    #[serde(default)]
    pub hidden: bool,
    /// Owner user id (user event types).
    #[serde(default)]
    pub owner_id: Option<u64>,
    /// Team id (team event types).
    #[serde(default)]
    pub team_id: Option<u64>,
    /// Public booking page.
    #[serde(default)]
    pub booking_url: Option<String>,
    /// Schedule id.
    #[serde(default)]
    pub schedule_id: Option<u64>,
}
