-- createTable: lay out the tag space of one disk (blk_mq_alloc_tag_set + blk_mq_init_tags),
-- or, in reshape mode, replace an idle table of another shape (blk_mq_update_nr_hw_queues).
-- KEYS[1] meta       hash  nr_hw_queues, queue_depth, shared_tags, recycle, gen_base
-- KEYS[2] free       zset  free slot indexes, score = index
-- KEYS[3] slots      hash  slot index -> "gen:state:refs:status:hctx"
-- KEYS[4] deadlines  zset  IN_FLIGHT slot indexes, score = deadline ms
-- KEYS[5] stats      hash  counters
-- ARGV[1] nr_hw_queues   ARGV[2] queue_depth   ARGV[3] shared_tags (0|1)   ARGV[4] recycle
-- ARGV[5] mode: 'create' or 'reshape'
-- Returns 1 when it laid a new table out, 2 when it replaced an idle one (reshape), 0 when
-- an identical table already exists; -1 (TableConfigMismatch) when a table of another
-- shape exists (create), -5 (TableBusy) when that table has a slot that is not IDLE
-- (reshape).
-- Guarantees (Lua atomicity): other clients see the old table or the complete new one,
-- every slot IDLE and free. A replaced table's generations are carried over as
-- gen_base, so no token of the old table ever names a request of the new one. Stats
-- survive a reshape; a fresh layout deletes leftovers of an older table first.

local meta, free, slots, deadlines, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local nr, depth, shared, recycle, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

local function slotCount(n, d, sh)
  if sh == '1' then return tonumber(d) end
  return tonumber(d) * tonumber(n)
end

local genBase = 0
local have = redis.call('HMGET', meta, 'nr_hw_queues', 'queue_depth', 'shared_tags', 'recycle', 'gen_base')
local result = 1
if have[1] then
  if have[1] == nr and have[2] == depth and have[3] == shared and have[4] == recycle then
    return 0
  end
  if mode ~= 'reshape' then return -1 end
  -- The free set holds exactly the IDLE slots: all free means the table is idle.
  if redis.call('ZCARD', free) ~= slotCount(have[1], have[2], have[3]) then return -5 end
  genBase = tonumber(have[5] or '0')
  local recs = redis.call('HVALS', slots)
  for _, rec in ipairs(recs) do
    local g = tonumber(string.match(rec, '^(%d+):'))
    if g > genBase then genBase = g end
  end
  redis.call('DEL', free, slots, deadlines)
  result = 2
else
  redis.call('DEL', free, slots, deadlines, stats)
end

redis.call('HSET', meta, 'nr_hw_queues', nr, 'queue_depth', depth, 'shared_tags', shared,
  'recycle', recycle, 'gen_base', genBase)

local count = slotCount(nr, depth, shared)
local CHUNK = 2000
local args = {}
for i = 0, count - 1 do
  args[#args + 1] = i
  args[#args + 1] = i
  if #args >= CHUNK or i == count - 1 then
    redis.call('ZADD', free, unpack(args))
    args = {}
  end
end
return result
