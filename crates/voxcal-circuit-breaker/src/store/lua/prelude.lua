-- The start of every breaker script: reads the state (creating it if
-- missing) and defines the helpers.
-- KEYS: state hash, probe leases, time-window buckets.
-- ARGV 1-5: consecutive failure limit, open ms, backoff multiplier, max open
-- ms, state TTL ms. The last three ARGV (after each script's own): the
-- time (see below), the event channel and the name published on it (see
-- epilogue.lua).
-- The third-to-last ARGV: the time in ms to use, or -1 for the server's
-- TIME (the default; a store with an injected clock sends its time).
local now = tonumber(ARGV[#ARGV - 2])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cf_max = tonumber(ARGV[1])
local open_ms = tonumber(ARGV[2])
local mult = tonumber(ARGV[3])
local max_ms = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'st', 'g', 'until', 're', 'ft', 'rs', 'hs')
local fresh = (h[1] == false)
local st = tonumber(h[1]) or 0
local g = tonumber(h[2]) or 1
local untl = tonumber(h[3]) or 0
local re = tonumber(h[4]) or 0
local ft = tonumber(h[5]) or 0
local rs = tonumber(h[6]) or 0
local hs = tonumber(h[7]) or 0
local g0 = g
local ft0 = ft
local chan = ARGV[#ARGV - 1]
local pname = ARGV[#ARGV]
local function open_for(r)
  local d = open_ms * (mult ^ r)
  if d > max_ms then d = max_ms end
  if d < open_ms then d = open_ms end
  return math.floor(d)
end
local function enter(s)
  st = s
  g = g + 1
  ft = 0
  rs = 0
  hs = 0
  redis.call('DEL', KEYS[2], KEYS[3])
  if s == 1 then untl = now + open_for(re) end
end
local function trip_if(trip_gen)
  if trip_gen >= 0 and st == 0 and (fresh or g == trip_gen) then enter(1) end
end
