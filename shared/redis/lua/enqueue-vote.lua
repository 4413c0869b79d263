-- enqueue-vote: takes one vote into its partition, atomically (the submit path's only write).
-- KEYS[1] gate      (string: 'open' while intake is open)
-- KEYS[2] eligible  (set of eligible voters of this partition; used when ARGV[6] == '1')
-- KEYS[3] voters    (hash voter -> "<streamId>|<idempotencyKey>|<requestHash>|<receipt>")
-- KEYS[4] votes     (stream: the partition's vote log)
-- KEYS[5] validators-waiting flag (string: set while a validator waits for the next vote)
-- KEYS[6] wake      (sharded pub/sub channel of the partition, same slot)
-- ARGV[1] voter id, ARGV[2] option id (or ballot), ARGV[3] receipt,
-- ARGV[4] idempotency key ('' when none), ARGV[5] acceptedAt (ms, caller's clock),
-- ARGV[6] '1' when the election is restricted to listed voters,
-- ARGV[7] request hash (hex, binds the idempotency key to the choice; '' when no key),
-- ARGV[8] the vote's weight as decimal digits, '' for weight 1 (absent: the same)
-- Reply: {'ok', streamId, receipt} new vote | {'dup', streamId, receipt} same idempotency key
--        and same request | {'err', code} with code election_not_open | not_eligible |
--        already_voted | idempotency_key_reused (same key, another request)
-- A retry with the same key gets its vote back, even after the election closed.
local existing = redis.call('HGET', KEYS[3], ARGV[1])
if existing then
  local sid, idem, hash, receipt = string.match(existing, '^([^|]*)|([^|]*)|([0-9a-f]*)|(.*)$')
  if not sid then -- a record written before request hashes: no hash to compare
    sid, idem, receipt = string.match(existing, '^([^|]*)|([^|]*)|(.*)$')
    hash = ''
  end
  if ARGV[4] ~= '' and idem == ARGV[4] then
    if hash ~= '' and hash ~= ARGV[7] then
      return {'err', 'idempotency_key_reused'}
    end
    -- Rewrite the record unchanged: a write on the caller's connection, so that its WAIT
    -- covers a point of the replication stream past the original vote (a retry of a vote
    -- answered 503 must learn whether a replica has it now).
    redis.call('HSET', KEYS[3], ARGV[1], existing)
    return {'dup', sid, receipt}
  end
  return {'err', 'already_voted'}
end
if redis.call('GET', KEYS[1]) ~= 'open' then
  return {'err', 'election_not_open'}
end
if ARGV[6] == '1' and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then
  return {'err', 'not_eligible'}
end
-- One packed field (see shared/votes/vote-log.ts): option|receipt|acceptedAt|voter, and
-- a weight field only for a weighted vote, so a weight-1 entry stays as it always was.
local packed = ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[5] .. '|' .. ARGV[1]
local sid
if ARGV[8] and ARGV[8] ~= '' then
  sid = redis.call('XADD', KEYS[4], '*', 'v', packed, 'w', ARGV[8])
else
  sid = redis.call('XADD', KEYS[4], '*', 'v', packed)
end
redis.call('HSET', KEYS[3], ARGV[1], sid .. '|' .. ARGV[4] .. '|' .. ARGV[7] .. '|' .. ARGV[3])
-- Push, not poll: wake the validators that read this log empty and wait (they set the
-- flag before that read, so a vote is either in their read or sees the flag). One notice
-- per wait, not per vote: busy validators read on without a flag and get none.
if redis.call('DEL', KEYS[5]) == 1 then
  redis.call('SPUBLISH', KEYS[6], 'votes')
end
return {'ok', sid, ARGV[3]}
