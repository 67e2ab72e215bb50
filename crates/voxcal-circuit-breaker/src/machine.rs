//! The pure state machine: no clock, no locks, no I/O. Everything that
//! decides lives here; the breaker and the stores only feed it time and
//! outcomes.

use std::fmt;
use std::time::{Duration, Instant};

use crate::{BreakerConfig, Clock, Window};

/// How long a caller rejected because every half-open probe is taken should wait.
pub(crate) const HALF_OPEN_BUSY_RETRY: Duration = Duration::from_secs(1);

/// The state of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Calls pass; outcomes are counted.
    Closed,
    /// Calls are rejected until the open duration has passed.
    Open,
    /// A limited number of probes pass; their outcomes close or reopen the breaker.
    HalfOpen,
    /// Set by an operator: every call is rejected until the state is changed.
    ForcedOpen,
    /// Set by an operator: every call passes and nothing is counted.
    Disabled,
}

impl State {
    /// A lower-case name for logs and health endpoints (`"half_open"`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::ForcedOpen => "forced_open",
            State::Disabled => "disabled",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call ended, as the classifier sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// It worked.
    Success,
    /// It failed in a way that says the upstream is unhealthy.
    Failure,
    /// It does not say anything about the upstream (e.g. a validation
    /// error): not counted; a half-open probe permit is released.
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
    ForcedOpen,
    Disabled,
}

impl Phase {
    pub(crate) fn state(self) -> State {
        match self {
            Phase::Closed => State::Closed,
            Phase::Open { .. } => State::Open,
            Phase::HalfOpen { .. } => State::HalfOpen,
            Phase::ForcedOpen => State::ForcedOpen,
            Phase::Disabled => State::Disabled,
        }
    }
}

/// What a permit was issued as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TicketKind {
    /// A call in the closed state.
    Normal,
    /// A half-open probe counted by this machine.
    Probe,
    /// A call in the disabled state, or a probe held elsewhere (Redis).
    Untracked,
}

/// The receipt of an admitted call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub(crate) generation: u64,
    pub(crate) kind: TicketKind,
}

/// One change of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    pub(crate) from: State,
    pub(crate) to: State,
}

/// The counters a health endpoint shows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Counts {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

/// The breaker's decision logic.
#[derive(Debug)]
pub(crate) struct Machine {
    phase: Phase,
    generation: u64,
    consecutive_failures: u32,
    reopenings: u32,
    window: Outcomes,
}

impl Machine {
    pub(crate) fn new(config: &BreakerConfig, now: Instant) -> Self {
        Machine {
            phase: Phase::Closed,
            generation: 0,
            consecutive_failures: 0,
            reopenings: 0,
            window: Outcomes::new(config, now),
        }
    }

    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub(crate) fn reopenings(&self) -> u32 {
        self.reopenings
    }

    pub(crate) fn counts(&self) -> Counts {
        self.window.counts()
    }

    /// Admits a call or says how long to wait. The clock is only read in
    /// the open state.
    #[inline]
    pub(crate) fn acquire(
        &mut self,
        config: &BreakerConfig,
        clock: &dyn Clock,
    ) -> (Result<Ticket, Duration>, Option<Transition>) {
        let mut transition = None;
        if let Phase::Open { until } = self.phase {
            let now = clock.now();
            if now < until {
                return (Err(until - now), None);
            }
            transition = self.enter(Phase::HalfOpen {
                in_flight: 0,
                successes: 0,
            });
        }
        let generation = self.generation;
        let ticket = |kind| Ok(Ticket { generation, kind });
        let decision = match &mut self.phase {
            Phase::Closed => ticket(TicketKind::Normal),
            Phase::Disabled => ticket(TicketKind::Untracked),
            Phase::HalfOpen { in_flight, .. } => {
                if *in_flight < config.half_open_permits {
                    *in_flight += 1;
                    ticket(TicketKind::Probe)
                } else {
                    Err(HALF_OPEN_BUSY_RETRY)
                }
            }
            Phase::ForcedOpen => Err(config.open_duration),
            Phase::Open { .. } => Err(HALF_OPEN_BUSY_RETRY),
        };
        (decision, transition)
    }

