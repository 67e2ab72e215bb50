//! Tests for custom store implementations: the crate's semantics, checked on
//! any [`Store`] (feature `conformance`).
//!
//! Like object_store's `integration` module: every store of this crate runs
//! these in its own tests, and a store written elsewhere (a
//! [`CallStateStore`](crate::CallStateStore), a wrapper with metrics or
//! fault injection, a [`Store`] with its own algorithm) runs the same. They
//! check, with [`Policy::default`] (50 per call, 20 in any 60 s, 10 per
//! function, 300 s cooldown, state kept 30 min):
//!
//! - [`all_or_nothing`]: a refused request counts in no limit;
//! - [`sliding_window`]: 20 in *any* 60 s, admitted again exactly when the
//!   oldest leaves (no fixed window, no GCRA);
//! - [`lifetime_cap`] (50 per call) and [`per_function_quota`] (10);
//! - [`cooldown`]: 300 s after a refusal, not extended by refusals in it;
//! - [`expiry`]: idle calls are forgotten after the idle TTL, not before;
//! - [`bad_keys`]: empty, huge, brace-laden and non-ASCII call ids and
//!   function names: no panic, and either exact counting or an error every
//!   time;
//! - [`shared_state`] and [`concurrent_exact`]: N concurrent tasks over M
//!   store instances admit exactly the quota, never more.
//!
//! A [`Harness`] holds the store factory and the [`FakeClock`] its stores
//! read: every store the factory makes shares one state (clones of one
//! in-process store, or stores on one server with one prefix), so several
//! of them stand for several replicas of a service. Time moves only by
//! [`FakeClock::advance`]. A store may fail with [`StoreError`]: the suite
//! retries the same request (up to 20 times), so a flaky store passes if,
//! as [`Store::decide`] requires, a failed decision counted nothing
//! ([`Harness::errors`] says how many it saw). Every check panics with what
//! it expected and what it saw; run them from a Tokio runtime
//! (multi-threaded for real parallelism in [`concurrent_exact`]).
//!
//! ```
//! use voxcal_call_rate_limiter::conformance::{self, Harness};
//! use voxcal_call_rate_limiter::{FakeClock, MemoryStore};
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! let clock = FakeClock::new();
//! let store = Arc::new(MemoryStore::new().with_clock(clock.clone()));
//! // Every instance shares the one map: clones of the Arc.
//! let harness = Harness::new(clock, move || {
//!     let store = Arc::clone(&store);
//!     async move { store }
//! });
//! conformance::run(&harness).await;
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::{
    BoxStore, CallKey, Decision, FakeClock, Limit, LimitStatus, Policy, Store, StoreError,
};

/// How often the suite asks again after a [`StoreError`].
const ATTEMPTS: usize = 20;

type MakeStore = Box<dyn Fn() -> Pin<Box<dyn Future<Output = BoxStore> + Send>> + Send + Sync>;

