//! `MemoryStore` decisions (three limits: lifetime total, 60 s sliding log,
//! per-function lifetime) beside `governor`'s keyed limiter doing one limit
//! (GCRA, 20 per minute) on the same call-id keys, single-threaded and with
//! two threads. Both run on fake clocks that advance 3 ms per decision, so
//! each call sees about 5 requests a minute and nearly all are admitted (the
//! path that does the most work). The lifetime quotas are raised so the
//! calls never run out during a long measurement.
//!
//! The machine these run on is shared with other builds, so each sample is
//! timed in the benchmark threads' on-CPU time (`/proc/thread-self/schedstat`,
//! summed over threads and divided by their number) rather than wall time,
//! which would count the time other processes held the CPU. Where that file
//! is missing, or a sample is too short for its tick resolution, wall time
//! is used.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use governor::clock::FakeRelativeClock;
use governor::{Quota, RateLimiter};
use voxcal_call_rate_limiter::{CallKey, FakeClock, Limit, MemoryStore, Policy, Scope};

const CALLS: usize = 4096;
const FUNCTIONS: [&str; 4] = [
    "check_availability",
    "collect_appointment",
    "book_appointment",
    "cancel_appointment",
];
const TICK: Duration = Duration::from_millis(3);

fn policy() -> Policy {
    Policy::builder()
        .limit(Limit::lifetime("total", u32::MAX))
        .limit(Limit::per_window("per_minute", 20, Duration::from_secs(60)))
        .limit(Limit::lifetime("per_function", u32::MAX).scoped(Scope::CallAndFunction))
        .cooldown(Some(Duration::from_secs(300)))
        .build()
        .expect("bench policy")
}

fn keys() -> (Vec<CallKey>, Vec<String>) {
    let ids: Vec<String> = (0..CALLS).map(|i| format!("call_{i:08x}")).collect();
    let keys = ids
        .iter()
        .enumerate()
        .map(|(i, id)| CallKey::new(id.clone()).with_function(FUNCTIONS[i % 4]))
        .collect();
    (keys, ids)
}

fn memory(c: &mut Criterion) {
    let (keys, ids) = keys();
    let policy = policy();
    let mut group = c.benchmark_group("call_rate_limiter_memory");
    group
        .measurement_time(Duration::from_secs(5))
        .sample_size(20);

    for threads in [1_usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));

        let clock = FakeClock::new();
        let store = MemoryStore::new().with_clock(clock.clone());
        group.bench_function(BenchmarkId::new("ours_three_limits", threads), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |t, i| {
                    let key = &keys[(i as usize * 7 + t * (CALLS / 2)) % CALLS];
                    clock.advance(TICK);
                    black_box(store.decide_now(&policy, key).admitted);
                })
            });
        });

        let gclock = FakeRelativeClock::default();
        let quota = Quota::per_minute(NonZeroU32::new(20).expect("non-zero"));
        let limiter = RateLimiter::dashmap_with_clock(quota, gclock.clone());
        group.bench_function(BenchmarkId::new("governor_one_limit", threads), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |t, i| {
                    let key = &ids[(i as usize * 7 + t * (CALLS / 2)) % CALLS];
                    gclock.advance(TICK);
                    black_box(limiter.check_key(key).is_ok());
                })
            });
        });
    }
    group.finish();
}

/// Runs `iters` steps on each of `threads` threads; returns their mean
/// on-CPU time (or the wall time where that cannot be read).
fn run_threads(threads: usize, iters: u64, step: impl Fn(usize, u64) + Sync) -> Duration {
    let wall = Instant::now();
    let cpu: Option<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let step = &step;
                s.spawn(move || {
                    let before = thread_cpu_time();
                    for i in 0..iters {
                        step(t, i);
                    }
                    Some(thread_cpu_time()?.saturating_sub(before?))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .sum()
    });
    let wall = wall.elapsed();
    // The kernel updates a running thread's figure at scheduler ticks, so
    // only long samples (the measured ones: 20 of about 250 ms) use it.
    match cpu {
        Some(total) if total >= Duration::from_millis(40) => total / threads as u32,
        _ => wall,
    }
}

/// This thread's time on a CPU so far, from `/proc/thread-self/schedstat`.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

criterion_group!(benches, memory);
criterion_main!(benches);
