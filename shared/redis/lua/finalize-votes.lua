-- finalize-votes: the partition owner finalizes a batch, exactly once, fenced.
-- KEYS[1] fence (highest fencing token that finalized here)
-- KEYS[2] finalized (last finalized stream id)   KEYS[3] head (hash of last audit entry)
-- KEYS[4] tally (hash option -> count)           KEYS[5] stats (hash finalized/rejected)
-- KEYS[6] rejected (hash streamId -> reason)     KEYS[7] audit (stream)
-- ARGV[1] fencing token, ARGV[2] expected finalized id ('' none), ARGV[3] new finalized id,
-- ARGV[4] expected head ('' none), ARGV[5] new head, ARGV[6] finalizedAt (ISO),
-- ARGV[7] n entries, ARGV[8] the first entry's previous hash (the head, or the genesis hash),
-- then n x 6: streamId, outcome ('counted'|'rejected'), option, receipt, reason, hash
-- Reply: {1, n} | {0, 'fenced', currentToken} | {0, 'moved'} (someone else finalized: re-read)
-- #include check-fence
local ok, current = check_fence(KEYS[1], ARGV[1])
if not ok then
  return {0, 'fenced', current}
end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] or (redis.call('GET', KEYS[3]) or '') ~= ARGV[4] then
  return {0, 'moved'}
end
local n = tonumber(ARGV[7])
local prev = ARGV[8]
local counted, rejected = 0, 0
local tally = {}
for i = 0, n - 1 do
  local b = 9 + i * 6
  local sid, outcome, option, receipt, reason, hash =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  redis.call('XADD', KEYS[7], '*', 'vote', sid, 'receipt', receipt, 'option', option, 'outcome', outcome,
    'reason', reason, 'prev', prev, 'hash', hash, 'at', ARGV[6])
  if outcome == 'counted' then
    counted = counted + 1
    tally[option] = (tally[option] or 0) + 1
  else
    rejected = rejected + 1
    redis.call('HSET', KEYS[6], sid, reason)
  end
  prev = hash
end
for option, c in pairs(tally) do
  redis.call('HINCRBY', KEYS[4], option, c)
end
if counted > 0 then redis.call('HINCRBY', KEYS[5], 'finalized', counted) end
if rejected > 0 then redis.call('HINCRBY', KEYS[5], 'rejected', rejected) end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[5])
return {1, n}
