//! What a breaker tells its subscribers, and the snapshot for health endpoints.

use std::sync::Arc;
use std::time::Duration;

use crate::State;

/// Something that happened to a breaker. Subscribers get every event
/// (see [`CircuitBreakerBuilder::on_event`](crate::CircuitBreakerBuilder::on_event));
/// transitions are also logged through `tracing` at `INFO`, rejections at `DEBUG`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The breaker changed state.
    StateTransition {
        /// The breaker's name.
        breaker: Arc<str>,
        /// The state it left.
        from: State,
        /// The state it entered.
        to: State,
    },
    /// A call was rejected without running.
    Rejected {
        /// The breaker's name.
        breaker: Arc<str>,
        /// The state that rejected it.
        state: State,
        /// How long until calls may pass again.
        retry_after: Duration,
    },
}

/// A subscriber callback.
pub(crate) type Subscriber = Arc<dyn Fn(&Event) + Send + Sync>;

/// A point-in-time view of one breaker, for health endpoints.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metrics {
    /// The breaker's name.
    pub name: Arc<str>,
    /// The current state (as this replica sees it).
    pub state: State,
    /// Calls in the sliding window (0 without a rate rule).
    pub calls: u32,
    /// Failed calls in the sliding window.
    pub failed_calls: u32,
    /// Slow calls in the sliding window.
    pub slow_calls: u32,
    /// `failed_calls / calls`, when the window holds any call.
    pub failure_rate: Option<f64>,
    /// `slow_calls / calls`, when the window holds any call.
    pub slow_call_rate: Option<f64>,
    /// Failures in a row in the closed state.
    pub consecutive_failures: u32,
    /// Calls rejected since the breaker was created.
    pub rejected_calls: u64,
    /// How long until an open breaker admits probes.
    pub time_until_half_open: Option<Duration>,
    /// How many half-open rounds failed in a row (drives the backoff).
    pub reopenings: u32,
    /// Counts state changes; results of an older generation are ignored.
    pub generation: u64,
}
