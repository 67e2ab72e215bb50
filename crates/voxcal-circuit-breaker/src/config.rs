//! Breaker settings and their builder.

use std::time::Duration;

use crate::ConfigError;

/// Over which calls the failure and slow-call rates are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Window {
    /// The last `n` calls.
    Count(u32),
    /// The calls of the last `d`, in one-second buckets (rounded up to whole seconds).
    Time(Duration),
}

/// The settings of one breaker. Build with [`BreakerConfig::builder`]; the
/// [`Default`] is the behaviour the original service had, made safe:
///
/// - open after **5 consecutive failures**,
/// - stay open **60 s**,
/// - in half-open admit **2 probes** at a time (fleet-wide with the Redis store),
/// - close after **2 successful probes**, reopen on any failed probe.
///
/// ```
/// use std::time::Duration;
/// use voxcal_circuit_breaker::{BreakerConfig, Window};
///
/// let config = BreakerConfig::builder()
///     .failure_rate(0.5)
///     .window(Window::Time(Duration::from_secs(30)))
///     .minimum_calls(20)
///     .slow_calls(Duration::from_secs(2), 0.8)
///     .open_backoff(2.0, Duration::from_secs(600))
///     .build()
///     .unwrap();
/// assert_eq!(config.open_duration(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    pub(crate) consecutive_failures: u32,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) slow_call_rate: Option<f64>,
    pub(crate) slow_call_duration: Option<Duration>,
    pub(crate) window: Window,
    pub(crate) minimum_calls: u32,
    pub(crate) open_duration: Duration,
    pub(crate) backoff_multiplier: f64,
    pub(crate) max_open_duration: Duration,
    pub(crate) half_open_permits: u32,
    pub(crate) half_open_successes: u32,
    pub(crate) probe_lease: Duration,
    pub(crate) sync_interval: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            consecutive_failures: 5,
            failure_rate: None,
            slow_call_rate: None,
            slow_call_duration: None,
            window: Window::Count(100),
            minimum_calls: 10,
            open_duration: Duration::from_secs(60),
            backoff_multiplier: 1.0,
            max_open_duration: Duration::from_secs(60),
            half_open_permits: 2,
            half_open_successes: 2,
            probe_lease: Duration::from_secs(30),
            sync_interval: Duration::from_millis(250),
        }
    }
}

impl BreakerConfig {
    /// A builder starting from the [defaults](BreakerConfig#impl-Default-for-BreakerConfig).
    pub fn builder() -> BreakerConfigBuilder {
        BreakerConfigBuilder {
            config: BreakerConfig::default(),
        }
    }

    /// How long the breaker stays open the first time it opens.
    pub fn open_duration(&self) -> Duration {
        self.open_duration
    }

    /// How many probes half-open admits at a time.
    pub fn half_open_permits(&self) -> u32 {
        self.half_open_permits
    }

    /// How many failures in a row open the breaker (`0`: that rule is off).
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// How many successful probes close the breaker.
    pub fn half_open_successes(&self) -> u32 {
        self.half_open_successes
    }

    /// How long a probe lease held in a shared store lives if its holder
    /// never reports back.
    pub fn probe_lease(&self) -> Duration {
        self.probe_lease
    }

    /// How often a replica using the Redis store reconciles with the shared state.
    pub fn sync_interval(&self) -> Duration {
        self.sync_interval
    }

