-- login-settle: settles a login attempt that login-throttle admitted (and counted in
-- advance), once its password check is done.
-- KEYS[1] throttle hash of the subject (fields n = attempts counted, until = back-off end, ms)
-- ARGV[1] 'failed': the back-off the count calls for starts now, when the (slow) check
--         ended, not when it was admitted; 'reset' (a user: a success ends the
--         back-off); 'refund' (an address: the attempt is uncounted, the back-off in
--         force stays)
-- ARGV[2] now (ms, the caller's clock), ARGV[3] free attempts, ARGV[4] base back-off (ms),
-- ARGV[5] longest back-off (ms), ARGV[6] how long the subject is remembered after it (ms)
--         (ARGV[2..6] are read for 'failed' only)
-- Reply: 1 when the hash changed, 0 when there was nothing to settle.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == 'reset' then
  redis.call('DEL', KEYS[1])
  return 1
end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if ARGV[1] == 'refund' then
  if n > 0 then
    redis.call('HINCRBY', KEYS[1], 'n', -1)
    return 1
  end
  return 0
end
local now = tonumber(ARGV[2])
local free = tonumber(ARGV[3])
if n < free then return 0 end
local steps = n - free
if steps > 40 then steps = 40 end
local lock = math.min(tonumber(ARGV[4]) * (2 ^ steps), tonumber(ARGV[5]))
local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now + lock > untilMs then
  redis.call('HSET', KEYS[1], 'until', now + lock)
  redis.call('PEXPIRE', KEYS[1], lock + tonumber(ARGV[6]))
end
return 1
