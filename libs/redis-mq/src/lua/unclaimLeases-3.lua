-- unclaimLeases: put back the messages one claim took, when its caller never got them (its
-- blocking connection was closed under a claim that ran: BatchWorker.close), so they are
-- delivered now instead of after their lease.
-- KEYS[1] wait    list  messages not yet taken, oldest first
-- KEYS[2] leased  zset  lease members <token 8 bytes><message>, score = lease expiry
-- KEYS[3] marker  zset  one member while wait may hold messages
-- ARGV[1] nonce   the 6 bytes every token of that claim opens with (claimLeases-3.lua)
-- Returns how many messages went back.
-- Guarantees (Lua atomicity): as reclaimExpired-3.lua, for the members of one claim only:
-- each leaves leased and its message enters the head of wait, in claim order, in one step;
-- a member of that claim that was reclaimed or acked meanwhile is not there to move.
-- Redis commands: ZRANGE (the whole of leased: a few batches per worker), ZREM, LPUSH,
-- ZADD marker; O(leased).

local nonce = ARGV[1]
if #nonce ~= 6 then return redis.error_reply('unclaimLeases: want a 6-byte nonce') end
local mine = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if string.sub(member, 1, 6) == nonce then mine[#mine + 1] = member end
end
if #mine == 0 then return 0 end
-- Tokens end in the message's index within the claim (<H): put them back in claim order.
local function index(member) return (struct.unpack('<H', string.sub(member, 7, 8))) end
table.sort(mine, function(a, b) return index(a) < index(b) end)
redis.call('ZREM', KEYS[2], unpack(mine))
local msgs = {}
for i = #mine, 1, -1 do msgs[#msgs + 1] = string.sub(mine[i], 9) end
redis.call('LPUSH', KEYS[1], unpack(msgs))
redis.call('ZADD', KEYS[3], 0, 'm')
return #mine
