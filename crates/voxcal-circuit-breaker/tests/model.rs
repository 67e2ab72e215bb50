//! The breaker against a simple reference model, over random sequences of
//! time advances, successes, failures, slow successes, ignored outcomes and
//! held or dropped permits (including results that arrive after the state
//! moved on).

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::FutureExt;
use proptest::prelude::*;
use voxcal_circuit_breaker::{
    BreakerConfig, CircuitBreaker, FakeClock, Outcome, Permit, State, Window,
};

const SLOW: Duration = Duration::from_millis(1500);
const SLOW_LIMIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
struct Params {
    consecutive: u32,
    rate: Option<(f64, u32, u32)>,
    slow_rate: Option<f64>,
    open_secs: u64,
    backoff: Option<(f64, u64)>,
    permits: u32,
    successes: u32,
}

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Call(Outcome),
    SlowSuccess,
    Hold,
    Finish(usize, Outcome),
    Drop(usize),
    Operator(State),
}

/// The model: written from the wording, not from the implementation.
#[derive(Debug)]
struct Model {
    p: Params,
    now: Duration,
    state: MState,
    generation: u64,
    consecutive: u32,
    window: VecDeque<(bool, bool)>,
    reopenings: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum MState {
    Closed,
    Open { until: Duration },
    HalfOpen { in_flight: u32, successes: u32 },
    ForcedOpen,
    Disabled,
}

impl Model {
    fn new(p: Params) -> Self {
        Model {
            p,
            now: Duration::ZERO,
            state: MState::Closed,
            generation: 0,
            consecutive: 0,
            window: VecDeque::new(),
            reopenings: 0,
        }
    }

    fn state(&self) -> State {
        match self.state {
            MState::Closed => State::Closed,
            MState::Open { .. } => State::Open,
            MState::HalfOpen { .. } => State::HalfOpen,
            MState::ForcedOpen => State::ForcedOpen,
            MState::Disabled => State::Disabled,
        }
    }

    fn go(&mut self, state: MState) {
        self.state = state;
        self.generation += 1;
        self.consecutive = 0;
        self.window.clear();
    }

    fn open(&mut self) {
        let base = self.p.open_secs as f64;
        let secs = match self.p.backoff {
            Some((mult, max)) => (base * mult.powi(self.reopenings as i32))
                .min(max as f64)
                .max(base),
            None => base,
        };
        let until = self.now + Duration::from_secs_f64(secs);
        self.go(MState::Open { until });
    }

    /// `Ok(generation, is_probe)` or `Err(retry_after)`.
    fn acquire(&mut self) -> Result<(u64, bool), Duration> {
        if let MState::Open { until } = self.state {
            if self.now < until {
                return Err(until - self.now);
            }
            self.go(MState::HalfOpen {
                in_flight: 0,
                successes: 0,
            });
        }
        match &mut self.state {
            MState::Closed | MState::Disabled => Ok((self.generation, false)),
            MState::ForcedOpen => Err(Duration::from_secs(self.p.open_secs)),
            MState::HalfOpen { in_flight, .. } if *in_flight < self.p.permits => {
                *in_flight += 1;
                Ok((self.generation, true))
            }
            _ => Err(Duration::from_secs(1)),
        }
    }

    fn finish(&mut self, generation: u64, probe: bool, outcome: Outcome, slow: bool) {
        if generation != self.generation {
            return;
        }
        match self.state {
            MState::Closed if !probe => {
                let failed = match outcome {
                    Outcome::Ignore => return,
                    Outcome::Success => {
                        self.consecutive = 0;
                        false
                    }
                    Outcome::Failure => {
                        self.consecutive += 1;
                        true
                    }
                    // `Outcome` is non-exhaustive; the strategy below makes only these three.
                    other => unreachable!("the model does not generate {other:?}"),
                };
                let mut trip = self.p.consecutive > 0 && self.consecutive >= self.p.consecutive;
                if self.p.rate.is_some() || self.p.slow_rate.is_some() {
                    let size = self.p.rate.map_or(20, |(_, size, _)| size) as usize;
                    let minimum = self.p.rate.map_or(5, |(_, _, min)| min) as usize;
                    self.window.push_back((failed, slow));
                    if self.window.len() > size {
                        self.window.pop_front();
                    }
                    let calls = self.window.len();
                    if calls >= minimum.max(1) {
                        let fails = self.window.iter().filter(|w| w.0).count();
                        let slows = self.window.iter().filter(|w| w.1).count();
                        if let Some((t, _, _)) = self.p.rate {
                            trip |= fails as f64 / calls as f64 >= t;
                        }
                        if let Some(t) = self.p.slow_rate {
                            trip |= slows as f64 / calls as f64 >= t;
                        }
                    }
                }
                if trip {
                    self.open();
                }
            }
            MState::HalfOpen {
                in_flight,
                successes,
            } if probe => {
                let failed = outcome == Outcome::Failure
                    || (outcome == Outcome::Success && slow && self.p.slow_rate.is_some());
                if outcome == Outcome::Ignore {
                    self.state = MState::HalfOpen {
                        in_flight: in_flight - 1,
                        successes,
                    };
                } else if failed {
                    self.reopenings += 1;
                    self.open();
                } else if successes + 1 >= self.p.successes {
                    self.reopenings = 0;
                    self.go(MState::Closed);
                } else {
                    self.state = MState::HalfOpen {
                        in_flight: in_flight - 1,
                        successes: successes + 1,
                    };
                }
            }
            _ => {}
        }
    }
}

impl Model {
    fn operator(&mut self, state: State) {
        match state {
            State::ForcedOpen => self.go(MState::ForcedOpen),
            State::Disabled => self.go(MState::Disabled),
            _ => {
                self.reopenings = 0;
                self.go(MState::Closed);
            }
        }
    }
}

fn params() -> impl Strategy<Value = Params> {
    (
        0u32..6,
        prop::option::of((0.2f64..1.0, 1u32..12, 1u32..8)),
        prop::option::of(0.3f64..1.0),
        1u64..120,
        prop::option::of((1.5f64..3.0, 1u64..600)),
        1u32..4,
        1u32..4,
    )
        .prop_map(
            |(consecutive, rate, slow_rate, open_secs, backoff, permits, successes)| {
                let mut p = Params {
                    consecutive,
                    rate,
                    slow_rate,
                    open_secs,
                    backoff,
                    permits,
                    successes,
                };
                if p.consecutive == 0 && p.rate.is_none() && p.slow_rate.is_none() {
                    p.consecutive = 1;
                }
                p
            },
        )
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => Just(Outcome::Success),
        4 => Just(Outcome::Failure),
        1 => Just(Outcome::Ignore),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..200_000).prop_map(Op::Advance),
        6 => outcome().prop_map(Op::Call),
        1 => Just(Op::SlowSuccess),
        2 => Just(Op::Hold),
        2 => (0usize..8, outcome()).prop_map(|(i, o)| Op::Finish(i, o)),
        1 => (0usize..8).prop_map(Op::Drop),
        1 => prop_oneof![
            Just(State::ForcedOpen),
            Just(State::Disabled),
            Just(State::Closed)
        ]
        .prop_map(Op::Operator),
    ]
}

