-- rate-limit: token bucket (a burst of `capacity`, refilled at one token per `interval`).
-- KEYS[1] the bucket: hash {tokens, at}
-- ARGV[1] now (ms, the caller's clock: Lua never reads the clock)
-- ARGV[2] capacity (tokens; also the initial fill)
-- ARGV[3] refill interval (ms per token, may be fractional)
-- ARGV[4] cost (tokens this request takes)
-- Reply: {1, 0} when taken; {0, wait ms until `cost` tokens are there} when refused.
-- A refused request takes nothing, so a client that keeps hammering is not locked out
-- for longer than its own excess; the key expires once the bucket would be full again.
local now = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
-- Callers' clocks differ a little: never refill backwards.
if now > at then
  tokens = math.min(capacity, tokens + (now - at) / interval)
  at = now
end
local taken = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  taken = 1
else
  wait = math.ceil((cost - tokens) * interval)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * interval) + 1000)
return {taken, wait}
