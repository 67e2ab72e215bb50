use tower_layer::Layer;

use super::{Breaker, DefaultHttpClassifier, HttpBreaker};
use crate::{CircuitBreaker, DefaultClassifier};

/// Applies a [`CircuitBreaker`] to an HTTP service; see the [module docs](crate::HttpBreakerLayer).
#[derive(Debug, Clone)]
pub struct HttpBreakerLayer<C = DefaultHttpClassifier> {
    breaker: CircuitBreaker,
    classifier: C,
}

impl HttpBreakerLayer {
    /// A layer counting 5xx, 429, 408 and service errors as failures.
    pub fn new(breaker: CircuitBreaker) -> Self {
        HttpBreakerLayer {
            breaker,
            classifier: DefaultHttpClassifier,
        }
    }
}

impl<C> HttpBreakerLayer<C> {
    /// The same layer with another response classifier.
    pub fn with_classifier<C2>(self, classifier: C2) -> HttpBreakerLayer<C2> {
        HttpBreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }
}

impl<S, C: Clone> Layer<S> for HttpBreakerLayer<C> {
    type Service = HttpBreaker<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpBreaker::new(inner, self.breaker.clone(), self.classifier.clone())
    }
}

/// Applies a [`CircuitBreaker`] to any service, with
/// [`BreakerError`](crate::BreakerError) as the error type.
#[derive(Debug, Clone)]
pub struct BreakerLayer<C = DefaultClassifier> {
    breaker: CircuitBreaker,
    classifier: C,
}

impl BreakerLayer {
    /// A layer counting every `Err` as a failure.
    pub fn new(breaker: CircuitBreaker) -> Self {
        BreakerLayer {
            breaker,
            classifier: DefaultClassifier,
        }
    }
}

impl<C> BreakerLayer<C> {
    /// The same layer with another classifier (a [`Classify`](crate::Classify)).
    pub fn with_classifier<C2>(self, classifier: C2) -> BreakerLayer<C2> {
        BreakerLayer {
            breaker: self.breaker,
            classifier,
        }
    }
}

impl<S, C: Clone> Layer<S> for BreakerLayer<C> {
    type Service = Breaker<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Breaker::new(inner, self.breaker.clone(), self.classifier.clone())
    }
}
