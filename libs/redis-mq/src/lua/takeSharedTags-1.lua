-- takeSharedTags: one owner epoch of a disk with shared_tags gives back the tags it freed
-- and takes up to `want` from the shared tag set, within its disk's fair share
-- (blk-mq's hctx_may_queue with BLK_MQ_F_TAG_QUEUE_SHARED; DESIGN I15). With want = 0 and
-- no releases it is the holder's renewal (OwnerLease renews it with the owner's lease).
-- KEYS[1] set     hash  the shared tag set (include/sharedTagSet.lua names its fields)
-- ARGV[1] disk    the caller's disk
-- ARGV[2] epoch   the caller's owner epoch (of that disk)
-- ARGV[3] pool    the pool to take from: the hctx, or 0 with shared_tag_bitmap
-- ARGV[4] now     ms since the epoch
-- ARGV[5] until   ms after which the caller, unless it calls again, is reclaimed
-- ARGV[6] idleMs  a disk that asked for tags of a pool within idleMs counts as active
-- ARGV[7] want    tags wanted (0: release and renew only)
-- ARGV[8] r       number of (pool, count) release pairs that follow
-- ARGV[9 .. 8+2r] pool, count: tags to give back
-- Returns k (0..want), the tags taken; -6 (OwnerGone) when the caller's holder was
-- reclaimed (its lease ran out: it must stop using the epoch); -2 (NoTable) when the set
-- has no shape. Error replies (nothing changed) name a malformed argument, a pool outside
-- the shape, or a take by a disk that is not a member (not powered with shared_tags).
-- Guarantees (Lua atomicity): every refusal changes nothing but the reclaim of expired
-- holders; used:<pool> never exceeds queue_depth through a take; a disk's holders
-- together never take past share = max(ceil(queue_depth / active), 4), where active
-- counts the disks that hold tags of the pool or asked for them within idleMs, the caller
-- included when want > 0; nothing goes below 0 (a release of more than is held is
-- clamped and counted in mismatch:release).
-- Redis commands: HGETALL, then at most an HDEL and an HSET for the reclaim, one HSET,
-- and HINCRBY on a mismatch. Cost: O(fields of the set).

local set = KEYS[1]
local disk, epoch, pool = ARGV[1], ARGV[2], ARGV[3]
local now, untilMs, idleMs, want, r = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if not now or not untilMs or not idleMs or not want or want < 0 or not r or r < 0 then
  return redis.error_reply('takeSharedTags: bad now, until, idleMs, want or release count')
end
if not string.match(disk, '^[%w._-]+$') or not string.match(epoch, '^%d+$') or not string.match(pool, '^%d+$') then
  return redis.error_reply('takeSharedTags: bad disk, epoch or pool')
end
if #ARGV ~= 8 + 2 * r then return redis.error_reply('takeSharedTags: want ' .. r .. ' release pairs') end

-- #include sharedTagSet
local f = readSet(set)
local holder = disk .. ':' .. epoch
if f['gone:' .. holder] then return -6 end
local depth, pools = tonumber(f.queue_depth), poolCount(f)
if not depth then return -2 end
local releases = {}
for i = 0, r - 1 do
  local rp, rc = ARGV[9 + 2 * i], tonumber(ARGV[10 + 2 * i])
  if not rc or rc < 0 or not string.match(rp, '^%d+$') or tonumber(rp) >= pools then
    return redis.error_reply('takeSharedTags: bad release pair ' .. i)
  end
  releases[#releases + 1] = { rp, rc }
end
if tonumber(pool) >= pools then return redis.error_reply('takeSharedTags: pool ' .. pool .. ' is outside the shared tag set (' .. pools .. ' pools)') end
if want > 0 and not f['member:' .. disk] then
  return redis.error_reply('takeSharedTags: disk ' .. disk .. ' does not use the shared tag set (power it on with shared_tags=1)')
end

reclaimExpired(set, f, now, disk, epoch)

local out, mismatch = {}, 0
local function put(field, v)
  f[field] = tostring(v)
  out[field] = v
end
for _, pr in ipairs(releases) do
  local heldField = 'held:' .. holder .. ':' .. pr[1]
  local held, used = tonumber(f[heldField]) or 0, tonumber(f['used:' .. pr[1]]) or 0
  if pr[2] > held then mismatch = mismatch + (pr[2] - held) end
  put(heldField, math.max(0, held - pr[2]))
  put('used:' .. pr[1], math.max(0, used - math.min(pr[2], held)))
end

local k = 0
if want > 0 then
  -- hctx_may_queue: the active disks of the pool, and what the caller's disk holds of it.
  local active, mine = { [disk] = true }, 0
  for field, v in pairs(f) do
    local d, _, p = string.match(field, '^held:([^:]+):(%d+):(%d+)$')
    if d and p == pool and tonumber(v) > 0 then
      active[d] = true
      if d == disk then mine = mine + tonumber(v) end
    end
    local sd, sp = string.match(field, '^seen:([^:]+):(%d+)$')
    if sd and sp == pool and tonumber(v) >= now - idleMs then active[sd] = true end
  end
  local n = 0
  for _ in pairs(active) do n = n + 1 end
  local share = math.max(math.ceil(depth / n), 4)
  local used = tonumber(f['used:' .. pool]) or 0
  k = math.max(0, math.min(want, depth - used, share - mine))
  local heldField = 'held:' .. holder .. ':' .. pool
  if k > 0 then
    put('used:' .. pool, used + k)
    put(heldField, (tonumber(f[heldField]) or 0) + k)
  end
  put('seen:' .. disk .. ':' .. pool, now)
end
put('until:' .. holder, untilMs)

local flat = {}
for field, v in pairs(out) do
  flat[#flat + 1] = field
  flat[#flat + 1] = v
end
redis.call('HSET', set, unpack(flat))
if mismatch > 0 then redis.call('HINCRBY', set, 'mismatch:release', mismatch) end
return k
