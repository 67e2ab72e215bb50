//! The request timeout, without a timer per request.
//!
//! tower-http's `TimeoutLayer` arms one Tokio timer per request. Almost every
//! request is pending once (its body arrives after its head), so the timer is
//! registered each time, and each registration takes the timer wheel's lock
//! and wakes the I/O driver through its eventfd: under load that was one
//! `write` and about one `futex` per request, and 8% of the throughput
//! (`bench/load.sh`, the same binary with and without the layer).
//!
//! Here a request that is pending registers its waker and deadline in a
//! sharded table instead (a short lock, no system call), and one sweeper
//! thread per [`Deadlines`] wakes the requests whose deadline has passed,
//! every `resolution`. A request therefore ends with a 408 between `timeout`
//! and `timeout + resolution` after it started (plus scheduling), never
//! earlier. Deadlines are read on the service's [`Clock`], so a test moves
//! them with a `FakeClock` and sweeps by hand ([`Deadlines::manual`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::http::{Request, StatusCode};
use axum::response::Response;
use parking_lot::Mutex;
use tower::{Layer, Service};
use voxcal_core::Clock;

use crate::reply;

/// Shards of the table of waiting requests: enough that the worker threads
/// rarely meet on one lock.
const SHARDS: usize = 16;

/// What a timed-out request answers.
pub(crate) const TIMEOUT_MESSAGE: &str =
    "Das hat leider zu lange gedauert. Bitte versuchen Sie es gleich noch einmal.";

/// The requests waiting on one shard: a slab of (deadline, waker), with its
/// free list. A slot is freed only by the request that took it.
#[derive(Default)]
struct Waiting {
    slots: Vec<Option<(Instant, Waker)>>,
    free: Vec<usize>,
}

/// Where a waiting request is registered.
#[derive(Debug, Clone, Copy)]
struct Slot {
    shard: usize,
    index: usize,
}

/// The deadlines of the waiting requests, and the sweeper that wakes them.
pub(crate) struct Deadlines {
    clock: Arc<dyn Clock>,
    shards: [Mutex<Waiting>; SHARDS],
    /// How often the sweeper looks; `None` for a hand-swept table.
    resolution: Option<Duration>,
    sweeper_started: AtomicBool,
}

impl std::fmt::Debug for Deadlines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadlines")
            .field("resolution", &self.resolution)
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}

impl Deadlines {
    /// A table swept every `resolution` by its own thread, started with the
    /// first request that waits (a service that never waits starts none).
    /// The thread ends within one `resolution` once the table is dropped.
    pub(crate) fn swept_every(clock: Arc<dyn Clock>, resolution: Duration) -> Arc<Self> {
        Arc::new(Self::with(
            clock,
            Some(resolution.max(Duration::from_millis(1))),
        ))
    }

