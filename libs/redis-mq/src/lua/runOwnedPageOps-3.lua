-- runOwnedPageOps: the writes, discards and zeroes of one batch whose driver runs in the
-- owning dispatch process (LocalDriver's backing), only while the owner epoch is alive,
-- checked in the same atomic step as the copies (I4). Its reads need no script
-- (FencedPages.readPages). The remote path's twin is runPageOps-5.lua.
-- KEYS[1] index   set   stored page numbers; page p is the string key ARGV[3] .. p (the
--                       xarray, I8); a missing page reads as zeros
-- KEYS[2] owners  zset  live owner epochs
-- KEYS[3] zones   hash  the zone table of a zoned disk (KeySchema.zones; read only with ARGV[7])
-- ARGV[1] epoch   the owner epoch of the batch
-- ARGV[2] PAGE    the page size in bytes (4096)
-- ARGV[3] prefix  the page key prefix (KeySchema.pagePrefix, the disk's hash slot)
-- ARGV[4] cache   the write-back cache's size in bytes (cache_size), 0 for none (I13)
-- ARGV[5] cached  the cache's index set (KeySchema.cacheIndex; '' without a cache)
-- ARGV[6] cachePrefix  the cached page key prefix (KeySchema.cachePrefix; '' without)
-- ARGV[7] zoned   '1' for a zoned disk: every op passes the zone checks first
--                 (include/zoneGate.lua, I17), in op order; '' for any other disk
-- ARGV[8..] four per op: kind, byte offset, length, payload
--   S  staged write   whole pages: page j (from 0) of the op waits in the string key
--                     payload .. j (KeySchema.pageStage, set by a plain MSET sent just
--                     before this call); it is RENAMEd into place, so its bytes never
--                     become a Lua string
--   W  write          copy the payload (exactly length bytes) in: any other write
--   Z  discard / write zeroes: whole pages freed, partial pages zeroed in place and freed
--                     once all zero ('' payload)
--   CS, CW            as S and W, into the write-back cache (a write without FUA, cache > 0)
--   F  flush          write the whole cache back (FLUSH, PREFLUSH; 0, 0, '')
--   zoned only:
--   A  zone append    as W, at the write pointer of the zone whose first byte is the offset
--   R  read check     a read of this batch (FencedPages.readPages reads it after this
--                     call): fails on an OFFLINE zone; no page op ('' payload)
--   ZO ZC ZF ZX ZXA   zone open, close, finish, reset, reset all (offset: the zone's
--                     first byte; length 0; '' payload); a reset frees the zone's pages
-- With a cache (I13): S and W write through: their pages (whole, with every cached write
-- of them) are in the store when the script ends; CS and CW pages stay cached; then the
-- cache is written back whole (an F op) or down to `cache` bytes (any pages). A batch
-- with a Z writes the whole cache back first and runs as without a cache (discards are
-- immediate in null_blk too). Writing back more than asked is always allowed.
-- Returns one result per op, in order: 0, a positive blk_status_t when the zone checks
-- refused it (10 IOERR, 14 ZONE_OPEN_RESOURCE, 15 ZONE_ACTIVE_RESOURCE; nothing of it ran,
-- its stage keys are deleted), or -4 (RequestDataSize) for a W whose payload
-- is not exactly `length` bytes (that op does nothing, the others run). Or, for the whole
-- batch: -6 (OwnerGone) when ARGV[1] is not in KEYS[2]: no page changes and the stage
-- keys are deleted; an error when a stage key is missing (no page changes, the stage keys
-- there are deleted).
-- Guarantees (Lua atomicity): the fence and the copies are one step, so the batch of an
-- owner presumed dead never moves data (I4); ops run in order, each seeing the ones before;
-- no stage key of the call outlives it.
-- With a cache, two more numbers follow the results: pages cached after the call, pages
-- written back by it. A zoned call then gives one more number per op: an append's landed
-- sector, 0 for any other op.
-- Redis commands: ZSCORE, EXISTS of the stage keys; a batch of S / CS ops only: a RENAME per
-- page, one SADD of the index per 1000 S pages, with a cache an SADD of the cache index per
-- CS page and an SREM per S page; any other: one MGET of page keys (partially
-- covered pages), SMEMBERS of the index only when a Z range covers more than 64 pages,
-- a RENAME per staged page, then MSET / DEL of page keys and SADD / SREM of the index
-- per 1000 pages.

local indexKey, owners, zonesKey = KEYS[1], KEYS[2], KEYS[3]
local PAGE, prefix = tonumber(ARGV[2]), ARGV[3]
local cacheBytes, cacheIndex, cachePrefix = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local zoned = ARGV[7] == '1'
local FIRST, WIDTH, CHUNK, SECTOR = 8, 4, 1000, 512
local nops = (#ARGV - FIRST + 1) / WIDTH
if not PAGE or not cacheBytes or nops ~= math.floor(nops) then
  return redis.error_reply('runOwnedPageOps: want PAGE, prefix, the cache and 4 ARGV per op')
end
local caching = cacheBytes > 0

-- #include chunkedCalls
-- #include stagedFence
-- #include pageRanges
-- #include writeCache
-- #include zones
-- #include zoneGate

local ZONE_ONLY = { A = true, R = true, ZO = true, ZC = true, ZF = true, ZX = true, ZXA = true }
local ops, stageKeys, allStaged = {}, {}, not zoned
for i = 1, nops do
  local b = FIRST + (i - 1) * WIDTH
  local op = { kind = ARGV[b], off = tonumber(ARGV[b + 1]), len = tonumber(ARGV[b + 2]), payload = ARGV[b + 3] }
  if not op.off or not op.len or op.off < 0 or op.len < 0 then return redis.error_reply('runOwnedPageOps: op ' .. i .. ': bad range') end
  if ZONE_ONLY[op.kind] and not zoned then
    return redis.error_reply('runOwnedPageOps: op ' .. i .. ': ' .. op.kind .. ' needs a zoned disk')
  end
  if not caching and (op.kind == 'CS' or op.kind == 'CW' or op.kind == 'F') then
    return redis.error_reply('runOwnedPageOps: op ' .. i .. ': ' .. op.kind .. ' needs a cache')
  end
  if op.kind == 'S' or op.kind == 'CS' then
    if op.off % PAGE ~= 0 or op.len % PAGE ~= 0 or op.payload == '' then
      return redis.error_reply('runOwnedPageOps: op ' .. i .. ': a staged write covers whole pages and names its stage')
    end
    for j = 0, op.len / PAGE - 1 do stageKeys[#stageKeys + 1] = op.payload .. string.format('%d', j) end
  elseif op.kind ~= 'W' and op.kind ~= 'CW' and op.kind ~= 'Z' and op.kind ~= 'F' and not ZONE_ONLY[op.kind] then
    return redis.error_reply('runOwnedPageOps: op ' .. i .. ': unknown kind ' .. tostring(op.kind))
  else
    allStaged = false
  end
  ops[i] = op
end

-- The fence (I4).
local fenceReply = checkStagedFence(owners, ARGV[1], stageKeys, CHUNK, 'runOwnedPageOps')
if fenceReply then return fenceReply end

-- The zone checks (I17): `run` is what passed them, appends rewritten, resets as Z ops;
-- the stage keys of a refused staged write go now (no stage key outlives the call).
local results, landed, run, discards = planPageOps(zoned, zonesKey, ops, SECTOR, false)
if zoned then
  local refused = {}
  for i, op in ipairs(ops) do
    if results[i] ~= 0 and (op.kind == 'S' or op.kind == 'CS') then
      for j = 0, op.len / PAGE - 1 do refused[#refused + 1] = op.payload .. string.format('%d', j) end
    end
  end
  callChunked('DEL', nil, refused, 1, CHUNK)
end

local cache = caching and newWriteCache(cacheIndex, cachePrefix, indexKey, prefix, CHUNK)

-- A batch of staged writes only (the common one): RENAME each page into place, in op
-- order (a later op's page replaces an earlier one's), one SADD. Same effect as the
-- general path below without its write-back cache, which costs more than the moves.
if allStaged then
  local added, k = {}, 0
  for i, op in ipairs(ops) do
    local first = op.off / PAGE
    for j = 0, op.len / PAGE - 1 do
      local p = string.format('%d', first + j)
      k = k + 1 -- stageKeys lists the ops' stage keys in this order
      if op.kind == 'CS' then
        redis.call('RENAME', stageKeys[k], cachePrefix .. p)
        -- Indexed at once: a later write-through op of this batch on p must find it (ops in order).
        redis.call('SADD', cacheIndex, p)
      else
        redis.call('RENAME', stageKeys[k], prefix .. p)
        added[#added + 1] = p
        -- A whole page written through supersedes its cached copy.
        if caching and redis.call('SREM', cacheIndex, p) == 1 then redis.call('DEL', cachePrefix .. p) end
      end
    end
    results[i] = 0
  end
  callChunked('SADD', indexKey, added, 1, CHUNK)
  if cache then cache.evict(math.floor(cacheBytes / PAGE)) end
  return pageOpsReply(results, cache, landed, #ops)
end

-- With a cache and no discard: every op runs on the cached view of the pages (I13).
if cache and not discards then
  local loaded = {}
  local view = newPageRanges(PAGE, loaded, cacheIndex, cachePrefix)
  view.loadFor(run, CHUNK)
  cache.seed(loaded)
  local through, flushAll = {}, false
  for _, op in ipairs(run) do
    local r = 0
    if op.kind == 'S' or op.kind == 'CS' then
      view.stage(op.off, op.len, op.payload)
    elseif op.kind == 'W' or op.kind == 'CW' then
      if #op.payload ~= op.len then r = -4 else view.write(op.off, op.len, op.payload) end
    else
      flushAll = true
    end
    if r == 0 and (op.kind == 'S' or op.kind == 'W') then view.eachPage(op.off, op.len, function(p) through[#through + 1] = p end) end
    if r ~= 0 then results[op.i] = r end
  end
  view.flush(CHUNK)
  cache.settle(through, flushAll, math.floor(cacheBytes / PAGE))
  return pageOpsReply(results, cache, landed, #ops)
end
if cache then cache.writeBackAll() end

-- Load what the ops need, once.
local pages = newPageRanges(PAGE, {}, indexKey, prefix)
pages.loadFor(run, CHUNK)
local known = pages.storedIn()

-- Run.
for _, op in ipairs(run) do
  local r = 0
  if op.kind == 'S' or op.kind == 'CS' then
    pages.stage(op.off, op.len, op.payload)
  elseif op.kind == 'W' or op.kind == 'CW' then
    if #op.payload ~= op.len then
      r = -4
    else
      pages.write(op.off, op.len, op.payload)
    end
  elseif op.kind == 'Z' then
    pages.zero(op.off, op.len, known)
  end
  if r ~= 0 then results[op.i] = r end
end

pages.flush(CHUNK)
return pageOpsReply(results, cache, landed, #ops)
