//! Tenant and event type identifiers.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use voxcal_core::{Lang, UserMessage};

use crate::hours::BusinessHours;

/// Longest accepted identifier, in bytes.
const MAX_ID_LEN: usize = 64;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The identifier was empty.
    #[error("identifier is empty")]
    Empty,
    /// The identifier was longer than 64 bytes.
    #[error("identifier is longer than {MAX_ID_LEN} bytes")]
    TooLong,
    /// The identifier contained a character other than ASCII letters,
    /// digits, `-`, `_` and `.`.
    #[error("identifier may only contain ASCII letters, digits, '-', '_' and '.'")]
    InvalidChar,
}

/// A sentence the agent can say (identifiers come from configuration, so
/// it asks no question).
///
/// ```
/// use voxcal_appointment_finder::{Lang, TenantId, UserMessage};
/// let err = TenantId::new("").unwrap_err();
/// assert_eq!(err.user_message(Lang::De), "Die Kennung fehlt.");
/// ```
impl UserMessage for IdError {
    fn user_message(&self, lang: Lang) -> Cow<'_, str> {
        Cow::Borrowed(match (lang, self) {
            (Lang::En, IdError::Empty) => "The identifier is missing.",
            (Lang::En, IdError::TooLong) => "The identifier is too long.",
            (Lang::En, _) => "The identifier contains characters that are not allowed.",
            (_, IdError::Empty) => "Die Kennung fehlt.",
            (_, IdError::TooLong) => "Die Kennung ist zu lang.",
            (_, _) => "Die Kennung enthält Zeichen, die nicht erlaubt sind.",
        })
    }
}

fn check_id(raw: &str) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    if raw.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(IdError::InvalidChar);
    }
    Ok(())
}

/// The company whose calendar is asked.
///
/// Every lookup and every cache key takes one, so slots of one tenant can
/// never be served to another. The character set is restricted (ASCII
/// letters, digits, `-`, `_`, `.`; at most 64 bytes) because the id becomes
/// the Redis Cluster hash tag of the tenant's cache keys.
///
/// ```
/// use voxcal_appointment_finder::TenantId;
/// let acme = TenantId::new("praxis-mueller").unwrap();
/// assert_eq!(acme.as_str(), "praxis-mueller");
/// assert!(TenantId::new("a{b}").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Arc<str>);

impl TenantId {
    /// Validates and wraps a tenant id.
    pub fn new(raw: impl AsRef<str>) -> Result<Self, IdError> {
        let raw = raw.as_ref();
        check_id(raw)?;
        Ok(TenantId(Arc::from(raw)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({})", self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event type of a tenant (a Cal.com event type id or slug).
///
/// Only meaningful together with a [`TenantId`]: two tenants may use the same
/// event type id for different things.
///
/// ```
/// use voxcal_appointment_finder::EventTypeId;
/// assert_eq!(EventTypeId::from(42_u64).as_str(), "42");
/// assert_eq!(EventTypeId::new("beratung-30").unwrap().as_str(), "beratung-30");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventTypeId(Arc<str>);

impl EventTypeId {
    /// Validates and wraps an event type id (same character rules as
    /// [`TenantId`]).
    pub fn new(raw: impl AsRef<str>) -> Result<Self, IdError> {
        let raw = raw.as_ref();
        check_id(raw)?;
        Ok(EventTypeId(Arc::from(raw)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a number, when it is one (Cal.com's numeric ids).
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }
}

impl From<u64> for EventTypeId {
    fn from(id: u64) -> Self {
        EventTypeId(Arc::from(id.to_string()))
    }
}

impl fmt::Debug for EventTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventTypeId({})", self.0)
    }
}

impl fmt::Display for EventTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant as the finder needs it: its id and its business hours.
///
/// Passing the whole context to [`find`](crate::AlternativeFinder::find)
/// means there is no tenant state that can be forgotten at runtime.
#[derive(Debug, Clone)]
pub struct Tenant {
    id: TenantId,
    hours: BusinessHours,
}

impl Tenant {
    /// A tenant with its business hours.
    pub fn new(id: TenantId, hours: BusinessHours) -> Self {
        Tenant { id, hours }
    }

    /// The tenant's id.
    pub fn id(&self) -> &TenantId {
        &self.id
    }

    /// The tenant's business hours.
    pub fn hours(&self) -> &BusinessHours {
        &self.hours
    }
}
