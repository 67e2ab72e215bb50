-- acquire: moves an expired open breaker to half-open and takes a probe
-- lease if one is free.
-- ARGV 6-10: lease id, lease ms, permits, trip generation (-1: none),
-- generation the replica knows.
local granted = 0
trip_if(tonumber(ARGV[9]))
if st == 1 and now >= untl then enter(2) end
if st == 2 then
  local lease_ms = tonumber(ARGV[7])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[8]) then
    redis.call('ZADD', KEYS[2], now + lease_ms, ARGV[6])
    redis.call('PEXPIRE', KEYS[2], lease_ms * 2)
    granted = 1
  end
end
