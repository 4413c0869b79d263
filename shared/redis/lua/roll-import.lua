-- roll-import: adds voters to an election's roll, all or nothing.
-- Refuses the whole import when the election is closed or any voter's unique key
-- (email, external id, username, sub) is already on the roll.
-- KEYS[1] election record (hash {el:<id>}:meta, field status)
-- KEYS[2] roll entries (hash voter id -> entry JSON)
-- KEYS[3] roll order (sorted set sequence -> voter id)
-- KEYS[4] roll unique keys (hash key -> voter id)
-- KEYS[5] active credentials (hash SHA-256 hex -> voter id)
-- ARGV[1] JSON array, one item per voter: [voter id, entry JSON, credential hash or '', unique key...]
-- Reply: {'ok', voters on the roll now} | {'missing'} no such election | {'closed'} |
--        {'dup', index, key, index, key...} (1-based item index and the key already taken)
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status == 'closed' then return {'closed'} end
local items = cjson.decode(ARGV[1])
local dups = {'dup'}
for i, item in ipairs(items) do
  for k = 4, #item do
    if redis.call('HEXISTS', KEYS[4], item[k]) == 1 then
      dups[#dups + 1] = i
      dups[#dups + 1] = item[k]
    end
  end
end
if #dups > 1 then return dups end
local base = redis.call('HLEN', KEYS[2])
for i, item in ipairs(items) do
  local id = item[1]
  redis.call('HSET', KEYS[2], id, item[2])
  redis.call('ZADD', KEYS[3], base + i, id)
  for k = 4, #item do redis.call('HSET', KEYS[4], item[k], id) end
  if item[3] ~= '' then redis.call('HSET', KEYS[5], item[3], id) end
end
return {'ok', base + #items}
