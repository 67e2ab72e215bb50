//! One Redis vocabulary for every store of the family (feature `redis`).
//!
//! - [`RedisConnection`]: a standalone server (through a reconnecting
//!   [`ConnectionManager`](::redis::aio::ConnectionManager)) or a Cluster
//!   (through a [`ClusterConnection`](::redis::cluster_async::ClusterConnection)),
//!   built from a URL or a node list, cheap to clone, usable wherever `redis`
//!   wants a [`ConnectionLike`](::redis::aio::ConnectionLike).
//! - [`key_slot`]: the Cluster hash slot of a key, which
//!   [`RedisConnection::slot`] answers per connection (0 on a standalone
//!   server).
//! - [`OutageGate`] (also without this feature, at the crate root): after a
//!   failure, skip the failing slot for a retry window, with one warning per
//!   outage and one recovery line.
//! - [`LuaScript`]: a script kept in a `.lua` file and loaded one way,
//!   `static S: LuaScript = LuaScript::new(include_str!("s.lua"));`.
//!
//! Every Redis store of the family is made the same way: connect once, then
//! `Store::new(connection.clone())` and `with_*` builders.
//!
//! ```no_run
//! # async fn run() -> Result<(), redis::RedisError> {
//! use voxcal_core::redis::{LuaScript, RedisConnection};
//!
//! static INCR_WITH_TTL: LuaScript = LuaScript::new(
//!     "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return n",
//! );
//!
//! let conn = RedisConnection::connect("redis://127.0.0.1:6379/").await?;
//! let n: i64 = INCR_WITH_TTL
//!     .key("demo:{tenant-a}:hits")
//!     .arg(60_000)
//!     .invoke_async(&mut conn.clone())
//!     .await?;
//! assert!(n >= 1);
//! # Ok(()) }
//! ```

mod connection;
mod script;
mod slot;

pub use crate::OutageGate;
pub use connection::{ConnectOptions, RedisConnection};
pub use script::LuaScript;
pub use slot::{hash_tag, key_slot, SLOTS};