fn config(p: &Params) -> BreakerConfig {
    let mut b = BreakerConfig::builder()
        .consecutive_failures(p.consecutive)
        .open_duration(Duration::from_secs(p.open_secs))
        .half_open_permits(p.permits)
        .half_open_successes(p.successes);
    match p.rate {
        Some((t, size, min)) => {
            b = b
                .failure_rate(t)
                .window(Window::Count(size))
                .minimum_calls(min)
        }
        None => b = b.window(Window::Count(20)).minimum_calls(5),
    }
    if let Some(t) = p.slow_rate {
        b = b.slow_calls(SLOW_LIMIT, t);
    }
    if let Some((mult, max)) = p.backoff {
        b = b.open_backoff(mult, Duration::from_secs(max));
    }
    b.build().expect("valid config")
}

fn acquire(breaker: &CircuitBreaker) -> Result<Permit, Duration> {
    breaker
        .try_acquire()
        .now_or_never()
        .expect("memory decisions are immediate")
        .map_err(|r| r.retry_after())
}

fn check_acquire(
    model: &mut Model,
    breaker: &CircuitBreaker,
) -> Result<Option<(Permit, u64, bool)>, TestCaseError> {
    let expected = model.acquire();
    let got = acquire(breaker);
    match (expected, got) {
        (Ok((generation, probe)), Ok(permit)) => {
            prop_assert_eq!(permit.is_probe(), probe);
            Ok(Some((permit, generation, probe)))
        }
        (Err(want), Err(got)) => {
            prop_assert_eq!(want, got);
            Ok(None)
        }
        (want, got) => Err(TestCaseError::fail(format!(
            "model {want:?}, breaker {:?}",
            got.map(|p| p.is_probe())
        ))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn breaker_matches_the_reference_model(p in params(), ops in prop::collection::vec(op(), 1..120)) {
        let clock = FakeClock::new();
        let breaker = CircuitBreaker::builder("model")
            .config(config(&p))
            .clock(clock.clone())
            .build();
        let mut model = Model::new(p);
        let mut held: Vec<(Permit, u64, bool, Duration)> = Vec::new();
        for op in ops {
            match op {
                Op::Advance(ms) => {
                    let d = Duration::from_millis(ms);
                    clock.advance(d);
                    model.now += d;
                }
                Op::Call(outcome) => {
                    if let Some((permit, generation, probe)) = check_acquire(&mut model, &breaker)? {
                        permit.record(outcome);
                        model.finish(generation, probe, outcome, false);
                    }
                }
                Op::SlowSuccess => {
                    if let Some((permit, generation, probe)) = check_acquire(&mut model, &breaker)? {
                        clock.advance(SLOW);
                        model.now += SLOW;
                        permit.success();
                        model.finish(generation, probe, Outcome::Success, true);
                    }
                }
                Op::Hold => {
                    if let Some((permit, generation, probe)) = check_acquire(&mut model, &breaker)? {
                        held.push((permit, generation, probe, model.now));
                    }
                }
                Op::Finish(i, outcome) => {
                    if !held.is_empty() {
                        let (permit, generation, probe, started) = held.remove(i % held.len());
                        permit.record(outcome);
                        let slow = model.now - started >= SLOW_LIMIT;
                        model.finish(generation, probe, outcome, slow);
                    }
                }
                Op::Operator(state) => {
                    match state {
                        State::ForcedOpen => breaker.force_open(),
                        State::Disabled => breaker.disable(),
                        _ => breaker.reset(),
                    }
                    model.operator(state);
                }
                Op::Drop(i) => {
                    if !held.is_empty() {
                        let (permit, generation, probe, _) = held.remove(i % held.len());
                        drop(permit);
                        model.finish(generation, probe, Outcome::Ignore, false);
                    }
                }
            }
            prop_assert_eq!(breaker.state(), model.state());
            let m = breaker.metrics();
            prop_assert_eq!(m.reopenings, model.reopenings);
            if let MState::Open { until } = model.state {
                prop_assert_eq!(m.time_until_half_open, Some(until.saturating_sub(model.now)));
            }
        }
    }
}
