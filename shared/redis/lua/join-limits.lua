-- join-limits: takes one join from a client address's bucket AND one from the
-- election's bucket, or from neither (token buckets as in rate-limit.lua: a burst of
-- `capacity`, refilled at one token per `interval`). Both buckets share the election's
-- join tag, so this is one atomic step: a join refused by either bucket moves nothing.
-- KEYS[1] the address's bucket for this election: hash {tokens, at}
-- KEYS[2] the election's bucket: hash {tokens, at}
-- ARGV[1] now (ms, the caller's clock: Lua never reads the clock)
-- ARGV[2] address capacity (0 = no address limit), ARGV[3] its refill interval (ms per token)
-- ARGV[4] election capacity (0 = no election limit), ARGV[5] its refill interval
-- Reply: {1, 0} taken from both; {0, wait ms until both have a token} refused.
local now = tonumber(ARGV[1])

local function level(key, capacity, interval)
  local b = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(b[1])
  local at = tonumber(b[2])
  if tokens == nil or at == nil then
    return capacity, now
  end
  -- Callers' clocks differ a little: never refill backwards.
  if now > at then
    return math.min(capacity, tokens + (now - at) / interval), now
  end
  return tokens, at
end

local buckets = {}
local wait = 0
for i = 1, 2 do
  local capacity = tonumber(ARGV[2 * i])
  local interval = tonumber(ARGV[2 * i + 1])
  if capacity > 0 then
    local tokens, at = level(KEYS[i], capacity, interval)
    buckets[#buckets + 1] = {KEYS[i], capacity, interval, tokens, at}
    if tokens < 1 then
      wait = math.max(wait, math.ceil((1 - tokens) * interval))
    end
  end
end
if wait > 0 then
  return {0, wait}
end
for _, b in ipairs(buckets) do
  local key, capacity, interval, tokens, at = b[1], b[2], b[3], b[4] - 1, b[5]
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(at))
  redis.call('PEXPIRE', key, math.ceil((capacity - tokens) * interval) + 1000)
end
return {1, 0}