    /// A table nobody sweeps but the caller of [`sweep`](Self::sweep).
    #[cfg(test)]
    pub(crate) fn manual(clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self::with(clock, None))
    }

    fn with(clock: Arc<dyn Clock>, resolution: Option<Duration>) -> Self {
        Self {
            clock,
            shards: std::array::from_fn(|_| Mutex::new(Waiting::default())),
            resolution,
            sweeper_started: AtomicBool::new(false),
        }
    }

    /// The sweep interval for a request timeout: a twentieth of it, between
    /// 5 ms and 100 ms (10 s → 100 ms).
    pub(crate) fn resolution_for(timeout: Duration) -> Duration {
        (timeout / 20).clamp(Duration::from_millis(5), Duration::from_millis(100))
    }

    /// Wakes every waiting request whose deadline has passed; returns how
    /// many. A woken request answers 408 when it is polled next, and leaves
    /// the table then.
    pub(crate) fn sweep(&self) -> usize {
        let now = self.clock.now();
        let mut woken = 0;
        for shard in &self.shards {
            let waiting = shard.lock();
            for (deadline, waker) in waiting.slots.iter().flatten() {
                if *deadline <= now {
                    waker.wake_by_ref();
                    woken += 1;
                }
            }
        }
        woken
    }

    /// How many requests are registered as waiting.
    pub(crate) fn waiting(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let waiting = shard.lock();
                waiting.slots.len() - waiting.free.len()
            })
            .sum()
    }

    fn register(self: &Arc<Self>, deadline: Instant, waker: &Waker) -> Slot {
        if self.resolution.is_some() && !self.sweeper_started.swap(true, Ordering::AcqRel) {
            self.start_sweeper();
        }
        let shard = shard_of_this_thread();
        let mut waiting = self.shards[shard].lock();
        let entry = Some((deadline, waker.clone()));
        let index = match waiting.free.pop() {
            Some(index) => {
                waiting.slots[index] = entry;
                index
            }
            None => {
                waiting.slots.push(entry);
                waiting.slots.len() - 1
            }
        };
        Slot { shard, index }
    }

    fn update(&self, slot: Slot, waker: &Waker) {
        let mut waiting = self.shards[slot.shard].lock();
        if let Some((_, registered)) = &mut waiting.slots[slot.index] {
            if !registered.will_wake(waker) {
                registered.clone_from(waker);
            }
        }
    }

    fn release(&self, slot: Slot) {
        let mut waiting = self.shards[slot.shard].lock();
        if waiting.slots[slot.index].take().is_some() {
            waiting.free.push(slot.index);
        }
    }

    fn start_sweeper(self: &Arc<Self>) {
        let Some(every) = self.resolution else {
            return;
        };
        let table: Weak<Self> = Arc::downgrade(self);
        let started = std::thread::Builder::new()
            .name("request-deadlines".to_owned())
            .spawn(move || loop {
                std::thread::sleep(every);
                match table.upgrade() {
                    Some(table) => {
                        table.sweep();
                    }
                    None => break,
                }
            });
        if let Err(error) = started {
            // Without a sweeper a hung request would never time out: say so
            // loudly, and try again with the next waiting request.
            tracing::error!(%error, "could not start the request deadline sweeper");
            self.sweeper_started.store(false, Ordering::Release);
        }
    }
}

/// Each thread registers on its own shard, assigned in turn.
fn shard_of_this_thread() -> usize {
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// Ends a request that takes longer than `timeout` with a 408 and a German
/// sentence, through a shared [`Deadlines`] table.
#[derive(Debug, Clone)]
pub(crate) struct DeadlineLayer {
    deadlines: Arc<Deadlines>,
    timeout: Duration,
}

impl DeadlineLayer {
    pub(crate) fn new(deadlines: Arc<Deadlines>, timeout: Duration) -> Self {
        Self { deadlines, timeout }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            deadlines: Arc::clone(&self.deadlines),
            timeout: self.timeout,
        }
    }
}

/// The service of [`DeadlineLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Deadline<S> {
    inner: S,
    deadlines: Arc<Deadlines>,
    timeout: Duration,
}

impl<S, B> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = DeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let deadline = self.deadlines.clock.now() + self.timeout;
        DeadlineFuture {
            inner: self.inner.call(request),
            deadline,
            deadlines: Arc::clone(&self.deadlines),
            slot: None,
        }
    }
}

pin_project_lite::pin_project! {
    /// A request under its deadline: registered in the table only while it
    /// is pending.
    pub(crate) struct DeadlineFuture<F> {
        #[pin]
        inner: F,
        deadline: Instant,
        deadlines: Arc<Deadlines>,
        slot: Option<Slot>,
    }

    impl<F> PinnedDrop for DeadlineFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(slot) = this.slot.take() {
                this.deadlines.release(slot);
            }
        }
    }
}

