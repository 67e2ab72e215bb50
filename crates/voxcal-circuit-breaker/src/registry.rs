//! Named breakers sharing one store.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::breaker::{attach, shared_clock, Spec};
use crate::event::Subscriber;
use crate::{
    BreakerConfig, CircuitBreaker, Clock, Event, MemoryStore, Metrics, Store, SystemClock,
};

/// A set of named breakers (`"calcom"`, `"calcom:tenant-42"`, …) that share
/// one store, one clock and one event subscriber.
///
/// ```
/// use voxcal_circuit_breaker::{BreakerRegistry, BreakerConfig, MemoryStore};
///
/// let registry = BreakerRegistry::new(MemoryStore::new())
///     .with_config("calcom", BreakerConfig::builder().consecutive_failures(3).build().unwrap());
/// let calcom = registry.get("calcom");
/// assert_eq!(calcom.name(), "calcom");
/// // The same name gives the same breaker.
/// calcom.force_open();
/// assert_eq!(registry.get("calcom").state(), voxcal_circuit_breaker::State::ForcedOpen);
/// assert_eq!(registry.metrics().len(), 1);
/// ```
#[derive(Clone)]
pub struct BreakerRegistry {
    store: Arc<dyn Store>,
    defaults: BreakerConfig,
    configs: HashMap<Arc<str>, BreakerConfig>,
    clock: Arc<dyn Clock>,
    subscribers: Vec<Subscriber>,
    breakers: Arc<Mutex<HashMap<Arc<str>, CircuitBreaker>>>,
}

impl BreakerRegistry {
    /// A registry over `store` with default settings.
    pub fn new(store: impl Store) -> Self {
        BreakerRegistry {
            store: Arc::new(store),
            defaults: BreakerConfig::default(),
            configs: HashMap::new(),
            clock: Arc::new(SystemClock),
            subscribers: Vec::new(),
            breakers: Arc::default(),
        }
    }

    /// The settings for breakers without their own.
    pub fn with_default_config(mut self, config: BreakerConfig) -> Self {
        self.defaults = config;
        self
    }

    /// The settings for the breaker named `name`.
    pub fn with_config(mut self, name: impl Into<Arc<str>>, config: BreakerConfig) -> Self {
        self.configs.insert(name.into(), config);
        self
    }

    /// The clock of every breaker.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = shared_clock(clock);
        self
    }

    /// A subscriber for the events of every breaker.
    pub fn on_event(mut self, subscriber: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.subscribers.push(Arc::new(subscriber));
        self
    }

    /// The breaker named `name`, made on first use.
    pub fn get(&self, name: &str) -> CircuitBreaker {
        let mut breakers = self.breakers.lock();
        if let Some(breaker) = breakers.get(name) {
            return breaker.clone();
        }
        let name: Arc<str> = Arc::from(name);
        let config = self.configs.get(&name).unwrap_or(&self.defaults).clone();
        let breaker = CircuitBreaker {
            inner: attach(
                &*self.store,
                Spec {
                    name: Arc::clone(&name),
                    config,
                    clock: Arc::clone(&self.clock),
                    subscribers: self.subscribers.clone(),
                },
            ),
        };
        breakers.insert(name, breaker.clone());
        breaker
    }

    /// Forgets the breaker named `name` (e.g. when a tenant is removed), so
    /// the registry does not grow with names no longer used. Handles still
    /// held elsewhere keep working; the next [`get`](Self::get) makes a
    /// fresh breaker (which, on the Redis store, reads the shared state).
    pub fn remove(&self, name: &str) -> Option<CircuitBreaker> {
        self.breakers.lock().remove(name)
    }

    /// A snapshot of every breaker made so far, sorted by name.
    pub fn metrics(&self) -> Vec<Metrics> {
        let breakers: Vec<CircuitBreaker> = self.breakers.lock().values().cloned().collect();
        let mut all: Vec<Metrics> = breakers.iter().map(CircuitBreaker::metrics).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

impl Default for BreakerRegistry {
    fn default() -> Self {
        Self::new(MemoryStore::new())
    }
}

impl fmt::Debug for BreakerRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerRegistry")
            .field("store", &self.store)
            .field("breakers", &self.breakers.lock().len())
            .finish_non_exhaustive()
    }
}
