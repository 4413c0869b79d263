-- leader-renew: a leader's fenced write that claims or renews leadership.
-- KEYS[1] leader fence ({qv}:leader-fence): highest term that has written
-- KEYS[2] leader hash ({qv}:leader): id, term, since, renewedAt of the last leader
-- KEYS[3] leader lease ({qv}:leader-lease): id, term; expires ARGV[4] ms after each renewal
-- ARGV[1] term (fencing token), ARGV[2] leader id, ARGV[3] now (ms, caller's clock),
-- ARGV[4] lease length in ms (positive integer)
-- Reply: {1, term} when written; {0, newestTerm} when refused: a newer term has written,
-- or (newestTerm = term) another leader already holds this term. Either way the caller
-- must step down. At most one leader per term: a term's first writer keeps it.
-- #include check-fence
local term = ARGV[1]
local id = ARGV[2]
if not string.match(ARGV[4], '^%d+$') or tonumber(ARGV[4]) < 1 then
  return redis.error_reply('ERR leader-renew: lease must be a positive integer of ms')
end
local ok, current = check_fence(KEYS[1], term)
if not ok then
  return {0, current}
end
local recordTerm = redis.call('HGET', KEYS[2], 'term')
local recordId = redis.call('HGET', KEYS[2], 'id')
if recordTerm == term and recordId and recordId ~= id then
  return {0, tonumber(term)}
end
if recordTerm ~= term or recordId ~= id then
  redis.call('HSET', KEYS[2], 'id', id, 'term', term, 'since', ARGV[3])
end
redis.call('HSET', KEYS[2], 'renewedAt', ARGV[3])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'id', id, 'term', term)
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return {1, tonumber(term)}
