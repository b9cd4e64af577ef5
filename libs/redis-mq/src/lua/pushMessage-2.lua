-- pushMessage: append one binary message to a leased batch queue (LeasedQueue.push) and
-- set its marker, in one step.
-- KEYS[1] wait    list  messages not yet taken, oldest first
-- KEYS[2] marker  zset  one member while wait may hold messages (idle workers block on it)
-- ARGV[1] message any bytes (a batch-codec message)
-- Returns the length of wait.
-- Guarantees (Lua atomicity): the marker is set after the message is in wait, so a worker
-- blocked on it wakes and finds it.
-- Redis commands: RPUSH, ZADD.

local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, 'm')
return n
