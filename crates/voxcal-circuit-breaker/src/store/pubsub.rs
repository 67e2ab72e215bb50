//! Transitions pushed to every replica of a [`RedisStore`](super::redis::RedisStore).
//!
//! The scripts `PUBLISH` on `<prefix>:events` when they change the shared
//! state (a new generation) or count the first failures of a closed
//! breaker. One subscriber connection per store receives those messages and
//! hands each to the breakers of that name in the store; polling keeps
//! running underneath, so a lost message or a lost subscriber only costs
//! time, never correctness.
//!
//! The subscriber opens its own connections from the store connection's
//! `node_urls()`. Standalone: the server the store connects to. Cluster:
//! classic `PUBLISH` reaches every node, so the subscriber uses one node at
//! a time, in the order given, and moves on to the next when its node
//! fails. No URLs (a connection made from an existing manager or Cluster
//! connection): no subscriber, polling only.
//!
//! This module knows nothing of the breakers it feeds: they register as
//! [`Pushed`] receivers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::State;

/// How long connecting and subscribing may take before the next node.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// How often an idle subscriber connection is checked with `PING`.
const PING_EVERY: Duration = Duration::from_secs(3);
/// How long that `PING` may take before the connection counts as lost.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// The pause after every node failed once, doubling up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A connection that lasted this long resets the backoff.
const STABLE: Duration = Duration::from_secs(10);
/// At most one `warn` line about the subscriber per this interval.
const QUIET: Duration = Duration::from_secs(60);

/// The shared state as a script returns it (and publishes it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shared {
    pub(crate) granted: bool,
    pub(crate) state: State,
    pub(crate) generation: u64,
    pub(crate) remaining: Duration,
    pub(crate) reopenings: u32,
    pub(crate) failures: u64,
    /// The script's time (ms, the server's or the injected clock's) at which
    /// `remaining` was computed.
    pub(crate) at_ms: i64,
}

/// A script's reply: `{granted, state, generation, remaining ms,
/// reopenings, failures, time ms}`.
pub(crate) fn parse_shared(v: &[i64]) -> Option<Shared> {
    let [granted, state, generation, remaining, reopenings, failures, at_ms] = *v else {
        return None;
    };
    let state = match state {
        0 => State::Closed,
        1 => State::Open,
        2 => State::HalfOpen,
        3 => State::ForcedOpen,
        4 => State::Disabled,
        _ => return None,
    };
    Some(Shared {
        granted: granted == 1,
        state,
        generation: u64::try_from(generation).ok()?,
        remaining: Duration::from_millis(u64::try_from(remaining).unwrap_or(0)),
        reopenings: u32::try_from(reopenings).unwrap_or(u32::MAX),
        failures: u64::try_from(failures).unwrap_or(0),
        at_ms,
    })
}

/// A message another replica's script published: `<generation> <state>
/// <remaining ms> <reopenings> <failures> <time ms> <name>`.
fn parse_event(payload: &str) -> Option<(Shared, &str)> {
    let mut parts = payload.splitn(7, ' ');
    let mut number = || parts.next()?.parse::<i64>().ok();
    let (generation, state, remaining, reopenings, failures, at_ms) = (
        number()?,
        number()?,
        number()?,
        number()?,
        number()?,
        number()?,
    );
    let name = parts.next()?;
    let shared = parse_shared(&[0, state, generation, remaining, reopenings, failures, at_ms])?;
    Some((shared, name))
}

/// What receives the messages published under one name.
pub(crate) trait Pushed: Send + Sync {
    /// A state another replica published.
    fn pushed(&self, shared: Shared);
    /// Messages may have been lost: look at the shared state now.
    fn wake(&self);
}

/// The breakers of one store by the name they publish under, and the state
/// of the store's subscriber. Held by the store and by each of its
/// breakers; the subscriber task stops when the last of them is gone.
pub(crate) struct Events {
    channel: String,
    breakers: Mutex<HashMap<String, Vec<Weak<dyn Pushed>>>>,
    subscribed: AtomicBool,
    /// Subscriptions made so far (the first and every reconnection).
    subscriptions: AtomicU64,
    stop: Arc<Notify>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("channel", &self.channel)
            .field("subscribed", &self.is_subscribed())
            .finish_non_exhaustive()
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        // Stores a permit if the task is not waiting right now.
        self.stop.notify_one();
    }
}

impl Events {
    /// The events of a store with keys under `prefix`; `nodes` are where a
    /// subscriber may connect, in order of preference (none: polling only).
    pub(crate) fn start(prefix: &str, nodes: Vec<redis::Client>, handle: &Handle) -> Arc<Self> {
        let stop = Arc::new(Notify::new());
        let events = Arc::new(Events {
            channel: format!("{prefix}:events"),
            breakers: Mutex::new(HashMap::new()),
            subscribed: AtomicBool::new(false),
            subscriptions: AtomicU64::new(0),
            stop: Arc::clone(&stop),
        });
        if !nodes.is_empty() {
            handle.spawn(subscriber(
                Arc::downgrade(&events),
                stop,
                nodes,
                events.channel.clone(),
            ));
        }
        events
    }

    /// The channel the scripts publish on.
    pub(crate) fn channel(&self) -> &str {
        &self.channel
    }

    /// Whether the subscriber is connected and subscribed right now.
    pub(crate) fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// How many times the subscriber has subscribed so far.
    pub(crate) fn subscriptions(&self) -> u64 {
        self.subscriptions.load(Ordering::Acquire)
    }

