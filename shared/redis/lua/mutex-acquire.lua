-- mutex-acquire: take a lock when it is free and issue the next fencing token of its
-- resource, in one step, so a token is issued only to an acquirer.
--
-- KEYS[1]  lock key       `{tag}:lock`        string: the holder's random token, PX ttl
-- KEYS[2]  fence counter  `{tag}:lock-fence`  string: the last fencing token issued
-- ARGV[1]  token          the acquirer's random token (one per acquire call)
-- ARGV[2]  ttl            lease length in milliseconds (positive integer)
--
-- Reply:
--   {1, fencingToken}  acquired; fencingToken is strictly greater than any issued
--                      before for this resource. A retry of the same call (same
--                      token) that finds the lock already its own gets the token it
--                      was issued and a fresh ttl, so acquire is idempotent.
--   {0, pttl}          held by another token; pttl = ms left on its lease
--                      (-1 when the key has no expiry)
local token = ARGV[1]
local ttl = ARGV[2]
if not string.match(ttl, '^[1-9]%d*$') then
  return redis.error_reply('ERR mutex-acquire: ttl must be a positive integer, got ' .. ttl)
end
if redis.call('SET', KEYS[1], token, 'NX', 'PX', ttl) then
  return { 1, redis.call('INCR', KEYS[2]) }
end
if redis.call('GET', KEYS[1]) == token then
  redis.call('PEXPIRE', KEYS[1], ttl)
  return { 1, tonumber(redis.call('GET', KEYS[2]) or '0') }
end
return { 0, redis.call('PTTL', KEYS[1]) }
