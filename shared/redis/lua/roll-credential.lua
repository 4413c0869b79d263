-- roll-credential: reissues or revokes the voting credential of one roll entry.
-- The old credential's hash leaves the active set in the same step, so from the reply
-- on it signs nobody in (tokens made from it are refused by their session version).
-- KEYS[1] roll entries (hash voter id -> entry JSON)
-- KEYS[2] active credentials (hash SHA-256 hex -> voter id)
-- ARGV[1] voter id, ARGV[2] 'reissue' | 'revoke', ARGV[3] new credential hash (reissue)
-- Reply: {'ok', entry JSON after} | {'missing'} no such voter | {'none'} the voter signs in
--        with an account (listed by username) and has no credential
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'missing'} end
local entry = cjson.decode(raw)
if entry['c'] == 'n' then return {'none'} end
if entry['h'] then redis.call('HDEL', KEYS[2], entry['h']) end
if ARGV[2] == 'reissue' then
  entry['h'] = ARGV[3]
  entry['c'] = 'a'
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
else
  entry['h'] = nil
  entry['c'] = 'r'
end
local out = cjson.encode(entry)
redis.call('HSET', KEYS[1], ARGV[1], out)
return {'ok', out}
