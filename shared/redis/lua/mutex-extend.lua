-- mutex-extend: compare-and-extend; only the holder's token renews the lease. An
-- expired lock is never revived: someone else may have held it since.
--
-- KEYS[1]  lock key  `{tag}:lock`
-- ARGV[1]  token     the holder's random token
-- ARGV[2]  ttl       new lease length in milliseconds, from now (positive integer)
--
-- Reply:
--    1  extended
--    0  not extended: the lock is free (the lease expired)
--   -1  not extended: another token holds the lock
local ttl = ARGV[2]
if not string.match(ttl, '^[1-9]%d*$') then
  return redis.error_reply('ERR mutex-extend: ttl must be a positive integer, got ' .. ttl)
end
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 1
end
if holder then
  return -1
end
return 0
