//! The shared vocabulary of the voxcal crates.
//!
//! Every crate of the family (log sanitizer, call rate limiter, circuit
//! breaker, Cal.com client, appointment finder, request validation) speaks
//! through the types of this small crate, so a service that uses several of
//! them passes one clock, one language and one Redis connection around:
//!
//! - [`Lang`] and [`UserMessage`]: every public error of the family can say
//!   what went wrong in a sentence a voice agent can speak, German first,
//!   English available.
//! - [`Clock`], [`SystemClock`] and [`FakeClock`]: monotonic and wall-clock
//!   time from one source. Clones of a `FakeClock` share their time, and
//!   [`FakeClock::advance`] moves both readings, so tests never sleep.
//! - [`names`]: the German and English names of weekdays and months, one
//!   table for what the finder speaks and the sanitizer and validator read.
//! - [`random_u64`]: a non-cryptographic random number for jitter and ids.
//! - [`OutageGate`]: after a backend failed, skip the failing shard (a Redis
//!   key slot, say) for a retry window; one warning per outage, one
//!   recovery line.
//! - With the `redis` feature, [`redis`](mod@crate::redis): one
//!   [`RedisConnection`](crate::redis::RedisConnection) for standalone
//!   servers and Clusters, the Cluster [`key_slot`](crate::redis::key_slot),
//!   and [`LuaScript`](crate::redis::LuaScript).
//!
//! Without features it depends on `chrono` and `tracing` only.
//!
//! ```
//! use std::time::Duration;
//! use voxcal_core::{Clock, FakeClock, Lang, UserMessage};
//!
//! let clock = FakeClock::new();
//! let (mono, wall) = (clock.now(), clock.now_utc());
//! let shared = clock.clone();
//! shared.advance(Duration::from_secs(90));
//! assert_eq!(clock.now() - mono, Duration::from_secs(90));
//! assert_eq!((clock.now_utc() - wall).num_seconds(), 90);
//!
//! struct Busy;
//! impl UserMessage for Busy {
//!     fn user_message(&self, lang: Lang) -> std::borrow::Cow<'_, str> {
//!         match lang {
//!             Lang::En => "The line is busy.".into(),
//!             _ => "Die Leitung ist besetzt.".into(),
//!         }
//!     }
//! }
//! assert_eq!(Busy.user_message(Lang::default()), "Die Leitung ist besetzt.");
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod gate;
mod lang;
pub mod names;
mod random;
#[cfg(feature = "redis")]
pub mod redis;

#[cfg(feature = "tokio")]
pub use clock::Sleep;
pub use clock::{Clock, FakeClock, SystemClock};
pub use gate::OutageGate;
pub use lang::{Lang, UserMessage};
pub use random::random_u64;
