-- reclaimExpired: put the messages whose lease ran out back at the head of their leased
-- batch queue, without their claim token (the batches of a worker that died or stalled
-- are delivered again, under a new token).
-- KEYS[1] wait    list  messages not yet taken, oldest first
-- KEYS[2] leased  zset  lease members <token 8 bytes><message>, score = lease expiry
-- KEYS[3] marker  zset  one member while wait may hold messages
-- ARGV[1] now     ms since the epoch
-- ARGV[2] limit   most messages to put back in this call
-- Returns how many messages went back.
-- Guarantees (Lua atomicity): a member leaves leased and its message enters wait in one
-- step, at most once per expiry; the earliest-expired message ends up first in wait; the
-- marker is set when any moved. The old member is gone, so its holder's ack, renew and
-- fenced scripts (runPageOps, endBatch) find nothing (I4).
-- Redis commands: ZRANGE BYSCORE LIMIT, ZREM, LPUSH, ZADD marker; O(moved).

local members = redis.call('ZRANGE', KEYS[2], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
if #members == 0 then return 0 end
redis.call('ZREM', KEYS[2], unpack(members))
local msgs = {}
for i = #members, 1, -1 do msgs[#msgs + 1] = string.sub(members[i], 9) end
redis.call('LPUSH', KEYS[1], unpack(msgs))
redis.call('ZADD', KEYS[3], 0, 'm')
return #members
