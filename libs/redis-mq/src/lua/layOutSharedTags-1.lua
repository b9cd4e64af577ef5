-- layOutSharedTags: a disk with shared_tags joins the shared tag set at power on (or a
-- reshape), or parts from it at power off (null_blk's null_init_tag_set with shared_tags:
-- every such disk uses the one module-wide tag_set; DESIGN I15).
-- KEYS[1] set     hash  the shared tag set (include/sharedTagSet.lua names its fields)
-- ARGV[1] disk    the disk
-- ARGV[2] mode    'join' or 'part'
-- ARGV[3] now     ms since the epoch (expired holders are reclaimed first)
-- ARGV[4] nr_hw_queues   ARGV[5] queue_depth   ARGV[6] shared_tag_bitmap (0|1)   (join)
-- Returns, for join: 1 when the disk laid the shape out (no other member: the shape is
-- the joining disk's), 0 when it joined a set of its own shape; { -8, field, want, have }
-- (ShapeMismatch) when other members use another shape (field: nr_hw_queues, queue_depth
-- or shared_tag_bitmap); -5 (TableBusy) when the shape would change while tags are held.
-- For part: the number of members left (the disk's member and seen fields go; what its
-- owners still hold goes back as they release it, or by the reclaim).
-- Guarantees (Lua atomicity): the shape changes only while no other disk is a member and
-- no tag of the set is held, so holders never see two shapes; refusals change nothing but
-- the reclaim of expired holders.
-- Redis commands: HGETALL, the reclaim's HDEL and HSET, then one HSET or HDEL.

local set, disk, mode, now = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
if not string.match(disk, '^[%w._-]+$') or not now or (mode ~= 'join' and mode ~= 'part') then
  return redis.error_reply('layOutSharedTags: bad disk, mode or now')
end

-- #include sharedTagSet
local f = readSet(set)
reclaimExpired(set, f, now, '', '')
local others, held = 0, 0
for field, v in pairs(f) do
  local m = string.match(field, '^member:(.+)$')
  if m and m ~= disk then others = others + 1 end
  if string.match(field, '^used:%d+$') then held = held + (tonumber(v) or 0) end
end

if mode == 'part' then
  local dels = { 'member:' .. disk }
  for field in pairs(f) do
    if string.match(field, '^seen:([^:]+):') == disk then dels[#dels + 1] = field end
  end
  redis.call('HDEL', set, unpack(dels))
  return others
end

local shape = { { 'nr_hw_queues', ARGV[4] }, { 'queue_depth', ARGV[5] }, { 'shared_tag_bitmap', ARGV[6] } }
for _, s in ipairs(shape) do
  if not string.match(s[2], '^%d+$') then return redis.error_reply('layOutSharedTags: bad ' .. s[1]) end
end
local same = true
for _, s in ipairs(shape) do
  if f[s[1]] ~= s[2] then same = false end
end
if same then
  redis.call('HSET', set, 'member:' .. disk, now)
  return 0
end
if f.queue_depth and others > 0 then
  for _, s in ipairs(shape) do
    if f[s[1]] ~= s[2] then return { -8, s[1], s[2], f[s[1]] } end
  end
end
if held > 0 then return -5 end
-- A fresh shape (no tag held, no other member); `gone` tombstones stay, so a reclaimed
-- holder stays fenced (I15).
redis.call('HSET', set, 'nr_hw_queues', ARGV[4], 'queue_depth', ARGV[5], 'shared_tag_bitmap', ARGV[6], 'member:' .. disk, now)
return 1
