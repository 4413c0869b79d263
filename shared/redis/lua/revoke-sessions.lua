-- revoke-sessions: ends every session of a token subject, and disables or re-enables it.
-- Tokens carry the subject's session version (claim sv, absent = 0); bumping the version
-- revokes every token issued before. Disabling also bumps it, so re-enabling later does
-- not bring old tokens back.
-- KEYS[1] revocation hash (fields v:<sub> = session version, d:<sub> = '1' while disabled)
-- KEYS[2] revocation version counter (verifiers re-read KEYS[1] when it moves)
-- ARGV[1] subject (the user id, the tokens' sub)
-- ARGV[2] 'revoke' | 'disable' | 'enable'
-- Reply: { session version, disabled (0/1) } after the change.
local vf = 'v:' .. ARGV[1]
local df = 'd:' .. ARGV[1]
local version = tonumber(redis.call('HGET', KEYS[1], vf) or '0')
if ARGV[2] == 'revoke' or ARGV[2] == 'disable' then
  version = redis.call('HINCRBY', KEYS[1], vf, 1)
end
if ARGV[2] == 'disable' then
  redis.call('HSET', KEYS[1], df, '1')
elseif ARGV[2] == 'enable' then
  redis.call('HDEL', KEYS[1], df)
end
redis.call('INCR', KEYS[2])
local disabled = 0
if redis.call('HEXISTS', KEYS[1], df) == 1 then disabled = 1 end
return { version, disabled }
