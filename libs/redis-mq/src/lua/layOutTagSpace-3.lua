-- layOutTagSpace: record the tag space of one disk (blk_mq_alloc_tag_set), or replace it
-- with another shape while no owner holds a tag of it (blk_mq_update_nr_hw_queues on a
-- frozen queue).
-- KEYS[1] meta    hash  nr_hw_queues, queue_depth, shared_tag_bitmap, recycle, tag_set
-- KEYS[2] budget  hash  used:<pool> tags held by all owners (queueBatch-6.lua)
-- KEYS[3] owners  zset  live owner epochs, score = lease expiry (registerOwner-2.lua)
-- ARGV[1] nr_hw_queues   ARGV[2] queue_depth   ARGV[3] shared_tag_bitmap (0|1)   ARGV[4] recycle
-- ARGV[5] tag_set  'own' (the budget above; also when absent) or 'shared' (the shared tag
--                  set, shared_tags, I15)
-- ARGV[6] now (ms since the epoch) when the disk is frozen (I14): replacing then also
--         waits until no owner's lease runs past `now`, since an owner may hold a request
--         that holds no budget (waiting for a tag, or requeued) and would send it on the
--         old shape; each owner of a frozen disk unregisters once it drained. '' otherwise
--         (power on: only the budget counts).
-- Returns 1 when it laid the shape out, 2 when it replaced another shape, 0 when the same
-- shape is there already; -5 (TableBusy) when another shape is there and some pool's
-- `used` is above 0, or (with ARGV[6]) some owner is live.
-- Guarantees (Lua atomicity): owners see the old shape or the new one, never a mix; a
-- shape is never replaced under a held tag. Cost: one HMGET, one HGETALL and one ZCOUNT
-- when the shape changes, one HSET.

local meta, budget, owners = KEYS[1], KEYS[2], KEYS[3]
local tagSet = ARGV[5] or 'own'
if tagSet == '' then tagSet = 'own' end
if tagSet ~= 'own' and tagSet ~= 'shared' then return redis.error_reply('layOutTagSpace: tag_set must be own or shared') end
local have = redis.call('HMGET', meta, 'nr_hw_queues', 'queue_depth', 'shared_tag_bitmap', 'recycle', 'tag_set')
-- A shape laid out before tag_set existed is 'own'.
if have[1] == ARGV[1] and have[2] == ARGV[2] and have[3] == ARGV[3] and have[4] == ARGV[4] and (have[5] or 'own') == tagSet then
  return 0
end
local result = 1
if have[1] then
  local fields = redis.call('HGETALL', budget)
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 5) == 'used:' and tonumber(fields[i + 1]) > 0 then return -5 end
  end
  local now = tonumber(ARGV[6])
  if now and redis.call('ZCOUNT', owners, '(' .. ARGV[6], '+inf') > 0 then return -5 end
  result = 2
end
redis.call('HSET', meta, 'nr_hw_queues', ARGV[1], 'queue_depth', ARGV[2], 'shared_tag_bitmap', ARGV[3], 'recycle', ARGV[4], 'tag_set', tagSet)
return result
