-- Stores an entry unless it was invalidated moments ago (the answer may
-- predate the booking that caused the invalidation).
-- KEYS[1] entry, KEYS[2] marker; ARGV[1] encoded slots, ARGV[2] TTL in ms.
-- Returns 1 when stored, 0 when skipped.
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
