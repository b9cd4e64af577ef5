-- renewOwner: renew the caller's owner lease, and reclaim the tag budget and completion
-- list of every other owner whose lease ran out (I3: a dead dispatch instance's tags come
-- back). With `leave`, the caller instead gives up its own lease the same way (a clean
-- shutdown: OwnerRegistry.unregister).
-- KEYS[1] owners  zset    live owner epochs, score = lease expiry (ms since the epoch)
-- KEYS[2] budget  hash    tags:budget: used:<pool>, held:<epoch>:<pool>, since:<epoch>
--                         (start of the owner's unbroken renewal streak, ms)
-- KEYS[3] ownCq   list    the caller's completion list (cq prefix .. ARGV[1]); deleted
--                         only with `leave`
-- ARGV[1] epoch   the caller's owner epoch
-- ARGV[2] now     ms since the epoch; owners with score < now are reclaimed (once the
--                 caller's renewal streak is two leases old, below)
-- ARGV[3] leaseMs the caller's new lease runs to now + leaseMs
-- ARGV[4] cqPrefix the string every completion list of this disk starts with
--                 (KeySchema.completionListPrefix); the list of a reclaimed epoch e is
--                 cqPrefix .. e: NOT declared in KEYS, but in the disk's hash slot (the
--                 prefix holds the disk's hash tag), so it is safe on Redis Cluster (I7)
-- ARGV[5] leave   '1': reclaim the caller's own epoch now instead of renewing it; '0'
-- Returns { alive, reclaimed epochs... }: alive is 1 when ARGV[1] was in owners and was
-- renewed, 0 when it was not there (its lease was lost: the caller must not re-add it,
-- it registers a new epoch) or with `leave`.
-- Guarantees (Lua atomicity): an owner is reclaimed whole in one step: for each pool,
-- used:<pool> decreases by its held:<e>:<pool> (clamped at 0), its held fields, its
-- completion list and its owners entry are deleted; an owner that renewed before `now`
-- is never reclaimed; a reclaimed epoch never comes back (queueBatch, runPageOps and
-- endBatch refuse it).
-- A caller reclaims only when Redis has answered its renewals without a break for two
-- whole leases: a Redis failover or outage stalls every owner's renewals together, and the
-- first to get through must not take the others, which are as alive as it is, for dead
-- (their clients may follow the new topology a second or two later). A renewal more than
-- leaseMs / 2 after the caller's previous one (it renews every leaseMs / 3) breaks the
-- streak: budget field since:<epoch> = now. The caller then reclaims nobody until
-- now >= since + 2 * leaseMs, so every owner has had two leases of reachable Redis to
-- renew in; a dead owner is reclaimed at most two leases later. No
-- since:<epoch> (a fresh owner) counts as an old streak. A caller that is no longer an
-- owner reclaims nobody; `leave` reclaims every owner whose lease ran out before `now`.
-- Redis commands: ZSCORE, ZADD XX, HGET (and HSET when the streak broke), ZRANGE
-- BYSCORE, and when any is reclaimed: HGETALL budget (pools x live owners fields), one
-- HSET and one HDEL of budget, one DEL and one HDEL per reclaimed owner, ZREM.

local owners, budget, ownCq = KEYS[1], KEYS[2], KEYS[3]
local epoch, now, leaseMs, cqPrefix, leave = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5] == '1'
if not string.match(epoch, '^%d+$') or not now or not leaseMs then
  return redis.error_reply('renewOwner: bad epoch, now or leaseMs')
end

local alive = 0
if leave then
  redis.call('DEL', ownCq)
else
  local expiry = tonumber(redis.call('ZSCORE', owners, epoch))
  if not expiry then return { 0 } end
  redis.call('ZADD', owners, 'XX', now + leaseMs, epoch)
  alive = 1
  -- expiry - leaseMs is when the caller renewed last (same lease).
  local since = tonumber(redis.call('HGET', budget, 'since:' .. epoch)) or 0
  if now - (expiry - leaseMs) > leaseMs / 2 then
    since = now
    redis.call('HSET', budget, 'since:' .. epoch, ARGV[2])
  end
  if now < since + 2 * leaseMs then return { alive } end
end

local gone, goneSet = {}, {}
for _, e in ipairs(redis.call('ZRANGE', owners, '-inf', '(' .. ARGV[2], 'BYSCORE')) do
  if e ~= epoch then
    gone[#gone + 1] = e
    goneSet[e] = true
  end
end
if leave and redis.call('ZSCORE', owners, epoch) then
  gone[#gone + 1] = epoch
  goneSet[epoch] = true
end
if #gone == 0 then return { alive } end

local all = redis.call('HGETALL', budget)
local used, dels = {}, {}
for i = 1, #all, 2 do
  local f, v = all[i], tonumber(all[i + 1]) or 0
  local pool = string.match(f, '^used:(%d+)$')
  if pool then used[pool] = (used[pool] or 0) + v end
end
for i = 1, #all, 2 do
  local e, pool = string.match(all[i], '^held:(%d+):(%d+)$')
  if e and goneSet[e] then
    used[pool] = math.max(0, (used[pool] or 0) - (tonumber(all[i + 1]) or 0))
    dels[#dels + 1] = all[i]
  end
end
if #dels > 0 then
  local sets = {}
  for pool, v in pairs(used) do
    sets[#sets + 1] = 'used:' .. pool
    sets[#sets + 1] = v
  end
  redis.call('HSET', budget, unpack(sets))
  redis.call('HDEL', budget, unpack(dels))
end
for _, e in ipairs(gone) do
  if not leave or e ~= epoch then redis.call('DEL', cqPrefix .. e) end
  redis.call('HDEL', budget, 'since:' .. e)
end
redis.call('ZREM', owners, unpack(gone))

local result = { alive }
for _, e in ipairs(gone) do result[#result + 1] = tonumber(e) end
return result