/// A store under test: a factory of store instances over one shared state,
/// and the [`FakeClock`] they read.
pub struct Harness {
    clock: FakeClock,
    make: MakeStore,
    run: u64,
    errors: Arc<AtomicUsize>,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("clock", &self.clock)
            .field("errors", &self.errors())
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Tests the stores `factory` makes. Every store it makes must share one
    /// state and read `clock` (a clone of it), so that advancing `clock`
    /// moves their time.
    pub fn new<F, Fut, S>(clock: FakeClock, factory: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = S> + Send + 'static,
        S: Store,
    {
        let factory = Arc::new(factory);
        Harness {
            clock,
            make: Box::new(move || {
                let made = factory();
                Box::pin(async move { BoxStore::new(made.await) })
            }),
            // Call ids of this run differ from those of earlier runs on the
            // same (persistent) backend.
            run: voxcal_core::random_u64(),
            errors: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The clock the stores read.
    pub fn clock(&self) -> &FakeClock {
        &self.clock
    }

    /// A new store instance over the shared state.
    pub async fn store(&self) -> BoxStore {
        (self.make)().await
    }

    /// How many [`StoreError`]s the checks saw (and retried) so far.
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::SeqCst)
    }

    /// A call id no other check (nor run) uses.
    fn call_id(&self, check: &str) -> String {
        format!("conformance-{check}-{:016x}", self.run)
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

/// Runs every check: all-or-nothing, the sliding window, the lifetime cap,
/// the per-function quota, cooldown, expiry, bad keys, shared state,
/// release, and 200 concurrent tasks over 4 store instances.
pub async fn run(harness: &Harness) {
    all_or_nothing(harness).await;
    sliding_window(harness).await;
    lifetime_cap(harness).await;
    per_function_quota(harness).await;
    cooldown(harness).await;
    expiry(harness).await;
    bad_keys(harness).await;
    shared_state(harness).await;
    release(harness).await;
    concurrent_exact(harness, 200, 4).await;
}

/// The default policy's limit `name`.
fn limit<'a>(policy: &'a Policy, name: &str) -> &'a Limit {
    match policy.limits().iter().find(|l| l.name() == name) {
        Some(l) => l,
        None => panic!("conformance: the default policy has no limit {name:?}"),
    }
}

fn window_of(limit: &Limit) -> Duration {
    match limit.period() {
        crate::Period::Window(w) => w,
        _ => panic!("conformance: limit {:?} has no window", limit.name()),
    }
}

/// A call id for messages: huge ones cut short.
fn shown(id: &str) -> String {
    if id.len() <= 48 {
        format!("{id:?}")
    } else {
        let cut = (0..=40)
            .rev()
            .find(|&i| id.is_char_boundary(i))
            .unwrap_or(0);
        format!("{:?}… ({} bytes)", &id[..cut], id.len())
    }
}

/// What a decision says, for messages.
fn described(d: &Decision) -> String {
    let limits: Vec<String> = d
        .limits
        .iter()
        .map(|l| format!("{} {}/{}", l.name, l.used, l.quota))
        .collect();
    format!(
        "{} (cooldown: {}, retry after: {:?}, exceeded: {:?}, limits: [{}], source: {:?})",
        if d.admitted { "admitted" } else { "refused" },
        d.cooldown,
        d.retry_after,
        d.limits_exceeded(),
        limits.join(", "),
        d.source
    )
}

/// Asks `store` until it decides (at most [`ATTEMPTS`] times).
async fn try_decide(
    store: &BoxStore,
    policy: &Arc<Policy>,
    key: &CallKey,
    errors: &AtomicUsize,
) -> Result<Decision, StoreError> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match store.decide(policy, key).await {
            Ok(decision) => return Ok(decision),
            Err(e) => {
                errors.fetch_add(1, Ordering::SeqCst);
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| StoreError::unavailable("no attempt")))
}

/// A decision for `key`, checked for the invariants every decision keeps.
async fn decide(
    check: &str,
    store: &BoxStore,
    policy: &Arc<Policy>,
    key: &CallKey,
    errors: &AtomicUsize,
) -> Decision {
    match try_decide(store, policy, key, errors).await {
        Ok(d) => {
            well_formed(check, key, &d);
            d
        }
        Err(e) => panic!(
            "{check}: expected a decision for call {}, but the store failed {ATTEMPTS} times in a row; last: {e}",
            shown(key.call_id())
        ),
    }
}

/// Invariants of every decision: counts within quotas, `remaining`
/// consistent, `Retry-After` exactly on refusals.
fn well_formed(check: &str, key: &CallKey, d: &Decision) {
    for l in &d.limits {
        assert!(
            l.used <= l.quota && l.remaining == l.quota - l.used,
            "{check}: call {}: limit {} reports used {} remaining {} of quota {}: {}",
            shown(key.call_id()),
            l.name,
            l.used,
            l.remaining,
            l.quota,
            described(d)
        );
    }
    match (d.admitted, d.retry_after) {
        (true, None) => {}
        (false, Some(r)) if !r.is_zero() => {}
        _ => panic!(
            "{check}: call {}: an admission has no Retry-After and a refusal a positive one: {}",
            shown(key.call_id()),
            described(d)
        ),
    }
}

