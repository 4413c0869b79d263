-- register-voter-key: puts a voter's Ed25519 public key on a secret election's roll.
-- One key per voter and one voter per key, for good: a registered key never changes.
-- KEYS[1] roll (hash voter -> JSON {alias, publicKey})
-- KEYS[2] roll keys (hash publicKey -> voter)
-- ARGV[1] voter, ARGV[2] public key (hex), ARGV[3] the roll entry JSON to store if new
-- Reply: {'ok', entry} registered now | {'same', entry} already this voter's key |
--        {'mismatch', entry} the voter has another key | {'taken', ''} another voter's key
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then
    return {'same', existing}
  end
  return {'mismatch', existing}
end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
  return {'taken', ''}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return {'ok', ARGV[3]}
