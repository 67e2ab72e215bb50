//! Where breaker state lives: [`MemoryStore`] (this process) or
//! `RedisStore` (every replica, feature `redis`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::breaker::{Inner, Spec};

#[cfg(feature = "redis")]
mod pubsub;
#[cfg(feature = "redis")]
pub(crate) mod redis;

/// A place breakers keep their state in. Implemented by [`MemoryStore`] and
/// `RedisStore`; sealed, because the breaker relies on how they work.
pub trait Store: sealed::Attach + fmt::Debug + Send + Sync {}

pub(crate) mod sealed {
    use std::sync::Arc;

    use crate::breaker::{Inner, Spec};

    /// Makes (or finds) the shared state of a named breaker.
    #[allow(unreachable_pub, private_interfaces)]
    pub trait Attach {
        /// The state for `spec.name`.
        fn attach(&self, spec: Spec) -> Arc<Inner>;
    }
}

/// Breaker state in this process: a short lock per breaker, no I/O. The
/// closed-state success path is one uncontended lock and a counter reset.
///
/// Breakers built with the same name from one `MemoryStore` (or its clones)
/// share their state. The store only holds weak references, so dropping
/// every handle of a breaker frees it; dead entries are pruned on insert.
#[derive(Clone, Default)]
pub struct MemoryStore {
    breakers: Arc<Mutex<HashMap<Arc<str>, Weak<Inner>>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many breakers are alive in this store.
    pub fn len(&self) -> usize {
        self.breakers
            .lock()
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
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

#[allow(private_interfaces)]
impl sealed::Attach for MemoryStore {
    fn attach(&self, spec: Spec) -> Arc<Inner> {
        let mut breakers = self.breakers.lock();
        if let Some(existing) = breakers.get(&spec.name).and_then(Weak::upgrade) {
            return existing;
        }
        breakers.retain(|_, weak| weak.strong_count() > 0);
        let name = Arc::clone(&spec.name);
        let inner = Arc::new(Inner::new(spec));
        breakers.insert(name, Arc::downgrade(&inner));
        inner
    }
}

impl Store for MemoryStore {}
