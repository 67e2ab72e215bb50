//! Where free slots come from.

use std::borrow::Cow;
use std::future::Future;

use chrono::{DateTime, Utc};
use voxcal_core::{Lang, UserMessage};

use crate::tenant::{EventTypeId, TenantId};

/// A free slot: an appointment could start at `start` and end at `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Slot {
    /// Start instant (UTC).
    pub start: DateTime<Utc>,
    /// End instant (UTC).
    pub end: DateTime<Utc>,
}

/// A half-open range of instants `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// First instant included.
    pub start: DateTime<Utc>,
    /// First instant excluded.
    pub end: DateTime<Utc>,
}

impl TimeRange {
    /// The range `[start, end)`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        TimeRange { start, end }
    }

    /// Whether `instant` lies in the range.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }
}

/// What kind of failure a source reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// The calendar system is down, slow or refused us (retry later).
    Unavailable,
    /// The tenant or event type is unknown to the source.
    NotFound,
    /// The request was refused as invalid.
    Rejected,
}

/// A failure of an [`AvailabilitySource`], with the sentence the agent can
/// say instead.
///
/// ```
/// use voxcal_appointment_finder::{Lang, SourceError, SourceErrorKind, UserMessage};
/// let err = SourceError::new(SourceErrorKind::Unavailable, "calendar timed out");
/// assert!(err.user_message(Lang::De).contains("Kalender"));
/// assert_eq!(err.user_message(Lang::En), "I cannot reach the calendar right now.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("availability source failed ({kind:?}): {detail}")]
pub struct SourceError {
    kind: SourceErrorKind,
    detail: String,
    message_de: Option<String>,
    message_en: Option<String>,
}

impl SourceError {
    /// An error of `kind`; `detail` is for logs (must not carry personal data).
    pub fn new(kind: SourceErrorKind, detail: impl Into<String>) -> Self {
        SourceError {
            kind,
            detail: detail.into(),
            message_de: None,
            message_en: None,
        }
    }

    /// Uses the source's own user-facing sentences (e.g. a Cal.com client
    /// error's [`UserMessage`]) instead of the generic ones.
    pub fn with_user_messages(mut self, de: impl Into<String>, en: impl Into<String>) -> Self {
        self.message_de = Some(de.into());
        self.message_en = Some(en.into());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> SourceErrorKind {
        self.kind
    }

    /// The technical detail (for logs).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// A sentence the agent can say to the caller: the source's own (see
/// [`SourceError::with_user_messages`]) or a generic one for the kind.
impl UserMessage for SourceError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        let (custom, not_found, other) = match lang {
            Lang::En => (
                self.message_en.as_deref(),
                "I cannot find a calendar for this appointment.",
                "I cannot reach the calendar right now.",
            ),
            _ => (
                self.message_de.as_deref(),
                "Für diesen Termin finde ich leider keinen Kalender.",
                "Ich kann den Kalender gerade leider nicht erreichen.",
            ),
        };
        Cow::Borrowed(custom.unwrap_or(match self.kind {
            SourceErrorKind::NotFound => not_found,
            _ => other,
        }))
    }
}

/// Free slots of a tenant's event type, e.g. Cal.com or an
/// [`InMemoryCalendar`](crate::InMemoryCalendar).
///
/// Implementations return every free slot whose start lies in `range`,
/// sorted by start, without duplicates; they already honour the event
/// type's length, buffers and minimum notice.
pub trait AvailabilitySource: Send + Sync {
    /// Free slots of `event_type` of `tenant` starting in `range`.
    fn free_slots(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        range: TimeRange,
    ) -> impl Future<Output = Result<Vec<Slot>, SourceError>> + Send;

    /// The error [`free_slots`](Self::free_slots) for `tenant` would return
    /// right now without asking the calendar, if the source knows it (for
    /// example while its circuit breaker is open). On a miss the
    /// [`SlotCache`](crate::SlotCache) asks this first and answers with the
    /// error at once, instead of queueing behind other lookups of the same
    /// day or waiting for another replica's fetch. The default knows nothing
    /// (`None`).
    fn known_failure(&self, tenant: &TenantId) -> Option<SourceError> {
        let _ = tenant;
        None
    }
}

impl<S: AvailabilitySource> AvailabilitySource for std::sync::Arc<S> {
    fn free_slots(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        range: TimeRange,
    ) -> impl Future<Output = Result<Vec<Slot>, SourceError>> + Send {
        (**self).free_slots(tenant, event_type, range)
    }

    fn known_failure(&self, tenant: &TenantId) -> Option<SourceError> {
        (**self).known_failure(tenant)
    }
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`AvailabilitySource`] with a boxed future, so sources of different
/// types fit one [`BoxSource`].
trait DynSource: Send + Sync {
    fn free_slots<'a>(
        &'a self,
        tenant: &'a TenantId,
        event_type: &'a EventTypeId,
        range: TimeRange,
    ) -> BoxFuture<'a, Result<Vec<Slot>, SourceError>>;

    fn known_failure(&self, tenant: &TenantId) -> Option<SourceError>;
}

impl<S: AvailabilitySource> DynSource for S {
    fn free_slots<'a>(
        &'a self,
        tenant: &'a TenantId,
        event_type: &'a EventTypeId,
        range: TimeRange,
    ) -> BoxFuture<'a, Result<Vec<Slot>, SourceError>> {
        Box::pin(AvailabilitySource::free_slots(
            self, tenant, event_type, range,
        ))
    }

    fn known_failure(&self, tenant: &TenantId) -> Option<SourceError> {
        AvailabilitySource::known_failure(self, tenant)
    }
}

/// Any [`AvailabilitySource`], chosen at runtime (one tenant on an
/// [`InMemoryCalendar`](crate::InMemoryCalendar), another on Cal.com), so
/// the finders of all tenants have one type. Cheap to clone; clones share
/// the source.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use voxcal_appointment_finder::{
///     AlternativeFinder, BoxSource, FakeClock, InMemoryCalendar, SlotCache,
/// };
///
/// let clock = FakeClock::new();
/// let sources = [
///     BoxSource::new(InMemoryCalendar::new(clock.clone())),
///     BoxSource::new(std::sync::Arc::new(InMemoryCalendar::new(clock.clone()))),
/// ];
/// let finders: Vec<AlternativeFinder<BoxSource>> = sources
///     .into_iter()
///     .map(|s| AlternativeFinder::new(SlotCache::memory(s, clock.clone()), clock.clone()))
///     .collect();
/// assert_eq!(finders.len(), 2);
/// # });
/// ```
#[derive(Clone)]
pub struct BoxSource(std::sync::Arc<dyn DynSource>);

impl BoxSource {
    /// Boxes `source`.
    pub fn new(source: impl AvailabilitySource + 'static) -> Self {
        BoxSource(std::sync::Arc::new(source))
    }
}

impl std::fmt::Debug for BoxSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxSource")
    }
}

impl AvailabilitySource for BoxSource {
    async fn free_slots(
        &self,
        tenant: &TenantId,
        event_type: &EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<Slot>, SourceError> {
        self.0.free_slots(tenant, event_type, range).await
    }

    fn known_failure(&self, tenant: &TenantId) -> Option<SourceError> {
        self.0.known_failure(tenant)
    }
}
