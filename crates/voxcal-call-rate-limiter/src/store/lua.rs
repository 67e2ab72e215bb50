//! The decision script, written for one policy.
//!
//! A generic script reads every window, quota, TTL and cooldown from `ARGV`
//! and loops over the limits; on the server that costs more than the hash
//! commands themselves (about 12 µs per `EVALSHA` against 8.5 µs for the
//! same decision written out, `INFO commandstats` under `redis-benchmark`).
//! So [`source`] writes one straight-line script per [`Policy`]: its
//! numbers become Lua literals, each limit its own block, and a decision
//! sends only the time and the limits' hash fields.
//!
//! The call's hash (`{prefix}:{<call_id>}:s`) holds
//! - `exp`: when the state expires (ms since the Unix epoch, decimal),
//! - `cd`: when a cooldown ends (decimal; absent without one),
//! - `gc`: when the key's own Redis TTL ends (decimal). The TTL is set to the
//!   idle TTL and a half only when the state would outlive it, so most
//!   decisions need no `PEXPIRE`; an idle state is gone from Redis at most
//!   half an idle TTL after its expiry, and is never read as live after it
//!   (the script compares `exp`),
//! - one field per limit bucket (`l:<limit>[:<part>]`): a decimal count for
//!   a lifetime limit, or for a window limit the admitted times still in
//!   the window, oldest first, each [`STAMP_BYTES`] bytes of big-endian ms.
//!   At most 10 stamps (a quota of 10 or less, as in `l:per_minute` of a
//!   quiet call) keep the hash within Redis' `hash-max-listpack-value` of
//!   64 bytes, where 13-digit text stamps would have left it after four.
//!
//! `ARGV[1]` is the time in ms, or `''` for the server's `TIME`;
//! `ARGV[1 + i]` the field of limit `i`, or `''` when the limit does not
//! apply to the request. The reply is `{admitted, in_cooldown,
//! cooldown_until, expires_at, now}` and then `used, oldest` for every limit
//! of the policy (`oldest` is `-1` when unknown; a limit that does not apply
//! reads as unused).

use std::fmt::Write as _;

use crate::policy::Policy;

/// Bytes per admitted time in a window log.
pub(crate) const STAMP_BYTES: usize = 6;

/// Every millisecond figure written into a script is at most this (about
/// 4 460 years), so the script's arithmetic stays exact in Lua's doubles
/// and every time fits [`STAMP_BYTES`].
const MAX_MILLIS: u64 = 1 << 47;

