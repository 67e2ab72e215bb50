//! What the service serves: bind address, tenants, their hours and services.

use std::net::SocketAddr;
use std::time::Duration;

use appointment_finder::{BusinessHours, OpeningInterval};
use chrono::Weekday;
use chrono_tz::Tz;

/// The whole configuration of one service process.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where the HTTP server listens.
    pub bind: SocketAddr,
    /// The tenants served (at least one).
    pub tenants: Vec<TenantConfig>,
    /// Largest accepted request body in bytes (larger ones get 413).
    pub max_body_bytes: usize,
    /// Time a request may take before it is answered with 408.
    pub request_timeout: Duration,
}

/// One company whose calendar the agent books into.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// Tenant id (ASCII letters, digits, `-`, `_`, `.`).
    pub id: String,
    /// Display name of the business.
    pub name: String,
    /// Opening hours, time zone and holidays.
    pub hours: BusinessHours,
    /// What can be booked.
    pub services: Vec<ServiceOffer>,
    /// Where the calendar lives.
    pub calendar: CalendarConfig,
    /// The tenant's Retell API key; when set, requests must carry a valid
    /// `X-Retell-Signature`.
    pub retell_api_key: Option<String>,
}

/// A bookable service of a tenant.
#[derive(Debug, Clone)]
pub struct ServiceOffer {
    /// Event type id (also the service's short id).
    pub event_type: String,
    /// Name the caller uses ("Beratung").
    pub name: String,
    /// Length of the appointment.
    pub duration_minutes: u32,
}

/// Where a tenant's slots and bookings live.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalendarConfig {
    /// An in-memory calendar with 30-minute slots; `seed_bookings` blocks a
    /// few slots on the coming days so alternatives can be shown.
    Demo {
        /// Pre-book some slots.
        seed_bookings: bool,
    },
}

impl ServiceConfig {
    /// The zero-configuration demo: `127.0.0.1:8080`, one tenant `demo`.
    pub fn demo() -> Self {
        ServiceConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tenants: vec![TenantConfig::demo("demo")],
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(10),
        }
    }
}

impl TenantConfig {
    /// A demo tenant: Europe/Berlin, Mon–Fri 09:00–18:00, three services,
    /// some slots already booked, no signature checks.
    pub fn demo(id: &str) -> Self {
        TenantConfig {
            id: id.to_owned(),
            name: "Praxis Demo".to_owned(),
            hours: demo_hours(chrono_tz::Europe::Berlin),
            services: vec![
                ServiceOffer {
                    event_type: "beratung".to_owned(),
                    name: "Beratung".to_owned(),
                    duration_minutes: 30,
                },
                ServiceOffer {
                    event_type: "behandlung".to_owned(),
                    name: "Behandlung".to_owned(),
                    duration_minutes: 60,
                },
                ServiceOffer {
                    event_type: "kontrolle".to_owned(),
                    name: "Kontrolle".to_owned(),
                    duration_minutes: 15,
                },
            ],
            calendar: CalendarConfig::Demo {
                seed_bookings: true,
            },
            retell_api_key: None,
        }
    }
}

/// Mon–Fri 09:00–18:00 in `zone`.
pub fn demo_hours(zone: Tz) -> BusinessHours {
    let day = OpeningInterval::new((9, 0), (18, 0)).ok();
    BusinessHours::closed(zone).with_weekdays(
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        day,
    )
}

/// A configuration problem: one line naming the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    key: String,
    problem: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, problem: impl std::fmt::Display) -> Self {
        // Keep it to one line whatever the source error looks like.
        let problem = problem.to_string();
        let problem = problem.split_whitespace().collect::<Vec<_>>().join(" ");
        ConfigError {
            key: key.into(),
            problem,
        }
    }

    /// The offending key (`tenants[0].time_zone`, `BOOKING_BIND`, …).
    pub fn key(&self) -> &str {
        &self.key
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    max_body_bytes: Option<usize>,
    request_timeout_ms: Option<u64>,
    #[serde(default)]
    tenants: Vec<FileTenant>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTenant {
    id: String,
    name: Option<String>,
    time_zone: Option<String>,
    holidays: Option<String>,
    #[serde(default)]
    closed_dates: Vec<String>,
    hours: Option<std::collections::BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    services: Vec<FileService>,
    calendar: Option<String>,
    seed_bookings: Option<bool>,
    retell_api_key_env: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileService {
    event_type: String,
    name: String,
    duration_minutes: u32,
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

fn parse_hm(text: &str) -> Option<(u32, u32)> {
    let (h, m) = text.trim().split_once(':')?;
    Some((h.parse().ok()?, m.parse().ok()?))
}

impl ServiceConfig {
    /// Reads a TOML configuration (see `booking.toml`), then applies the
    /// environment overrides (`BOOKING_BIND`) read through `env`.
    ///
    /// ```
    /// let text = r#"
    /// bind = "127.0.0.1:9000"
    /// [[tenants]]
    /// id = "praxis"
    /// [[tenants.services]]
    /// event_type = "beratung"
    /// name = "Beratung"
    /// duration_minutes = 30
    /// "#;
    /// let config = booking_service::ServiceConfig::from_toml("booking.toml", text, |_| None).unwrap();
    /// assert_eq!(config.bind.port(), 9000);
    /// assert_eq!(config.tenants[0].id, "praxis");
    /// ```
    pub fn from_toml(
        source: &str,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let key = match line {
                Some(line) => format!("{source}:{line}"),
                None => source.to_owned(),
            };
            ConfigError::new(key, e.message())
        })?;
        let mut config = ServiceConfig::demo();
        if let Some(bind) = file.bind {
            config.bind = bind.parse().map_err(|_| {
                ConfigError::new(
                    "bind",
                    format!("{bind:?} is not an address like 127.0.0.1:8080"),
                )
            })?;
        }
        if let Some(max) = file.max_body_bytes {
            if !(1024..=16 * 1024 * 1024).contains(&max) {
                return Err(ConfigError::new(
                    "max_body_bytes",
                    "must be between 1024 and 16777216",
                ));
            }
            config.max_body_bytes = max;
        }
        if let Some(ms) = file.request_timeout_ms {
            if !(100..=600_000).contains(&ms) {
                return Err(ConfigError::new(
                    "request_timeout_ms",
                    "must be between 100 and 600000",
                ));
            }
            config.request_timeout = Duration::from_millis(ms);
        }
        if file.tenants.is_empty() {
            return Err(ConfigError::new(
                "tenants",
                "at least one [[tenants]] entry is required",
            ));
        }
        config.tenants = file
            .tenants
            .into_iter()
            .enumerate()
            .map(|(i, t)| tenant_from_file(i, t, &env))
            .collect::<Result<_, _>>()?;
        config.apply_env(env)?;
        Ok(config)
    }

    /// Applies `BOOKING_BIND` from `env`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(bind) = env("BOOKING_BIND") {
            self.bind = bind.parse().map_err(|_| {
                ConfigError::new(
                    "BOOKING_BIND",
                    format!("{bind:?} is not an address like 127.0.0.1:8080"),
                )
            })?;
        }
        Ok(())
    }
}

