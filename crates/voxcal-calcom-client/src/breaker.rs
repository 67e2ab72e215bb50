//! Feature `breaker`: every attempt goes through a [`voxcal_circuit_breaker::CircuitBreaker`].

use std::future::Future;
use std::sync::Arc;

use url::Url;
use voxcal_circuit_breaker::{BreakerConfig, BreakerError, CircuitBreaker, Outcome};
use voxcal_core::Clock;

use crate::auth::Credentials;
use crate::error::{CalcomError, ErrorKind};

/// How a client gets its breaker.
#[derive(Debug, Clone, Default)]
pub(crate) enum BreakerChoice {
    /// One breaker per base URL + credentials, default configuration.
    #[default]
    PerClient,
    /// One breaker per base URL + credentials, with this configuration.
    PerClientWith(BreakerConfig),
    /// This breaker, shared with whoever else holds it.
    Shared(CircuitBreaker),
    /// No breaker.
    Disabled,
}

impl BreakerChoice {
    pub(crate) fn resolve(
        self,
        base_url: &Url,
        credentials: &Credentials,
        clock: &Arc<dyn Clock>,
    ) -> Option<Arc<Breaker>> {
        let (breaker, config) = match self {
            Self::Disabled => return None,
            Self::Shared(breaker) => (breaker, None),
            Self::PerClient => {
                let config = BreakerConfig::default();
                (
                    build(base_url, credentials, clock, config.clone()),
                    Some(config),
                )
            }
            Self::PerClientWith(config) => (
                build(base_url, credentials, clock, config.clone()),
                Some(config),
            ),
        };
        Some(Arc::new(Breaker { breaker, config }))
    }
}

fn build(
    base_url: &Url,
    credentials: &Credentials,
    clock: &Arc<dyn Clock>,
    config: BreakerConfig,
) -> CircuitBreaker {
    let name = format!(
        "calcom:{}:{}",
        base_url.host_str().unwrap_or("-"),
        credentials.label()
    );
    // The client's own clock: the breaker keeps this `Arc` as it is.
    CircuitBreaker::builder(name)
        .config(config)
        .clock(Arc::clone(clock))
        .build()
}

#[derive(Debug)]
pub(crate) struct Breaker {
    breaker: CircuitBreaker,
    /// `Some` when the breaker is per client (a new tenant gets its own).
    config: Option<BreakerConfig>,
}

impl Breaker {
    pub(crate) fn for_credentials(
        &self,
        base_url: &Url,
        credentials: &Credentials,
        clock: &Arc<dyn Clock>,
    ) -> Arc<Self> {
        let breaker = match &self.config {
            Some(config) => build(base_url, credentials, clock, config.clone()),
            None => self.breaker.clone(),
        };
        Arc::new(Self {
            breaker,
            config: self.config.clone(),
        })
    }

    /// The error a call would get from the breaker right now without being
    /// sent: open with time left before its half-open probes, or forced open.
    /// An open breaker whose time is up lets the next call through as a probe,
    /// so this says `None` then.
    pub(crate) fn refusal(&self) -> Option<CalcomError> {
        let metrics = self.breaker.metrics();
        match metrics.state {
            voxcal_circuit_breaker::State::ForcedOpen => Some(CalcomError::circuit_open(None)),
            voxcal_circuit_breaker::State::Open => metrics
                .time_until_half_open
                .filter(|left| !left.is_zero())
                .map(|left| CalcomError::circuit_open(Some(left))),
            _ => None,
        }
    }

    /// Ready once the breaker is open (see [`CircuitBreaker::opened`]).
    pub(crate) fn opened(&self) -> voxcal_circuit_breaker::Opened {
        self.breaker.opened()
    }

    /// Runs one attempt through the breaker. Outages (5xx, timeouts, network) and
    /// Cal.com's own 429s count as failures; answers about the request (4xx) as
    /// successes: Cal.com is up.
    pub(crate) async fn run<T>(
        &self,
        attempt: impl Future<Output = Result<T, CalcomError>>,
    ) -> Result<T, CalcomError> {
        let classify = |result: &Result<T, CalcomError>| match result {
            Ok(_) => Outcome::Success,
            Err(err) if err.is_outage() => Outcome::Failure,
            Err(err) if matches!(err.kind(), ErrorKind::RateLimited { .. }) => Outcome::Failure,
            Err(_) => Outcome::Success,
        };
        match self.breaker.call_with(classify, attempt).await {
            Ok(value) => Ok(value),
            Err(BreakerError::Inner(err)) => Err(err),
            Err(BreakerError::Open { retry_after }) => {
                tracing::debug!(breaker = self.breaker.name(), "circuit open; call not sent");
                Err(CalcomError::circuit_open(Some(retry_after)))
            }
            Err(_) => Err(CalcomError::circuit_open(None)),
        }
    }
}
