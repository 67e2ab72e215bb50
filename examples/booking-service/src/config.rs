//! What the service serves: bind address, tenants, their hours and services.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::Weekday;
use chrono_tz::Tz;
use voxcal_appointment_finder::{BusinessHours, OpeningInterval};

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
    /// Where shared state lives (limiter counters, breaker state); `None`
    /// keeps everything in this process.
    pub redis: Option<RedisSettings>,
    /// When the Cal.com breakers open and for how long.
    pub calcom_breaker: BreakerSettings,
    /// Where `/metrics` and `/api/health/detailed` are served.
    pub admin: AdminSettings,
}

/// The `[admin]` table: the routes an operator reads (`/metrics`,
/// `/api/health/detailed`: tenant ids, Redis version and memory, breaker
/// states) are not for the port Retell calls.
///
/// They are served on `bind`, which defaults to loopback at the public
/// port + 1 (port 0 when the public port is 0), and, only when `token` is
/// set, also on the public port to requests with
/// `Authorization: Bearer <token>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AdminSettings {
    /// The admin listener's address; `None` means the default above.
    /// `BOOKING_ADMIN_BIND` overrides it; `"off"` there (or
    /// `bind = "off"` in the file) turns the listener off.
    pub bind: Option<SocketAddr>,
    /// Whether the admin listener runs at all.
    pub listen: bool,
    /// The bearer token for the admin routes on the public port (read from
    /// the env var named by `token_env`).
    pub token: Option<String>,
}

impl std::fmt::Debug for AdminSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSettings")
            .field("bind", &self.bind)
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl AdminSettings {
    /// Loopback at the public port + 1, and no token.
    pub fn local() -> Self {
        AdminSettings {
            bind: None,
            listen: true,
            token: None,
        }
    }

    /// The admin listener's address for a service listening on `public`,
    /// `None` when it is off.
    pub fn address(&self, public: SocketAddr) -> Option<SocketAddr> {
        if !self.listen {
            return None;
        }
        Some(self.bind.unwrap_or_else(|| {
            let port = match public.port() {
                0 => 0,
                p => p.checked_add(1).unwrap_or(0),
            };
            SocketAddr::from(([127, 0, 0, 1], port))
        }))
    }
}

impl AdminSettings {
    fn set_bind(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        if value.trim().eq_ignore_ascii_case("off") {
            self.listen = false;
            return Ok(());
        }
        self.bind = Some(value.parse().map_err(|_| {
            ConfigError::new(
                key,
                format!("{value:?} is not an address like 127.0.0.1:8081 (or \"off\")"),
            )
        })?);
        self.listen = true;
        Ok(())
    }
}

/// The `[calcom_breaker]` table: when a tenant's Cal.com breaker opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Failures in a row that open it (default 5).
    pub consecutive_failures: u32,
    /// How long it stays open before probes pass (default 60 s).
    pub open_duration: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            consecutive_failures: 5,
            open_duration: Duration::from_secs(60),
        }
    }
}

/// Redis for the call limiter and the circuit breakers, from the `[redis]`
/// table or `REDIS_URL` / `REDIS_CLUSTER_NODES` / `BOOKING_REDIS_PREFIX`
/// (the environment wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// A standalone server or a Cluster.
    pub target: RedisTarget,
    /// Key prefix; the limiter uses `<prefix>:rl`, the breakers `<prefix>:cb`.
    pub prefix: String,
    /// The most one call-limit decision waits for Redis before the limiter
    /// falls back to counting in memory (default 50 ms).
    pub timeout: Duration,
}

/// Which Redis to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisTarget {
    /// One server (`redis://host:port`).
    Standalone(String),
    /// Cluster seed nodes (`redis://host:port` each).
    Cluster(Vec<String>),
}

/// The default key prefix.
pub const DEFAULT_REDIS_PREFIX: &str = "booking";

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
    /// The secret of the tenant's Cal.com webhook (read from the env var
    /// named by `calcom_webhook_secret_env`); without it
    /// `POST /api/webhooks/calcom/{tenant}` answers 404.
    pub calcom_webhook_secret: Option<String>,
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

