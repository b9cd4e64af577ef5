-- takeBudget: the tag budget alone, for a dispatch instance whose driver runs in its own
-- process (LocalDriver): give back the budget freed since the last run and take up to
-- `want` for the owner epoch, with no batch pushed (DESIGN §3, I1, I3).
-- KEYS[1] meta    hash  tags:meta: queue_depth, shared_tag_bitmap, tag_set (read only)
-- KEYS[2] budget  hash  tags:budget: used:<pool>, held:<epoch>:<pool>, mismatch:release
-- KEYS[3] owners  zset  live owner epochs, score = lease expiry (ms)
-- ARGV[1] epoch   the caller's owner epoch
-- ARGV[2] pool    the budget pool: an hctx, or 0 with shared tags
-- ARGV[3] now     ms since the epoch
-- ARGV[4] want    budget wanted (0 for a release-only run)
-- ARGV[5] r       number of (pool, count) release pairs that follow
-- ARGV[6 .. 5+2r] pool, count: budget to give back (used and held:<epoch> decrease)
-- Returns k (0..want), the budget taken; or -6 (OwnerGone) when ARGV[1] is not in owners
-- (reclaimed; an expired lease nobody reclaimed still counts); or -2 (NoTable) when meta has no queue_depth. Error
-- replies (nothing changed) name a malformed argument or a wrong pool, or a disk whose tags
-- come from the shared tag set (takeSharedTags takes them, I15).
-- Guarantees (Lua atomicity): every refusal changes nothing; the budget rules are
-- tagBudget's (used:<pool> never over queue_depth, nothing below 0).
-- Redis commands: ZSCORE, HMGET meta, HMGET budget, at most one HSET and one HINCRBY.

local meta, budget, owners = KEYS[1], KEYS[2], KEYS[3]

-- #include tagBudget
local epoch, pool, now, want, r = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if not r or r < 0 or not now or not want or want < 0 or not string.match(epoch, '^%d+$') or not string.match(pool, '^%d+$') then
  return redis.error_reply('takeBudget: bad epoch, pool, now, want or release count')
end
if #ARGV ~= 5 + 2 * r then return redis.error_reply('takeBudget: want ' .. r .. ' release pairs') end

local depth, refusal, sharedSet = ownerDepth(meta, owners, epoch, pool, now, 'takeBudget')
if not depth then return refusal end
if sharedSet then return redis.error_reply('takeBudget: the disk takes its tags from the shared tag set (shared_tags): use takeSharedTags') end
local releases, err = parseReleases(6, r)
if not releases then return redis.error_reply('takeBudget: ' .. err) end
return settleBudget(budget, epoch, pool, releases, want, depth)
