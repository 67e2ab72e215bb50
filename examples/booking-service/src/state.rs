//! Shared state of the service: tenants with their calendars, bookings, clocks.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use parking_lot::Mutex;
use voxcal_appointment_finder::{
    AlternativeFinder, AvailabilitySource, BookingId, BoxCacheStore, BoxSource, CalcomSource,
    Clock, EventType, EventTypeId, InMemoryCalendar, RedisCacheStore, RedisConnection, Slot,
    SlotCache, SourceError, SystemClock, Tenant, TenantId, TimeRange,
};
use voxcal_calcom_client::{CalcomClient, Credentials, RetryConfig};
use voxcal_call_rate_limiter::{BoxStore, MemoryStore, Policy, RedisStore, Store};
use voxcal_circuit_breaker::{BreakerRegistry, CircuitBreaker, Event as BreakerEvent};

use crate::backend::{BookingBackend, CalcomBackend, DemoBackend};
use crate::config::{CalendarConfig, ServiceConfig, TenantConfig};
use crate::idempotency::Idempotency;

/// Why a configuration could not be turned into a running state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A configuration value is unusable; `key` names it.
    #[error("{key}: {problem}")]
    Invalid {
        /// Dotted path of the offending key (`tenants[0].id`).
        key: String,
        /// What is wrong with it.
        problem: String,
    },
}

fn invalid(key: impl Into<String>, problem: impl fmt::Display) -> StateError {
    StateError::Invalid {
        key: key.into(),
        problem: problem.to_string(),
    }
}

/// A bookable service of a running tenant.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) event_type: EventTypeId,
    pub(crate) name: String,
    pub(crate) duration: Duration,
}

/// A tenant's slot source (the demo calendar or Cal.com) with its metrics:
/// fetch latency and result per source, and Cal.com's refusals while its
/// breaker is open.
#[derive(Debug, Clone)]
pub(crate) struct Metered<S> {
    label: &'static str,
    inner: S,
}

impl<S> Metered<S> {
    pub(crate) fn new(label: &'static str, inner: S) -> Self {
        Metered { label, inner }
    }
}

impl<S: AvailabilitySource> AvailabilitySource for Metered<S> {
    async fn free_slots(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<Slot>, SourceError> {
        let started = Instant::now();
        let result = self.inner.free_slots(tenant, event_type, range).await;
        metrics::histogram!(
            "upstream_request_seconds",
            "tenant" => tenant.to_string(),
            "source" => self.label,
            "operation" => "slots"
        )
        .record(started.elapsed().as_secs_f64());
        metrics::counter!(
            "slot_source_fetches_total",
            "tenant" => tenant.to_string(),
            "source" => self.label,
            "result" => if result.is_ok() { "ok" } else { "error" }
        )
        .increment(1);
        result
    }

    /// A source that refuses in advance (Cal.com while its breaker is open):
    /// the slot cache answers a miss with its error at once (no lock, no
    /// waiting behind other lookups); counted as a fetch with result
    /// `refused`.
    fn known_failure(&self, tenant: &TenantId) -> Option<SourceError> {
        let err = self.inner.known_failure(tenant)?;
        metrics::counter!(
            "slot_source_fetches_total",
            "tenant" => tenant.to_string(),
            "source" => self.label,
            "result" => "refused"
        )
        .increment(1);
        Some(err)
    }
}

impl TenantRuntime {
    /// The tenant's Cal.com breaker, if it is on Cal.com.
    pub(crate) fn breaker(&self) -> Option<&CircuitBreaker> {
        self.backend.breaker()
    }
}

/// A slot cache in Redis, for every tenant or for Cal.com tenants only.
#[derive(Debug, Clone)]
struct SharedCache {
    /// With its key prefix applied.
    store: RedisCacheStore,
    calcom_only: bool,
}

/// One tenant at runtime.
pub(crate) struct TenantRuntime {
    pub(crate) tenant: Tenant,
    pub(crate) name: String,
    pub(crate) services: Vec<Service>,
    pub(crate) backend: Arc<dyn BookingBackend>,
    pub(crate) finder: AlternativeFinder<BoxSource>,
    pub(crate) retell_api_key: Option<String>,
    pub(crate) calcom_webhook_secret: Option<String>,
}

impl fmt::Debug for TenantRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantRuntime")
            .field("tenant", self.tenant.id())
            .field("services", &self.services.len())
            .field("signed", &self.retell_api_key.is_some())
            .finish_non_exhaustive()
    }
}