/// Where a tenant's slots and bookings live. `Debug` never shows the API key.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalendarConfig {
    /// An in-memory calendar with 30-minute slots; `seed_bookings` blocks a
    /// few slots on the coming days so alternatives can be shown.
    Demo {
        /// Pre-book some slots.
        seed_bookings: bool,
    },
    /// Cal.com API v2: free slots from `GET /v2/slots`, bookings created,
    /// cancelled and moved there; every call goes through the tenant's
    /// circuit breaker (`calcom:<tenant>`).
    Calcom {
        /// The API key (read from the env var named by `api_key_env`).
        api_key: String,
        /// Base URL (default `https://api.cal.com`; tests point it at a fake).
        base_url: Option<String>,
        /// Cal.com event type id per service (`event_type` → id).
        event_type_ids: std::collections::BTreeMap<String, u64>,
    },
}

impl std::fmt::Debug for CalendarConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalendarConfig::Demo { seed_bookings } => f
                .debug_struct("Demo")
                .field("seed_bookings", seed_bookings)
                .finish(),
            CalendarConfig::Calcom {
                base_url,
                event_type_ids,
                ..
            } => f
                .debug_struct("Calcom")
                .field("api_key", &"<redacted>")
                .field("base_url", base_url)
                .field("event_type_ids", event_type_ids)
                .finish(),
        }
    }
}

impl ServiceConfig {
    /// The zero-configuration demo: `127.0.0.1:8080`, one tenant `demo`.
    pub fn demo() -> Self {
        ServiceConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tenants: vec![TenantConfig::demo("demo")],
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            admin: AdminSettings::local(),
            redis: None,
            calcom_breaker: BreakerSettings::default(),
        }
    }
}

