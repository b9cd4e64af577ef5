-- sharedTagSet (included by the loader at `-- #include sharedTagSet`; not a script): the
-- one tag set every disk with shared_tags draws from (null_blk's module-wide `tag_set`,
-- DESIGN I15), one hash in its own hash slot (KeySchema.sharedTagSet). Fields:
--   nr_hw_queues, queue_depth, shared_tag_bitmap   the shape, laid out by the first disk
--   member:<disk>                 a powered disk that uses the set
--   used:<pool>                   tags held by every holder together (<= queue_depth)
--   held:<disk>:<epoch>:<pool>    tags held by one owner epoch of one disk
--   until:<disk>:<epoch>          ms after which any caller reclaims that holder
--   seen:<disk>:<pool>            when the disk last asked for tags of the pool, ms
--   gone:<disk>:<epoch>           a reclaimed holder (its calls are refused, OwnerGone)
--   mismatch:release              tags a holder gave back that it did not hold
--   readSet(set) -> table f of every field (one HGETALL)
--   reclaimExpired(set, f, now, keepDisk, keepEpoch) -> n   reclaims every holder whose
--       `until` is before `now` (but the caller's own): used:<pool> decreases by its held
--       fields (clamped at 0), they and its `until` are deleted, `gone` is set; updates f.
--       I3 for the shared slot: a dead owner's budget comes back without its disk's slot.
--   poolCount(f) -> the number of pools of the shape (1 with shared_tag_bitmap)

local function readSet(set)
  local all, f = redis.call('HGETALL', set), {}
  for i = 1, #all, 2 do f[all[i]] = all[i + 1] end
  return f
end

local function reclaimExpired(set, f, now, keepDisk, keepEpoch)
  local dead = {}
  for field, v in pairs(f) do
    local d, e = string.match(field, '^until:([^:]+):(%d+)$')
    if d and tonumber(v) < now and not (d == keepDisk and e == keepEpoch) then dead[#dead + 1] = { d, e } end
  end
  if #dead == 0 then return 0 end
  local sets, dels = {}, {}
  for _, h in ipairs(dead) do
    local prefix = 'held:' .. h[1] .. ':' .. h[2] .. ':'
    for field, v in pairs(f) do
      if string.sub(field, 1, #prefix) == prefix then
        local pool = string.sub(field, #prefix + 1)
        local used = math.max(0, (tonumber(f['used:' .. pool]) or 0) - (tonumber(v) or 0))
        f['used:' .. pool] = tostring(used)
        sets[#sets + 1] = 'used:' .. pool
        sets[#sets + 1] = used
        dels[#dels + 1] = field
      end
    end
    dels[#dels + 1] = 'until:' .. h[1] .. ':' .. h[2]
    sets[#sets + 1] = 'gone:' .. h[1] .. ':' .. h[2]
    sets[#sets + 1] = now
    f['gone:' .. h[1] .. ':' .. h[2]] = tostring(now)
  end
  for _, field in ipairs(dels) do f[field] = nil end
  redis.call('HDEL', set, unpack(dels))
  redis.call('HSET', set, unpack(sets))
  return #dead
end

local function poolCount(f)
  if f.shared_tag_bitmap == '1' then return 1 end
  return tonumber(f.nr_hw_queues) or 0
end
