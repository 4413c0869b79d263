-- login-settle: settles an admitted login attempt that turned out right (login-throttle
-- counted it in advance).
-- KEYS[1] throttle hash of the subject (fields n, until)
-- ARGV[1] 'reset' (a user: a success ends the back-off) or 'refund' (an address: the
--         attempt is uncounted, the back-off in force stays)
-- Reply: 1 when the hash changed, 0 when there was nothing to settle.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == 'reset' then
  redis.call('DEL', KEYS[1])
  return 1
end
if tonumber(redis.call('HGET', KEYS[1], 'n') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'n', -1)
  return 1
end
return 0
