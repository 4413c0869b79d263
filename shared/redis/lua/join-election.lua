-- join-election: records that an identity joined a code-access election, within its cap.
-- KEYS[1] joined (set of the identities that joined the election)
-- ARGV[1] identity (the joined device's sub), ARGV[2] cap (most identities; 0 = no cap)
-- Reply: 1 joined now | 0 had joined before (nothing changes) | -1 refused: the election
-- is full. Atomic, so the cap holds exactly however many join at once, and the set's
-- size is the exact `joined` count.
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return 0
end
local cap = tonumber(ARGV[2])
if cap > 0 and redis.call('SCARD', KEYS[1]) >= cap then
  return -1
end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
