-- reclaimLeases: put messages whose lease ran out back at the head of their queue (the
-- batches of a worker that died or stalled are delivered again).
-- KEYS[1] wait    list  messages not yet taken, oldest first
-- KEYS[2] leased  zset  taken messages, score = lease expiry in ms since the epoch
-- KEYS[3] marker  zset  one member while wait may hold messages
-- ARGV[1] now     ms since the epoch
-- ARGV[2] limit   most messages to put back in this call
-- Returns how many messages went back.
-- Guarantees (Lua atomicity): a message moves from leased to wait whole, at most once per
-- expiry; the marker is set when any moved.

local msgs = redis.call('ZRANGE', KEYS[2], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
if #msgs == 0 then return 0 end
redis.call('ZREM', KEYS[2], unpack(msgs))
redis.call('LPUSH', KEYS[1], unpack(msgs))
redis.call('ZADD', KEYS[3], 0, 'm')
return #msgs
