-- Drops an entry and marks it invalidated for a short while, so a fetch
-- already under way does not store its older answer.
-- KEYS[1] entry, KEYS[2] marker; ARGV[1] marker lifetime in ms. Returns 1.
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
