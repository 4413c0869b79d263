-- partition-reset: erases one partition's votes, verdicts, tally and audit chain in one
-- atomic step (an election reset; not allowed in production), and fences out every
-- finalize decided before it. A partition owner may hold a batch it planned from the
-- old log; its write expects the old "last finalized" id ('' when none), so the reset
-- leaves that id at the last vote the erased log held: the stale batch no longer
-- matches and is refused as moved, and the owner re-reads and goes on after that id
-- (new votes get later stream ids). Without it, a batch planned before the reset could
-- count an erased vote afterwards.
-- KEYS[1] votes (stream), KEYS[2] finalized (string), KEYS[3..] every other key to erase
-- Reply: the id the partition's "last finalized" was left at ('' when the log was empty)
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local point = (last and last[1]) or ''
for i = 1, #KEYS do
  redis.call('DEL', KEYS[i])
end
if point ~= '' then
  redis.call('SET', KEYS[2], point)
end
return point