    /// Records how an admitted call ended. `elapsed` is how long it took
    /// (only needed for slow-call detection); the clock is only read when
    /// the outcome opens the breaker or a time window is used.
    pub(crate) fn record(
        &mut self,
        config: &BreakerConfig,
        ticket: Ticket,
        outcome: Outcome,
        elapsed: Option<Duration>,
        clock: &dyn Clock,
    ) -> Option<Transition> {
        if ticket.generation != self.generation {
            // The state moved on since the permit was issued: a stale result.
            return None;
        }
        let slow = match (config.slow_call_duration, elapsed) {
            (Some(limit), Some(took)) => took >= limit,
            _ => false,
        };
        match (ticket.kind, self.phase) {
            (TicketKind::Normal, Phase::Closed) => {
                let failed = match outcome {
                    Outcome::Ignore => return None,
                    Outcome::Success => {
                        self.consecutive_failures = 0;
                        false
                    }
                    Outcome::Failure => {
                        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                        true
                    }
                };
                if config.uses_window() {
                    self.window.record(clock.now(), failed, slow);
                }
                if self.should_trip(config) {
                    return self.open(config, clock.now());
                }
                None
            }
            (
                TicketKind::Probe,
                Phase::HalfOpen {
                    in_flight,
                    successes,
                },
            ) => {
                let in_flight = in_flight.saturating_sub(1);
                let slow_fails = slow && config.slow_call_rate.is_some();
                match outcome {
                    Outcome::Ignore => {
                        self.phase = Phase::HalfOpen {
                            in_flight,
                            successes,
                        };
                        None
                    }
                    Outcome::Success if !slow_fails => {
                        let successes = successes + 1;
                        if successes >= config.half_open_successes {
                            self.reopenings = 0;
                            self.enter(Phase::Closed)
                        } else {
                            self.phase = Phase::HalfOpen {
                                in_flight,
                                successes,
                            };
                            None
                        }
                    }
                    Outcome::Success | Outcome::Failure => {
                        self.reopenings = self.reopenings.saturating_add(1);
                        self.open(config, clock.now())
                    }
                }
            }
            _ => None,
        }
    }

    fn should_trip(&self, config: &BreakerConfig) -> bool {
        if config.consecutive_failures > 0
            && self.consecutive_failures >= config.consecutive_failures
        {
            return true;
        }
        let counts = self.window.counts();
        if counts.calls == 0 || counts.calls < config.minimum_calls {
            return false;
        }
        let calls = f64::from(counts.calls);
        config
            .failure_rate
            .is_some_and(|t| f64::from(counts.failures) / calls >= t)
            || config
                .slow_call_rate
                .is_some_and(|t| f64::from(counts.slow) / calls >= t)
    }

    fn open(&mut self, config: &BreakerConfig, now: Instant) -> Option<Transition> {
        let until = now + config.open_duration_after(self.reopenings);
        self.enter(Phase::Open { until })
    }

    /// Moves to `phase`, starting a new generation and fresh counters.
    fn enter(&mut self, phase: Phase) -> Option<Transition> {
        let from = self.phase.state();
        self.phase = phase;
        self.generation += 1;
        self.consecutive_failures = 0;
        self.window.clear();
        let to = phase.state();
        (from != to).then_some(Transition { from, to })
    }

    /// An operator (or the shared store) sets the state.
    pub(crate) fn set(
        &mut self,
        config: &BreakerConfig,
        state: State,
        now: Instant,
    ) -> Option<Transition> {
        let phase = match state {
            State::Closed => {
                self.reopenings = 0;
                Phase::Closed
            }
            State::Open => Phase::Open {
                until: now + config.open_duration_after(self.reopenings),
            },
            State::HalfOpen => Phase::HalfOpen {
                in_flight: 0,
                successes: 0,
            },
            State::ForcedOpen => Phase::ForcedOpen,
            State::Disabled => Phase::Disabled,
        };
        self.enter(phase)
    }

