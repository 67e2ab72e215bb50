//! The public API with the memory store and a fake clock.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use voxcal_circuit_breaker::{
    BreakerConfig, BreakerError, BreakerRegistry, CircuitBreaker, ConfigError, Event, FakeClock,
    Lang, MemoryStore, Outcome, State, UserMessage,
};

fn breaker_with(config: BreakerConfig) -> (CircuitBreaker, FakeClock) {
    let clock = FakeClock::new();
    let breaker = CircuitBreaker::builder("calcom")
        .config(config)
        .clock(clock.clone())
        .build();
    (breaker, clock)
}

async fn fail(breaker: &CircuitBreaker) -> Result<(), BreakerError<&'static str>> {
    breaker.call(async { Err("502") }).await
}

async fn succeed(breaker: &CircuitBreaker) -> Result<(), BreakerError<&'static str>> {
    breaker.call(async { Ok(()) }).await
}

#[tokio::test]
async fn defaults_open_after_five_failures_for_sixty_seconds() {
    let (breaker, clock) = breaker_with(BreakerConfig::default());
    for _ in 0..4 {
        assert!(matches!(
            fail(&breaker).await,
            Err(BreakerError::Inner("502"))
        ));
    }
    assert_eq!(breaker.state(), State::Closed);
    fail(&breaker).await.unwrap_err();
    assert_eq!(breaker.state(), State::Open);

    let ran = AtomicU32::new(0);
    let r: Result<(), BreakerError<&str>> = breaker
        .call(async {
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await;
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "a rejected call does not run"
    );
    assert_eq!(r.unwrap_err().retry_after(), Some(Duration::from_secs(60)));

    clock.advance(Duration::from_secs(45));
    let r = succeed(&breaker).await.unwrap_err();
    assert_eq!(r.retry_after(), Some(Duration::from_secs(15)));
    assert_eq!(breaker.metrics().rejected_calls, 2);

    clock.advance(Duration::from_secs(15));
    succeed(&breaker).await.unwrap();
    assert_eq!(breaker.state(), State::HalfOpen);
    succeed(&breaker).await.unwrap();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test]
async fn half_open_admits_two_probes_and_reopens_on_a_failed_probe() {
    let (breaker, clock) = breaker_with(BreakerConfig::default());
    for _ in 0..5 {
        fail(&breaker).await.unwrap_err();
    }
    clock.advance(Duration::from_secs(60));
    let a = breaker.try_acquire().await.unwrap();
    let b = breaker.try_acquire().await.unwrap();
    assert!(a.is_probe() && b.is_probe());
    let third = breaker.try_acquire().await.unwrap_err();
    assert_eq!(third.state(), State::HalfOpen);
    a.success();
    b.failure();
    assert_eq!(breaker.state(), State::Open);
}

#[tokio::test]
async fn a_dropped_probe_is_released_not_counted() {
    let (breaker, clock) = breaker_with(BreakerConfig::default());
    for _ in 0..5 {
        fail(&breaker).await.unwrap_err();
    }
    clock.advance(Duration::from_secs(60));
    // A caller gives up: its future (and the permit in it) is dropped.
    {
        let slow = breaker.call(std::future::pending::<Result<(), ()>>());
        let mut slow = Box::pin(slow);
        assert!(futures_util::FutureExt::now_or_never(slow.as_mut()).is_none());
    }
    {
        let permit = breaker.try_acquire().await.unwrap();
        drop(permit);
    }
    // Both probe slots are free again, and nothing was counted.
    let a = breaker.try_acquire().await.unwrap();
    let b = breaker.try_acquire().await.unwrap();
    assert_eq!(breaker.state(), State::HalfOpen);
    a.success();
    b.success();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test]
async fn late_results_of_an_older_generation_are_ignored() {
    let (breaker, clock) = breaker_with(BreakerConfig::default());
    let early = breaker.try_acquire().await.unwrap();
    for _ in 0..5 {
        fail(&breaker).await.unwrap_err();
    }
    clock.advance(Duration::from_secs(60));
    let probe = breaker.try_acquire().await.unwrap();
    let generation = breaker.metrics().generation;
    // A failure from before the trip must not reopen the half-open breaker.
    early.failure();
    assert_eq!(breaker.state(), State::HalfOpen);
    assert_eq!(breaker.metrics().generation, generation);
    probe.success();
}

#[tokio::test]
async fn classifier_decides_what_is_a_failure() {
    let (breaker, _clock) = breaker_with(
        BreakerConfig::builder()
            .consecutive_failures(2)
            .build()
            .unwrap(),
    );
    let not_found_is_fine = |r: &Result<u16, u16>| match r {
        Ok(_) | Err(404) => Outcome::Success,
        Err(_) => Outcome::Failure,
    };
    for _ in 0..5 {
        let r = breaker
            .call_with(not_found_is_fine, async { Err(404) })
            .await;
        assert!(matches!(r, Err(BreakerError::Inner(404))));
    }
    assert_eq!(breaker.state(), State::Closed);
    let ignore = |_: &Result<u16, u16>| Outcome::Ignore;
    for _ in 0..5 {
        breaker
            .call_with(ignore, async { Err(500) })
            .await
            .unwrap_err();
    }
    assert_eq!(breaker.state(), State::Closed);
    for _ in 0..2 {
        breaker
            .call_with(not_found_is_fine, async { Err(503) })
            .await
            .unwrap_err();
    }
    assert_eq!(breaker.state(), State::Open);
}

#[tokio::test]
async fn failure_rate_and_slow_calls_open_the_breaker() {
    let (breaker, _clock) = breaker_with(
        BreakerConfig::builder()
            .consecutive_failures(0)
            .failure_rate(0.5)
            .minimum_calls(4)
            .build()
            .unwrap(),
    );
    for ok in [true, false, true] {
        if ok {
            succeed(&breaker).await.unwrap();
        } else {
            fail(&breaker).await.unwrap_err();
        }
    }
    let m = breaker.metrics();
    assert_eq!((m.calls, m.failed_calls), (3, 1));
    fail(&breaker).await.unwrap_err();
    assert_eq!(breaker.state(), State::Open);

    let (breaker, clock) = breaker_with(
        BreakerConfig::builder()
            .consecutive_failures(0)
            .slow_calls(Duration::from_secs(2), 0.5)
            .minimum_calls(2)
            .build()
            .unwrap(),
    );
    let permit = breaker.try_acquire().await.unwrap();
    clock.advance(Duration::from_secs(3));
    permit.success();
    assert_eq!(breaker.metrics().slow_call_rate, Some(1.0));
    assert_eq!(breaker.state(), State::Closed, "minimum calls not reached");
    succeed(&breaker).await.unwrap();
    assert_eq!(breaker.state(), State::Open);
}

#[tokio::test]
async fn open_duration_backs_off() {
    let (breaker, clock) = breaker_with(
        BreakerConfig::builder()
            .consecutive_failures(1)
            .open_duration(Duration::from_secs(10))
            .open_backoff(2.0, Duration::from_secs(30))
            .build()
            .unwrap(),
    );
    fail(&breaker).await.unwrap_err();
    let mut waits = Vec::new();
    for _ in 0..3 {
        let wait = breaker.metrics().time_until_half_open.unwrap();
        waits.push(wait.as_secs());
        clock.advance(wait);
        fail(&breaker).await.unwrap_err(); // the probe fails
    }
    assert_eq!(waits, vec![10, 20, 30]);
    assert_eq!(breaker.metrics().reopenings, 3);
}

#[tokio::test]
async fn operators_force_open_and_disable() {
    let (breaker, _clock) = breaker_with(BreakerConfig::default());
    breaker.force_open();
    assert!(succeed(&breaker).await.unwrap_err().is_open());
    breaker.disable();
    for _ in 0..20 {
        fail(&breaker).await.unwrap_err();
    }
    assert_eq!(breaker.state(), State::Disabled);
    breaker.reset();
    assert_eq!(breaker.state(), State::Closed);
    succeed(&breaker).await.unwrap();
}

#[tokio::test]
async fn subscribers_see_transitions_and_rejections() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let clock = FakeClock::new();
    let breaker = CircuitBreaker::builder("calcom")
        .config(
            BreakerConfig::builder()
                .consecutive_failures(1)
                .build()
                .unwrap(),
        )
        .clock(clock.clone())
        .on_event(move |e| seen.lock().unwrap().push(e.clone()))
        .build();
    fail(&breaker).await.unwrap_err();
    succeed(&breaker).await.unwrap_err();
    clock.advance(Duration::from_secs(60));
    succeed(&breaker).await.unwrap();
    succeed(&breaker).await.unwrap();
    let events = events.lock().unwrap();
    let name: Arc<str> = Arc::from("calcom");
    assert_eq!(
        *events,
        vec![
            Event::StateTransition {
                breaker: name.clone(),
                from: State::Closed,
                to: State::Open
            },
            Event::Rejected {
                breaker: name.clone(),
                state: State::Open,
                retry_after: Duration::from_secs(60)
            },
            Event::StateTransition {
                breaker: name.clone(),
                from: State::Open,
                to: State::HalfOpen
            },
            Event::StateTransition {
                breaker: name,
                from: State::HalfOpen,
                to: State::Closed
            },
        ]
    );
}

