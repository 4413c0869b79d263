-- rate-limit: fixed-window counter.
-- KEYS[1] counter key of the current window
-- ARGV[1] window length (ms)
-- Reply: the count in this window after this request.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