fn status<'a>(check: &str, what: &str, d: &'a Decision, name: &str) -> &'a LimitStatus {
    match d.limits.iter().find(|l| l.name == name) {
        Some(l) => l,
        None => panic!(
            "{check}: {what}: expected a status for limit {name:?}, got {}",
            described(d)
        ),
    }
}

fn expect_admitted(check: &str, what: &str, d: &Decision) {
    assert!(
        d.admitted,
        "{check}: expected {what} to be admitted, got {}",
        described(d)
    );
}

fn expect_refused(check: &str, what: &str, d: &Decision) {
    assert!(
        !d.admitted,
        "{check}: expected {what} to be refused, got {}",
        described(d)
    );
}

fn expect_used(check: &str, what: &str, d: &Decision, name: &str, want: u32) {
    let got = status(check, what, d, name).used;
    assert_eq!(
        got,
        want,
        "{check}: {what}: expected limit {name} to count {want}, got {got}: {}",
        described(d)
    );
}

fn expect_exceeded(check: &str, what: &str, d: &Decision, want: &[String]) {
    assert_eq!(
        d.limits_exceeded(),
        want,
        "{check}: {what}: expected the refusing limits {want:?}, got {}",
        described(d)
    );
}

fn expect_retry_after(check: &str, what: &str, d: &Decision, want: Duration) {
    assert_eq!(
        d.retry_after,
        Some(want),
        "{check}: {what}: expected Retry-After {want:?}, got {}",
        described(d)
    );
}

/// Spends `key`'s function on a fresh call: its `per_function` quota of
/// requests, `step` apart, each admitted and counted in `per_function` and
/// `total`, then one more, refused by `per_function` alone. Returns that
/// refusal and its description.
async fn spend_one_function(
    check: &str,
    h: &Harness,
    store: &BoxStore,
    policy: &Arc<Policy>,
    key: &CallKey,
    step: Duration,
) -> (String, Decision) {
    let per_fn = limit(policy, "per_function").quota();
    let errors = &*h.errors;
    for i in 1..=per_fn {
        let d = decide(check, store, policy, key, errors).await;
        let what = format!("request {i} of one function");
        expect_admitted(check, &what, &d);
        expect_used(check, &what, &d, "total", i);
        expect_used(check, &what, &d, "per_function", i);
        h.advance(step);
    }
    let what = format!("request {} of one function", per_fn + 1);
    let d = decide(check, store, policy, key, errors).await;
    expect_refused(check, &what, &d);
    expect_exceeded(
        check,
        &what,
        &d,
        &[format!("per_function ({per_fn}/{per_fn})")],
    );
    (what, d)
}

/// A refused request counts in no limit: refused by `per_function`, the
/// call's `total` and `per_minute` do not move; refused by `per_minute`,
/// the function's bucket does not either.
pub async fn all_or_nothing(h: &Harness) {
    let check = "all_or_nothing";
    let policy = Arc::new(Policy::default());
    let per_fn = limit(&policy, "per_function").quota();
    let per_minute = limit(&policy, "per_minute").quota();
    let cooldown = policy.cooldown().unwrap_or(Duration::ZERO);
    let store = h.store().await;
    let errors = &*h.errors;

    let call = h.call_id(check);
    let a = CallKey::new(call.as_str()).with_function("check_availability");
    let b = CallKey::new(call.as_str()).with_function("book_appointment");
    let (what, d) = spend_one_function(check, h, &store, &policy, &a, Duration::from_secs(2)).await;
    expect_used(check, &what, &d, "total", per_fn);
    expect_used(check, &what, &d, "per_minute", per_fn);
    h.advance(cooldown);
    let what = "another function after the cooldown";
    let d = decide(check, &store, &policy, &b, errors).await;
    expect_admitted(check, what, &d);
    expect_used(check, what, &d, "total", per_fn + 1);
    expect_used(check, what, &d, "per_function", 1);

    // Refused by the window: the new function's bucket stays empty.
    let call = format!("{call}-window");
    for i in 1..=per_minute {
        let key = CallKey::new(call.as_str()).with_function(format!("fn_{}", i % 4));
        let d = decide(check, &store, &policy, &key, errors).await;
        expect_admitted(check, &format!("burst request {i}"), &d);
    }
    let extra = CallKey::new(call.as_str()).with_function("extra");
    let what = "a new function over the window's quota";
    let d = decide(check, &store, &policy, &extra, errors).await;
    expect_refused(check, what, &d);
    expect_exceeded(
        check,
        what,
        &d,
        &[format!("per_minute ({per_minute}/{per_minute})")],
    );
    expect_used(check, what, &d, "total", per_minute);
    expect_used(check, what, &d, "per_function", 0);
    h.advance(cooldown.max(window_of(limit(&policy, "per_minute"))));
    let what = "the refused function later";
    let d = decide(check, &store, &policy, &extra, errors).await;
    expect_admitted(check, what, &d);
    expect_used(check, what, &d, "per_function", 1);
    expect_used(check, what, &d, "total", per_minute + 1);
}

