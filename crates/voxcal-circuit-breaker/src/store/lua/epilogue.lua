-- The end of every breaker script: writes the state back and returns
-- {granted, st, g, remaining ms, re, ft, now ms}: `now` is the time
-- `remaining` was computed at, so that a reply (or message) that arrives
-- late is not read as a later opening.
--
-- A new generation (any transition) and the first failures counted in a
-- closed generation are published as
-- `<g> <st> <remaining> <re> <ft> <now> <name>`,
-- so the other replicas adopt the one and start refreshing often on the
-- other at once. `pcall`: a server that refuses PUBLISH (ACL) only loses
-- the push.
if st == 1 and now >= untl then enter(2) end
redis.call('HSET', KEYS[1], 'st', st, 'g', g, 'until', untl, 're', re, 'ft', ft, 'rs', rs, 'hs', hs)
redis.call('PEXPIRE', KEYS[1], ttl)
local remaining = 0
if st == 1 then remaining = untl - now end
if g ~= g0 or (st == 0 and ft0 == 0 and ft > 0) then
  redis.pcall('PUBLISH', chan, g .. ' ' .. st .. ' ' .. remaining .. ' ' .. re .. ' ' .. ft .. ' ' .. now .. ' ' .. pname)
end
return {granted, st, g, remaining, re, ft, now}
