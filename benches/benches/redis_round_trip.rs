//! The floor every Redis backend is measured against: a bare `PING` over one
//! multiplexed connection, at concurrency 1 and 32. Backends report their
//! decisions per second beside this figure.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::future::join_all;

fn ping(c: &mut Criterion) {
    let rt = benches::runtime(2);
    let server = benches::BenchRedis::start();
    let url = server.url().to_owned();
    let client = redis::Client::open(url).expect("redis url");
    let conn = rt
        .block_on(client.get_connection_manager())
        .expect("redis connection");

    let mut group = c.benchmark_group("redis_ping");
    group.measurement_time(Duration::from_secs(3));
    for concurrency in [1_usize, 32] {
        group.throughput(Throughput::Elements(concurrency as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(concurrency),
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
    }
    group.finish();
}

criterion_group!(benches, ping);
criterion_main!(benches);
