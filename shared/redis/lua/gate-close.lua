-- gate-close: closes one partition's intake gate for good and records its closing point:
-- the id of the last vote in the partition's log when intake stopped. The submit script
-- checks the gate atomically with its XADD in this slot, so no vote after the point can
-- be appended while the gate holds; validators and the finalizer judge a vote in the
-- window exactly when its stream id is at most the point.
-- KEYS[1] gate (string: absent, 'open', or 'closed|<streamId>'), KEYS[2] votes (stream)
-- ARGV[1] the closing point already recorded in the election's metadata ('' when none):
--         a gate whose closed state was lost (a master failover before replication) is
--         closed again at the recorded point, so every vote after it stays outside.
-- Reply: {1, point} closed now | {0, point} already closed: the point it recorded then
local gate = redis.call('GET', KEYS[1])
if gate and string.sub(gate, 1, 7) == 'closed|' then
  return {0, string.sub(gate, 8)}
end
local point = ARGV[1]
if point == '' then
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  point = (last[1] and last[1][1]) or '0-0'
end
redis.call('SET', KEYS[1], 'closed|' .. point)
return {1, point}
