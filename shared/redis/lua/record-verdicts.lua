-- record-verdicts: a validator's verdict on a whole range of a partition's vote log.
-- Instead of one write per vote, the validator moves its checkpoint: "I have judged
-- every vote up to this stream id, and approve all of them except these objections".
-- KEYS[1] checkpoints (hash validator -> last judged stream id)
-- KEYS[2] objections  (hash "<validator>|<streamId>" -> reason)
-- KEYS[3] owner-waiting flag (string: set while the partition's owner waits for verdicts)
-- KEYS[4] wake        (sharded pub/sub channel of the partition, same slot)
-- ARGV[1] validator id, ARGV[2] expected current checkpoint ('' when none yet),
-- ARGV[3] new checkpoint, ARGV[4..] pairs of (streamId, reason) it rejects
-- Reply: {1, newCheckpoint} | {0, currentCheckpoint} when the expectation is stale
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then
  return {0, current}
end
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[1] .. '|' .. ARGV[i], ARGV[i + 1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
-- Push, not poll: wake the owner if it read the checkpoints and waits (it set the flag
-- before that read, so a verdict is either in its read or sees the flag).
if redis.call('DEL', KEYS[3]) == 1 then
  redis.call('SPUBLISH', KEYS[4], 'judged')
end
return {1, ARGV[3]}