/// A booking made through the service.
#[derive(Debug, Clone)]
pub(crate) struct BookingRecord {
    pub(crate) id: BookingHandle,
    pub(crate) service: usize,
    pub(crate) start: DateTime<Utc>,
}

/// The calendar's own id of a booking.
#[derive(Debug, Clone)]
pub(crate) enum BookingHandle {
    Demo(BookingId),
    Calcom(String),
}

impl BookingHandle {
    /// The booking id the caller hears.
    pub(crate) fn public_id(&self) -> String {
        match self {
            BookingHandle::Demo(id) => id.to_string(),
            BookingHandle::Calcom(uid) => uid.clone(),
        }
    }
}

/// Bookings per tenant, and the idempotency index of `book_appointment`.
#[derive(Debug, Default)]
pub(crate) struct Bookings {
    /// (tenant, public booking id) → booking.
    pub(crate) by_id: HashMap<(TenantId, String), BookingRecord>,
    /// (tenant, call id, service, start) → public booking id.
    pub(crate) by_call: HashMap<(TenantId, String, usize, DateTime<Utc>), String>,
}

pub(crate) struct Inner {
    pub(crate) tenants: BTreeMap<String, Arc<TenantRuntime>>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Where call limits are counted (memory or Redis, chosen at runtime).
    pub(crate) limiter: Arc<BoxStore>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) bookings: Mutex<Bookings>,
    pub(crate) started: Instant,
    pub(crate) redis: Option<RedisConnection>,
    pub(crate) slot_cache_backend: &'static str,
    pub(crate) breakers: BreakerRegistry,
    pub(crate) breaker_backend: &'static str,
    pub(crate) max_body_bytes: usize,
    /// The bearer token of the admin routes on the public port.
    pub(crate) admin_token: Option<String>,
    /// `book_appointment`'s idempotency record (memory, or Redis for all
    /// replicas).
    pub(crate) idempotency: Idempotency,
    /// The records of calendars no other replica sees (the demo calendar):
    /// always in this process.
    pub(crate) local_idempotency: Idempotency,
    pub(crate) request_timeout: std::time::Duration,
    /// The deadlines of the requests that are waiting (see [`crate::deadline`]).
    pub(crate) deadlines: Arc<crate::deadline::Deadlines>,
}

/// Everything the handlers share. Cheap to clone.
///
/// ```
/// use booking_service::{AppState, ServiceConfig};
/// let state = AppState::builder(ServiceConfig::demo()).build().unwrap();
/// assert_eq!(state.tenant_ids(), vec!["demo".to_owned()]);
/// ```
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("tenants", &self.inner.tenants.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds an [`AppState`] from a [`ServiceConfig`], with injectable clocks.
pub struct AppStateBuilder {
    config: ServiceConfig,
    clock: Arc<dyn Clock>,
    limiter: Option<BoxStore>,
    redis: Option<RedisConnection>,
    slot_cache: Option<SharedCache>,
    policy: Policy,
    breakers: Option<(BreakerRegistry, &'static str)>,
    calcom_retry: Option<RetryConfig>,
    idempotency: Option<Idempotency>,
}

impl fmt::Debug for AppStateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppStateBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Starts building the state for `config`.
    pub fn builder(config: ServiceConfig) -> AppStateBuilder {
        AppStateBuilder {
            config,
            clock: Arc::new(SystemClock),
            limiter: None,
            redis: None,
            slot_cache: None,
            policy: Policy::default(),
            breakers: None,
            calcom_retry: None,
            idempotency: None,
        }
    }

    /// The ids of the configured tenants, sorted.
    pub fn tenant_ids(&self) -> Vec<String> {
        self.inner.tenants.keys().cloned().collect()
    }

    /// Whether any tenant checks Retell signatures.
    pub fn signatures_enabled(&self) -> bool {
        self.inner
            .tenants
            .values()
            .any(|t| t.retell_api_key.is_some())
    }

    /// Where call limits are counted: `in-memory`, `redis`, or `custom` (a
    /// store of your own, see [`limiter_store`](AppStateBuilder::limiter_store)).
    pub fn limiter_backend(&self) -> &'static str {
        self.inner.limiter.backend()
    }

    /// Where the Cal.com breakers keep their state: `in-memory` or `redis`.
    pub fn breaker_backend(&self) -> &'static str {
        self.inner.breaker_backend
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now_utc()
    }
}

