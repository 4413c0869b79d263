-- mutex-fenced-write: SET a key only for a current fencing token (check_fence). The
-- smallest complete example of a fenced write; leader-term writes use it as is.
--
-- KEYS[1]  fence key   string: highest token seen (e.g. `{tag}:lock-fence` of the
--                      mutex, a partition's `T:fence`, or `{qv}:leader-fence`)
-- KEYS[2]  target key  string to write; same hash tag as KEYS[1]
-- ARGV[1]  token       the writer's fencing token (non-negative integer)
-- ARGV[2]  value       the value to SET
--
-- Reply:
--   {1}                 written; the fence now holds max(fence, token)
--   {0, currentFence}   refused, nothing written: a newer token has been seen
-- #include check-fence
local ok, current = check_fence(KEYS[1], ARGV[1])
if not ok then
  return { 0, current }
end
redis.call('SET', KEYS[2], ARGV[2])
return { 1 }
