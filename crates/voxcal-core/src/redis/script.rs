//! Lua scripts, loaded one way.

use std::fmt;
use std::sync::OnceLock;

use redis::{Script, ScriptInvocation, ToRedisArgs};

/// A Lua script of a store: its source (an `include_str!` of a `.lua` file
/// beside the store), and the [`redis::Script`] made from it on first use
/// (which runs it with `EVALSHA` and loads it again after a `NOSCRIPT`).
///
/// ```
/// use voxcal_core::redis::LuaScript;
///
/// static PING: LuaScript = LuaScript::new("return redis.call('PING')");
/// assert_eq!(PING.source(), "return redis.call('PING')");
/// assert_eq!(PING.hash().len(), 40);
/// ```
pub struct LuaScript {
    source: &'static str,
    script: OnceLock<Script>,
}

impl LuaScript {
    /// A script with this source; nothing is hashed or sent until first use.
    pub const fn new(source: &'static str) -> Self {
        LuaScript {
            source,
            script: OnceLock::new(),
        }
    }

    /// The Lua source.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The script, ready to invoke.
    pub fn script(&self) -> &Script {
        self.script.get_or_init(|| Script::new(self.source))
    }

    /// The script's SHA-1, as `EVALSHA` and `SCRIPT EXISTS` take it.
    pub fn hash(&self) -> &str {
        self.script().get_hash()
    }

    /// An invocation with its first key.
    pub fn key<T: ToRedisArgs>(&self, key: T) -> ScriptInvocation<'_> {
        self.script().key(key)
    }

    /// An invocation without keys or arguments yet.
    pub fn prepare_invoke(&self) -> ScriptInvocation<'_> {
        self.script().prepare_invoke()
    }
}

impl fmt::Debug for LuaScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LuaScript")
            .field("hash", &self.hash())
            .finish_non_exhaustive()
    }
}
