//! `GET /v2/me`: who the credentials belong to (a connection test).

use std::fmt;

use serde::Deserialize;

use super::{redacted_opt, Redacted};

/// The authenticated user. `Debug` redacts e-mail and name.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Me {
    /// User id.
    pub id: u64,
    /// Username (empty when Cal.com leaves it out).
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub username: String,
    /// E-mail (empty when Cal.com leaves it out).
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub email: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Time zone (IANA; empty when Cal.com leaves it out).
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub time_zone: String,
    /// First day of the week (`Monday`, …).
    #[serde(default)]
    pub week_start: Option<String>,
    /// 12 or 24.
    #[serde(default, deserialize_with = "super::lenient::opt_u32")]
    pub time_format: Option<u32>,
    /// Default schedule.
    #[serde(default)]
    pub default_schedule_id: Option<u64>,
    /// Organization, if any.
    #[serde(default)]
    pub organization_id: Option<u64>,
}

impl fmt::Debug for Me {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Me")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &Redacted)
            .field("name", &redacted_opt(&self.name))
            .field("time_zone", &self.time_zone)
            .field("organization_id", &self.organization_id)
            .finish_non_exhaustive()
    }
}
