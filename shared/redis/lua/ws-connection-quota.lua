-- ws-connection-quota: admits a WebSocket connection if its user holds fewer than `max`.
-- KEYS[1] the user's live connections: sorted set connectionId -> expiry (ms)
-- ARGV[1] now (ms, the caller's clock: Lua never reads the clock)
-- ARGV[2] connection id, ARGV[3] its expiry (ms), ARGV[4] max connections per user
-- Reply: 1 when admitted (and recorded), 0 when the user is at the limit.
-- Members past their expiry (a connection whose $disconnect never ran) no longer count.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3], 'GT')
redis.call('PEXPIREAT', KEYS[1], ARGV[3], 'NX')
return 1
