//! The memory store of `SlotCache`: TTLs on the fake clock, single-flight
//! under many concurrent tasks, invalidation, tenant isolation, bounds, and
//! the conformance suite (feature `conformance`).

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use chrono_tz::Europe::Berlin;
use common::*;
use voxcal_appointment_finder::{FakeClock, MemoryCacheStore, SlotCache};

#[tokio::test]
async fn hit_until_ttl_then_refetch() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    let cache = SlotCache::memory(probe.clone(), clock.clone());
    let day = date(2026, 10, 13);
    let first = cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(first.len(), 16);
    assert_eq!(probe.calls(), 1);
    clock.advance(StdDuration::from_secs(59));
    cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 1, "still fresh at 59 s");
    clock.advance(StdDuration::from_secs(1));
    cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 2, "expired at 60 s");
}

#[tokio::test]
async fn empty_days_expire_sooner() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    let cache = SlotCache::memory(probe.clone(), clock.clone());
    // Saturday: closed, no slots.
    let saturday = date(2026, 10, 17);
    assert!(cache
        .day_slots(t.id(), &consult(), saturday, Berlin)
        .await
        .unwrap()
        .is_empty());
    clock.advance(StdDuration::from_secs(14));
    cache
        .day_slots(t.id(), &consult(), saturday, Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 1);
    clock.advance(StdDuration::from_secs(1));
    cache
        .day_slots(t.id(), &consult(), saturday, Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 2);
}

#[tokio::test]
async fn invalidate_after_booking() {
    let (calendar, t, clock) = practice();
    let cache = SlotCache::memory(calendar.clone(), clock.clone());
    let day = date(2026, 10, 13);
    let before = cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    calendar.book(t.id(), &consult(), before[3].start).unwrap();
    assert_eq!(
        cache
            .day_slots(t.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        16
    );
    cache.invalidate(t.id(), &consult(), day).await;
    let after = cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(after.len(), 15);
    assert!(!after.contains(&before[3]));
}

#[tokio::test]
async fn source_errors_are_not_cached() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    let cache = SlotCache::memory(probe.clone(), clock.clone());
    probe.fail(true);
    assert!(cache
        .day_slots(t.id(), &consult(), date(2026, 10, 13), Berlin)
        .await
        .is_err());
    probe.fail(false);
    assert!(cache
        .day_slots(t.id(), &consult(), date(2026, 10, 13), Berlin)
        .await
        .is_ok());
    assert_eq!(probe.calls(), 2);
    let stats = cache.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.source_errors),
        (0, 2, 1),
        "both lookups asked the source; the first failed"
    );
}

#[tokio::test]
async fn a_known_failure_answers_a_miss_without_asking_the_source() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    let cache = SlotCache::memory(probe.clone(), clock.clone());
    let cached = date(2026, 10, 13);
    cache
        .day_slots(t.id(), &consult(), cached, Berlin)
        .await
        .unwrap();
    probe.refuse(true);
    let err = cache
        .day_slots(t.id(), &consult(), date(2026, 10, 14), Berlin)
        .await
        .unwrap_err();
    assert_eq!(err.detail(), "breaker open");
    // Cached days are still served while the source refuses.
    assert_eq!(
        cache
            .day_slots(t.id(), &consult(), cached, Berlin)
            .await
            .unwrap()
            .len(),
        16
    );
    assert_eq!(probe.calls(), 1, "only the first fetch reached the source");
    let stats = cache.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.source_errors),
        (1, 1, 1),
        "the refused lookup is a source error, not a miss"
    );
    probe.refuse(false);
    cache
        .day_slots(t.id(), &consult(), date(2026, 10, 14), Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lookups_queued_behind_a_fetch_fail_at_once_when_the_source_starts_refusing() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    probe.close_gate();
    probe.fail(true);
    let cache = Arc::new(SlotCache::memory(probe.clone(), clock.clone()));
    let day = date(2026, 10, 13);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let cache = Arc::clone(&cache);
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            cache.day_slots(t.id(), &consult(), day, Berlin).await
        }));
    }
    while probe.calls() == 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
    // The fetch in flight fails and trips the (simulated) breaker.
    probe.refuse(true);
    probe.open_gate();
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    assert_eq!(
        probe.calls(),
        1,
        "the 15 lookups queued behind the failed fetch did not call the source"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_misses_make_one_source_call() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    probe.close_gate();
    let cache = Arc::new(SlotCache::memory(probe.clone(), clock.clone()));
    let day = date(2026, 10, 13);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let cache = Arc::clone(&cache);
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .day_slots(t.id(), &consult(), day, Berlin)
                .await
                .unwrap()
        }));
    }
    // One task is inside the source; let the others pile up behind it.
    while probe.calls() == 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
    probe.open_gate();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(probe.calls(), 1, "single-flight");
    assert!(results.iter().all(|r| r.len() == 16 && **r == *results[0]));
    let stats = cache.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.source_errors),
        (63, 1, 0),
        "the callers that waited for the flight count as hits"
    );
    // Different keys do not wait for each other's flight.
    cache
        .day_slots(t.id(), &consult(), date(2026, 10, 14), Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 2);
}

