//! [`MemoryStore`]: breaker state in this process.

use std::fmt;
use std::sync::Arc;

use super::{BreakerSpec, FleetSink, LocalBreakers, SharedBreaker, Store};

/// Breaker state in this process: a short lock per breaker, no I/O. The
/// closed-state success path is one atomic load.
///
/// Breakers built with the same name from one `MemoryStore` (or its clones)
/// share their state. The store only holds weak references, so dropping
/// every handle of a breaker frees it; dead entries are pruned on insert.
///
/// ```
/// use voxcal_circuit_breaker::{CircuitBreaker, MemoryStore, State};
///
/// let store = MemoryStore::new();
/// let a = CircuitBreaker::builder("calcom").build_with(&store);
/// let b = CircuitBreaker::builder("calcom").build_with(&store.clone());
/// a.force_open();
/// assert_eq!(b.state(), State::ForcedOpen);
/// assert_eq!(store.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    breakers: Arc<LocalBreakers>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many breakers are alive in this store.
    pub fn len(&self) -> usize {
        self.breakers.len()
    }

    /// Whether no breaker is alive in this store.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("breakers", &self.len())
            .finish()
    }
}

impl Store for MemoryStore {
    /// No shared state: the breaker's own machine decides everything.
    fn attach(&self, _spec: &BreakerSpec, _sink: FleetSink) -> Option<Arc<dyn SharedBreaker>> {
        None
    }

    fn local_breakers(&self) -> Option<&LocalBreakers> {
        Some(&self.breakers)
    }
}
