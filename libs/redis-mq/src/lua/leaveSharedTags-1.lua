-- leaveSharedTags: a clean shutdown of one owner epoch of a disk with shared_tags: every
-- tag it holds of the shared tag set goes back at once (renewOwner's `leave` for the
-- shared slot; DESIGN I15).
-- KEYS[1] set     hash  the shared tag set (include/sharedTagSet.lua names its fields)
-- ARGV[1] disk    the caller's disk
-- ARGV[2] epoch   the caller's owner epoch
-- Returns the number of tags given back.
-- Guarantees (Lua atomicity): used:<pool> decreases by exactly the holder's held fields
-- (clamped at 0); its held and until fields are deleted; nothing of another holder moves.
-- Redis commands: HGETALL, at most one HSET and one HDEL. Cost: O(fields of the set).

local set, disk, epoch = KEYS[1], ARGV[1], ARGV[2]
if not string.match(disk, '^[%w._-]+$') or not string.match(epoch, '^%d+$') then
  return redis.error_reply('leaveSharedTags: bad disk or epoch')
end

-- #include sharedTagSet
local f = readSet(set)
local prefix = 'held:' .. disk .. ':' .. epoch .. ':'
local sets, dels, total = {}, { 'until:' .. disk .. ':' .. epoch }, 0
for field, v in pairs(f) do
  if string.sub(field, 1, #prefix) == prefix then
    local pool, n = string.sub(field, #prefix + 1), tonumber(v) or 0
    sets[#sets + 1] = 'used:' .. pool
    sets[#sets + 1] = math.max(0, (tonumber(f['used:' .. pool]) or 0) - n)
    dels[#dels + 1] = field
    total = total + n
  end
end
if #sets > 0 then redis.call('HSET', set, unpack(sets)) end
redis.call('HDEL', set, unpack(dels))
return total