/// The Lua source of the decision script for `policy`.
pub(crate) fn source(policy: &Policy) -> String {
    let rules = policy.rules();
    let ttl = policy.idle_ttl_millis().min(MAX_MILLIS);
    let slack = ttl / 2;
    let cooldown = policy.cooldown_millis().min(MAX_MILLIS);
    let mut lua = String::with_capacity(2048 + 700 * rules.len());
    let mut line = |text: std::fmt::Arguments<'_>| {
        // Writing to a `String` cannot fail.
        let _ = lua.write_fmt(text);
        lua.push('\n');
    };
    line(format_args!(
        "-- voxcal-call-rate-limiter: one decision under a policy of {} limit(s); \
         generated, see src/store/lua.rs.",
        rules.len()
    ));
    line(format_args!(
        "local now = ARGV[1]\n\
         if now == '' then\n  local t = redis.call('TIME')\n  \
         now = t[1] * 1000 + math.floor(t[2] / 1000)\n\
         else\n  now = tonumber(now)\nend\n\
         local key = KEYS[1]"
    ));
    let fields: Vec<String> = (0..rules.len())
        .map(|i| format!("ARGV[{}]", i + 2))
        .collect();
    line(format_args!(
        "local v = redis.call('HMGET', key, 'exp', 'cd', 'gc', {})",
        fields.join(", ")
    ));
    line(format_args!(
        "local exp, cd, gc, live = 0, 0, 0, false\n\
         if v[1] then\n  exp = tonumber(v[1])\n  \
         if now >= exp then\n    redis.call('DEL', key)\n    exp = 0\n  \
         else\n    live = true\n    gc = tonumber(v[3]) or 0\n    cd = tonumber(v[2]) or 0\n  end\n\
         end\n\
         local in_cd = cd > now\n\
         local fits = true"
    ));
    if rules.iter().any(|r| r.window > 0) {
        line(format_args!(
            "local byte, sub = string.byte, string.sub\n\
             local function at(s, p)\n  local a, b, c, d, e, f = byte(s, p, p + 5)\n  \
             return ((((a * 256 + b) * 256 + c) * 256 + d) * 256 + e) * 256 + f\n\
             end"
        ));
    }
    for (index, rule) in rules.iter().enumerate() {
        let i = index + 1;
        let field = index + 2;
        let value = index + 4;
        let quota = rule.quota;
        if rule.window == 0 {
            line(format_args!(
                "local u{i}, o{i} = live and tonumber(v[{value}]) or 0, -1\n\
                 if u{i} >= {quota} and ARGV[{field}] ~= '' then fits = false end"
            ));
        } else {
            let window = rule.window.min(MAX_MILLIS);
            line(format_args!(
                "local u{i}, o{i}, k{i} = 0, -1, ''\n\
                 local r{i} = live and v[{value}]\n\
                 if r{i} then\n  local n = #r{i}\n  local p = 1\n  local t = at(r{i}, 1)\n  \
                 while t + {window} <= now do\n    p = p + {STAMP_BYTES}\n    \
                 if p > n then break end\n    t = at(r{i}, p)\n  end\n  \
                 if p <= n then\n    o{i} = t\n    u{i} = (n - p + 1) / {STAMP_BYTES}\n    \
                 if p > 1 then k{i} = sub(r{i}, p) else k{i} = r{i} end\n  end\n\
                 end\n\
                 if u{i} >= {quota} and ARGV[{field}] ~= '' then fits = false end"
            ));
        }
    }
    line(format_args!(
        "local admitted = fits and not in_cd\n\
         if admitted then\n  exp = now + {ttl}"
    ));
    if rules.iter().any(|r| r.window > 0) {
        line(format_args!(
            "  local x = now\n  \
             local s6 = x % 256; x = (x - s6) / 256\n  \
             local s5 = x % 256; x = (x - s5) / 256\n  \
             local s4 = x % 256; x = (x - s4) / 256\n  \
             local s3 = x % 256; x = (x - s3) / 256\n  \
             local s2 = x % 256; x = (x - s2) / 256\n  \
             local stamp = string.char(x, s2, s3, s4, s5, s6)"
        ));
    }
    line(format_args!("  local w, m = {{'exp', exp}}, 2"));
    for (index, rule) in rules.iter().enumerate() {
        let i = index + 1;
        let field = index + 2;
        let new = if rule.window == 0 {
            format!("u{i} + 1")
        } else {
            format!("k{i} .. stamp")
        };
        line(format_args!(
            "  if ARGV[{field}] ~= '' then w[m + 1] = ARGV[{field}]; w[m + 2] = {new}; m = m + 2 end"
        ));
    }
    let life = ttl + slack;
    line(format_args!(
        "  if gc < exp then\n    w[m + 1] = 'gc'; w[m + 2] = now + {life}\n    \
         redis.call('HSET', key, unpack(w))\n    redis.call('PEXPIRE', key, {life})\n  \
         else\n    redis.call('HSET', key, unpack(w))\n  end"
    ));
    if cooldown > 0 {
        line(format_args!(
            "elseif not in_cd then\n  cd = now + {cooldown}\n  if cd > exp then exp = cd end\n  \
             if gc < exp then\n    local life = exp - now + {slack}\n    \
             redis.call('HSET', key, 'cd', cd, 'exp', exp, 'gc', now + life)\n    \
             redis.call('PEXPIRE', key, life)\n  \
             else\n    redis.call('HSET', key, 'cd', cd, 'exp', exp)\n  end"
        ));
    }
    line(format_args!("end"));
    let pairs: Vec<String> = (1..=rules.len()).map(|i| format!("u{i}, o{i}")).collect();
    line(format_args!(
        "return {{admitted and 1 or 0, in_cd and 1 or 0, cd, exp, now, {}}}",
        pairs.join(", ")
    ));
    lua
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::policy::{Limit, Scope};

    #[test]
    fn the_default_policy_is_written_out_with_its_numbers() {
        let lua = source(&Policy::default());
        // The three limits' quotas, the window and the TTLs are literals.
        for needle in [
            "u1 >= 50 and ARGV[2] ~= ''",
            "while t + 60000 <= now do",
            "u2 >= 20 and ARGV[3] ~= ''",
            "u3 >= 10 and ARGV[4] ~= ''",
            "exp = now + 1800000",
            "cd = now + 300000",
            "w[m + 2] = now + 2700000",
            "redis.call('HMGET', key, 'exp', 'cd', 'gc', ARGV[2], ARGV[3], ARGV[4])",
            "return {admitted and 1 or 0, in_cd and 1 or 0, cd, exp, now, u1, o1, u2, o2, u3, o3}",
        ] {
            assert!(lua.contains(needle), "{needle:?} missing from:\n{lua}");
        }
        // Nothing of the policy is read from ARGV beyond the time and fields.
        assert!(!lua.contains("ARGV[5]"), "{lua}");
    }

    #[test]
    fn a_policy_without_window_or_cooldown_leaves_their_code_out() {
        let policy = Policy::builder()
            .limit(Limit::lifetime("total", 5))
            .limit(Limit::lifetime("f", 2).scoped(Scope::CallAndFunction))
            .cooldown(None)
            .build()
            .unwrap();
        let lua = source(&policy);
        assert!(!lua.contains("string.char"), "{lua}");
        assert!(!lua.contains("local function at"), "{lua}");
        assert!(!lua.contains("cd = now +"), "{lua}");
        assert!(lua.contains("u2 >= 2 and ARGV[3] ~= ''"), "{lua}");
    }

    #[test]
    fn huge_durations_are_capped_to_exact_doubles() {
        let policy = Policy::builder()
            .limit(Limit::per_window("w", 3, Duration::MAX))
            .cooldown(Some(Duration::MAX))
            .build()
            .unwrap();
        let lua = source(&policy);
        let cap = MAX_MILLIS.to_string();
        assert!(lua.contains(&format!("while t + {cap} <= now")), "{lua}");
        assert!(lua.contains(&format!("exp = now + {cap}")), "{lua}");
        assert!(lua.contains(&format!("cd = now + {cap}")), "{lua}");
        assert!(!lua.contains("18446744073709551615"), "{lua}");
    }
}
