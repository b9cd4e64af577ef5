-- allocAndQueue: give tags to the first requests of a list (blk_mq_get_tags, batched),
-- stage their payloads and append them as one batch to the hctx's batch queue, in one
-- step (allocTags + pushBatch without a round trip between them).
-- KEYS[1] meta    hash  exists while the table exists; gen_base = generation of unused slots
-- KEYS[2] free    zset  free slot indexes, score = index
-- KEYS[3] slots   hash  slot index -> "gen:state:refs:status:hctx"
-- KEYS[4] stats   hash  counters: allocated, alloc_short
-- KEYS[5] wait    list  the batch queue's waiting messages
-- KEYS[6] marker  zset  the batch queue's marker
-- KEYS[7] data    hash  request-data fields "hctx:tag:gen" -> payload
-- ARGV[1] lo      first slot index of the hctx's pool (0 with shared tags)
-- ARGV[2] hi      last slot index of the pool
-- ARGV[3] hctx    the hctx taking the tags (recorded in the slot)
-- ARGV[4] head    the message up to its request list: "<id> {...,"rqs":["
-- ARGV[5] tail    the message after its request list: "]}"
-- ARGV[6] count   requests in the list (>= 1)
-- ARGV[7..] per request: op, sector, bytes, flags, payload ("" for none)
-- Returns {index, gen, ...} for the first k requests, lowest free indexes first, k >= 0
-- (the rest got no tag and are not queued); or -2 (NoTable) when the disk has no table.
-- Guarantees (Lua atomicity): what allocTags guarantees for the slots taken; the batch
-- message lists exactly the k requests that got tags, as [tag, gen, op, sector, bytes,
-- flags], and is queued (marker set) only with their payloads already staged.

local meta, free, slots, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local lo, hctx, want = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[6])

local base = redis.call('HGET', meta, 'gen_base')
if not base then return -2 end

local ids = redis.call('ZRANGE', free, ARGV[1], ARGV[2], 'BYSCORE', 'LIMIT', 0, want)
if #ids < want then redis.call('HINCRBY', stats, 'alloc_short', 1) end
if #ids == 0 then return {} end
redis.call('HINCRBY', stats, 'allocated', #ids)
redis.call('ZREMRANGEBYSCORE', free, ARGV[1], ids[#ids])

local CHUNK = 1000
local out, items, staged = {}, {}, {}
for i = 1, #ids, CHUNK do
  local j = math.min(i + CHUNK - 1, #ids)
  local recs = redis.call('HMGET', slots, unpack(ids, i, j))
  local writes = {}
  for k = 1, j - i + 1 do
    local n = i + k - 1
    local id = ids[n]
    local gen, status = tonumber(base), 0
    if recs[k] then
      local g, ss = string.match(recs[k], '^(%d+):%d+:%d+:(%d+):')
      gen, status = tonumber(g), tonumber(ss)
    end
    gen = gen + 1
    local tag = tonumber(id) - lo
    writes[#writes + 1] = id
    writes[#writes + 1] = string.format('%d:1:1:%d:%d', gen, status, hctx)
    out[#out + 1] = tonumber(id)
    out[#out + 1] = gen
    local a = 6 + (n - 1) * 5
    items[n] = string.format('[%d,%d,%s,%s,%s,%s]', tag, gen, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4])
    if ARGV[a + 5] ~= '' then
      staged[#staged + 1] = string.format('%d:%d:%d', hctx, tag, gen)
      staged[#staged + 1] = ARGV[a + 5]
    end
  end
  redis.call('HSET', slots, unpack(writes))
end
for i = 1, #staged, 2 * CHUNK do
  redis.call('HSET', KEYS[7], unpack(staged, i, math.min(i + 2 * CHUNK - 1, #staged)))
end
redis.call('RPUSH', KEYS[5], ARGV[4] .. table.concat(items, ',') .. ARGV[5])
redis.call('ZADD', KEYS[6], 0, 'm')
return out