    /// Makes `receiver` receive the messages published under `name`.
    pub(crate) fn register(&self, name: &str, receiver: Weak<dyn Pushed>) {
        let mut breakers = self.breakers.lock();
        breakers.retain(|_, list| {
            list.retain(|w| w.strong_count() > 0);
            !list.is_empty()
        });
        breakers.entry(name.to_owned()).or_default().push(receiver);
    }

    /// The live breakers published under `name`.
    fn named(&self, name: &str) -> Vec<Arc<dyn Pushed>> {
        self.breakers
            .lock()
            .get(name)
            .map(|list| list.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default()
    }

    /// Every live breaker of the store.
    fn all(&self) -> Vec<Arc<dyn Pushed>> {
        self.breakers
            .lock()
            .values()
            .flat_map(|list| list.iter().filter_map(Weak::upgrade))
            .collect()
    }
}

/// Why a subscribed connection ended.
enum Ended {
    /// The store and all its breakers are gone.
    Stop,
    /// The connection failed; try the next node.
    Lost,
}

/// Keeps one subscription alive on some node until the store is gone.
async fn subscriber(
    events: Weak<Events>,
    stop: Arc<Notify>,
    nodes: Vec<redis::Client>,
    channel: String,
) {
    let mut backoff = MIN_BACKOFF;
    let mut next = 0_usize;
    let mut failed_round = 0_usize;
    // Outages are logged at `warn` at most once a minute, the rest at
    // `debug`; `reported` says the last one's end is still to be logged.
    let mut last_warn: Option<Instant> = None;
    let mut reported = false;
    let mut should_warn = move || {
        let now = Instant::now();
        let warn = last_warn.is_none_or(|t| now.duration_since(t) >= QUIET);
        if warn {
            last_warn = Some(now);
        }
        warn
    };
    loop {
        let node = next % nodes.len();
        next = next.wrapping_add(1);
        let connected = tokio::select! {
            () = stop.notified() => return,
            r = tokio::time::timeout(CONNECT_TIMEOUT, subscribe(&nodes[node], &channel)) => {
                r.unwrap_or_else(|_| Err(timeout_error()))
            }
        };
        match connected {
            Ok(pubsub) => {
                let Some(strong) = events.upgrade() else {
                    return;
                };
                strong.subscribed.store(true, Ordering::Release);
                let reconnected = strong.subscriptions.fetch_add(1, Ordering::AcqRel) > 0;
                if reported {
                    tracing::info!(
                        node,
                        "circuit breaker events: subscribed again; transitions are pushed"
                    );
                    reported = false;
                } else {
                    tracing::debug!(node, "circuit breaker events: subscribed");
                }
                if reconnected {
                    // Messages published meanwhile are lost: every breaker
                    // looks at the shared state now.
                    for receiver in strong.all() {
                        receiver.wake();
                    }
                }
                drop(strong);
                let since = Instant::now();
                let ended = listen(&events, &stop, pubsub).await;
                if let Some(strong) = events.upgrade() {
                    strong.subscribed.store(false, Ordering::Release);
                }
                match ended {
                    Ended::Stop => return,
                    Ended::Lost => {
                        if should_warn() {
                            tracing::warn!(
                                node,
                                "circuit breaker events: subscriber connection lost; breakers poll until it is back"
                            );
                            reported = true;
                        } else {
                            tracing::debug!(
                                node,
                                "circuit breaker events: subscriber connection lost"
                            );
                        }
                        if since.elapsed() >= STABLE {
                            backoff = MIN_BACKOFF;
                            failed_round = 0;
                            continue;
                        }
                        failed_round += 1;
                    }
                }
            }
            Err(e) => {
                if !reported && should_warn() {
                    tracing::warn!(
                        node,
                        error = %e,
                        "circuit breaker events: cannot subscribe; breakers poll until it works"
                    );
                    reported = true;
                } else {
                    tracing::debug!(node, error = %e, "circuit breaker events: cannot subscribe");
                }
                failed_round += 1;
            }
        }
        if failed_round >= nodes.len() {
            failed_round = 0;
            tokio::select! {
                () = stop.notified() => return,
                () = tokio::time::sleep(jitter(backoff)) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Hands every message to its breakers until the connection fails or the
/// store is gone.
async fn listen(events: &Weak<Events>, stop: &Notify, pubsub: redis::aio::PubSub) -> Ended {
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.notified() => return Ended::Stop,
            msg = stream.next() => {
                let Some(msg) = msg else {
                    return Ended::Lost;
                };
                let Some(events) = events.upgrade() else {
                    return Ended::Stop;
                };
                let Ok(payload) = std::str::from_utf8(msg.get_payload_bytes()) else {
                    continue;
                };
                let Some((shared, name)) = parse_event(payload) else {
                    tracing::debug!("circuit breaker events: ignoring a malformed message");
                    continue;
                };
                for receiver in events.named(name) {
                    receiver.pushed(shared);
                }
            }
            _ = ping.tick() => {
                let alive = tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await;
                if !matches!(alive, Ok(Ok(_))) {
                    return Ended::Lost;
                }
            }
        }
    }
}

fn timeout_error() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "subscribing timed out",
    ))
}

/// `d` plus up to a quarter of it, so that replicas do not reconnect in step.
fn jitter(d: Duration) -> Duration {
    let quarter = u64::try_from(d.as_millis() / 4).unwrap_or(0).max(1);
    d + Duration::from_millis(voxcal_core::random_u64() % quarter)
}