impl AppStateBuilder {
    /// The one clock of the service: the finder, the calendars, validation,
    /// signature freshness, the in-memory call limits, the Cal.com breakers
    /// and the Cal.com clients' back-off all read it. Tests pass a
    /// [`FakeClock`](voxcal_core::FakeClock) and advance it.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Counts call limits in `store`: a [`MemoryStore`] or any other
    /// [`Store`] (its own clock; the default store, a `MemoryStore`, reads
    /// the service's [`clock`](Self::clock)).
    pub fn limiter_store(mut self, store: impl Store) -> Self {
        self.limiter = Some(BoxStore::new(store));
        self
    }

    /// Counts call limits in Redis, shared by every replica.
    pub fn redis_limiter(mut self, store: RedisStore) -> Self {
        self.limiter = Some(BoxStore::new(store));
        self
    }

    /// Reports this Redis connection in `/api/health/detailed` (ping time,
    /// version, used memory).
    /// On a Cluster it also reports the `CLUSTER INFO` state and node count;
    /// version and memory are those of the node that answered.
    pub fn redis_health(mut self, conn: RedisConnection) -> Self {
        self.redis = Some(conn);
        self
    }

    /// Keeps the slot cache in Redis under `prefix` (keys carry the tenant).
    ///
    /// Only sound when every process reads the same calendar (Cal.com); the
    /// demo calendars live in each process, so the binary keeps this off.
    pub fn redis_slot_cache(mut self, conn: RedisConnection, prefix: impl Into<String>) -> Self {
        self.slot_cache = Some(SharedCache {
            store: RedisCacheStore::new(conn).with_prefix(prefix),
            calcom_only: false,
        });
        self
    }

    /// Keeps the slot cache of every Cal.com tenant in Redis under `prefix`
    /// (standalone or Cluster backend), shared by all replicas; demo tenants
    /// keep theirs in memory, since their calendars live in each process.
    /// The binary does this whenever Redis is configured.
    pub fn shared_slot_cache(mut self, store: RedisCacheStore, prefix: impl Into<String>) -> Self {
        self.slot_cache = Some(SharedCache {
            store: store.with_prefix(prefix),
            calcom_only: true,
        });
        self
    }

    /// Keeps `book_appointment`'s idempotency records of the Cal.com
    /// tenants in Redis under `prefix` (hash-tagged per call, with a TTL), so
    /// a retry on any replica replays the first attempt's booking and a
    /// retry during the first attempt waits for it. The binary does this
    /// whenever Redis is configured. Default: in this process.
    pub fn redis_idempotency(mut self, conn: RedisConnection, prefix: impl Into<String>) -> Self {
        self.idempotency = Some(Idempotency::redis(conn, prefix));
        self
    }

    /// Uses another call-limit policy (default: [`Policy::default`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Takes the Cal.com circuit breakers (one per tenant, named
    /// `calcom:<tenant>`, with the configuration's `calcom_breaker`
    /// settings as the registry's defaults) from `registry`, e.g. one over a
    /// [`voxcal_circuit_breaker::RedisStore`] so every replica shares their
    /// state; its breakers read the service's [`clock`](Self::clock). `backend`
    /// names its store in `/api/health/detailed` (`in-memory`, `redis`).
    /// Default: an in-memory registry with default settings.
    pub fn breaker_registry(mut self, registry: BreakerRegistry, backend: &'static str) -> Self {
        self.breakers = Some((registry, backend));
        self
    }

    /// How the Cal.com clients retry (default: `calcom-client`'s default).
    /// Every attempt counts in the tenant's breaker.
    pub fn calcom_retry(mut self, retry: RetryConfig) -> Self {
        self.calcom_retry = Some(retry);
        self
    }