impl TenantConfig {
    /// A demo tenant: Europe/Berlin, Mon–Fri 09:00–18:00, closed on the
    /// nationwide public holidays, three services, some slots already
    /// booked, no signature checks.
    pub fn demo(id: &str) -> Self {
        TenantConfig {
            id: id.to_owned(),
            name: "Praxis Demo".to_owned(),
            hours: demo_hours(chrono_tz::Europe::Berlin).with_nationwide_holidays(),
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
            calcom_webhook_secret: None,
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
    redis: Option<FileRedis>,
    calcom_breaker: Option<FileBreaker>,
    admin: Option<FileAdmin>,
    #[serde(default)]
    tenants: Vec<FileTenant>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAdmin {
    bind: Option<String>,
    token_env: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBreaker {
    consecutive_failures: Option<u32>,
    open_seconds: Option<u64>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRedis {
    url: Option<String>,
    cluster_nodes: Option<Vec<String>>,
    prefix: Option<String>,
    timeout_ms: Option<u64>,
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
    api_key_env: Option<String>,
    base_url: Option<String>,
    retell_api_key_env: Option<String>,
    calcom_webhook_secret_env: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileService {
    event_type: String,
    name: String,
    duration_minutes: u32,
    event_type_id: Option<u64>,
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

fn check_redis_url(key: &str, url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    if url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://") {
        Ok(url.to_owned())
    } else {
        Err(ConfigError::new(
            key,
            format!("{url:?} is not a URL like redis://127.0.0.1:6379"),
        ))
    }
}

fn check_nodes(key: &str, nodes: Vec<String>) -> Result<Vec<String>, ConfigError> {
    let nodes: Vec<String> = nodes
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .map(|n| check_redis_url(key, n))
        .collect::<Result<_, _>>()?;
    if nodes.is_empty() {
        return Err(ConfigError::new(key, "at least one node is required"));
    }
    Ok(nodes)
}

/// How long a call-limit decision waits for Redis unless configured.
const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(50);

fn check_redis_timeout(key: &str, ms: Option<u64>) -> Result<Duration, ConfigError> {
    match ms {
        None => Ok(DEFAULT_REDIS_TIMEOUT),
        Some(ms @ 1..=10_000) => Ok(Duration::from_millis(ms)),
        Some(ms) => Err(ConfigError::new(
            key,
            format!("{ms} is out of range: give 1 to 10000 milliseconds"),
        )),
    }
}

fn check_prefix(key: &str, prefix: Option<String>) -> Result<String, ConfigError> {
    match prefix {
        None => Ok(DEFAULT_REDIS_PREFIX.to_owned()),
        Some(p)
            if !p.is_empty()
                && p.len() <= 64
                && !p.chars().any(|c| c.is_whitespace() || c == '{' || c == '}') =>
        {
            Ok(p)
        }
        Some(p) => Err(ConfigError::new(
            key,
            format!("{p:?} is not a key prefix (1–64 characters, no spaces or braces)"),
        )),
    }
}

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
        if let Some(admin) = file.admin {
            if let Some(bind) = &admin.bind {
                config.admin.set_bind("admin.bind", bind)?;
            }
            if let Some(var) = &admin.token_env {
                match env(var) {
                    Some(value) if value.trim().len() >= 16 => config.admin.token = Some(value),
                    Some(_) => {
                        return Err(ConfigError::new(
                            "admin.token_env",
                            format!("the token in {var} is shorter than 16 characters"),
                        ))
                    }
                    None => {
                        return Err(ConfigError::new(
                            "admin.token_env",
                            format!("environment variable {var} is not set"),
                        ))
                    }
                }
            }
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
        if let Some(breaker) = file.calcom_breaker {
            if let Some(n) = breaker.consecutive_failures {
                if !(1..=100).contains(&n) {
                    return Err(ConfigError::new(
                        "calcom_breaker.consecutive_failures",
                        "must be between 1 and 100",
                    ));
                }
                config.calcom_breaker.consecutive_failures = n;
            }
            if let Some(secs) = breaker.open_seconds {
                if !(1..=3600).contains(&secs) {
                    return Err(ConfigError::new(
                        "calcom_breaker.open_seconds",
                        "must be between 1 and 3600",
                    ));
                }
                config.calcom_breaker.open_duration = Duration::from_secs(secs);
            }
        }
        if let Some(redis) = file.redis {
            let target = match (redis.url, redis.cluster_nodes) {
                (Some(_), Some(_)) => {
                    return Err(ConfigError::new(
                        "redis",
                        "set either url or cluster_nodes, not both",
                    ))
                }
                (Some(url), None) => RedisTarget::Standalone(check_redis_url("redis.url", &url)?),
                (None, Some(nodes)) => {
                    RedisTarget::Cluster(check_nodes("redis.cluster_nodes", nodes)?)
                }
                (None, None) => {
                    return Err(ConfigError::new(
                        "redis",
                        "needs url (standalone) or cluster_nodes (Cluster)",
                    ))
                }
            };
            config.redis = Some(RedisSettings {
                target,
                prefix: check_prefix("redis.prefix", redis.prefix)?,
                timeout: check_redis_timeout("redis.timeout_ms", redis.timeout_ms)?,
            });
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

    /// Applies `BOOKING_BIND`, `REDIS_URL`, `REDIS_CLUSTER_NODES` (comma
    /// separated) and `BOOKING_REDIS_PREFIX` from `env`; they override the
    /// file.
    ///
    /// ```
    /// use booking_service::{RedisTarget, ServiceConfig};
    /// let mut config = ServiceConfig::demo();
    /// config
    ///     .apply_env(|name| (name == "REDIS_URL").then(|| "redis://10.0.0.5:6379".to_owned()))
    ///     .unwrap();
    /// let redis = config.redis.unwrap();
    /// assert_eq!(redis.target, RedisTarget::Standalone("redis://10.0.0.5:6379".into()));
    /// assert_eq!(redis.prefix, "booking");
    /// ```
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let target = match (set("REDIS_URL"), set("REDIS_CLUSTER_NODES")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "REDIS_URL",
                    "set either REDIS_URL or REDIS_CLUSTER_NODES, not both",
                ))
            }
            (Some(url), None) => Some(RedisTarget::Standalone(check_redis_url("REDIS_URL", &url)?)),
            (None, Some(nodes)) => Some(RedisTarget::Cluster(check_nodes(
                "REDIS_CLUSTER_NODES",
                nodes.split(',').map(|n| n.trim().to_owned()).collect(),
            )?)),
            (None, None) => None,
        };
        let prefix = set("BOOKING_REDIS_PREFIX");
        if let Some(target) = target {
            let prefix = match (prefix.clone(), &self.redis) {
                (Some(p), _) => check_prefix("BOOKING_REDIS_PREFIX", Some(p))?,
                (None, Some(file)) => file.prefix.clone(),
                (None, None) => DEFAULT_REDIS_PREFIX.to_owned(),
            };
            let timeout = self
                .redis
                .as_ref()
                .map_or(DEFAULT_REDIS_TIMEOUT, |file| file.timeout);
            self.redis = Some(RedisSettings {
                target,
                prefix,
                timeout,
            });
        } else if let (Some(p), Some(redis)) = (prefix, self.redis.as_mut()) {
            redis.prefix = check_prefix("BOOKING_REDIS_PREFIX", Some(p))?;
        }
        if let (Some(ms), Some(redis)) = (set("BOOKING_REDIS_TIMEOUT_MS"), self.redis.as_mut()) {
            let ms = ms.trim().parse().map_err(|_| {
                ConfigError::new(
                    "BOOKING_REDIS_TIMEOUT_MS",
                    format!("{ms:?} is not a number of milliseconds"),
                )
            })?;
            redis.timeout = check_redis_timeout("BOOKING_REDIS_TIMEOUT_MS", Some(ms))?;
        }
        if let Some(bind) = env("BOOKING_ADMIN_BIND") {
            self.admin.set_bind("BOOKING_ADMIN_BIND", &bind)?;
        }
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
        let land = voxcal_appointment_finder::Bundesland::from_code(code).ok_or_else(|| {
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
    let calendar = match t.calendar.as_deref() {
        None | Some("demo") => CalendarConfig::Demo {
            seed_bookings: t.seed_bookings.unwrap_or(false),
        },
        Some("calcom") => {
            let Some(var) = &t.api_key_env else {
                return Err(ConfigError::new(
                    key("api_key_env"),
                    "a \"calcom\" tenant needs the name of the env var holding its API key",
                ));
            };
            let api_key = match env(var) {
                Some(value) if !value.trim().is_empty() => value,
                _ => {
                    return Err(ConfigError::new(
                        key("api_key_env"),
                        format!("environment variable {var} is not set"),
                    ))
                }
            };
            if let Some(url) = &t.base_url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::new(
                        key("base_url"),
                        format!("{url:?} is not an http(s) URL"),
                    ));
                }
            }
            let mut event_type_ids = std::collections::BTreeMap::new();
            for (j, s) in t.services.iter().enumerate() {
                let Some(id) = s.event_type_id else {
                    return Err(ConfigError::new(
                        key(&format!("services[{j}].event_type_id")),
                        "required for a \"calcom\" tenant (the Cal.com event type id)",
                    ));
                };
                event_type_ids.insert(s.event_type.clone(), id);
            }
            CalendarConfig::Calcom {
                api_key,
                base_url: t.base_url.clone(),
                event_type_ids,
            }
        }
        Some(other) => {
            return Err(ConfigError::new(
                key("calendar"),
                format!("unknown calendar {other:?} (use \"demo\" or \"calcom\")"),
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
    let calcom_webhook_secret = match &t.calcom_webhook_secret_env {
        None => None,
        Some(var) => match env(var) {
            Some(value) if !value.trim().is_empty() => Some(value),
            _ => {
                return Err(ConfigError::new(
                    key("calcom_webhook_secret_env"),
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
        calcom_webhook_secret,
    })
}
