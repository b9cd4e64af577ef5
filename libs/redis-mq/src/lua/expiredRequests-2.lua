-- expiredRequests: IN_FLIGHT requests whose deadline has passed (blk_mq_timeout_work's
-- scan with blk_mq_req_expired), earliest deadline first.
-- KEYS[1] deadlines  zset  IN_FLIGHT slot indexes, score = deadline ms
-- KEYS[2] slots      hash  slot index -> "gen:state:refs:status:hctx"
-- ARGV[1] now ms (inclusive)   ARGV[2] limit (>= 1)
-- Returns {index, hctx, gen, ...}.
-- Read-only.
-- Guarantees (Lua atomicity): every returned (index, gen) was IN_FLIGHT with a deadline
-- at or before now when the script ran.

local ids = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[2])
if #ids == 0 then return {} end
local CHUNK = 1000
local out = {}
for i = 1, #ids, CHUNK do
  local j = math.min(i + CHUNK - 1, #ids)
  local recs = redis.call('HMGET', KEYS[2], unpack(ids, i, j))
  for k = 1, j - i + 1 do
    local g, h = string.match(recs[k] or '', '^(%d+):%d+:%d+:%d+:(%d+)$')
    if g then
      out[#out + 1] = tonumber(ids[i + k - 1])
      out[#out + 1] = tonumber(h)
      out[#out + 1] = tonumber(g)
    end
  end
end
return out
