//! `CalcomSource`: free slots from Cal.com (feature `calcom`).

use std::collections::HashMap;

use chrono::Duration;
use voxcal_calcom_client::{CalcomClient, CalcomError, ErrorKind, EventTypeTarget, SlotsQuery};
use voxcal_core::{Lang, UserMessage};

use crate::source::{AvailabilitySource, Slot, SourceError, SourceErrorKind, TimeRange};
use crate::tenant::{EventTypeId, TenantId};

#[derive(Debug, Clone)]
struct CalcomTenant {
    client: CalcomClient,
    event_types: HashMap<EventTypeId, EventTypeTarget>,
}

/// Free slots from Cal.com's `GET /v2/slots`, one [`CalcomClient`] (with
/// that tenant's credentials) per tenant.
///
/// Event type ids that are numbers are sent as `eventTypeId`; others need a
/// mapping from [`with_event_type`](Self::with_event_type) (e.g. a slug and
/// username). The range is sent in UTC; slots come back with their ends
/// (`format=range`). A Cal.com error becomes a [`SourceError`] carrying the
/// client's German and English user messages, so the finder answers
/// [`Outcome::SourceUnavailable`](crate::Outcome::SourceUnavailable) with a
/// sentence the agent can say.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// # use wiremock::{matchers::{method, path}, Mock, MockServer, ResponseTemplate};
/// # let cal = MockServer::start().await;
/// # Mock::given(method("GET")).and(path("/v2/slots"))
/// #     .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
/// #         "status": "success",
/// #         "data": {"2026-10-13": [
/// #             {"start": "2026-10-13T14:30:00.000+02:00", "end": "2026-10-13T15:00:00.000+02:00"}
/// #         ]}})))
/// #     .mount(&cal).await;
/// # let base_url = cal.uri();
/// use voxcal_appointment_finder::{
///     AlternativeFinder, BusinessHours, CalcomSource, EventTypeId, FakeClock, FindRequest, Lang,
///     Outcome, SlotCache, Tenant, TenantId,
/// };
/// use voxcal_calcom_client::{CalcomClient, Credentials};
/// use chrono::{Duration, NaiveDate, TimeZone, Utc};
///
/// let tenant = Tenant::new(TenantId::new("praxis").unwrap(), BusinessHours::default());
/// let client = CalcomClient::builder(Credentials::api_key("cal_live_…"))
///     .base_url(base_url) // default: https://api.cal.com
///     .build()
///     .unwrap();
/// let source = CalcomSource::new().with_tenant(tenant.id().clone(), client);
///
/// let clock = FakeClock::at(Utc.with_ymd_and_hms(2026, 10, 12, 6, 0, 0).unwrap());
/// let finder = AlternativeFinder::new(SlotCache::memory(source, clock.clone()), clock);
/// let wished = NaiveDate::from_ymd_opt(2026, 10, 13).unwrap().and_hms_opt(14, 20, 0).unwrap();
/// let request = FindRequest::new(EventTypeId::from(42_u64), wished, Duration::minutes(30));
/// let outcome = finder.find(&tenant, &request).await;
/// // 14:20 is not a slot start; 14:30 is the free slot next to it.
/// assert!(matches!(outcome, Outcome::Alternatives { .. }));
/// assert!(outcome.speak(Lang::De).contains("morgen um 14:30 Uhr"));
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct CalcomSource {
    tenants: HashMap<TenantId, CalcomTenant>,
    fallback_length: Option<Duration>,
}

impl CalcomSource {
    /// A source without tenants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tenant and its client (built with the tenant's credentials).
    pub fn with_tenant(mut self, tenant: TenantId, client: CalcomClient) -> Self {
        self.tenants.insert(
            tenant,
            CalcomTenant {
                client,
                event_types: HashMap::new(),
            },
        );
        self
    }

    /// Maps a non-numeric event type id of a tenant to a Cal.com target.
    /// Unknown tenants are ignored (add them first).
    pub fn with_event_type(
        mut self,
        tenant: &TenantId,
        id: EventTypeId,
        target: EventTypeTarget,
    ) -> Self {
        if let Some(t) = self.tenants.get_mut(tenant) {
            t.event_types.insert(id, target);
        }
        self
    }

    /// The length assumed when Cal.com returns a slot without its end
    /// (default: the slot ends where it starts, i.e. unknown).
    pub fn with_fallback_length(mut self, length: Duration) -> Self {
        self.fallback_length = Some(length);
        self
    }
}

fn source_error(err: &CalcomError) -> SourceError {
    let kind = match err.kind() {
        ErrorKind::NotFound => SourceErrorKind::NotFound,
        ErrorKind::Validation | ErrorKind::Unauthorized | ErrorKind::Forbidden => {
            SourceErrorKind::Rejected
        }
        _ => SourceErrorKind::Unavailable,
    };
    SourceError::new(kind, format!("cal.com: {err}"))
        .with_user_messages(err.user_message(Lang::De), err.user_message(Lang::En))
}

impl AvailabilitySource for CalcomSource {
    async fn free_slots(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<Slot>, SourceError> {
        let Some(cal) = self.tenants.get(tenant) else {
            return Err(SourceError::new(
                SourceErrorKind::NotFound,
                format!("no Cal.com client for tenant {tenant}"),
            ));
        };
        let target = match (cal.event_types.get(event_type), event_type.as_u64()) {
            (Some(target), _) => target.clone(),
            (None, Some(id)) => EventTypeTarget::Id(id),
            (None, None) => {
                return Err(SourceError::new(
                    SourceErrorKind::NotFound,
                    format!("event type {event_type} has no Cal.com mapping"),
                ))
            }
        };
        let query = SlotsQuery::new(target, range.start, range.end).with_ends();
        let slots = cal.client.slots(&query).await.map_err(|err| {
            tracing::warn!(tenant = %tenant, kind = ?err.kind(), "cal.com slots request failed");
            source_error(&err)
        })?;
        let fallback = self.fallback_length.unwrap_or_else(Duration::zero);
        let mut out: Vec<Slot> = slots
            .iter()
            .filter(|s| range.contains(s.start))
            .map(|s| Slot {
                start: s.start,
                end: s.end.unwrap_or(s.start + fallback),
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The client's breaker refusal ([`CalcomClient::refusal`]): while it is
    /// open, a cache miss answers with its error without a lock or a wait.
    fn known_failure(&self, tenant: &TenantId) -> Option<SourceError> {
        let err = self.tenants.get(tenant)?.client.refusal()?;
        Some(source_error(&err))
    }
}
