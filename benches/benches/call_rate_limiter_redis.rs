//! `RedisStore` decisions per second at concurrency 1 and 32, beside a bare
//! `PING` over the same `RedisConnection` in the same run. Each call
//! gets 8 decisions over 4 functions (all admitted under the default policy),
//! so the script reads and writes as in a real call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::future::join_all;
use voxcal_call_rate_limiter::{CallKey, Policy, RedisConnection, RedisStore, Store};

const FUNCTIONS: [&str; 4] = [
    "check_availability",
    "collect_appointment",
    "book_appointment",
    "cancel_appointment",
];

fn redis(c: &mut Criterion) {
    let rt = benches::runtime(2);
    let server = benches::BenchRedis::start();
    let conn = rt
        .block_on(RedisConnection::connect(server.url()))
        .expect("redis connection");
    let prefix = testkit::unique_prefix();
    // A generous timeout: the bench measures Redis, never the fallback.
    let store = RedisStore::new(conn.clone())
        .with_prefix(prefix)
        .with_timeout(Duration::from_secs(5));
    let policy = Arc::new(Policy::default());
    let counter = AtomicU64::new(0);

    let mut group = c.benchmark_group("call_rate_limiter_redis");
    group.measurement_time(Duration::from_secs(3));
    for concurrency in [1_usize, 32] {
        group.throughput(Throughput::Elements(concurrency as u64));
        group.bench_with_input(
            BenchmarkId::new("ping", concurrency),
            &concurrency,
            |b, &n| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            join_all((0..n).map(|_| {
                                let mut conn = conn.clone();
                                async move {
                                    redis::cmd("PING")
                                        .query_async::<String>(&mut conn)
                                        .await
                                        .expect("PING")
                                }
                            }))
                            .await;
                        }
                        start.elapsed()
                    })
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("decision", concurrency),
            &concurrency,
            |b, &n| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            join_all((0..n).map(|_| {
                                let i = counter.fetch_add(1, Ordering::Relaxed);
                                let key = CallKey::new(format!("call_{:x}", i / 8))
                                    .with_function(FUNCTIONS[(i % 4) as usize]);
                                let decision = store.decide(&policy, &key);
                                async move {
                                    let d = decision.await.expect("decision");
                                    assert!(d.admitted, "bench decisions are admitted");
                                }
                            }))
                            .await;
                        }
                        start.elapsed()
                    })
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, redis);
criterion_main!(benches);