    /// Builds the state: validates tenants, creates calendars and finders.
    pub fn build(self) -> Result<AppState, StateError> {
        if self.config.tenants.is_empty() {
            return Err(invalid("tenants", "at least one tenant is required"));
        }
        let (registry, breaker_backend) = self.breakers.unwrap_or_else(|| {
            (
                BreakerRegistry::new(voxcal_circuit_breaker::MemoryStore::new()),
                "in-memory",
            )
        });
        let registry = registry.with_clock(Arc::clone(&self.clock));
        let settings = self.config.calcom_breaker;
        let breaker_config = voxcal_circuit_breaker::BreakerConfig::builder()
            .consecutive_failures(settings.consecutive_failures)
            .open_duration(settings.open_duration)
            .open_backoff(1.0, settings.open_duration)
            .build()
            .map_err(|e| invalid("calcom_breaker", e))?;
        let breakers = registry
            .with_default_config(breaker_config)
            .on_event(record_breaker_event);
        let calcom = CalcomWiring {
            breakers: &breakers,
            retry: self.calcom_retry.as_ref(),
        };
        let mut tenants = BTreeMap::new();
        for (i, tc) in self.config.tenants.iter().enumerate() {
            let runtime = build_tenant(i, tc, &self.clock, self.slot_cache.as_ref(), &calcom)?;
            if tenants.insert(tc.id.clone(), Arc::new(runtime)).is_some() {
                return Err(invalid(
                    format!("tenants[{i}].id"),
                    format!("duplicate tenant id {:?}", tc.id),
                ));
            }
        }
        let limiter = self.limiter.unwrap_or_else(|| {
            BoxStore::new(MemoryStore::new().with_clock(Arc::clone(&self.clock)))
        });
        Ok(AppState {
            inner: Arc::new(Inner {
                tenants,
                clock: Arc::clone(&self.clock),
                limiter: Arc::new(limiter),
                policy: Arc::new(self.policy),
                bookings: Mutex::new(Bookings::default()),
                redis: self.redis,
                slot_cache_backend: match &self.slot_cache {
                    None => "in-memory",
                    Some(c) if c.calcom_only => "redis (Cal.com tenants), in-memory (demo tenants)",
                    Some(_) => "redis",
                },
                breakers,
                breaker_backend,
                started: Instant::now(),
                max_body_bytes: self.config.max_body_bytes,
                admin_token: self.config.admin.token.clone(),
                idempotency: self.idempotency.unwrap_or_else(Idempotency::memory),
                local_idempotency: Idempotency::memory(),
                request_timeout: self.config.request_timeout,
                deadlines: crate::deadline::Deadlines::swept_every(
                    Arc::clone(&self.clock),
                    crate::deadline::Deadlines::resolution_for(self.config.request_timeout),
                ),
            }),
        })
    }
}

/// Counts breaker transitions and rejections for `/metrics`.
fn record_breaker_event(event: &BreakerEvent) {
    match event {
        BreakerEvent::StateTransition { breaker, from, to } => {
            metrics::counter!(
                "circuit_breaker_transitions_total",
                "breaker" => breaker.to_string(),
                "from" => from.as_str(),
                "to" => to.as_str()
            )
            .increment(1);
        }
        BreakerEvent::Rejected { breaker, .. } => {
            metrics::counter!(
                "circuit_breaker_rejections_total",
                "breaker" => breaker.to_string()
            )
            .increment(1);
        }
        _ => {}
    }
}

/// What a Cal.com tenant needs from the builder.
struct CalcomWiring<'a> {
    breakers: &'a BreakerRegistry,
    retry: Option<&'a RetryConfig>,
}