fn tenant_from_file(
    i: usize,
    t: FileTenant,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<TenantConfig, ConfigError> {
    let key = |field: &str| format!("tenants[{i}].{field}");
    let zone: Tz = match &t.time_zone {
        None => chrono_tz::Europe::Berlin,
        Some(name) => name.parse().map_err(|_| {
            ConfigError::new(key("time_zone"), format!("unknown time zone {name:?}"))
        })?,
    };
    let mut hours = match &t.hours {
        None => demo_hours(zone),
        Some(days) => {
            let mut hours = BusinessHours::closed(zone);
            for (day, ranges) in days {
                let Some((_, weekday)) = WEEKDAYS.iter().find(|(name, _)| name == day) else {
                    return Err(ConfigError::new(
                        key(&format!("hours.{day}")),
                        "unknown weekday (use mon, tue, wed, thu, fri, sat, sun)",
                    ));
                };
                let mut intervals = Vec::new();
                for range in ranges {
                    let parsed = range
                        .split_once('-')
                        .and_then(|(a, b)| Some((parse_hm(a)?, parse_hm(b)?)))
                        .and_then(|(a, b)| OpeningInterval::new(a, b).ok());
                    let Some(interval) = parsed else {
                        return Err(ConfigError::new(
                            key(&format!("hours.{day}")),
                            format!("{range:?} is not a range like \"09:00-18:00\""),
                        ));
                    };
                    intervals.push(interval);
                }
                hours = hours.with_day(*weekday, intervals);
            }
            hours
        }
    };
    if let Some(code) = &t.holidays {
        let land = appointment_finder::Bundesland::from_code(code).ok_or_else(|| {
            ConfigError::new(
                key("holidays"),
                format!("unknown Bundesland code {code:?} (e.g. \"BE\", \"BY\")"),
            )
        })?;
        hours = hours.with_public_holidays(land);
    }
    for date in &t.closed_dates {
        let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
            ConfigError::new(
                key("closed_dates"),
                format!("{date:?} is not a date like \"2026-12-24\""),
            )
        })?;
        hours = hours.with_closed_date(date);
    }
    let calendar =
        match t.calendar.as_deref() {
            None | Some("demo") => CalendarConfig::Demo {
                seed_bookings: t.seed_bookings.unwrap_or(false),
            },
            Some("calcom") => return Err(ConfigError::new(
                key("calendar"),
                "\"calcom\" is not wired into this version of the demo service yet (use \"demo\")",
            )),
            Some(other) => {
                return Err(ConfigError::new(
                    key("calendar"),
                    format!("unknown calendar {other:?} (use \"demo\")"),
                ))
            }
        };
    let retell_api_key = match &t.retell_api_key_env {
        None => None,
        Some(var) => match env(var) {
            Some(value) if !value.trim().is_empty() => Some(value),
            _ => {
                return Err(ConfigError::new(
                    key("retell_api_key_env"),
                    format!("environment variable {var} is not set"),
                ))
            }
        },
    };
    if t.services.is_empty() {
        return Err(ConfigError::new(
            key("services"),
            "at least one [[tenants.services]] entry is required",
        ));
    }
    let services = t
        .services
        .into_iter()
        .map(|s| ServiceOffer {
            event_type: s.event_type,
            name: s.name,
            duration_minutes: s.duration_minutes,
        })
        .collect();
    Ok(TenantConfig {
        name: t.name.unwrap_or_else(|| t.id.clone()),
        id: t.id,
        hours,
        services,
        calendar,
        retell_api_key,
    })
}