    /// The open duration after `reopenings` failed half-open rounds:
    /// `open_duration * multiplier^reopenings`, capped at the maximum.
    pub(crate) fn open_duration_after(&self, reopenings: u32) -> Duration {
        if reopenings == 0 || self.backoff_multiplier <= 1.0 {
            return self.open_duration;
        }
        let exponent = i32::try_from(reopenings).unwrap_or(i32::MAX);
        let factor = self.backoff_multiplier.powi(exponent);
        let secs = self.open_duration.as_secs_f64() * factor;
        let max = self.max_open_duration.max(self.open_duration);
        if !secs.is_finite() || secs >= max.as_secs_f64() {
            max
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    /// Whether outcomes need to be kept in a sliding window.
    pub(crate) fn uses_window(&self) -> bool {
        self.failure_rate.is_some() || self.slow_call_rate.is_some()
    }

    /// Whether calls need to be timed.
    pub(crate) fn times_calls(&self) -> bool {
        self.slow_call_duration.is_some()
    }
}

/// Builds a [`BreakerConfig`]; every method takes and returns the builder.
#[derive(Debug, Clone)]
pub struct BreakerConfigBuilder {
    config: BreakerConfig,
}

impl BreakerConfigBuilder {
    /// Open after `n` failures in a row (default 5; `0` turns this rule off).
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.config.consecutive_failures = n;
        self
    }

    /// Open when at least this share of the calls in the [window](Self::window)
    /// failed (e.g. `0.5`), once the window holds [`minimum_calls`](Self::minimum_calls).
    pub fn failure_rate(mut self, threshold: f64) -> Self {
        self.config.failure_rate = Some(threshold);
        self
    }

    /// Count calls that take at least `duration` as slow, and open when at
    /// least `rate` of the calls in the window were slow. A slow probe in
    /// half-open counts as failed.
    pub fn slow_calls(mut self, duration: Duration, rate: f64) -> Self {
        self.config.slow_call_duration = Some(duration);
        self.config.slow_call_rate = Some(rate);
        self
    }

    /// The sliding window for the rates (default: the last 100 calls).
    pub fn window(mut self, window: Window) -> Self {
        self.config.window = window;
        self
    }

    /// How many calls the window must hold before a rate can open the breaker (default 10).
    pub fn minimum_calls(mut self, n: u32) -> Self {
        self.config.minimum_calls = n;
        self
    }

    /// How long the breaker stays open before it admits probes (default 60 s).
    pub fn open_duration(mut self, duration: Duration) -> Self {
        self.config.open_duration = duration;
        self
    }

    /// Multiply the open duration by `multiplier` each time a half-open
    /// round fails, up to `max` (default: no backoff).
    pub fn open_backoff(mut self, multiplier: f64, max: Duration) -> Self {
        self.config.backoff_multiplier = multiplier;
        self.config.max_open_duration = max;
        self
    }

    /// How many probes half-open admits at a time (default 2).
    pub fn half_open_permits(mut self, n: u32) -> Self {
        self.config.half_open_permits = n;
        self
    }

    /// How many successful probes close the breaker (default 2).
    pub fn half_open_successes(mut self, n: u32) -> Self {
        self.config.half_open_successes = n;
        self
    }

    /// Redis store: how long a probe permit lives in Redis if its holder
    /// never reports back (a crashed replica), default 30 s.
    pub fn probe_lease(mut self, duration: Duration) -> Self {
        self.config.probe_lease = duration;
        self
    }

    /// Redis store: how often a replica reconciles with the shared state
    /// (default 250 ms, so transitions are learned well within a second).
    pub fn sync_interval(mut self, interval: Duration) -> Self {
        self.config.sync_interval = interval;
        self
    }

    /// Checks the settings.
    pub fn build(self) -> Result<BreakerConfig, ConfigError> {
        let c = self.config;
        for (what, rate) in [
            ("failure rate", c.failure_rate),
            ("slow-call rate", c.slow_call_rate),
        ] {
            if let Some(value) = rate {
                if !(value > 0.0 && value <= 1.0) {
                    return Err(ConfigError::Rate { what, value });
                }
            }
        }
        let zero = |what| Err(ConfigError::Zero { what });
        if c.open_duration.is_zero() {
            return zero("open duration");
        }
        if c.half_open_permits == 0 {
            return zero("half-open permits");
        }
        if c.half_open_successes == 0 {
            return zero("half-open successes");
        }
        if c.probe_lease.is_zero() {
            return zero("probe lease");
        }
        if c.sync_interval.is_zero() {
            return zero("sync interval");
        }
        match c.window {
            Window::Count(0) => return zero("count window"),
            Window::Time(d) if d.is_zero() => return zero("time window"),
            _ => {}
        }
        if c.slow_call_duration.is_some_and(|d| d.is_zero()) {
            return zero("slow-call duration");
        }
        if !(c.backoff_multiplier.is_finite() && c.backoff_multiplier >= 1.0) {
            return Err(ConfigError::Backoff(c.backoff_multiplier));
        }
        if c.consecutive_failures == 0 && !c.uses_window() {
            return Err(ConfigError::NoTripCondition);
        }
        Ok(c)
    }
}
