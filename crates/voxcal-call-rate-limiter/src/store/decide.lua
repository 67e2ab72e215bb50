-- One rate-limit decision for one call, atomically, on one key. Kept lean:
-- at most one TIME, one HMGET, one HSET and one PEXPIRE per decision (and
-- a DEL when the stored state has outlived its expiry).
-- KEYS[1]  the call's hash. Fields: exp = state expiry (ms), cd = cooldown
--          end (ms), and one field per limit bucket: a count (lifetime
--          limits) or the admitted times still in the window (window limits;
--          never more than the quota), oldest first, each 13 zero-padded
--          digits of ms (times before the year 2286), separated by one space,
--          so the log is read by offset without splitting it.
-- ARGV[1]  now in ms, or '' to use the server's TIME
-- ARGV[2]  idle TTL in ms; ARGV[3] cooldown in ms (0: none)
-- then per limit i, three values: window in ms (0: lifetime), quota, field
-- Returns {admitted, in_cooldown, cooldown_until, expires_at, now, used_1, oldest_1, ...}
-- where used_i counts before this request and oldest_i is -1 when unknown.
local now = ARGV[1]
if now == '' then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
else
  now = tonumber(now)
end
local key = KEYS[1]
local n = (#ARGV - 3) / 3
local sub = string.sub

local values
if n == 1 then
  values = redis.call('HMGET', key, 'exp', 'cd', ARGV[6])
elseif n == 2 then
  values = redis.call('HMGET', key, 'exp', 'cd', ARGV[6], ARGV[9])
elseif n == 3 then
  values = redis.call('HMGET', key, 'exp', 'cd', ARGV[6], ARGV[9], ARGV[12])
else
  local fields = {'exp', 'cd'}
  for i = 1, n do
    fields[i + 2] = ARGV[3 + 3 * i]
  end
  values = redis.call('HMGET', key, unpack(fields))
end
local exp = tonumber(values[1]) or 0
local cd_until = tonumber(values[2]) or 0
local expired = exp ~= 0 and now >= exp
if expired then
  redis.call('DEL', key)
  exp = 0
  cd_until = 0
end
local in_cd = cd_until > now

-- reply: 5 header values, then (used, oldest) per limit; kept[i] is the
-- unexpired part of a window log (nil for lifetime limits).
local reply = {0, 0, 0, 0, now}
local kept = {}
local fits = true
for i = 1, n do
  local base = 3 * i
  local window = tonumber(ARGV[base + 1])
  local raw = values[2 + i]
  if expired then
    raw = false
  end
  local used
  local oldest = -1
  if window > 0 then
    if raw and raw ~= '' then
      local len = #raw
      local pos = 1
      local t = tonumber(sub(raw, 1, 13))
      while t + window <= now do
        pos = pos + 14
        if pos > len then
          break
        end
        t = tonumber(sub(raw, pos, pos + 12))
      end
      if pos > len then
        used = 0
        kept[i] = ''
      else
        used = (len - pos + 2) / 14
        oldest = t
        if pos == 1 then
          kept[i] = raw
        else
          kept[i] = sub(raw, pos)
        end
      end
    else
      used = 0
      kept[i] = ''
    end
  else
    used = tonumber(raw) or 0
  end
  reply[4 + 2 * i] = used
  reply[5 + 2 * i] = oldest
  if used >= tonumber(ARGV[base + 2]) then
    fits = false
  end
end

local admitted = fits and not in_cd
if admitted then
  local ttl = tonumber(ARGV[2])
  exp = now + ttl
  local stamp = string.format('%013d', now)
  local update = {'exp', exp}
  for i = 1, n do
    update[2 * i + 1] = ARGV[3 + 3 * i]
    local log = kept[i]
    if log == nil then
      update[2 * i + 2] = reply[4 + 2 * i] + 1
    elseif log == '' then
      update[2 * i + 2] = stamp
    else
      update[2 * i + 2] = log .. ' ' .. stamp
    end
  end
  redis.call('HSET', key, unpack(update))
  redis.call('PEXPIRE', key, ttl)
elseif not in_cd then
  local cooldown = tonumber(ARGV[3])
  if cooldown > 0 then
    cd_until = now + cooldown
    if cd_until > exp then
      exp = cd_until
    end
    redis.call('HSET', key, 'cd', cd_until, 'exp', exp)
    redis.call('PEXPIRE', key, exp - now)
  end
end

reply[1] = admitted and 1 or 0
reply[2] = in_cd and 1 or 0
reply[3] = cd_until
reply[4] = exp
return reply