/// The exact sliding window: `per_minute` (20 in any 60 s, here without
/// cooldown) refuses the 21st within the window with `Retry-After` until
/// the oldest leaves, admits again exactly then, and admits nothing more
/// anywhere inside the 60 s after a full burst (a fixed window or GCRA
/// would).
pub async fn sliding_window(h: &Harness) {
    let check = "sliding_window";
    let defaults = Policy::default();
    let per_minute = limit(&defaults, "per_minute").clone();
    let (quota, window) = (per_minute.quota(), window_of(&per_minute));
    let policy = match Policy::builder().limit(per_minute).cooldown(None).build() {
        Ok(p) => Arc::new(p),
        Err(e) => panic!("{check}: the window-only policy: {e}"),
    };
    let store = h.store().await;
    let errors = &*h.errors;
    let step = window / (3 * quota);

    let key = CallKey::new(h.call_id(check));
    for i in 1..=quota {
        let d = decide(check, &store, &policy, &key, errors).await;
        let what = format!("request {i} (one every {step:?})");
        expect_admitted(check, &what, &d);
        expect_used(check, &what, &d, "per_minute", i);
        h.advance(step);
    }
    // Now `quota` steps after the oldest.
    let what = format!("request {} within the window", quota + 1);
    let d = decide(check, &store, &policy, &key, errors).await;
    expect_refused(check, &what, &d);
    let left = window - step * quota;
    expect_retry_after(check, &what, &d, left);
    let reset = status(check, &what, &d, "per_minute").reset;
    assert_eq!(
        reset, left,
        "{check}: {what}: expected the window to reset in {left:?}, got {reset:?}"
    );
    h.advance(left - Duration::from_millis(1));
    let what = "a request 1 ms before the oldest leaves";
    let d = decide(check, &store, &policy, &key, errors).await;
    expect_refused(check, what, &d);
    expect_retry_after(check, what, &d, Duration::from_millis(1));
    h.advance(Duration::from_millis(1));
    let what = "a request the moment the oldest leaves";
    let d = decide(check, &store, &policy, &key, errors).await;
    expect_admitted(check, what, &d);
    expect_used(check, what, &d, "per_minute", quota);
    let what = "a second request that moment";
    let d = decide(check, &store, &policy, &key, errors).await;
    expect_refused(check, what, &d);
    expect_retry_after(check, what, &d, step);

    // A full burst, then one request a second for the rest of the window.
    let key = CallKey::new(format!("{}-burst", h.call_id(check)));
    let mut admitted = 0;
    for _ in 0..2 * quota {
        admitted += u32::from(decide(check, &store, &policy, &key, errors).await.admitted);
    }
    assert_eq!(
        admitted,
        quota,
        "{check}: expected a burst of {} at one instant to admit {quota}, got {admitted}",
        2 * quota
    );
    let second = Duration::from_secs(1);
    let mut waited = Duration::ZERO;
    while waited + second < window {
        h.advance(second);
        waited += second;
        let d = decide(check, &store, &policy, &key, errors).await;
        let what = format!("a request {waited:?} after a full burst");
        expect_refused(check, &what, &d);
        expect_retry_after(check, &what, &d, window - waited);
    }
    h.advance(window - waited);
    let mut admitted = 0;
    for _ in 0..2 * quota {
        admitted += u32::from(decide(check, &store, &policy, &key, errors).await.admitted);
    }
    assert_eq!(
        admitted, quota,
        "{check}: expected {quota} admitted once the burst left the window, got {admitted}"
    );
}

