-- One rate-limit decision for one call, atomically, on one key.
-- KEYS[1]  the call's hash. Fields: exp = state expiry (ms), cd = cooldown
--          end (ms), and one field per limit bucket: a count (lifetime
--          limits) or the admitted times still in the window, as
--          space-separated ms (window limits; never more than the quota).
-- ARGV[1]  now in ms, or '' to use the server's TIME
-- ARGV[2]  idle TTL in ms; ARGV[3] cooldown in ms (0: none)
-- then per limit i, three values: window in ms (0: lifetime), quota, field
-- Returns {admitted, in_cooldown, cooldown_until, expires_at, now, used_1, oldest_1, ...}
-- where used_i counts before this request and oldest_i is -1 when unknown.
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local ttl = tonumber(ARGV[2])
local cooldown = tonumber(ARGV[3])
local meta = KEYS[1]
local n = (#ARGV - 3) / 3

local fields = {'exp', 'cd'}
for i = 1, n do
  fields[#fields + 1] = ARGV[3 + 3 * i]
end
local values = redis.call('HMGET', meta, unpack(fields))
local exp = tonumber(values[1] or '0')
local cd_until = tonumber(values[2] or '0')
local expired = exp ~= 0 and now >= exp
if expired then
  redis.call('DEL', meta)
  exp = 0
  cd_until = 0
end
local in_cd = cd_until > now

local used = {}
local oldest = {}
local logs = {}
local fits = true
for i = 1, n do
  local window = tonumber(ARGV[1 + 3 * i])
  local quota = tonumber(ARGV[2 + 3 * i])
  local raw = values[2 + i]
  if expired then
    raw = false
  end
  local u
  local o = -1
  if window > 0 then
    local log = {}
    if raw then
      for t in string.gmatch(raw, '%d+') do
        t = tonumber(t)
        if t + window > now then
          log[#log + 1] = t
          if o == -1 or t < o then
            o = t
          end
        end
      end
    end
    logs[i] = log
    u = #log
  else
    u = tonumber(raw or '0')
  end
  used[i] = u
  oldest[i] = o
  if u >= quota then
    fits = false
  end
end

local admitted = fits and not in_cd
if admitted then
  exp = now + ttl
  local update = {'exp', exp}
  for i = 1, n do
    update[#update + 1] = ARGV[3 + 3 * i]
    if tonumber(ARGV[1 + 3 * i]) > 0 then
      local log = logs[i]
      log[#log + 1] = now
      update[#update + 1] = table.concat(log, ' ')
    else
      update[#update + 1] = used[i] + 1
    end
  end
  redis.call('HSET', meta, unpack(update))
  redis.call('PEXPIRE', meta, ttl)
elseif not in_cd and cooldown > 0 then
  cd_until = now + cooldown
  if cd_until > exp then
    exp = cd_until
  end
  redis.call('HSET', meta, 'cd', cd_until, 'exp', exp)
  redis.call('PEXPIRE', meta, exp - now)
end

local reply = {admitted and 1 or 0, in_cd and 1 or 0, cd_until, exp, now}
for i = 1, n do
  reply[#reply + 1] = used[i]
  reply[#reply + 1] = oldest[i]
end
return reply
