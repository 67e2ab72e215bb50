//! `AlternativeFinder::find` over a 14-day horizon with a warm memory cache
//! (target: <= 50 us per request), beside the same finds with the cache
//! bypassed (every day recomputed by the `InMemoryCalendar` source).
//!
//! Scenarios, Berlin practice open Mon–Fri 09–12 and 13–18, 30-minute slots:
//! - `taken`: the wish is booked; alternatives come from three days.
//! - `horizon`: the wished day and the following 12 days are booked solid,
//!   so the finder walks the whole 14-day horizon for the first free slot.

use std::hint::black_box;

use chrono::{Duration, NaiveDate, TimeZone, Utc, Weekday};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use voxcal_appointment_finder::{
    AlternativeFinder, Bundesland, BusinessHours, EventType, EventTypeId, FakeClock, FindRequest,
    InMemoryCalendar, OpeningInterval, Outcome, SlotCache, Tenant, TenantId, TimeRange,
};

fn berlin(date: NaiveDate, h: u32, m: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Europe::Berlin
        .from_local_datetime(&date.and_hms_opt(h, m, 0).expect("time"))
        .earliest()
        .expect("berlin time")
        .with_timezone(&Utc)
}

struct Scenario {
    name: &'static str,
    tenant: Tenant,
    calendar: InMemoryCalendar,
    clock: FakeClock,
    request: FindRequest,
}

fn scenario(name: &'static str, booked_days: i64) -> Scenario {
    let monday = NaiveDate::from_ymd_opt(2026, 10, 12).expect("date");
    let clock = FakeClock::at(berlin(monday, 7, 0));
    let hours = BusinessHours::closed(chrono_tz::Europe::Berlin).with_weekdays(
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        [
            OpeningInterval::new((9, 0), (12, 0)).expect("interval"),
            OpeningInterval::new((13, 0), (18, 0)).expect("interval"),
        ],
    );
    let hours = hours.with_public_holidays(Bundesland::Berlin);
    let tenant = Tenant::new(TenantId::new("bench").expect("id"), hours);
    let event = EventTypeId::from(30_u64);
    let calendar = InMemoryCalendar::new(clock.clone());
    calendar.add_tenant(&tenant);
    calendar
        .add_event_type(
            tenant.id(),
            event.clone(),
            EventType::new(Duration::minutes(30)),
        )
        .expect("event type");
    let tuesday = monday + Duration::days(1);
    // Scattered bookings every day of the horizon.
    for day in 0..16 {
        let date = tuesday + Duration::days(day);
        for (h, m) in [(9, 30), (11, 0), (14, 0), (16, 30)] {
            let start = berlin(date, h, m);
            let _ = calendar.block(
                tenant.id(),
                TimeRange::new(start, start + Duration::minutes(30)),
            );
        }
    }
    if booked_days > 0 {
        let from = berlin(tuesday, 0, 0);
        let to = berlin(tuesday + Duration::days(booked_days), 0, 0);
        calendar
            .block(tenant.id(), TimeRange::new(from, to))
            .expect("block");
    }
    let request = FindRequest::new(
        event,
        tuesday.and_hms_opt(14, 0, 0).expect("time"),
        Duration::minutes(30),
    )
    .with_max_alternatives(3);
    Scenario {
        name,
        tenant,
        calendar,
        clock,
        request,
    }
}

fn find(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("appointment_finder_find");
    for s in [scenario("taken", 0), scenario("horizon", 13)] {
        let warm = AlternativeFinder::new(
            SlotCache::memory(s.calendar.clone(), s.clock.clone()),
            s.clock.clone(),
        );
        let cold = AlternativeFinder::new(SlotCache::disabled(s.calendar.clone()), s.clock.clone());
        // Both answer the same, with alternatives.
        let a = rt.block_on(warm.find(&s.tenant, &s.request));
        let b = rt.block_on(cold.find(&s.tenant, &s.request));
        assert_eq!(a, b);
        assert!(matches!(a, Outcome::Alternatives { .. }), "{a:?}");

        group.bench_function(BenchmarkId::new("warm_cache", s.name), |bench| {
            bench.iter(|| rt.block_on(warm.find(black_box(&s.tenant), black_box(&s.request))));
        });
        group.bench_function(BenchmarkId::new("baseline_no_cache", s.name), |bench| {
            bench.iter(|| rt.block_on(cold.find(black_box(&s.tenant), black_box(&s.request))));
        });
    }
    group.finish();
}

criterion_group!(benches, find);
criterion_main!(benches);
