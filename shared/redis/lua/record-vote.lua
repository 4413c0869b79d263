-- record-vote: a coordinator records its vote for a term, at most once (Raft's votedFor, made durable).
-- KEYS[1] vote key ({qv}:vote:<term>:<voter>)
-- ARGV[1] candidate id, ARGV[2] expiry in ms (votes of old terms need not live forever)
-- Reply: the candidate this node voted for in that term (equal to ARGV[1] when granted).
local ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if ok then return ARGV[1] end
return redis.call('GET', KEYS[1])