/// `total`: 50 admitted requests per call (over five functions, spaced to
/// stay inside `per_minute`), then refused for the call's lifetime, with
/// `Retry-After` at the state's expiry.
pub async fn lifetime_cap(h: &Harness) {
    let check = "lifetime_cap";
    let policy = Arc::new(Policy::default());
    let total = limit(&policy, "total").quota();
    let per_fn = limit(&policy, "per_function").quota();
    let per_minute = limit(&policy, "per_minute");
    let step = window_of(per_minute) / per_minute.quota() + Duration::from_millis(100);
    let functions = total.div_ceil(per_fn);
    let store = h.store().await;
    let errors = &*h.errors;
    let call = h.call_id(check);
    for i in 1..=total {
        let key = CallKey::new(call.as_str()).with_function(format!("fn_{}", i % functions));
        let d = decide(check, &store, &policy, &key, errors).await;
        let what = format!("request {i} (one every {step:?})");
        expect_admitted(check, &what, &d);
        expect_used(check, &what, &d, "total", i);
        h.advance(step);
    }
    let fresh = CallKey::new(call.as_str()).with_function("fresh_function");
    let what = format!("request {} (a fresh function)", total + 1);
    let d = decide(check, &store, &policy, &fresh, errors).await;
    expect_refused(check, &what, &d);
    expect_exceeded(check, &what, &d, &[format!("total ({total}/{total})")]);
    // The lifetime counts live until the state expires.
    let ttl = policy.idle_ttl();
    expect_retry_after(
        check,
        &what,
        &d,
        (ttl - step).max(policy.cooldown().unwrap_or_default()),
    );
    h.advance(policy.cooldown().unwrap_or_default());
    let what = "a request after the cooldown";
    let d = decide(check, &store, &policy, &fresh, errors).await;
    expect_refused(check, what, &d);
    expect_exceeded(check, what, &d, &[format!("total ({total}/{total})")]);
    expect_used(check, what, &d, "per_function", 0);
}

/// `per_function`: 10 admitted requests per function; other functions of
/// the call count on their own.
pub async fn per_function_quota(h: &Harness) {
    let check = "per_function_quota";
    let policy = Arc::new(Policy::default());
    let per_fn = limit(&policy, "per_function").quota();
    let cooldown = policy.cooldown().unwrap_or_default();
    let store = h.store().await;
    let errors = &*h.errors;
    let call = h.call_id(check);
    let f = CallKey::new(call.as_str()).with_function("book_appointment");
    let g = CallKey::new(call.as_str()).with_function("cancel_appointment");
    spend_one_function(check, h, &store, &policy, &f, Duration::from_secs(1)).await;
    h.advance(cooldown);
    let what = "another function after the cooldown";
    let d = decide(check, &store, &policy, &g, errors).await;
    expect_admitted(check, what, &d);
    expect_used(check, what, &d, "per_function", 1);
    expect_used(check, what, &d, "total", per_fn + 1);
    let what = "the spent function again";
    let d = decide(check, &store, &policy, &f, errors).await;
    expect_refused(check, what, &d);
    assert!(
        !d.cooldown,
        "{check}: {what}: expected a refusal by the quota, not the cooldown: {}",
        described(&d)
    );
    expect_exceeded(
        check,
        what,
        &d,
        &[format!("per_function ({per_fn}/{per_fn})")],
    );
}

