-- probe_result: a half-open probe's outcome; closes or reopens the breaker.
-- ARGV 6-9: lease id, lease generation, outcome (S, F or R), successes needed.
local granted = 0
if st == 2 and g == tonumber(ARGV[7]) and redis.call('ZREM', KEYS[2], ARGV[6]) == 1 then
  if ARGV[8] == 'S' then
    hs = hs + 1
    if hs >= tonumber(ARGV[9]) then
      re = 0
      enter(0)
    end
  elseif ARGV[8] == 'F' then
    re = re + 1
    enter(1)
  end
end
