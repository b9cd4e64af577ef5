-- tagBudget (included by the loader at `-- #include tagBudget`; not a script): one owner
-- epoch's share of a disk's tag budget (`tags:budget`, fields used:<pool> and
-- held:<epoch>:<pool>), the Redis half of `blk_mq_get_tags` / `blk_mq_put_tag` when
-- several dispatch instances share one hctx's tags (DESIGN §3, I1, I3).
--   ownerDepth(meta, owners, epoch, pool, now, script) -> depth, shared, sharedSet   the checks every
--       budget step makes first: nil, -6 (OwnerGone) when `epoch` is not in `owners`
--       (reclaimed, or never registered); nil, -2 (NoTable) without a tag space; nil, an
--       error reply for a pool other than 0 with shared tags. Reads only. A lease that
--       expired but that no renewOwner reclaimed yet still counts: the reclaim, which takes
--       the budget back in the same step as it removes the epoch, is the fence (I3). So an
--       owner outlives a Redis failover longer than its lease when no other owner of the
--       disk reclaimed it meanwhile. `now` is kept for the callers' argument layout.
--       `shared` is shared_tag_bitmap (one pool); `sharedSet` is true when the disk takes
--       its tags from the shared tag set (meta tag_set = shared, shared_tags; I15): this
--       budget then holds none of them.
--   parseReleases(first, r) -> releases or nil, err   reads r (pool, count) pairs from
--       ARGV[first ..]; checks every pair before anything is written
--   settleBudget(budget, epoch, pool, releases, want, depth) -> k   gives back
--       `releases` (clamped at 0: a release of more than the epoch holds only counts
--       mismatch:release), then takes k = min(want, depth - used:<pool>) for `epoch`;
--       writes only the fields that changed (one HMGET, at most one HSET and one HINCRBY)
-- Guarantees (Lua atomicity of the including script): used:<pool> never exceeds `depth`
-- through a take, no field goes below 0, and an owner never gives back another's budget.

local function ownerDepth(meta, owners, epoch, pool, now, script)
  if not redis.call('ZSCORE', owners, epoch) then return nil, -6 end
  local shape = redis.call('HMGET', meta, 'queue_depth', 'shared_tag_bitmap', 'tag_set')
  local depth = tonumber(shape[1])
  if not depth then return nil, -2 end
  if shape[2] == '1' and pool ~= '0' then return nil, redis.error_reply(script .. ': pool ' .. pool .. ': shared tags use pool 0') end
  return depth, shape[2] == '1', shape[3] == 'shared'
end

local function parseReleases(first, r)
  local releases = {}
  for i = 0, r - 1 do
    local rp, rc = ARGV[first + 2 * i], tonumber(ARGV[first + 1 + 2 * i])
    if not rc or rc < 0 or not rp or not string.match(rp, '^%d+$') then return nil, 'bad release pair ' .. i end
    releases[#releases + 1] = { rp, rc }
  end
  return releases
end

local function settleBudget(budget, epoch, pool, releases, want, depth)
  local fields, pairs_ = { 'used:' .. pool, 'held:' .. epoch .. ':' .. pool }, {}
  for _, pr in ipairs(releases) do
    pairs_[#pairs_ + 1] = { 'used:' .. pr[1], 'held:' .. epoch .. ':' .. pr[1], pr[2] }
    fields[#fields + 1] = 'used:' .. pr[1]
    fields[#fields + 1] = 'held:' .. epoch .. ':' .. pr[1]
  end
  local have = redis.call('HMGET', budget, unpack(fields))
  local value, before = {}, {}
  for i, f in ipairs(fields) do
    value[f] = tonumber(have[i]) or 0
    before[f] = value[f]
  end
  local mismatch = 0
  for _, pr in ipairs(pairs_) do
    local used, held, c = value[pr[1]], value[pr[2]], pr[3]
    if c > held then mismatch = mismatch + (c - held) end
    value[pr[2]] = math.max(0, held - c)
    value[pr[1]] = math.max(0, used - math.min(c, held))
  end
  local usedKey, heldKey = fields[1], fields[2]
  local k = math.max(0, math.min(want, depth - value[usedKey]))
  value[usedKey] = value[usedKey] + k
  value[heldKey] = value[heldKey] + k
  local out = {}
  for f, v in pairs(value) do
    if v ~= before[f] then
      out[#out + 1] = f
      out[#out + 1] = v
    end
  end
  if #out > 0 then redis.call('HSET', budget, unpack(out)) end
  if mismatch > 0 then redis.call('HINCRBY', budget, 'mismatch:release', mismatch) end
  return k
end
