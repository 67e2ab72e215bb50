//! The tower layer: [`CallRateLimitLayer`] and its service.

mod body;
mod extract;
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod response;
mod service;

pub use extract::{
    is_placeholder_call_id, strip_version_suffix, KeyExtractor, RetellEnvelope, RetellExtractor,
    CALL_ID_HEADER,
};
pub use future::CallRateLimitFuture;
pub use layer::{CallRateLimitLayer, MissingCallId};
pub use response::{
    JsonRejection, OnRejection, Rejection, RejectionKind, RATELIMIT, RATELIMIT_POLICY,
};
pub use service::CallRateLimit;
