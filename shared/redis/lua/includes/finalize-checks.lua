-- finalize_refusal(), audit_id_ms(): what every finalize script (finalize-votes,
-- finalize-secret-votes) checks before its first write and how it names its audit
-- entries. Both scripts share this layout of KEYS and ARGV:
--   KEYS[1] fence, KEYS[2] finalized, KEYS[3] head, KEYS[5] stats, KEYS[7] audit
--   ARGV[1] fencing token, ARGV[2] expected finalized id, ARGV[4] expected head,
--   ARGV[9] the first entry's sequence number
-- Needs check_fence (include check-fence first).
--
-- finalize_refusal() returns nil when the batch may be written, else the reply to give:
-- {0, 'fenced', currentToken} for a superseded owner, {0, 'moved'} when the partition
-- is no longer where the batch was computed from (someone else finalized, or a reset).
local function finalize_refusal()
  local ok, current = check_fence(KEYS[1], ARGV[1])
  if not ok then
    return {0, 'fenced', current}
  end
  if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] or (redis.call('GET', KEYS[3]) or '') ~= ARGV[4] then
    return {0, 'moved'}
  end
  if tonumber(redis.call('HGET', KEYS[5], 'entries') or '0') ~= tonumber(ARGV[9]) - 1 then
    return {0, 'moved'}
  end
  return nil
end

-- Audit entries get stream ids "<ms of the last entry, 0 when none>-<auto>": no clock
-- time of a vote's finalization reaches the ids (nor the public paging cursor).
local function audit_id_ms()
  local last = redis.call('XREVRANGE', KEYS[7], '+', '-', 'COUNT', 1)[1]
  return last and string.match(last[1], '^(%d+)-') or '0'
end
