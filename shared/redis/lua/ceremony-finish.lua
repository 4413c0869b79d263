-- ceremony-finish: closes a secret election's key ceremony, once, while it is a draft.
-- The qualified set, joint key and election hash are computed by the caller from the
-- public commitments and complaints (Lua cannot do group arithmetic); this script only
-- makes the outcome atomic and final.
-- KEYS[1] the election's meta hash
-- ARGV[1] expected ceremony state ('shares'), ARGV[2] new state ('done' | 'failed'),
-- then field/value pairs to set with it (jointKey, electionHash, qualified, complaints)
-- Reply: {1, new state} | {0, current state} (not a draft, or the ceremony moved on)
local state = redis.call('HGET', KEYS[1], 'ceremony') or ''
if state ~= ARGV[1] or redis.call('HGET', KEYS[1], 'status') ~= 'draft' then
  return {0, state}
end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HSET', KEYS[1], 'ceremony', ARGV[2])
return {1, ARGV[2]}
