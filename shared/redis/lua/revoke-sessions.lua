-- revoke-sessions: ends every session of a token subject, and disables or re-enables it.
-- Tokens carry the subject's session version (claim sv, absent = 0); bumping the version
-- revokes every token issued before. Disabling also bumps it, so re-enabling later does
-- not bring old tokens back. Tokens of an external OpenID Connect issuer carry no sv:
-- for them the time of the last revoke/disable (field t) is what counts (issued at or
-- before it = revoked), so it is recorded too, and never moves back.
-- KEYS[1] revocation hash of the subject (fields v = session version, d = '1' while disabled,
--         t = time of the last revoke or disable, ms since the epoch)
-- ARGV[1] 'revoke' | 'disable' | 'enable'
-- ARGV[2] now, ms since the epoch (caller's clock; optional, for callers that predate it)
-- Reply: { session version, disabled (0/1) } after the change.
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if ARGV[1] == 'revoke' or ARGV[1] == 'disable' then
  version = redis.call('HINCRBY', KEYS[1], 'v', 1)
  local now = tonumber(ARGV[2] or '')
  if now and now > tonumber(redis.call('HGET', KEYS[1], 't') or '0') then
    redis.call('HSET', KEYS[1], 't', ARGV[2])
  end
end
if ARGV[1] == 'disable' then
  redis.call('HSET', KEYS[1], 'd', '1')
elseif ARGV[1] == 'enable' then
  redis.call('HDEL', KEYS[1], 'd')
end
local disabled = 0
if redis.call('HEXISTS', KEYS[1], 'd') == 1 then disabled = 1 end
return { version, disabled }
