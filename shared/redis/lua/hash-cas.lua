-- hash-cas: sets one hash field only if it still holds the expected value (compare-and-set).
-- Used for write-once public secret-ballot state (a trustee's commitments, sealed shares,
-- a complaint's answer, a decryption share): the first valid write wins, a repeat of the
-- same value is recognised, anything else is refused with what is there.
-- KEYS[1] hash
-- ARGV[1] field, ARGV[2] expected value ('' = the field must be absent), ARGV[3] new value
-- Reply: {1, new} written | {0, current} not written (current = '' when absent)
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then
  return {0, current}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return {1, ARGV[3]}