/// `cooldown`: after a refusal the whole call is blocked for 300 s (the
/// policy's), with `Retry-After` counting down; refusals during it do not
/// extend it, and it ends exactly on time.
pub async fn cooldown(h: &Harness) {
    let check = "cooldown";
    let policy = Arc::new(Policy::default());
    let per_fn = limit(&policy, "per_function").quota();
    let Some(cooldown) = policy.cooldown() else {
        panic!("{check}: the default policy has no cooldown");
    };
    let store = h.store().await;
    let errors = &*h.errors;
    let call = h.call_id(check);
    let f = CallKey::new(call.as_str()).with_function("check_availability");
    let g = CallKey::new(call.as_str()).with_function("book_appointment");
    for i in 1..=per_fn {
        let d = decide(check, &store, &policy, &f, errors).await;
        expect_admitted(check, &format!("request {i}"), &d);
    }
    let d = decide(check, &store, &policy, &f, errors).await;
    expect_refused(check, "the request over the quota", &d);
    assert!(
        !d.cooldown,
        "{check}: expected the first refusal not to be a cooldown one: {}",
        described(&d)
    );
    let ms = Duration::from_millis(1);
    h.advance(ms);
    let what = "another function 1 ms into the cooldown";
    let d = decide(check, &store, &policy, &g, errors).await;
    expect_refused(check, what, &d);
    assert!(
        d.cooldown && d.limits_exceeded().first().map(String::as_str) == Some("cooldown"),
        "{check}: {what}: expected a cooldown refusal, got {}",
        described(&d)
    );
    expect_retry_after(check, what, &d, cooldown - ms);
    expect_used(check, what, &d, "per_function", 0);
    h.advance(cooldown - 2 * ms);
    let what = "another function 1 ms before the cooldown ends";
    let d = decide(check, &store, &policy, &g, errors).await;
    expect_refused(check, what, &d);
    expect_retry_after(check, what, &d, ms);
    h.advance(ms);
    let what = "another function when the cooldown ends";
    let d = decide(check, &store, &policy, &g, errors).await;
    expect_admitted(check, what, &d);
    expect_used(check, what, &d, "per_function", 1);
    expect_used(check, what, &d, "total", per_fn + 1);
}

/// Expiry: a call's state lives the idle TTL (30 min) after its last
/// admitted request, or until its cooldown ends if later, then counting
/// starts over; many idle calls are all forgotten.
pub async fn expiry(h: &Harness) {
    let check = "expiry";
    let policy = Arc::new(Policy::default());
    let ttl = policy.idle_ttl();
    let per_fn = limit(&policy, "per_function").quota();
    let cooldown = policy.cooldown().unwrap_or_default();
    let ms = Duration::from_millis(1);
    let store = h.store().await;
    let errors = &*h.errors;
    let call = h.call_id(check);
    let key = CallKey::new(call.as_str()).with_function("f");

    let d = decide(check, &store, &policy, &key, errors).await;
    expect_used(check, "the first request", &d, "total", 1);
    h.advance(ttl - ms);
    let what = "a request 1 ms before the state expires";
    let d = decide(check, &store, &policy, &key, errors).await;
    expect_used(check, what, &d, "total", 2);
    h.advance(ttl);
    let what = "a request the idle TTL after the last one";
    let d = decide(check, &store, &policy, &key, errors).await;
    expect_admitted(check, what, &d);
    expect_used(check, what, &d, "total", 1);

    // A spent function stays spent for the TTL, however the cooldowns fall.
    let spent = CallKey::new(format!("{call}-spent")).with_function("f");
    for i in 1..=per_fn {
        let d = decide(check, &store, &policy, &spent, errors).await;
        expect_admitted(check, &format!("request {i} of a function"), &d);
    }
    h.advance(ms);
    let d = decide(check, &store, &policy, &spent, errors).await;
    expect_refused(check, "the request over the quota", &d);
    h.advance(cooldown);
    let what = "the spent function after the cooldown";
    let d = decide(check, &store, &policy, &spent, errors).await;
    expect_refused(check, what, &d);
    h.advance(ttl - cooldown - ms);
    let what = "the spent function the idle TTL after its last admission";
    let d = decide(check, &store, &policy, &spent, errors).await;
    expect_admitted(check, what, &d);
    expect_used(check, what, &d, "per_function", 1);

    // Many idle calls: all forgotten.
    let idle: Vec<CallKey> = (0..50)
        .map(|i| CallKey::new(format!("{call}-idle-{i}")).with_function("f"))
        .collect();
    for key in &idle {
        let d = decide(check, &store, &policy, key, errors).await;
        expect_used(check, "an idle call's first request", &d, "total", 1);
    }
    h.advance(ttl);
    for key in &idle {
        let what = format!("call {} after idling the TTL", shown(key.call_id()));
        let d = decide(check, &store, &policy, key, errors).await;
        expect_used(check, &what, &d, "total", 1);
    }
}

