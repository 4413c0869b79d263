-- election-transition: one fenced step of an election's lifecycle state machine
-- (draft -> open -> closed; closed is final). A step from a status to itself only
-- records fields (e.g. the intent to close, before the gates are closed).
-- KEYS[1] meta (hash), KEYS[2] leader fence of this election's slot
-- ARGV[1] leader term ('' for an admin's direct request: no fencing), ARGV[2] from status,
-- ARGV[3] to status, ARGV[4..] field/value pairs to record with the step (times and
-- points computed by the caller: Lua never reads the clock)
-- Reply: {1, status} moved | {0, currentStatus} not in the expected state (nothing written)
--        | {-1, newestTerm} fenced: a newer leader has written here
-- #include check-fence
if ARGV[1] ~= '' then
  local ok, current = check_fence(KEYS[2], ARGV[1])
  if not ok then return {-1, current} end
end
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0, 'missing'} end
if status ~= ARGV[2] then return {0, status} end
redis.call('HSET', KEYS[1], 'status', ARGV[3])
for i = 4, #ARGV - 1, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return {1, ARGV[3]}
