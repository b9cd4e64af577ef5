-- claimBatches: take up to `max` messages of a batch queue under a lease.
-- KEYS[1] wait    list  messages not yet taken, oldest first
-- KEYS[2] leased  zset  taken messages, score = lease expiry in ms since the epoch
-- KEYS[3] marker  zset  one member while wait may hold messages
-- ARGV[1] expiry  ms since the epoch when the lease of what is taken now runs out
-- ARGV[2] max     most messages to take (>= 1)
-- Returns the messages taken, oldest first, possibly none.
-- Guarantees (Lua atomicity): each message is either still in wait or leased, never both
-- nor neither; no two callers take the same message; the marker stays set while wait
-- still holds messages, so another idle worker wakes for them.

local msgs = redis.call('LPOP', KEYS[1], tonumber(ARGV[2]))
if not msgs then return {} end
local z = {}
for i = 1, #msgs do
  z[#z + 1] = ARGV[1]
  z[#z + 1] = msgs[i]
end
redis.call('ZADD', KEYS[2], unpack(z))
if redis.call('LLEN', KEYS[1]) > 0 then redis.call('ZADD', KEYS[3], 0, 'm') end
return msgs