/// Bad keys: empty, huge (64 KiB), brace-laden, control and non-ASCII call
/// ids and function names. No panic; each is either counted exactly on its
/// own (not mixed with another key) or refused with a [`StoreError`] every
/// time.
pub async fn bad_keys(h: &Harness) {
    let check = "bad_keys";
    let policy = Arc::new(Policy::default());
    let store = h.store().await;
    let errors = &*h.errors;
    let run = h.call_id(check);
    let huge = "x".repeat(64 * 1024);
    let ids = [
        "{",
        "}",
        "{}",
        "{{x}}",
        "a}b{c",
        "rl:{call}:s",
        "übermorgen-日本-😀",
        "\0\n\t\r",
        "   ",
        "*?[]",
        huge.as_str(),
    ];
    let functions = ["", "{f}", "ünïcödé", huge.as_str(), "f"];
    let mut keys: Vec<(CallKey, bool)> = Vec::new();
    // The empty id exists once per backend: only its increments are checked.
    keys.push((CallKey::new("").with_function("f"), false));
    for (i, id) in ids.iter().enumerate() {
        let function = functions[i % functions.len()];
        keys.push((
            CallKey::new(format!("{id}{run}")).with_function(function),
            true,
        ));
        keys.push((
            CallKey::new(format!("{run}{id}")).with_function(function),
            true,
        ));
    }
    for (key, unique) in &keys {
        let first = try_decide(&store, &policy, key, errors).await;
        let second = try_decide(&store, &policy, key, errors).await;
        let id = shown(key.call_id());
        match (first, second) {
            (Ok(a), Ok(b)) => {
                well_formed(check, key, &a);
                well_formed(check, key, &b);
                if !a.admitted {
                    // Only the shared empty id may be spent already.
                    assert!(
                        !unique,
                        "{check}: call {id}: expected admitted, got {}",
                        described(&a)
                    );
                    continue;
                }
                let (x, y) = (
                    status(check, &id, &a, "total").used,
                    status(check, &id, &b, "total").used,
                );
                if *unique {
                    assert_eq!(
                        x, 1,
                        "{check}: call {id}: expected a fresh count of 1 (no other key's state), got {}",
                        described(&a)
                    );
                }
                if b.admitted {
                    assert_eq!(
                        y,
                        x + 1,
                        "{check}: call {id}: expected the second request to count {}, got {}",
                        x + 1,
                        described(&b)
                    );
                }
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "{check}: call {id}: expected two decisions or two errors, got {:?} then {:?}",
                a.map(|d| described(&d)),
                b.map(|d| described(&d))
            ),
        }
    }
}

/// Several store instances from the factory share one state: what one
/// admits, the next counts.
pub async fn shared_state(h: &Harness) {
    let check = "shared_state";
    let policy = Arc::new(Policy::default());
    let stores = [h.store().await, h.store().await, h.store().await];
    let errors = &*h.errors;
    let key = CallKey::new(h.call_id(check)).with_function("f");
    for (i, store) in stores.iter().chain(stores.iter()).enumerate() {
        let d = decide(check, store, &policy, &key, errors).await;
        let what = format!("request {} (on instance {})", i + 1, i % stores.len());
        expect_admitted(check, &what, &d);
        expect_used(check, &what, &d, "total", i as u32 + 1);
    }
}

