-- registerOwner: a new owner epoch for a disk, registered with a liveness lease (a
-- dispatch instance starting to own requests of the disk, DESIGN §3).
-- KEYS[1] epoch   string  counter of owner epochs
-- KEYS[2] owners  zset    live owner epochs, score = lease expiry (ms since the epoch)
-- ARGV[1] expiry  ms since the epoch when the new lease runs out
-- Returns the new epoch (1, 2, ...; never reused while the counter exists).
-- Guarantees (Lua atomicity): the epoch is in owners the moment it is returned; no two
-- callers get the same epoch.
-- Redis commands: INCR, ZADD.

local epoch = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ARGV[1], epoch)
return epoch
