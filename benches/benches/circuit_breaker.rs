//! Overhead per call of a closed circuit breaker: the future called
//! directly, our breaker on the memory store (also behind a `BoxStore`) and
//! on the Redis store (whose closed success path never touches Redis), and
//! `failsafe` doing the same.
//! Every future is ready at once, so the figures are pure breaker overhead.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::FutureExt;
use voxcal_circuit_breaker::{
    BoxStore, BreakerConfig, CircuitBreaker, MemoryStore, RedisConnection, RedisStore,
};

async fn upstream(x: u64) -> Result<u64, ()> {
    Ok(black_box(x))
}

fn closed_call(c: &mut Criterion) {
    let rt = benches::runtime(1);
    let server = benches::BenchRedis::start();
    let url = server.url().to_owned();

    let memory = CircuitBreaker::builder("bench").build_with(&MemoryStore::new());
    // The store chosen at run time: the closed path never calls the store.
    let boxed = CircuitBreaker::builder("bench").build_with(&BoxStore::new(MemoryStore::new()));
    let redis = rt.block_on(async {
        let conn = RedisConnection::connect(&url)
            .await
            .expect("redis connection");
        let store = RedisStore::new(conn).with_prefix(testkit::unique_prefix());
        let breaker = CircuitBreaker::builder("bench")
            .config(BreakerConfig::default())
            .build_with(&store);
        assert!(breaker.synced().await, "Redis answers");
        breaker
    });
    let failsafe = failsafe::Config::new().build();

    let mut group = c.benchmark_group("circuit_breaker_closed_call");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("direct", |b| {
        b.iter(|| upstream(black_box(1)).now_or_never())
    });
    group.bench_function("memory", |b| {
        b.iter(|| memory.call(upstream(black_box(1))).now_or_never())
    });
    group.bench_function("memory_boxstore", |b| {
        b.iter(|| boxed.call(upstream(black_box(1))).now_or_never())
    });
    group.bench_function("redis_local", |b| {
        b.iter(|| redis.call(upstream(black_box(1))).now_or_never())
    });
    group.bench_function("failsafe", |b| {
        use failsafe::futures::CircuitBreaker as _;
        b.iter(|| failsafe.call(upstream(black_box(1))).now_or_never())
    });
    group.bench_function("memory_permit", |b| {
        b.iter(|| {
            let permit = memory.try_acquire().now_or_never();
            if let Some(Ok(permit)) = permit {
                permit.success();
            }
        })
    });
    group.finish();
    drop(rt);
}

criterion_group!(benches, closed_call);
criterion_main!(benches);