    /// Adopts a state learned from the shared store. Unless `new_generation`
    /// is set, nothing changes (and in-flight permits stay valid) when it is
    /// the state this machine already has.
    pub(crate) fn adopt(
        &mut self,
        state: State,
        open_until: Option<Instant>,
        reopenings: u32,
        new_generation: bool,
    ) -> Option<Transition> {
        self.reopenings = reopenings;
        if !new_generation && self.phase.state() == state {
            if let (Phase::Open { .. }, Some(until)) = (self.phase, open_until) {
                self.phase = Phase::Open { until };
            }
            return None;
        }
        let phase = match state {
            State::Closed => Phase::Closed,
            State::Open => match (open_until, self.phase) {
                (Some(until), _) | (None, Phase::Open { until }) => Phase::Open { until },
                // Not reachable: the store always says until when.
                (None, _) => Phase::ForcedOpen,
            },
            State::HalfOpen => Phase::HalfOpen {
                in_flight: 0,
                successes: 0,
            },
            State::ForcedOpen => Phase::ForcedOpen,
            State::Disabled => Phase::Disabled,
        };
        self.enter(phase)
    }
}

/// The sliding window of recent outcomes, for the rate rules.
#[derive(Debug)]
enum Outcomes {
    /// No rate rule: nothing is kept.
    Off,
    Count {
        /// bit 0: call present, bit 1: failed, bit 2: slow.
        ring: Vec<u8>,
        next: usize,
        counts: Counts,
    },
    Time {
        origin: Instant,
        buckets: Vec<Bucket>,
        counts: Counts,
    },
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    second: u64,
    counts: Counts,
}

impl Outcomes {
    fn new(config: &BreakerConfig, now: Instant) -> Self {
        if !config.uses_window() {
            return Outcomes::Off;
        }
        match config.window {
            Window::Count(n) => Outcomes::Count {
                ring: vec![0; n as usize],
                next: 0,
                counts: Counts::default(),
            },
            Window::Time(d) => {
                let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                Outcomes::Time {
                    origin: now,
                    buckets: vec![Bucket::default(); secs.max(1) as usize],
                    counts: Counts::default(),
                }
            }
        }
    }

    fn counts(&self) -> Counts {
        match self {
            Outcomes::Off => Counts::default(),
            Outcomes::Count { counts, .. } | Outcomes::Time { counts, .. } => *counts,
        }
    }

    fn clear(&mut self) {
        match self {
            Outcomes::Off => {}
            Outcomes::Count { ring, next, counts } => {
                ring.iter_mut().for_each(|slot| *slot = 0);
                *next = 0;
                *counts = Counts::default();
            }
            Outcomes::Time {
                buckets, counts, ..
            } => {
                buckets.iter_mut().for_each(|b| *b = Bucket::default());
                *counts = Counts::default();
            }
        }
    }

