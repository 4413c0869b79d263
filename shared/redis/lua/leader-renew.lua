-- leader-renew: a leader's fenced write that claims or renews leadership.
-- KEYS[1] leader fence ({qv}:leader-fence): highest term that has written
-- KEYS[2] leader hash ({qv}:leader)
-- ARGV[1] term (fencing token), ARGV[2] leader id, ARGV[3] now (ms, caller's clock)
-- Reply: {1, term} when written; {0, newestTerm} when a newer term has written (caller must step down).
-- #include check-fence
local term = ARGV[1]
if not check_fence(KEYS[1], term) then
  return {0, tonumber(redis.call('GET', KEYS[1]))}
end
local current = redis.call('HGET', KEYS[2], 'term')
if current ~= ARGV[1] or redis.call('HGET', KEYS[2], 'id') ~= ARGV[2] then
  redis.call('HSET', KEYS[2], 'id', ARGV[2], 'term', ARGV[1], 'since', ARGV[3])
end
redis.call('HSET', KEYS[2], 'renewedAt', ARGV[3])
return {1, tonumber(term)}
