-- gate-open: opens one partition's intake gate, unless it has ever been closed.
-- Gates only move forward (absent -> 'open' -> 'closed|<point>'): an opener that lost a
-- race with a close must never reopen intake, so this refuses to write over a closed gate.
-- KEYS[1] gate (string: absent, 'open', or 'closed|<streamId>')
-- Reply: {1, 'open'} opened (or already open) | {0, gateValue} closed before: nothing written
local gate = redis.call('GET', KEYS[1])
if gate and string.sub(gate, 1, 7) == 'closed|' then
  return {0, gate}
end
if gate ~= 'open' then redis.call('SET', KEYS[1], 'open') end
return {1, 'open'}