#[tokio::test]
async fn registry_shares_one_store_by_name() {
    let store = MemoryStore::new();
    let registry = BreakerRegistry::new(store.clone()).with_config(
        "calcom",
        BreakerConfig::builder()
            .consecutive_failures(1)
            .build()
            .unwrap(),
    );
    fail(&registry.get("calcom")).await.unwrap_err();
    assert_eq!(registry.get("calcom").state(), State::Open);
    assert_eq!(registry.get("calcom:tenant-2").state(), State::Closed);
    // A breaker built elsewhere from the same store shares the state.
    let same = CircuitBreaker::builder("calcom").build_with(&store);
    assert_eq!(same.state(), State::Open);
    let names: Vec<String> = registry
        .metrics()
        .iter()
        .map(|m| m.name.to_string())
        .collect();
    assert_eq!(names, vec!["calcom", "calcom:tenant-2"]);
    assert_eq!(store.len(), 2);
    assert!(registry.remove("calcom:tenant-2").is_some());
    assert_eq!(store.len(), 1, "a removed breaker is freed");
    drop(same);
    drop(registry);
    assert!(
        store.is_empty(),
        "the store does not keep dropped breakers alive"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_probes_are_limited() {
    let (breaker, clock) = breaker_with(BreakerConfig::default());
    for _ in 0..5 {
        fail(&breaker).await.unwrap_err();
    }
    clock.advance(Duration::from_secs(60));
    let admitted = Arc::new(AtomicU32::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let breaker = breaker.clone();
        let admitted = Arc::clone(&admitted);
        let release = Arc::clone(&release);
        tasks.push(tokio::spawn(async move {
            breaker
                .call(async {
                    admitted.fetch_add(1, Ordering::SeqCst);
                    release.notified().await;
                    Ok::<_, ()>(())
                })
                .await
        }));
    }
    // Wait until every task has decided.
    while breaker.metrics().rejected_calls < 48 {
        tokio::task::yield_now().await;
    }
    assert_eq!(admitted.load(Ordering::SeqCst), 2);
    release.notify_waiters();
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 2);
    assert_eq!(breaker.state(), State::Closed);
}

#[test]
fn errors_speak_german_and_english() {
    let open: BreakerError<std::io::Error> = BreakerError::Open {
        retry_after: Duration::from_millis(59_001),
    };
    assert_eq!(
        open.user_message(Lang::De),
        "Der Kalender ist gerade nicht erreichbar. Bitte versuchen Sie es in etwa 60 Sekunden noch einmal."
    );
    assert!(open.user_message(Lang::En).contains("60 seconds"));
    let inner: BreakerError<&str> = BreakerError::Inner("secret detail");
    assert!(!inner.user_message(Lang::De).contains("secret"));
    assert_eq!(open.to_string(), "circuit breaker is open; retry in 60s");

    // A rejection from `try_acquire` says the same as `BreakerError::Open`.
    let (breaker, _clock) = breaker_with(BreakerConfig::default());
    breaker.force_open();
    let rejected = futures_util::FutureExt::now_or_never(breaker.try_acquire())
        .expect("decided at once")
        .unwrap_err();
    assert_eq!(
        rejected.user_message(Lang::De),
        BreakerError::<()>::from(rejected).user_message(Lang::De)
    );
    assert!(rejected.user_message(Lang::En).contains("60 seconds"));

    // A bad setting is the operator's business: the caller hears no detail.
    let config = BreakerConfig::builder()
        .failure_rate(1.5)
        .build()
        .unwrap_err();
    assert!(matches!(config, ConfigError::Rate { .. }));
    for lang in [Lang::De, Lang::En] {
        let said = config.user_message(lang);
        assert!(!said.is_empty() && !said.contains("1.5") && !said.contains("rate"));
    }
    assert!(config.user_message(Lang::De).starts_with("Der Dienst"));
}

#[test]
fn bad_configs_are_refused() {
    assert!(BreakerConfig::builder().failure_rate(1.5).build().is_err());
    assert!(BreakerConfig::builder()
        .half_open_permits(0)
        .build()
        .is_err());
    assert!(BreakerConfig::builder()
        .open_duration(Duration::ZERO)
        .build()
        .is_err());
    assert!(BreakerConfig::builder()
        .consecutive_failures(0)
        .build()
        .is_err());
    assert!(BreakerConfig::builder()
        .open_backoff(0.5, Duration::from_secs(1))
        .build()
        .is_err());
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<CircuitBreaker>();
    assert_send_sync::<BreakerRegistry>();
    assert_send_sync::<voxcal_circuit_breaker::Permit>();
    assert_send::<voxcal_circuit_breaker::AcquireFuture>();
}
