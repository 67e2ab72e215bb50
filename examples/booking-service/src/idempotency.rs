//! `book_appointment`'s idempotency record: call id + service + slot →
//! booking, so a retry (Retell retries a failed function call up to twice)
//! replays the first answer instead of booking again or answering
//! `slot_taken` for the caller's own booking.
//!
//! With Redis the record is shared by every replica: the first attempt
//! claims the key with `SET NX` (a pending marker with a lease), books, and
//! stores the booking id; a retry on any replica that finds the marker waits
//! (bounded) for the booking id. Without Redis the record lives in the
//! process, with the same claim/wait protocol between concurrent attempts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use voxcal_core::redis::RedisConnection;

/// How long a pending claim holds: longer than one booking attempt may take
/// (the request timeout is 10 s by default), so a live attempt never loses
/// it, and short enough that a crashed attempt frees the slot soon.
pub(crate) const PENDING_LEASE: Duration = Duration::from_secs(30);

/// How long a booking's record is kept: a call lasts minutes; a day covers
/// every retry.
pub(crate) const RECORD_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a retry waits for the attempt in flight before answering that
/// the system is busy. Under the default request timeout (10 s), so the
/// caller hears an answer, not a 408.
pub(crate) const WAIT: Duration = Duration::from_secs(8);

/// One booking attempt's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AttemptKey {
    pub(crate) tenant: String,
    pub(crate) call_id: String,
    pub(crate) service: usize,
    pub(crate) start_ms: i64,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Nobody booked this yet: book, then [`Idempotency::complete`] or
    /// [`Idempotency::abandon`].
    Won,
    /// Booked before (on any replica): the booking id to replay.
    Done(String),
}

/// Why no claim could be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IdempotencyError {
    /// Another attempt is still booking after [`WAIT`].
    #[error("another attempt is still booking")]
    Busy,
    /// Redis failed.
    #[error("idempotency store unavailable: {0}")]
    Store(#[from] redis::RedisError),
}

/// The record, in this process or in Redis.
#[derive(Clone)]
pub(crate) enum Idempotency {
    Memory(Arc<MemoryRecords>),
    Redis {
        conn: RedisConnection,
        prefix: String,
    },
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Idempotency::Memory(_) => "Idempotency::Memory",
            Idempotency::Redis { .. } => "Idempotency::Redis",
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct MemoryRecords {
    entries: Mutex<HashMap<AttemptKey, Entry>>,
    changed: Notify,
}

#[derive(Debug, Clone)]
enum Entry {
    /// Claimed at this instant; free again after [`PENDING_LEASE`] (an
    /// attempt whose request was dropped never completes).
    Pending(tokio::time::Instant),
    Done(String),
}

impl Idempotency {
    pub(crate) fn memory() -> Self {
        Idempotency::Memory(Arc::default())
    }

    pub(crate) fn redis(conn: RedisConnection, prefix: impl Into<String>) -> Self {
        Idempotency::Redis {
            conn,
            prefix: prefix.into(),
        }
    }

    pub(crate) fn backend(&self) -> &'static str {
        match self {
            Idempotency::Memory(_) => "in-memory",
            Idempotency::Redis { .. } => "redis",
        }
    }

    /// Claims `key`, or finds its booking; waits up to [`WAIT`] while
    /// another attempt holds it.
    pub(crate) async fn claim(&self, key: &AttemptKey) -> Result<Claim, IdempotencyError> {
        match self {
            Idempotency::Memory(records) => records.claim(key).await,
            Idempotency::Redis { conn, prefix } => {
                redis_claim(conn.clone(), &redis_key(prefix, key)).await
            }
        }
    }

    /// Records the booking of a won claim; `false` when the store failed.
    pub(crate) async fn complete(&self, key: &AttemptKey, booking_id: &str) -> bool {
        match self {
            Idempotency::Memory(records) => {
                records
                    .entries
                    .lock()
                    .insert(key.clone(), Entry::Done(booking_id.to_owned()));
                records.changed.notify_waiters();
                true
            }
            Idempotency::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let result = redis::cmd("SET")
                    .arg(redis_key(prefix, key))
                    .arg(format!("done:{booking_id}"))
                    .arg("PX")
                    .arg(millis(RECORD_TTL))
                    .query_async::<()>(&mut conn)
                    .await;
                match result {
                    Ok(()) => true,
                    Err(e) => {
                        // The booking stands; a retry now waits for the lease
                        // to end and may book again (Cal.com then refuses
                        // the taken slot). Nothing better can be done.
                        tracing::warn!(error = %e, "booking idempotency record not stored");
                        false
                    }
                }
            }
        }
    }

    /// Gives a won claim back (the attempt failed): a retry may book.
    pub(crate) async fn abandon(&self, key: &AttemptKey) {
        match self {
            Idempotency::Memory(records) => {
                let mut entries = records.entries.lock();
                if matches!(entries.get(key), Some(Entry::Pending(_))) {
                    entries.remove(key);
                }
                drop(entries);
                records.changed.notify_waiters();
            }
            Idempotency::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let result = ABANDON
                    .key(redis_key(prefix, key))
                    .invoke_async::<i64>(&mut conn)
                    .await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "booking claim not released; it ends with its lease");
                }
            }
        }
    }
}

impl MemoryRecords {
    async fn claim(&self, key: &AttemptKey) -> Result<Claim, IdempotencyError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            // Registered before looking, so a change between the look and
            // the wait is not missed.
            let changed = self.changed.notified();
            {
                let mut entries = self.entries.lock();
                let now = tokio::time::Instant::now();
                match entries.get(key) {
                    Some(Entry::Done(id)) => return Ok(Claim::Done(id.clone())),
                    Some(Entry::Pending(at)) if now.duration_since(*at) < PENDING_LEASE => {}
                    _ => {
                        entries.insert(key.clone(), Entry::Pending(now));
                        return Ok(Claim::Won);
                    }
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Err(IdempotencyError::Busy);
            }
        }
    }
}

/// `{prefix}:idem:{<tenant>:<call id>}:<service>:<start ms>`: hash-tagged by
/// tenant and call, so a call's records share a Cluster slot.
fn redis_key(prefix: &str, key: &AttemptKey) -> String {
    format!(
        "{prefix}:idem:{{{}:{}}}:{}:{}",
        key.tenant, key.call_id, key.service, key.start_ms
    )
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Deletes the key only while it still holds a pending marker.
static ABANDON: voxcal_core::redis::LuaScript =
    voxcal_core::redis::LuaScript::new(include_str!("abandon.lua"));

async fn redis_claim(mut conn: RedisConnection, key: &str) -> Result<Claim, IdempotencyError> {
    let started = tokio::time::Instant::now();
    // Polls the pending marker: the attempt in flight answers within its
    // request; 25 ms steps cost a retry at most that much extra latency.
    let step = Duration::from_millis(25);
    let marker = format!("pending:{:016x}", voxcal_core::random_u64());
    loop {
        let set: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(&marker)
            .arg("NX")
            .arg("PX")
            .arg(millis(PENDING_LEASE))
            .query_async(&mut conn)
            .await?;
        if set.is_some() {
            return Ok(Claim::Won);
        }
        let value: Option<String> = redis::cmd("GET").arg(key).query_async(&mut conn).await?;
        if let Some(id) = value.as_deref().and_then(|v| v.strip_prefix("done:")) {
            return Ok(Claim::Done(id.to_owned()));
        }
        if started.elapsed() >= WAIT {
            return Err(IdempotencyError::Busy);
        }
        tokio::time::sleep(step).await;
    }
}
