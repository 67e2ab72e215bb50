//! `RedisStore` decisions per second at concurrency 1 and 32, beside the
//! peer a user would otherwise pick: a one-limit GCRA script run the way
//! go-redis/redis_rate runs it (`TIME`, `GET`, float arithmetic on the
//! theoretical arrival time, `SET … EX`), on the same `RedisConnection` in the
//! same run. A bare `PING` is measured too, as the floor of a round trip.
//! Each call gets 8 decisions over 4 functions (all admitted under the
//! default policy), so our script reads and writes as in a real call; the
//! GCRA peer gets the same keys and admits them all (20 per minute).

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

/// One GCRA decision for one key, as a rate limiter built on go-redis's
/// redis_rate decides it: the key holds the theoretical arrival time (TAT)
/// in seconds as a float, since a fixed epoch.
/// ARGV: burst, rate (per period), period in seconds, cost.
const GCRA: &str = r#"
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local interval = period / rate
local increment = interval * cost
local burst_offset = interval * burst
local t = redis.call('TIME')
local now = (t[1] - 1483228800) + t[2] / 1000000
local tat = redis.call('GET', key)
if tat then tat = tonumber(tat) else tat = now end
if tat < now then tat = now end
local new_tat = tat + increment
local diff = now - (new_tat - burst_offset)
if diff < 0 then
  return {0, 0, tostring(-diff), tostring(tat - now)}
end
local reset_after = new_tat - now
if reset_after > 0 then
  redis.call('SET', key, new_tat, 'EX', math.ceil(reset_after))
end
return {cost, math.floor(diff / interval), '-1', tostring(reset_after)}
"#;

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
    let gcra = redis::Script::new(GCRA);
    let gcra_counter = AtomicU64::new(0);
    let gcra_prefix = testkit::unique_prefix();

    let mut group = c.benchmark_group("call_rate_limiter_redis");
    group.measurement_time(Duration::from_secs(3));
    for concurrency in [1_usize, 32] {
        group.throughput(Throughput::Elements(concurrency as u64));
        group.bench_with_input(
            BenchmarkId::new("ping", concurrency),
            &concurrency,
            |b, &n| {
                b.iter_custom(|iters| {
                    rounds(&rt, iters, n, |_| {
                        let mut conn = conn.clone();
                        async move {
                            redis::cmd("PING")
                                .query_async::<String>(&mut conn)
                                .await
                                .expect("PING");
                        }
                    })
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("gcra_one_limit", concurrency),
            &concurrency,
            |b, &n| {
                b.iter_custom(|iters| {
                    rounds(&rt, iters, n, |_| {
                        let i = gcra_counter.fetch_add(1, Ordering::Relaxed);
                        let mut conn = conn.clone();
                        let mut invocation =
                            gcra.key(format!("{gcra_prefix}:gcra:{{call_{:x}}}", i / 8));
                        invocation.arg(20).arg(20).arg(60).arg(1);
                        async move {
                            let reply: (i64, i64, String, String) = invocation
                                .invoke_async(&mut conn)
                                .await
                                .expect("GCRA script");
                            assert_eq!(reply.0, 1, "bench GCRA decisions are admitted");
                        }
                    })
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("decision", concurrency),
            &concurrency,
            |b, &n| {
                b.iter_custom(|iters| {
                    rounds(&rt, iters, n, |_| {
                        let i = counter.fetch_add(1, Ordering::Relaxed);
                        let key = CallKey::new(format!("call_{:x}", i / 8))
                            .with_function(FUNCTIONS[(i % 4) as usize]);
                        let decision = store.decide(&policy, &key);
                        async move {
                            let d = decision.await.expect("decision");
                            assert!(d.admitted, "bench decisions are admitted");
                        }
                    })
                });
            },
        );
    }
    group.finish();
}

/// `iters` rounds of `n` concurrent requests made by `request`; the wall
/// time they took.
fn rounds<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, n: usize, request: F) -> Duration
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            join_all((0..n).map(&request)).await;
        }
        start.elapsed()
    })
}

criterion_group!(benches, redis);
criterion_main!(benches);
