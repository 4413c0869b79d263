-- check_fence(fence_key, token): the fencing rule shared by every owner-only or
-- leader-only write (ARCHITECTURE invariant 3; PROTOCOL "Finalize", "Leader").
--
--   fence_key  a string key holding the highest token seen in this slot (missing = 0)
--   token      a non-negative integer (ARGV string or Lua number): a mutex fencing
--              token or a Raft term
--
-- Returns true when token >= the stored fence, recording token as the new fence when
-- it is higher. Returns false, current_fence when token is older: the caller has been
-- superseded and must write nothing. Raises an error reply (the script aborts before
-- any write) when token is not an integer or the stored fence is corrupt.
--
-- Call it before the first write of a script, so a refusal leaves no partial state.
local function check_fence(fence_key, token)
  local text = tostring(token)
  -- 15 digits keep the value exact in Lua's doubles (< 2^53).
  if not string.match(text, '^%d+$') or #text > 15 then
    error({ err = 'ERR check_fence: token must be a non-negative integer, got ' .. text })
  end
  local wanted = tonumber(text)
  local stored = redis.call('GET', fence_key)
  local current = 0
  if stored then
    current = tonumber(stored)
    if current == nil then
      error({ err = 'ERR check_fence: fence key ' .. fence_key .. ' holds a non-number' })
    end
  end
  if wanted < current then
    return false, current
  end
  if wanted > current then
    redis.call('SET', fence_key, string.format('%.0f', wanted))
  end
  return true, wanted
end
