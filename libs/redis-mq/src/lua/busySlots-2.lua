-- busySlots: every slot that is not IDLE (blk_mq_tagset_busy_iter), with its deadline.
-- KEYS[1] slots      hash  slot index -> "gen:state:refs:status:hctx"
-- KEYS[2] deadlines  zset  IN_FLIGHT slot indexes, score = deadline ms
-- ARGV    none
-- Returns {index, record, deadline-or-"", ...}.
-- Read-only.
-- Guarantees (Lua atomicity): one consistent snapshot of the table. O(slots ever used).

local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local st = string.match(all[i + 1], '^%d+:(%d+):')
  if st ~= '0' then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
    out[#out + 1] = redis.call('ZSCORE', KEYS[2], all[i]) or ''
  end
end
return out