    fn record(&mut self, now: Instant, failed: bool, slow: bool) {
        match self {
            Outcomes::Off => {}
            Outcomes::Count { ring, next, counts } => {
                let old = ring[*next];
                if old & 1 != 0 {
                    counts.calls -= 1;
                    counts.failures -= u32::from(old & 2 != 0);
                    counts.slow -= u32::from(old & 4 != 0);
                }
                ring[*next] = 1 | (u8::from(failed) << 1) | (u8::from(slow) << 2);
                counts.calls += 1;
                counts.failures += u32::from(failed);
                counts.slow += u32::from(slow);
                *next = (*next + 1) % ring.len();
            }
            Outcomes::Time {
                origin,
                buckets,
                counts,
            } => {
                // Seconds are counted from 1 so that a zeroed bucket is never "current".
                let second = now.saturating_duration_since(*origin).as_secs() + 1;
                let len = buckets.len() as u64;
                let slot = &mut buckets[(second % len) as usize];
                if slot.second != second {
                    *slot = Bucket {
                        second,
                        counts: Counts::default(),
                    };
                }
                slot.counts.calls += 1;
                slot.counts.failures += u32::from(failed);
                slot.counts.slow += u32::from(slow);
                let oldest = second.saturating_sub(len - 1);
                *counts = buckets
                    .iter()
                    .filter(|b| b.second >= oldest && b.second != 0)
                    .fold(Counts::default(), |acc, b| Counts {
                        calls: acc.calls + b.counts.calls,
                        failures: acc.failures + b.counts.failures,
                        slow: acc.slow + b.counts.slow,
                    });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::FakeClock;

    fn closed_machine(config: &BreakerConfig) -> (Machine, FakeClock) {
        let clock = FakeClock::new();
        (Machine::new(config, clock.now()), clock)
    }

    fn admit(m: &mut Machine, c: &BreakerConfig, clock: &FakeClock) -> Ticket {
        m.acquire(c, clock).0.expect("admitted")
    }

    #[test]
    fn five_consecutive_failures_open_then_half_open_then_close() {
        let c = BreakerConfig::default();
        let (mut m, t0) = closed_machine(&c);
        for i in 0..5 {
            let t = admit(&mut m, &c, &t0);
            let tr = m.record(&c, t, Outcome::Failure, None, &t0);
            assert_eq!(tr.is_some(), i == 4, "failure {i}");
        }
        assert_eq!(m.phase().state(), State::Open);
        t0.advance(Duration::from_secs(59));
        let (wait, _) = m.acquire(&c, &t0);
        assert_eq!(wait, Err(Duration::from_secs(1)));
        t0.advance(Duration::from_secs(1));
        let a = admit(&mut m, &c, &t0);
        let b = admit(&mut m, &c, &t0);
        assert!(m.acquire(&c, &t0).0.is_err(), "only two probes");
        assert_eq!(m.record(&c, a, Outcome::Success, None, &t0), None);
        let tr = m.record(&c, b, Outcome::Success, None, &t0);
        assert_eq!(
            tr,
            Some(Transition {
                from: State::HalfOpen,
                to: State::Closed
            })
        );
    }

    #[test]
    fn success_resets_the_consecutive_count() {
        let c = BreakerConfig::default();
        let (mut m, t0) = closed_machine(&c);
        for round in 0..3 {
            for _ in 0..4 {
                let t = admit(&mut m, &c, &t0);
                m.record(&c, t, Outcome::Failure, None, &t0);
            }
            let t = admit(&mut m, &c, &t0);
            m.record(&c, t, Outcome::Success, None, &t0);
            assert_eq!(m.phase(), Phase::Closed, "round {round}");
        }
    }

    #[test]
    fn stale_results_are_ignored() {
        let c = BreakerConfig::builder()
            .consecutive_failures(1)
            .build()
            .unwrap();
        let (mut m, t0) = closed_machine(&c);
        let old = admit(&mut m, &c, &t0);
        let tripping = admit(&mut m, &c, &t0);
        m.record(&c, tripping, Outcome::Failure, None, &t0);
        let generation = m.generation();
        assert_eq!(m.record(&c, old, Outcome::Success, None, &t0), None);
        assert_eq!(m.generation(), generation);
        assert_eq!(m.phase().state(), State::Open);
    }

    #[test]
    fn failure_rate_over_count_window_needs_minimum_calls() {
        let c = BreakerConfig::builder()
            .consecutive_failures(0)
            .failure_rate(0.5)
            .window(Window::Count(10))
            .minimum_calls(4)
            .build()
            .unwrap();
        let (mut m, t0) = closed_machine(&c);
        for outcome in [Outcome::Failure, Outcome::Success, Outcome::Failure] {
            let t = admit(&mut m, &c, &t0);
            assert_eq!(m.record(&c, t, outcome, None, &t0), None);
        }
        let t = admit(&mut m, &c, &t0);
        assert!(m.record(&c, t, Outcome::Success, None, &t0).is_some());
    }

    #[test]
    fn time_window_forgets_old_failures() {
        let c = BreakerConfig::builder()
            .consecutive_failures(0)
            .failure_rate(0.5)
            .window(Window::Time(Duration::from_secs(10)))
            .minimum_calls(3)
            .build()
            .unwrap();
        let (mut m, t0) = closed_machine(&c);
        for _ in 0..2 {
            let t = admit(&mut m, &c, &t0);
            m.record(&c, t, Outcome::Failure, None, &t0);
        }
        // Eleven seconds later the two failures are out of the window.
        t0.advance(Duration::from_secs(11));
        let t = admit(&mut m, &c, &t0);
        assert_eq!(m.record(&c, t, Outcome::Failure, None, &t0), None);
        assert_eq!(m.counts().calls, 1);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let c = BreakerConfig::builder()
            .open_duration(Duration::from_secs(10))
            .open_backoff(2.0, Duration::from_secs(35))
            .build()
            .unwrap();
        let got: Vec<u64> = (0..4).map(|r| c.open_duration_after(r).as_secs()).collect();
        assert_eq!(got, vec![10, 20, 35, 35]);
    }
}