/// [`Store::release`] on one instance forgets the call on every instance:
/// a call refused by its per-function quota starts fresh, at once (no time
/// passes); releasing an unknown call is no error, and other calls keep
/// their counts.
pub async fn release(h: &Harness) {
    let check = "release";
    let policy = Arc::new(Policy::default());
    let (a, b) = (h.store().await, h.store().await);
    let errors = &*h.errors;
    let quota = limit(&policy, "per_function").quota();
    let key = CallKey::new(h.call_id(check)).with_function("f");
    let other = CallKey::new(h.call_id("release-other")).with_function("f");
    for i in 0..quota {
        let d = decide(check, &a, &policy, &key, errors).await;
        expect_admitted(check, &format!("request {}", i + 1), &d);
    }
    decide(check, &a, &policy, &other, errors).await;
    let d = decide(check, &b, &policy, &key, errors).await;
    assert!(
        !d.admitted,
        "{check}: request {} of the call should be refused before the release",
        quota + 1
    );
    if let Err(e) = b.release(key.call_id()).await {
        panic!("{check}: release failed: {e}");
    }
    if let Err(e) = a.release(&h.call_id("release-never-seen")).await {
        panic!("{check}: releasing an unknown call failed: {e}");
    }
    let d = decide(check, &a, &policy, &key, errors).await;
    let what = "the first request after the release (on the other instance)";
    expect_admitted(check, what, &d);
    expect_used(check, what, &d, "per_function", 1);
    expect_used(check, what, &d, "total", 1);
    let d = decide(check, &b, &policy, &other, errors).await;
    expect_used(check, "another call after the release", &d, "total", 2);
}

/// `tasks` concurrent tasks over `instances` store instances, at one
/// instant: on one function exactly `per_function` (10) are admitted; over
/// 20 functions exactly `per_minute` (20); never more, and the call's state
/// afterwards counts exactly the admitted ones.
pub async fn concurrent_exact(h: &Harness, tasks: usize, instances: usize) {
    let check = "concurrent_exact";
    let policy = Arc::new(Policy::default());
    let per_fn = limit(&policy, "per_function").quota();
    let per_minute = limit(&policy, "per_minute").quota();
    let mut stores = Vec::with_capacity(instances.max(1));
    for _ in 0..instances.max(1) {
        stores.push(h.store().await);
    }
    for (name, functions, want) in [
        ("one function", 1_usize, per_fn),
        ("many functions", per_minute as usize, per_minute),
    ] {
        let call = format!("{}-{}", h.call_id(check), functions);
        let mut handles = Vec::with_capacity(tasks);
        for i in 0..tasks {
            let store = stores[i % stores.len()].clone();
            let policy = Arc::clone(&policy);
            let errors = Arc::clone(&h.errors);
            let key = CallKey::new(call.as_str()).with_function(format!("fn_{}", i % functions));
            handles.push(tokio::spawn(async move {
                decide(check, &store, &policy, &key, &errors).await.admitted
            }));
        }
        let mut admitted = 0_u32;
        for handle in handles {
            match handle.await {
                Ok(yes) => admitted += u32::from(yes),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("{check}: a decision task did not finish: {e}"),
            }
        }
        let expected = want.min(u32::try_from(tasks).unwrap_or(u32::MAX));
        assert_eq!(
            admitted,
            expected,
            "{check}: {name}: expected {tasks} concurrent requests over {} instances to admit exactly {expected}, got {admitted}",
            stores.len()
        );
        let key = CallKey::new(call.as_str()).with_function("fn_0");
        let d = decide(check, &stores[0], &policy, &key, &h.errors).await;
        let what = format!("{name}: a request after the storm");
        if admitted == want {
            expect_refused(check, &what, &d);
        }
        let counted = status(check, &what, &d, "total").used;
        let expected_count = admitted + u32::from(d.admitted);
        assert_eq!(
            counted, expected_count,
            "{check}: {what}: expected the call to count exactly the {expected_count} admitted, got {counted}"
        );
    }
}
