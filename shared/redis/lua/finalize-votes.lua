-- finalize-votes: the partition owner finalizes a batch, exactly once, fenced.
-- KEYS[1] fence (highest fencing token that finalized here)
-- KEYS[2] finalized (last finalized stream id)   KEYS[3] head (hash of last audit entry)
-- KEYS[4] tally (hash option -> count: the weights of the counted ballots that chose it)
-- KEYS[5] stats (hash finalized/rejected counts, entries = audit entries, head = their last hash)
-- KEYS[6] rejected (hash streamId -> reason)     KEYS[7] audit (stream)
-- ARGV[1] fencing token, ARGV[2] expected finalized id ('' none), ARGV[3] new finalized id,
-- ARGV[4] expected head ('' none), ARGV[5] new head, ARGV[6] finalizedAt (ISO),
-- ARGV[7] n entries, ARGV[8] the first entry's previous hash (the head, or the genesis hash),
-- ARGV[9] the first entry's sequence number in the partition's chain (1-based),
-- then n x 8: streamId, outcome ('counted'|'rejected'), option, receipt, reason, hash, ballotId,
-- weight ('' for 1: the entry gets no weight field, exactly as before weights)
-- The option of an open ballot is its recorded choice: one option id, or for a "choose up
-- to m" ballot the ids joined by ',' (shared/votes/ballot-choice.ts); a counted entry adds
-- its weight to each of them. Validators judged the choice; this script only counts it.
-- Reply: {1, n} | {0, 'fenced', currentToken} | {0, 'moved'} (someone else finalized: re-read)
--
-- Audit entries get stream ids "<ms of the last entry, 0 when none>-<auto>": no clock
-- time of a vote's finalization reaches the ids (and the public paging cursor built
-- from them). The fields `vote` (the private vote id's stream id) and `at` stay for the
-- operator's tools; GET /elections/{id}/audit never publishes them (docs/architecture.md
-- "Audit log encoding").
-- #include check-fence
-- #include finalize-checks
local refusal = finalize_refusal()
if refusal then
  return refusal
end
local n = tonumber(ARGV[7])
local prev = ARGV[8]
local seq = tonumber(ARGV[9])
local ms = audit_id_ms()
local counted, rejected = 0, 0
local tally = {}
for i = 0, n - 1 do
  local b = 10 + i * 8
  local sid, outcome, option, receipt, reason, hash, ballot, weight =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6], ARGV[b + 7]
  local entry = {'XADD', KEYS[7], ms .. '-*', 'seq', seq + i, 'ballot', ballot, 'receipt', receipt,
    'option', option, 'outcome', outcome, 'reason', reason, 'prev', prev, 'hash', hash,
    'vote', sid, 'at', ARGV[6]}
  if weight ~= '' then
    entry[#entry + 1] = 'weight'
    entry[#entry + 1] = weight
  end
  redis.call(unpack(entry))
  if outcome == 'counted' then
    counted = counted + 1
    local w = tonumber(weight) or 1
    for id in string.gmatch(option, '[^,]+') do
      tally[id] = (tally[id] or 0) + w
    end
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
redis.call('HINCRBY', KEYS[5], 'entries', n)
redis.call('HSET', KEYS[5], 'head', ARGV[5])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[5])
return {1, n}
