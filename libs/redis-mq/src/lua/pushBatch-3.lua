-- pushBatch: stage a batch's payloads and append the batch to a batch queue, in one step
-- (blk_mq_dispatch_rq_list handing a list to the hardware queue).
-- KEYS[1] wait    list  messages not yet taken, oldest first
-- KEYS[2] marker  zset  one member while wait may hold messages (idle workers block on it)
-- KEYS[3] data    hash  request-data fields (payloads); untouched when ARGV has no pairs
-- ARGV[1] message "<id> <body>"
-- ARGV[2..] field, value, field, value, ... payloads to stage (possibly none)
-- Returns the length of wait.
-- Guarantees (Lua atomicity): a worker that takes the message sees its payloads; the
-- marker is set after the message is in wait, so a worker blocked on it wakes.

if #ARGV > 1 then redis.call('HSET', KEYS[3], unpack(ARGV, 2)) end
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, 'm')
return n