impl<F, E> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.inner.poll(cx) {
            if let Some(slot) = this.slot.take() {
                this.deadlines.release(slot);
            }
            return Poll::Ready(output);
        }
        if this.deadlines.clock.now() >= *this.deadline {
            if let Some(slot) = this.slot.take() {
                this.deadlines.release(slot);
            }
            tracing::warn!("request timed out");
            return Poll::Ready(Ok(reply::protocol_error(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                TIMEOUT_MESSAGE,
            )));
        }
        match *this.slot {
            Some(slot) => this.deadlines.update(slot, cx.waker()),
            None => *this.slot = Some(this.deadlines.register(*this.deadline, cx.waker())),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use axum::body::Body;
    use voxcal_core::FakeClock;

    use super::*;

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Counting>, Waker) {
        let count = Arc::new(Counting::default());
        (Arc::clone(&count), Waker::from(count))
    }

    /// A service whose answer is pending until its `gate` is opened.
    fn gated(
        gate: Arc<AtomicBool>,
    ) -> impl Service<
        Request<Body>,
        Response = Response,
        Error = Infallible,
        Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>,
    > + Clone {
        tower::service_fn(move |_request: Request<Body>| {
            let gate = Arc::clone(&gate);
            let future: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>> =
                Box::pin(std::future::poll_fn(move |_cx| {
                    if gate.load(Ordering::SeqCst) {
                        Poll::Ready(Ok(Response::new(Body::from("done"))))
                    } else {
                        Poll::Pending
                    }
                }));
            future
        })
    }

    fn request() -> Request<Body> {
        Request::new(Body::empty())
    }

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("a small body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn a_pending_request_answers_408_once_its_deadline_has_passed_and_not_before() {
        let clock = FakeClock::new();
        let deadlines = Deadlines::manual(Arc::new(clock.clone()));
        let layer = DeadlineLayer::new(Arc::clone(&deadlines), Duration::from_secs(10));
        let mut service = layer.layer(gated(Arc::new(AtomicBool::new(false))));
        let mut future = Box::pin(service.call(request()));
        let (wakes, waker) = counting();
        let mut cx = Context::from_waker(&waker);

        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(deadlines.waiting(), 1, "a pending request is registered");

        clock.advance(Duration::from_millis(9_999));
        assert_eq!(deadlines.sweep(), 0, "1 ms before the deadline");
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
        assert!(future.as_mut().poll(&mut cx).is_pending());

        clock.advance(Duration::from_millis(1));
        assert_eq!(deadlines.sweep(), 1, "at the deadline");
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "the request is woken");
        let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) else {
            panic!("a request past its deadline must answer");
        };
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(
            deadlines.waiting(),
            0,
            "an answered request leaves the table"
        );
        let body: serde_json::Value =
            serde_json::from_str(&body_text(response).await).expect("a JSON body");
        assert_eq!(body["status"], "timeout");
        assert_eq!(body["message"], TIMEOUT_MESSAGE);
    }

    #[tokio::test]
    async fn a_request_ready_at_once_never_registers() {
        let deadlines = Deadlines::manual(Arc::new(FakeClock::new()));
        let layer = DeadlineLayer::new(Arc::clone(&deadlines), Duration::from_secs(10));
        let mut service = layer.layer(gated(Arc::new(AtomicBool::new(true))));
        let response = service.call(request()).await.expect("infallible");
        assert_eq!(body_text(response).await, "done");
        assert_eq!(deadlines.waiting(), 0);
    }

    #[tokio::test]
    async fn a_request_that_completes_leaves_the_table_and_is_not_woken_later() {
        let clock = FakeClock::new();
        let deadlines = Deadlines::manual(Arc::new(clock.clone()));
        let layer = DeadlineLayer::new(Arc::clone(&deadlines), Duration::from_secs(1));
        let gate = Arc::new(AtomicBool::new(false));
        let mut service = layer.layer(gated(Arc::clone(&gate)));
        let mut future = Box::pin(service.call(request()));
        let (wakes, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert!(future.as_mut().poll(&mut cx).is_pending(), "polled twice");
        assert_eq!(deadlines.waiting(), 1, "registered once, not per poll");

        gate.store(true, Ordering::SeqCst);
        let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) else {
            panic!("the opened request must answer");
        };
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(deadlines.waiting(), 0);
        clock.advance(Duration::from_secs(5));
        assert_eq!(deadlines.sweep(), 0);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_dropped_request_leaves_the_table_and_its_slot_is_reused() {
        let clock = FakeClock::new();
        let deadlines = Deadlines::manual(Arc::new(clock.clone()));
        let layer = DeadlineLayer::new(Arc::clone(&deadlines), Duration::from_secs(1));
        let mut service = layer.layer(gated(Arc::new(AtomicBool::new(false))));
        let (_wakes, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        for round in 0..3 {
            let mut future = Box::pin(service.call(request()));
            assert!(future.as_mut().poll(&mut cx).is_pending());
            assert_eq!(deadlines.waiting(), 1, "round {round}");
            drop(future);
            assert_eq!(deadlines.waiting(), 0, "round {round}");
        }
        let slots: usize = deadlines.shards.iter().map(|s| s.lock().slots.len()).sum();
        assert_eq!(slots, 1, "the one slot was reused");
    }

    #[tokio::test]
    async fn a_new_waker_replaces_the_registered_one() {
        let clock = FakeClock::new();
        let deadlines = Deadlines::manual(Arc::new(clock.clone()));
        let layer = DeadlineLayer::new(Arc::clone(&deadlines), Duration::from_secs(1));
        let mut service = layer.layer(gated(Arc::new(AtomicBool::new(false))));
        let mut future = Box::pin(service.call(request()));
        let (first, first_waker) = counting();
        let (second, second_waker) = counting();
        assert!(future
            .as_mut()
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending());
        assert!(future
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker))
            .is_pending());
        clock.advance(Duration::from_secs(1));
        assert_eq!(deadlines.sweep(), 1);
        assert_eq!(first.0.load(Ordering::SeqCst), 0, "the stale waker");
        assert_eq!(second.0.load(Ordering::SeqCst), 1, "the current waker");
    }

    /// Many threads register and leave at once; a sweep wakes exactly the
    /// requests past their deadline, and the table ends empty.
    #[test]
    fn concurrent_requests_are_counted_and_swept_exactly() {
        const THREADS: usize = 8;
        const PER_THREAD: usize = 500;
        let clock = FakeClock::new();
        let deadlines = Deadlines::manual(Arc::new(clock.clone()));
        let (wakes, waker) = counting();
        // Half the requests start now (deadline in 1 s), the other half
        // 2 s later (deadline in 3 s).
        let early: Vec<Slot> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    let deadlines = Arc::clone(&deadlines);
                    let waker = waker.clone();
                    let now = clock.now();
                    scope.spawn(move || {
                        (0..PER_THREAD)
                            .map(|_| deadlines.register(now + Duration::from_secs(1), &waker))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("no panic"))
                .collect()
        });
        clock.advance(Duration::from_secs(2));
        let late_deadline = clock.now() + Duration::from_secs(1);
        let late: Vec<Slot> = (0..THREADS * PER_THREAD)
            .map(|_| deadlines.register(late_deadline, &waker))
            .collect();
        assert_eq!(deadlines.waiting(), 2 * THREADS * PER_THREAD);
        assert_eq!(
            deadlines.sweep(),
            THREADS * PER_THREAD,
            "only the early half"
        );
        assert_eq!(wakes.0.load(Ordering::SeqCst), THREADS * PER_THREAD);

        std::thread::scope(|scope| {
            for chunk in early.chunks(PER_THREAD) {
                let deadlines = Arc::clone(&deadlines);
                scope.spawn(move || chunk.iter().for_each(|slot| deadlines.release(*slot)));
            }
        });
        assert_eq!(deadlines.waiting(), THREADS * PER_THREAD);
        late.iter().for_each(|slot| deadlines.release(*slot));
        assert_eq!(deadlines.waiting(), 0);
    }

    /// The sweeper thread wakes a request once the clock is past its
    /// deadline: the clock is moved, the test only waits for the sweeper.
    #[tokio::test]
    async fn the_sweeper_thread_ends_a_hung_request() {
        let clock = FakeClock::new();
        let resolution = Duration::from_millis(5);
        let deadlines = Deadlines::swept_every(Arc::new(clock.clone()), resolution);
        let layer = DeadlineLayer::new(Arc::clone(&deadlines), Duration::from_secs(10));
        let mut service = layer.layer(gated(Arc::new(AtomicBool::new(false))));
        let mut future = Box::pin(service.call(request()));
        assert!(futures_util::poll!(future.as_mut()).is_pending());
        clock.advance(Duration::from_secs(10));
        // The sweeper looks every 5 ms; 10 s is 2000 looks, room for a
        // loaded machine that deschedules the thread for seconds.
        let bound = Duration::from_secs(10);
        let started = Instant::now();
        let response = tokio::time::timeout(bound, future)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no answer {:?} after the deadline; table: {deadlines:?}",
                    started.elapsed()
                )
            })
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(deadlines.waiting(), 0);
    }

    #[test]
    fn the_resolution_is_a_twentieth_of_the_timeout_within_bounds() {
        let cases = [(10_000, 100), (1_000, 50), (100, 5), (600_000, 100)];
        for (timeout_ms, resolution_ms) in cases {
            assert_eq!(
                Deadlines::resolution_for(Duration::from_millis(timeout_ms)),
                Duration::from_millis(resolution_ms),
                "timeout {timeout_ms} ms"
            );
        }
    }
}
