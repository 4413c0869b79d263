-- mutex-release: compare-and-delete; only the holder's token frees the lock.
--
-- KEYS[1]  lock key  `{tag}:lock`
-- ARGV[1]  token     the holder's random token
--
-- Reply:
--    1  released
--    0  not released: the lock is free (the lease expired)
--   -1  not released: another token holds the lock
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
if holder then
  return -1
end
return 0
