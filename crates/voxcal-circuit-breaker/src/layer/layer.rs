use tower_layer::Layer;

use super::{CircuitBreakerService, DefaultResponseClassifier, ServiceBreakerService};
use crate::{CircuitBreaker, DefaultClassifier};

/// Applies a [`CircuitBreaker`] to an HTTP service; see the [module docs](crate::CircuitBreakerLayer).
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer<C = DefaultResponseClassifier> {
    breaker: CircuitBreaker,
    classifier: C,
}

impl CircuitBreakerLayer {
    /// A layer counting 5xx, 429, 408 and service errors as failures.
    pub fn new(breaker: CircuitBreaker) -> Self {
        CircuitBreakerLayer {
            breaker,
            classifier: DefaultResponseClassifier,
        }
    }
}

impl<C> CircuitBreakerLayer<C> {
    /// The same layer with another response classifier.
    pub fn with_classifier<C2>(self, classifier: C2) -> CircuitBreakerLayer<C2> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService::new(inner, self.breaker.clone(), self.classifier.clone())
    }
}

/// Applies a [`CircuitBreaker`] to any service, with
/// [`BreakerError`](crate::BreakerError) as the error type.
#[derive(Debug, Clone)]
pub struct ServiceBreakerLayer<C = DefaultClassifier> {
    breaker: CircuitBreaker,
    classifier: C,
}

impl ServiceBreakerLayer {
    /// A layer counting every `Err` as a failure.
    pub fn new(breaker: CircuitBreaker) -> Self {
        ServiceBreakerLayer {
            breaker,
            classifier: DefaultClassifier,
        }
    }
}

impl<C> ServiceBreakerLayer<C> {
    /// The same layer with another classifier (a [`Classify`](crate::Classify)).
    pub fn with_classifier<C2>(self, classifier: C2) -> ServiceBreakerLayer<C2> {
        ServiceBreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }
}

impl<S, C: Clone> Layer<S> for ServiceBreakerLayer<C> {
    type Service = ServiceBreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        ServiceBreakerService::new(inner, self.breaker.clone(), self.classifier.clone())
    }
}
