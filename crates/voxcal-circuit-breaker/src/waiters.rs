//! Tasks waiting for a breaker to open ([`CircuitBreaker::opened`](crate::CircuitBreaker::opened)),
//! without depending on an async runtime.

use std::task::Waker;

use parking_lot::Mutex;

/// The wakers of pending [`Opened`](crate::Opened) futures, each under the
/// id its future removes again when dropped, so the list holds only live
/// waiters however often a breaker stays closed.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    inner: Mutex<List>,
}

#[derive(Debug, Default)]
struct List {
    next_id: u64,
    wakers: Vec<(u64, Waker)>,
}

impl Waiters {
    /// Registers (or refreshes) the waker of waiter `id`; a new waiter
    /// (`None`) gets its id.
    pub(crate) fn register(&self, id: Option<u64>, waker: &Waker) -> u64 {
        let mut list = self.inner.lock();
        if let Some(id) = id {
            if let Some((_, held)) = list.wakers.iter_mut().find(|(i, _)| *i == id) {
                if !held.will_wake(waker) {
                    held.clone_from(waker);
                }
                return id;
            }
        }
        let id = id.unwrap_or_else(|| {
            list.next_id += 1;
            list.next_id
        });
        list.wakers.push((id, waker.clone()));
        id
    }

    /// Forgets waiter `id` (its future was dropped or is done).
    pub(crate) fn remove(&self, id: u64) {
        let mut list = self.inner.lock();
        if let Some(at) = list.wakers.iter().position(|(i, _)| *i == id) {
            list.wakers.swap_remove(at);
        }
    }

    /// Wakes every waiter; they look at the state again when polled.
    pub(crate) fn wake_all(&self) {
        let wakers = std::mem::take(&mut self.inner.lock().wakers);
        for (_, waker) in wakers {
            waker.wake();
        }
    }

    /// How many waiters are registered (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().wakers.len()
    }
}
