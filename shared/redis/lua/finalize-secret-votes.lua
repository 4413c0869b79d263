-- finalize-secret-votes: finalize-votes for a secret-ballot election: the partition
-- owner finalizes a batch exactly once, fenced, and in the same atomic step moves the
-- partition's running encrypted tally from the value it computed from to the new one
-- (compare-and-set: the caller adds the points in JS, Lua cannot).
-- KEYS[1] fence   KEYS[2] finalized   KEYS[3] head   KEYS[4] etally (JSON running tally)
-- KEYS[5] stats   KEYS[6] rejected    KEYS[7] audit (stream)
-- ARGV[1] fencing token, ARGV[2] expected finalized id ('' none), ARGV[3] new finalized id,
-- ARGV[4] expected head ('' none), ARGV[5] new head, ARGV[6] finalizedAt (ISO),
-- ARGV[7] n entries, ARGV[8] the first entry's previous hash, ARGV[9] its sequence number,
-- ARGV[10] expected running tally ('' none yet), ARGV[11] new running tally,
-- then n x 9: streamId, outcome, tracker, reason, hash, ballotId, ballot JSON,
-- running tally after this entry (JSON), publicKey
-- Reply: {1, n} | {0, 'fenced', currentToken} | {0, 'moved'} (someone else finalized: re-read)
-- #include check-fence
-- #include finalize-checks
local refusal = finalize_refusal()
if refusal then
  return refusal
end
if (redis.call('GET', KEYS[4]) or '') ~= ARGV[10] then
  return {0, 'moved'}
end
local n = tonumber(ARGV[7])
local prev = ARGV[8]
local seq = tonumber(ARGV[9])
local ms = audit_id_ms()
local counted, rejected = 0, 0
for i = 0, n - 1 do
  local b = 12 + i * 9
  local sid, outcome, tracker, reason, hash, ballot, cast, tally, key =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6], ARGV[b + 7], ARGV[b + 8]
  redis.call('XADD', KEYS[7], ms .. '-*', 'seq', seq + i, 'ballot', ballot, 'receipt', tracker,
    'option', '', 'outcome', outcome, 'reason', reason, 'prev', prev, 'hash', hash,
    'vote', sid, 'at', ARGV[6], 'publicKey', key, 'cast', cast, 'tally', tally)
  if outcome == 'counted' then
    counted = counted + 1
  else
    rejected = rejected + 1
    redis.call('HSET', KEYS[6], sid, reason)
  end
  prev = hash
end
if counted > 0 then redis.call('HINCRBY', KEYS[5], 'finalized', counted) end
if rejected > 0 then redis.call('HINCRBY', KEYS[5], 'rejected', rejected) end
redis.call('HINCRBY', KEYS[5], 'entries', n)
redis.call('HSET', KEYS[5], 'head', ARGV[5])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[5])
redis.call('SET', KEYS[4], ARGV[11])
return {1, n}
