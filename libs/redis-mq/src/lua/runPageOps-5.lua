-- runPageOps: the fenced page ops of one batch (RnullDriver through its Backing, I4):
-- copy write payloads in from rqdata, copy read data out into rqdata,
-- discard / write zeroes; only while the caller holds the batch's lease and the batch's
-- owner epoch is alive, checked in the same atomic step as the copies.
-- KEYS[1] index   set   stored page numbers; page p is the string key ARGV[4] .. p (the
--                       xarray, I8); a missing page reads as zeros
-- KEYS[2] rqdata  hash  request id (12 B) -> write payload; request id .. 'r' -> read data
-- KEYS[3] leased  zset  the leased set of the queue the batch came from (LeasedQueue)
-- KEYS[4] owners  zset  live owner epochs
-- KEYS[5] zones   hash  the zone table of a zoned disk (KeySchema.zones; read only with ARGV[8])
-- ARGV[1] member  the caller's lease member (claim token .. message)
-- ARGV[2] epoch   the batch's owner epoch
-- ARGV[3] PAGE    the page size in bytes (4096)
-- ARGV[4] prefix  the page key prefix (KeySchema.pagePrefix, the disk's hash slot)
-- ARGV[5] cache   the write-back cache's size in bytes (cache_size), 0 for none (I13)
-- ARGV[6] cached  the cache's index set (KeySchema.cacheIndex; '' without a cache)
-- ARGV[7] cachePrefix  the cached page key prefix (KeySchema.cachePrefix; '' without)
-- ARGV[8] zoned   '1' for a zoned disk: every op passes the zone checks first
--                 (include/zoneGate.lua, I17), in op order; '' for any other disk
-- ARGV[9..] four per op: kind, byte offset, length, request id (12 bytes, '' for Z, F and
--                 zone management)
--   W  write          copy in the first length bytes of rqdata[id] (a driver may
--                     transfer a prefix of a request: bad blocks, partial IO); the field stays until
--                     endBatch delivers the request's end (it deletes it there), so a
--                     batch delivered again after a lost lease finds its payloads again
--   R  read           rqdata[id .. 'r'] = the bytes of the range
--   Z  discard / write zeroes: whole pages freed, partial pages zeroed in place and freed
--                     once all zero
--   CW                as W, into the write-back cache (a write without FUA, cache > 0)
--   F  flush          write the whole cache back (FLUSH, PREFLUSH; 0, 0, '')
--   zoned only:
--   A  zone append    as W, at the write pointer of the zone whose first byte is the offset
--   ZO ZC ZF ZX ZXA   zone open, close, finish, reset, reset all (offset: the zone's
--                     first byte; length 0); a reset frees the zone's pages
-- With a cache (I13), as runOwnedPageOps: W writes through (its pages, whole, are in the
-- store when the script ends), CW pages stay cached, R reads the cache first; then the
-- cache is written back whole (F) or down to `cache` bytes. A batch with a Z writes the
-- whole cache back first and runs as without one.
-- Returns one result per op, in order: 0 done; a positive blk_status_t when the zone
-- checks refused it (10 IOERR, 14 ZONE_OPEN_RESOURCE, 15 ZONE_ACTIVE_RESOURCE; nothing of
-- it ran); -3 (NoRequestData) a write's payload field
-- is missing; -4 (RequestDataSize) it is shorter than `length` bytes (that op does nothing,
-- the others run; the wrong-sized field is deleted). Or, for the whole batch: -7
-- (LeaseLost) when ARGV[1] is not in KEYS[3]: nothing changes; -6 (OwnerGone) when
-- ARGV[2] is not in KEYS[4]: the write payload fields of the ops are deleted (nobody
-- will take them) and no page changes.
-- With a cache, two more numbers follow the results: pages cached after the call, pages
-- written back by it. A zoned call then gives one more number per op: an append's landed
-- sector, 0 for any other op.
-- Guarantees (Lua atomicity): the fence and the copies are one step, so a late or
-- fenced-out batch never moves data (I4; a redelivered one moves its payloads again, the
-- same bytes, unless dispatch deleted them at a timeout); ops run in order, each seeing the ones before.
-- Redis commands: ZSCORE x2, one HMGET of rqdata (writes), one MGET of page keys (read
-- ranges and partially covered pages), SMEMBERS of the index only when a Z range covers
-- more than 64 pages (then the op costs O(stored pages) instead of O(range)), then one
-- MSET / DEL of page keys and SADD / SREM of the index per 1000 pages, one HSET and one
-- HDEL of rqdata per 1000 fields.

local indexKey, rqKey, leased, owners, zonesKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local PAGE, prefix = tonumber(ARGV[3]), ARGV[4]
local cacheBytes, cacheIndex, cachePrefix = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local zoned = ARGV[8] == '1'
local FIRST, WIDTH, CHUNK, SECTOR = 9, 4, 1000, 512
local nops = (#ARGV - FIRST + 1) / WIDTH
if not PAGE or not cacheBytes or nops ~= math.floor(nops) then return redis.error_reply('runPageOps: want PAGE, the cache and 4 ARGV per op') end
local caching = cacheBytes > 0

-- #include chunkedCalls
-- #include pageRanges
-- #include writeCache
-- #include zones
-- #include zoneGate

local ZONE_ONLY = { A = true, ZO = true, ZC = true, ZF = true, ZX = true, ZXA = true }
local ops = {}
for i = 1, nops do
  local b = FIRST + (i - 1) * WIDTH
  local op = { kind = ARGV[b], off = tonumber(ARGV[b + 1]), len = tonumber(ARGV[b + 2]), id = ARGV[b + 3] }
  if not op.off or not op.len or op.off < 0 or op.len < 0 then return redis.error_reply('runPageOps: op ' .. i .. ': bad range') end
  if not caching and (op.kind == 'CW' or op.kind == 'F') then
    return redis.error_reply('runPageOps: op ' .. i .. ': ' .. op.kind .. ' needs a cache')
  end
  if ZONE_ONLY[op.kind] and not zoned then return redis.error_reply('runPageOps: op ' .. i .. ': ' .. op.kind .. ' needs a zoned disk') end
  if op.kind == 'W' or op.kind == 'CW' or op.kind == 'R' or op.kind == 'A' then
    if #op.id ~= 12 then return redis.error_reply('runPageOps: op ' .. i .. ': want a 12-byte request id') end
  elseif op.kind ~= 'Z' and op.kind ~= 'F' and not ZONE_ONLY[op.kind] then
    return redis.error_reply('runPageOps: op ' .. i .. ': unknown kind ' .. tostring(op.kind))
  end
  ops[i] = op
end

-- The fence (I4).
if not redis.call('ZSCORE', leased, ARGV[1]) then return -7 end
local payloadIds = {}
for _, op in ipairs(ops) do
  if op.kind == 'W' or op.kind == 'CW' or op.kind == 'A' then payloadIds[#payloadIds + 1] = op.id end
end
if not redis.call('ZSCORE', owners, ARGV[2]) then
  callChunked('HDEL', rqKey, payloadIds, 1, CHUNK)
  return -6
end

-- The zone checks (I17): `run` is what passed them, appends rewritten, resets as Z ops.
local results, landed, run, discards = planPageOps(zoned, zonesKey, ops, SECTOR, true)

-- Load what the ops need, once.
local sources = hmgetInto(rqKey, payloadIds, {}, CHUNK)
local cache = caching and newWriteCache(cacheIndex, cachePrefix, indexKey, prefix, CHUNK)
-- With a cache and no discard, every op runs on the cached view of the pages (I13);
-- otherwise on the store, the cache (if any) written back first.
local viewing = cache and not discards
if cache and not viewing then cache.writeBackAll() end
local loaded = {}
local pages = viewing and newPageRanges(PAGE, loaded, cacheIndex, cachePrefix) or newPageRanges(PAGE, loaded, indexKey, prefix)
pages.loadFor(run, CHUNK)
if viewing then cache.seed(loaded) end
local known = pages.storedIn()

-- Run.
local copies, badIds, through, flushAll = {}, {}, {}, false
for _, op in ipairs(run) do
  local r = 0
  if op.kind == 'F' then
    flushAll = true
  elseif op.kind == 'W' or op.kind == 'CW' then
    local src = sources[op.id]
    if not src then
      r = -3
    elseif #src < op.len then
      r = -4
      badIds[#badIds + 1] = op.id
    else
      pages.write(op.off, op.len, src)
      if op.kind == 'W' then pages.eachPage(op.off, op.len, function(p) through[#through + 1] = p end) end
    end
  elseif op.kind == 'R' then
    copies[#copies + 1] = op.id .. 'r'
    copies[#copies + 1] = pages.read(op.off, op.len)
  else
    pages.zero(op.off, op.len, known)
  end
  if r ~= 0 then results[op.i] = r end
end

pages.flush(CHUNK)
callChunked('HSET', rqKey, copies, 2, CHUNK)
callChunked('HDEL', rqKey, badIds, 1, CHUNK)
if viewing then cache.settle(through, flushAll, math.floor(cacheBytes / PAGE)) end
return pageOpsReply(results, cache, landed, #ops)