#[tokio::test]
async fn tenant_a_never_gets_tenant_b_slots() {
    let clock = FakeClock::at(berlin(2026, 10, 12, 7, 0));
    let calendar = voxcal_appointment_finder::InMemoryCalendar::new(clock.clone());
    let a = tenant("a", practice_hours());
    let b = tenant("b", practice_hours());
    for t in [&a, &b] {
        calendar.add_tenant(t);
        calendar
            .add_event_type(
                t.id(),
                consult(),
                voxcal_appointment_finder::EventType::new(Duration::minutes(30)),
            )
            .unwrap();
    }
    block(&calendar, &b, date(2026, 10, 13), (9, 0), (17, 0));
    let cache = SlotCache::memory(calendar, clock);
    let day = date(2026, 10, 13);
    let for_a = cache
        .day_slots(a.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    let for_b = cache
        .day_slots(b.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(for_a.len(), 16);
    assert_eq!(for_b.len(), 2);
    // Cached answers stay apart, in either order.
    assert_eq!(
        cache
            .day_slots(b.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        cache
            .day_slots(a.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        16
    );
    // Invalidating B leaves A cached.
    cache.invalidate(b.id(), &consult(), day).await;
    assert_eq!(
        cache
            .day_slots(a.id(), &consult(), day, Berlin)
            .await
            .unwrap()
            .len(),
        16
    );
}

#[tokio::test]
async fn memory_stays_bounded() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar);
    let store = MemoryCacheStore::new(clock.clone()).with_max_entries(4);
    let cache = SlotCache::new(probe.clone(), store.clone()).with_clock(clock.clone());
    for offset in 0..10 {
        clock.advance(StdDuration::from_secs(1));
        let day = date(2026, 10, 12) + Duration::days(offset);
        cache
            .day_slots(t.id(), &consult(), day, Berlin)
            .await
            .unwrap();
    }
    assert_eq!(probe.calls(), 10);
    assert_eq!(store.len(), 4);
    // The latest days are still cached, the earliest were evicted.
    cache
        .day_slots(t.id(), &consult(), date(2026, 10, 21), Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 10);
    cache
        .day_slots(t.id(), &consult(), date(2026, 10, 12), Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 11);
}

#[tokio::test]
async fn disabled_cache_always_asks() {
    let (calendar, t, _clock) = practice();
    let probe = Probe::new(calendar);
    let cache = SlotCache::disabled(probe.clone());
    for _ in 0..3 {
        cache
            .day_slots(t.id(), &consult(), date(2026, 10, 13), Berlin)
            .await
            .unwrap();
    }
    assert_eq!(probe.calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_during_a_fetch_is_not_undone() {
    let (calendar, t, clock) = practice();
    let probe = Probe::new(calendar.clone());
    let cache = Arc::new(SlotCache::memory(probe.clone(), clock.clone()));
    let day = date(2026, 10, 13);
    probe.close_gate();
    let inflight = {
        let cache = Arc::clone(&cache);
        let t = t.clone();
        tokio::spawn(async move {
            cache
                .day_slots(t.id(), &consult(), day, Berlin)
                .await
                .unwrap()
        })
    };
    while probe.calls() == 0 {
        tokio::task::yield_now().await;
    }
    // The fetch is under way; a booking lands and invalidates the day.
    calendar
        .book(t.id(), &consult(), berlin(2026, 10, 13, 9, 0))
        .unwrap();
    cache.invalidate(t.id(), &consult(), day).await;
    probe.open_gate();
    inflight.await.unwrap();
    // Whatever that fetch saw, it was not stored: the next lookup asks again.
    let after = cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 2);
    assert_eq!(after.len(), 15);
    // And that answer is cached as usual.
    cache
        .day_slots(t.id(), &consult(), day, Berlin)
        .await
        .unwrap();
    assert_eq!(probe.calls(), 2);
}

#[cfg(feature = "conformance")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_conformance_suite() {
    let clock = FakeClock::new();
    let store = MemoryCacheStore::new(clock.clone());
    voxcal_appointment_finder::conformance::run(
        || {
            let store = store.clone();
            async move { store }
        },
        &clock,
    )
    .await;
}

#[cfg(feature = "conformance")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn boxed_memory_store_passes_the_conformance_suite() {
    let clock = FakeClock::new();
    let store = voxcal_appointment_finder::BoxCacheStore::new(MemoryCacheStore::new(clock.clone()));
    voxcal_appointment_finder::conformance::run(
        || {
            let store = store.clone();
            async move { store }
        },
        &clock,
    )
    .await;
}
