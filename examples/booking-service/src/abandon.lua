-- Gives a booking claim back: deletes KEYS[1] only while it still holds a
-- pending marker ("pending:<token>"), never a stored booking ("done:<id>").
if string.sub(redis.call('GET', KEYS[1]) or '', 1, 8) == 'pending:' then
  return redis.call('DEL', KEYS[1])
end
return 0
