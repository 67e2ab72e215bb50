-- sync: a replica's outcomes since its last sync, its local trip or an
-- operator change; answers the shared state.
-- ARGV 6-12: pending generation, failures before, reset, failures after,
-- trip generation (-1: none), operator state (-1: none), the failure total
-- the replica knew of.
--
-- Consecutive failures fleet-wide are `ft - rs`: `ft` counts the failures
-- of this generation, `rs` is where the last success put the count back.
-- A replica's success erases the failures it knew of (and its own earlier
-- ones), never failures of other replicas it had not seen yet.
--
-- ARGV 13-19: the shared time window in seconds (0: none), minimum calls,
-- failure and slow-call thresholds in ppm (0: off), then this replica's
-- calls, failures and slow calls since its last sync, added to per-second
-- buckets (`<second>c`, `<second>f`, `<second>s`).
local granted = 0
local pgen = tonumber(ARGV[6])
local before = tonumber(ARGV[7])
local reset = tonumber(ARGV[8])
local after = tonumber(ARGV[9])
local op = tonumber(ARGV[11])
if op >= 0 then
  if op == 0 then re = 0 end
  enter(op)
else
  trip_if(tonumber(ARGV[10]))
  if st == 0 and g == pgen and not fresh then
    local known = tonumber(ARGV[12])
    ft = ft + before
    if cf_max > 0 and ft - rs >= cf_max then enter(1) end
    if st == 0 and reset == 1 then
      local upto = math.min(known + before, ft)
      if upto > rs then rs = upto end
    end
    if st == 0 then
      ft = ft + after
      if cf_max > 0 and ft - rs >= cf_max then enter(1) end
    end
    local wsecs = tonumber(ARGV[13])
    local dc = tonumber(ARGV[17])
    if st == 0 and wsecs > 0 and dc > 0 then
      local sec = math.floor(now / 1000)
      redis.call('HINCRBY', KEYS[3], sec .. 'c', dc)
      redis.call('HINCRBY', KEYS[3], sec .. 'f', tonumber(ARGV[18]))
      redis.call('HINCRBY', KEYS[3], sec .. 's', tonumber(ARGV[19]))
      redis.call('PEXPIRE', KEYS[3], wsecs * 2000 + 10000)
      for old = sec - wsecs - 10, sec - wsecs do
        redis.call('HDEL', KEYS[3], old .. 'c', old .. 'f', old .. 's')
      end
      local fields = {}
      for s = sec - wsecs + 1, sec do
        table.insert(fields, s .. 'c')
        table.insert(fields, s .. 'f')
        table.insert(fields, s .. 's')
      end
      local vals = redis.call('HMGET', KEYS[3], unpack(fields))
      local c, f, sl = 0, 0, 0
      for i = 1, #vals, 3 do
        c = c + (tonumber(vals[i]) or 0)
        f = f + (tonumber(vals[i + 1]) or 0)
        sl = sl + (tonumber(vals[i + 2]) or 0)
      end
      local fppm = tonumber(ARGV[15])
      local sppm = tonumber(ARGV[16])
      if c > 0 and c >= tonumber(ARGV[14]) then
        if (fppm > 0 and f * 1000000 >= fppm * c) or (sppm > 0 and sl * 1000000 >= sppm * c) then
          enter(1)
        end
      end
    end
  end
end
