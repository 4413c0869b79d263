-- login-throttle: admits one login attempt for a subject (a user name or a client
-- address) or refuses it while the subject backs off. Every admitted attempt is counted
-- before the password is checked, so parallel guesses cannot all slip in at once; a
-- success settles it afterwards (login-settle). From the `free`-th counted attempt on,
-- each one starts a back-off that doubles: base, 2*base, 4*base... up to max.
-- KEYS[1] throttle hash of the subject (fields: n = attempts counted, until = back-off end, ms)
-- ARGV[1] now (ms, the caller's clock: Lua never reads the clock)
-- ARGV[2] free attempts (the one that reaches it starts the first back-off)
-- ARGV[3] base back-off (ms)
-- ARGV[4] longest back-off (ms)
-- ARGV[5] how long the subject is remembered after its back-off ends (ms)
-- Reply: 0 when the attempt is admitted (and counted); else the ms left to wait (not counted).
local now = tonumber(ARGV[1])
local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now < untilMs then return untilMs - now end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local free = tonumber(ARGV[2])
local lock = 0
if n >= free then
  local steps = n - free
  if steps > 40 then steps = 40 end
  lock = math.min(tonumber(ARGV[3]) * (2 ^ steps), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'until', now + lock)
end
redis.call('PEXPIRE', KEYS[1], lock + tonumber(ARGV[5]))
return 0
