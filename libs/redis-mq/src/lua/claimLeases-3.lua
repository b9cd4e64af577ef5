-- claimLeases: take up to `max` messages of a leased batch queue, each under a lease
-- member of its own: <claim token 8 bytes><message> (DESIGN §4, leases of batch queues).
-- KEYS[1] wait    list  messages not yet taken, oldest first
-- KEYS[2] leased  zset  lease members, score = lease expiry in ms since the epoch
-- KEYS[3] marker  zset  one member while wait may hold messages
-- ARGV[1] expiry  ms since the epoch when the leases taken now run out
-- ARGV[2] max     most messages to take (1..1000: unpack stays within the Lua C stack)
-- ARGV[3] nonce   6 random bytes, fresh per call; the token of message i (0-based) is
--                 nonce .. struct.pack('<H', i), so members of one call differ, and
--                 members of two calls differ unless their nonces collide (2^-48)
-- Returns the lease members taken, oldest first, possibly none (body = member from byte 9).
-- Guarantees (Lua atomicity): each message is in wait or (as one member) in leased, never
-- both nor neither; no two callers take the same message; after a reclaim the message is
-- claimed again under another token, so the old member names nothing (I4); the marker
-- stays set while wait still holds messages, so another idle worker wakes for them.
-- Redis commands: LPOP count, ZADD of the members taken, LLEN, maybe ZADD marker.

local max = tonumber(ARGV[2])
local nonce = ARGV[3]
if #nonce ~= 6 or not max or max < 1 or max > 1000 then
  return redis.error_reply('claimLeases: want a 6-byte nonce and max in 1..1000')
end
local msgs = redis.call('LPOP', KEYS[1], max)
if not msgs then return {} end
local z, members = {}, {}
for i = 1, #msgs do
  local member = nonce .. struct.pack('<H', i - 1) .. msgs[i]
  members[i] = member
  z[#z + 1] = ARGV[1]
  z[#z + 1] = member
end
redis.call('ZADD', KEYS[2], unpack(z))
if redis.call('LLEN', KEYS[1]) > 0 then redis.call('ZADD', KEYS[3], 0, 'm') end
return members
