-- roll-lookup: one roll entry by a unique key or by credential hash, and the roll's size.
-- What vote submit (is the caller on the roll, with what weight?) and credential
-- sign-in (whose credential is this?) need, in one round trip.
-- KEYS[1] roll entries (hash voter id -> entry JSON)
-- KEYS[2] index to look in: roll unique keys, or active credentials
-- ARGV[1] the key in KEYS[2] ("s:<sub>", or a credential's SHA-256 hex)
-- Reply: {voters on the roll, voter id or '', entry JSON or ''}
local count = redis.call('HLEN', KEYS[1])
if count == 0 then return {0, '', ''} end
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then return {count, '', ''} end
return {count, id, redis.call('HGET', KEYS[1], id) or ''}
