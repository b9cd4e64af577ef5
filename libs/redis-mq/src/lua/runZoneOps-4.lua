-- runZoneOps: zone ops of a zoned disk against its zone table (include/zones.lua, null_blk's
-- zoned.c, DESIGN I17), all in one atomic step: write-pointer checks and moves of writes
-- and appends (a disk without memory backing moves no data, so this is its whole data
-- path), zone management, zone_readonly / zone_offline, the OFFLINE check of reads.
-- KEYS[1] zones   hash  the zone table (KeySchema.zones)
-- KEYS[2] owners  zset  live owner epochs
-- KEYS[3] index   set   stored page numbers (the page store, I8); reset drops the zone's pages
-- KEYS[4] leased  zset  the leased set of the queue the ops' batch came from (a driver
--                       worker's batch), or any key of the disk's slot without ARGV[2]
-- ARGV[1] epoch   the owner epoch of the ops, or '' for gendisk's administrative ops
--                 (zone_readonly, zone_offline), which no owner fences
-- ARGV[2] member  the caller's lease member of the batch, or '' when no lease fences it
--                 (the owner's own driver, gendisk)
-- ARGV[3] PAGE    the page size in bytes (4096)
-- ARGV[4] prefix  the page key prefix (KeySchema.pagePrefix), '' for a disk without memory
--                 backing (no pages to drop)
-- ARGV[5..] three per op: kind, sector, sectors
--   W write  A zone append  R read  O open  C close  F finish  X reset  XA reset all
--   RO / OFF  set the zone of `sector` READ_ONLY / OFFLINE (again: back to EMPTY)
-- Returns two numbers per op, in order: its status (blk_status_t: 0, 10 IOERR, 14
-- ZONE_OPEN_RESOURCE, 15 ZONE_ACTIVE_RESOURCE) and its sector (for an append, where it
-- landed). Or, for the whole call: -7 (LeaseLost) when ARGV[2] is given and not in KEYS[4],
-- -6 (OwnerGone) when ARGV[1] is given and not in KEYS[2]: nothing changes; an error when
-- the disk has no zone table.
-- Guarantees (Lua atomicity): ops run in order, each seeing the ones before; a write
-- pointer moves only with the op that moves it, never half; the pages of a reset zone are
-- gone in the same step.
-- Redis commands: ZSCORE (x2 with a lease); HMGET of the table, one HMGET per zone touched; one HSET per
-- 1000 changed fields; with pages to drop, SMEMBERS of the index and DEL / SREM per 1000.

local zonesKey, owners, indexKey, leased = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local epoch, member, PAGE, prefix = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local FIRST, WIDTH, SECTOR = 5, 3, 512
local nops = (#ARGV - FIRST + 1) / WIDTH
if not PAGE or nops ~= math.floor(nops) then return redis.error_reply('runZoneOps: want PAGE, prefix and 3 ARGV per op') end

-- #include chunkedCalls
-- #include pageRanges
-- #include zones

if member ~= '' and not redis.call('ZSCORE', leased, member) then return -7 end
if epoch ~= '' and not redis.call('ZSCORE', owners, epoch) then return -6 end
local zt = newZones(zonesKey)
if not zt then return redis.error_reply('runZoneOps: the disk has no zone table (not zoned, or not powered on)') end

local results = {}
for i = 1, nops do
  local b = FIRST + (i - 1) * WIDTH
  local kind, sector, n = ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  if not sector or not n or sector < 0 or n < 0 then return redis.error_reply('runZoneOps: op ' .. i .. ': bad range') end
  local status, at = 0, sector
  if kind == 'W' or kind == 'A' then
    status, at = zt.write(sector, n, kind == 'A')
  elseif kind == 'R' then
    status = zt.readable(sector, n)
  elseif kind == 'O' or kind == 'C' or kind == 'F' or kind == 'X' or kind == 'XA' then
    status = zt.mgmt(kind, sector)
  elseif kind == 'RO' then
    status = zt.setCond(sector, 13)
  elseif kind == 'OFF' then
    status = zt.setCond(sector, 15)
  else
    return redis.error_reply('runZoneOps: op ' .. i .. ': unknown kind ' .. tostring(kind))
  end
  results[#results + 1] = status
  results[#results + 1] = at
end
zt.save()

if prefix ~= '' and #zt.discards > 0 then
  local R = newPageRanges(PAGE, {}, indexKey, prefix)
  local known = R.storedIn()
  for _, range in ipairs(zt.discards) do R.zero(range[1] * SECTOR, range[2] * SECTOR, known) end
  R.flush(1000)
end
return results
