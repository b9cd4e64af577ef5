-- allocTags: take up to `count` free tags of one hctx (blk_mq_get_tags, batched).
-- KEYS[1] meta   hash  exists while the table exists; gen_base = generation of unused slots
-- KEYS[2] free   zset  free slot indexes, score = index
-- KEYS[3] slots  hash  slot index -> "gen:state:refs:status:hctx"
-- KEYS[4] stats  hash  counters: allocated, alloc_short
-- ARGV[1] lo     first slot index of the hctx's pool (0 with shared tags)
-- ARGV[2] hi     last slot index of the pool
-- ARGV[3] count  most tags to take (>= 1)
-- ARGV[4] hctx   the hctx taking them (recorded in the slot)
-- Returns {index, gen, index, gen, ...} lowest indexes first, possibly empty; or
-- -2 (NoTable) when the disk has no table.
-- Guarantees (Lua atomicity): each slot taken was IDLE and free, is now ALLOCATED with
-- gen + 1 and refs 1 (status kept from its last end), and is out of the free set; no two
-- callers get the same slot.

local meta, free, slots, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local hctx, want = tonumber(ARGV[4]), tonumber(ARGV[3])

local base = redis.call('HGET', meta, 'gen_base')
if not base then return -2 end

local ids = redis.call('ZRANGE', free, ARGV[1], ARGV[2], 'BYSCORE', 'LIMIT', 0, want)
if #ids < want then redis.call('HINCRBY', stats, 'alloc_short', 1) end
if #ids == 0 then return {} end
redis.call('HINCRBY', stats, 'allocated', #ids)
-- The taken ids are exactly the members scored lo..last: drop them in one call.
redis.call('ZREMRANGEBYSCORE', free, ARGV[1], ids[#ids])

local CHUNK = 1000
local out = {}
for i = 1, #ids, CHUNK do
  local j = math.min(i + CHUNK - 1, #ids)
  local recs = redis.call('HMGET', slots, unpack(ids, i, j))
  local writes = {}
  for k = 1, j - i + 1 do
    local id = ids[i + k - 1]
    local gen, status = tonumber(base), 0
    if recs[k] then
      local g, ss = string.match(recs[k], '^(%d+):%d+:%d+:(%d+):')
      gen, status = tonumber(g), tonumber(ss)
    end
    gen = gen + 1
    writes[#writes + 1] = id
    writes[#writes + 1] = string.format('%d:1:1:%d:%d', gen, status, hctx)
    out[#out + 1] = tonumber(id)
    out[#out + 1] = gen
  end
  redis.call('HSET', slots, unpack(writes))
end
return out