fn build_tenant(
    i: usize,
    tc: &TenantConfig,
    clock: &Arc<dyn Clock>,
    slot_cache: Option<&SharedCache>,
    calcom: &CalcomWiring<'_>,
) -> Result<TenantRuntime, StateError> {
    let id = TenantId::new(&tc.id).map_err(|e| invalid(format!("tenants[{i}].id"), e))?;
    if tc.services.is_empty() {
        return Err(invalid(
            format!("tenants[{i}].services"),
            "at least one service is required",
        ));
    }
    let tenant = Tenant::new(id.clone(), tc.hours.clone());
    let calendar = InMemoryCalendar::new(Arc::clone(clock));
    calendar.add_tenant(&tenant);
    let mut services = Vec::with_capacity(tc.services.len());
    for (j, s) in tc.services.iter().enumerate() {
        let key = |field: &str| format!("tenants[{i}].services[{j}].{field}");
        let event_type =
            EventTypeId::new(&s.event_type).map_err(|e| invalid(key("event_type"), e))?;
        if !(5..=480).contains(&s.duration_minutes) {
            return Err(invalid(
                key("duration_minutes"),
                "must be between 5 and 480 minutes",
            ));
        }
        if s.name.trim().is_empty() {
            return Err(invalid(key("name"), "must not be empty"));
        }
        let duration = Duration::minutes(i64::from(s.duration_minutes));
        calendar
            .add_event_type(
                &id,
                event_type.clone(),
                EventType::new(duration).with_slot_interval(Duration::minutes(30)),
            )
            .map_err(|e| invalid(key("event_type"), e))?;
        services.push(Service {
            event_type,
            name: s.name.clone(),
            duration,
        });
    }
    let (source, backend) = match &tc.calendar {
        CalendarConfig::Demo { seed_bookings } => {
            if *seed_bookings {
                seed(&calendar, &tenant, clock.now_utc());
            }
            (
                BoxSource::new(Metered::new("demo", calendar.clone())),
                Arc::new(DemoBackend::new(calendar.clone())) as Arc<dyn BookingBackend>,
            )
        }
        CalendarConfig::Calcom {
            api_key,
            base_url,
            event_type_ids,
        } => {
            let breaker = calcom.breakers.get(&format!("calcom:{}", tc.id));
            let mut builder = CalcomClient::builder(Credentials::api_key(api_key.clone()))
                .circuit_breaker(breaker.clone())
                .clock(Arc::clone(clock));
            if let Some(url) = base_url {
                builder = builder.base_url(url.clone());
            }
            if let Some(retry) = calcom.retry {
                builder = builder.retry(retry.clone());
            }
            let client = builder
                .build()
                .map_err(|e| invalid(format!("tenants[{i}].base_url"), e))?;
            let mut event_types = HashMap::new();
            for (j, s) in services.iter().enumerate() {
                let Some(cal_id) = event_type_ids.get(s.event_type.as_str()) else {
                    return Err(invalid(
                        format!("tenants[{i}].services[{j}].event_type_id"),
                        "required for a Cal.com tenant",
                    ));
                };
                event_types.insert(s.event_type.clone(), *cal_id);
            }
            let mut source = CalcomSource::new().with_tenant(id.clone(), client.clone());
            for (event_type, cal_id) in &event_types {
                source = source.with_event_type(
                    &id,
                    event_type.clone(),
                    voxcal_calcom_client::EventTypeTarget::Id(*cal_id),
                );
            }
            (
                BoxSource::new(Metered::new("calcom", source)),
                Arc::new(CalcomBackend::new(client, breaker, event_types))
                    as Arc<dyn BookingBackend>,
            )
        }
    };
    let shared = slot_cache.filter(|c| !c.calcom_only || backend.shared());
    let cache = match shared {
        None => SlotCache::memory(source, Arc::clone(clock)),
        Some(c) => SlotCache::new(source, BoxCacheStore::new(c.store.clone()))
            .with_clock(Arc::clone(clock)),
    };
    let finder = AlternativeFinder::new(cache, Arc::clone(clock));
    Ok(TenantRuntime {
        tenant,
        name: tc.name.clone(),
        services,
        backend,
        finder,
        retell_api_key: tc.retell_api_key.clone(),
        calcom_webhook_secret: tc.calcom_webhook_secret.clone(),
    })
}

/// Blocks 10:00–11:00 and 14:00–14:30 on the open days of the next two
/// weeks, so the demo shows alternatives.
fn seed(calendar: &InMemoryCalendar, tenant: &Tenant, now: DateTime<Utc>) {
    let hours = tenant.hours();
    let zone = hours.zone();
    let today = hours.local_date(now);
    let at = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    for offset in 0..14 {
        let day = today + Duration::days(offset);
        if !hours.is_open_on(day) {
            continue;
        }
        for (from, to) in [(at(10, 0), at(11, 0)), (at(14, 0), at(14, 30))] {
            let start = zone.from_local_datetime(&day.and_time(from)).earliest();
            let end = zone.from_local_datetime(&day.and_time(to)).earliest();
            if let (Some(start), Some(end)) = (start, end) {
                // Seeding only fails for an unknown tenant, which was just added.
                let _ = calendar.block(tenant.id(), TimeRange::new(start.to_utc(), end.to_utc()));
            }
        }
    }
}
