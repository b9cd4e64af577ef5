-- runOwnedPageOps: the writes, discards and zeroes of one batch whose driver runs in the
-- owning dispatch process (LocalDriver's backing), only while the owner epoch is alive,
-- checked in the same atomic step as the copies (I4). Its reads need no script
-- (FencedPages.readPages). The remote path's twin is runPageOps-4.lua.
-- KEYS[1] index   set   stored page numbers; page p is the string key ARGV[3] .. p (the
--                       xarray, I8); a missing page reads as zeros
-- KEYS[2] owners  zset  live owner epochs
-- ARGV[1] epoch   the owner epoch of the batch
-- ARGV[2] PAGE    the page size in bytes (4096)
-- ARGV[3] prefix  the page key prefix (KeySchema.pagePrefix, the disk's hash slot)
-- ARGV[4..] four per op: kind, byte offset, length, payload
--   S  staged write   whole pages: page j (from 0) of the op waits in the string key
--                     payload .. j (KeySchema.pageStage, set by a plain MSET sent just
--                     before this call); it is RENAMEd into place, so its bytes never
--                     become a Lua string
--   W  write          copy the payload (exactly length bytes) in: any other write
--   Z  discard / write zeroes: whole pages freed, partial pages zeroed in place and freed
--                     once all zero ('' payload)
-- Returns one result per op, in order: 0, or -4 (RequestDataSize) for a W whose payload
-- is not exactly `length` bytes (that op does nothing, the others run). Or, for the whole
-- batch: -6 (OwnerGone) when ARGV[1] is not in KEYS[2]: no page changes and the stage
-- keys are deleted; an error when a stage key is missing (no page changes, the stage keys
-- there are deleted).
-- Guarantees (Lua atomicity): the fence and the copies are one step, so the batch of an
-- owner presumed dead never moves data (I4); ops run in order, each seeing the ones before;
-- no stage key of the call outlives it.
-- Redis commands: ZSCORE, EXISTS of the stage keys; a batch of S ops only: a RENAME per
-- page and one SADD of the index per 1000 pages; any other: one MGET of page keys (partially
-- covered pages), SMEMBERS of the index only when a Z range covers more than 64 pages,
-- a RENAME per staged page, then MSET / DEL of page keys and SADD / SREM of the index
-- per 1000 pages.

local indexKey, owners = KEYS[1], KEYS[2]
local PAGE, prefix = tonumber(ARGV[2]), ARGV[3]
local FIRST, WIDTH, CHUNK = 4, 4, 1000
local nops = (#ARGV - FIRST + 1) / WIDTH
if not PAGE or nops ~= math.floor(nops) then return redis.error_reply('runOwnedPageOps: want PAGE, prefix and 4 ARGV per op') end

-- #include chunkedCalls
-- #include pageRanges

local ops, stageKeys, allStaged = {}, {}, true
for i = 1, nops do
  local b = FIRST + (i - 1) * WIDTH
  local op = { kind = ARGV[b], off = tonumber(ARGV[b + 1]), len = tonumber(ARGV[b + 2]), payload = ARGV[b + 3] }
  if not op.off or not op.len or op.off < 0 or op.len < 0 then return redis.error_reply('runOwnedPageOps: op ' .. i .. ': bad range') end
  if op.kind == 'S' then
    if op.off % PAGE ~= 0 or op.len % PAGE ~= 0 or op.payload == '' then
      return redis.error_reply('runOwnedPageOps: op ' .. i .. ': a staged write covers whole pages and names its stage')
    end
    for j = 0, op.len / PAGE - 1 do stageKeys[#stageKeys + 1] = op.payload .. string.format('%d', j) end
  elseif op.kind ~= 'W' and op.kind ~= 'Z' then
    return redis.error_reply('runOwnedPageOps: op ' .. i .. ': unknown kind ' .. tostring(op.kind))
  else
    allStaged = false
  end
  ops[i] = op
end

-- The fence (I4).
if not redis.call('ZSCORE', owners, ARGV[1]) then
  callChunked('DEL', nil, stageKeys, 1, CHUNK)
  return -6
end
local present = 0
for i = 1, #stageKeys, CHUNK do
  present = present + redis.call('EXISTS', unpack(stageKeys, i, math.min(i + CHUNK - 1, #stageKeys)))
end
if present ~= #stageKeys then
  callChunked('DEL', nil, stageKeys, 1, CHUNK)
  return redis.error_reply('runOwnedPageOps: ' .. (#stageKeys - present) .. ' of ' .. #stageKeys .. ' staged pages are missing')
end

-- A batch of staged writes only (the common one): RENAME each page into place, in op
-- order (a later op's page replaces an earlier one's), one SADD. Same effect as the
-- general path below without its write-back cache, which costs more than the moves.
if allStaged then
  local results, added, k = {}, {}, 0
  for i, op in ipairs(ops) do
    local first = op.off / PAGE
    for j = 0, op.len / PAGE - 1 do
      local p = string.format('%d', first + j)
      k = k + 1 -- stageKeys lists the ops' stage keys in this order
      redis.call('RENAME', stageKeys[k], prefix .. p)
      added[#added + 1] = p
    end
    results[i] = 0
  end
  callChunked('SADD', indexKey, added, 1, CHUNK)
  return results
end

-- Load what the ops need, once.
local pages = newPageRanges(PAGE, {}, indexKey, prefix)
pages.loadFor(ops, CHUNK)
local known = pages.storedIn()

-- Run.
local results = {}
for i, op in ipairs(ops) do
  local r = 0
  if op.kind == 'S' then
    pages.stage(op.off, op.len, op.payload)
  elseif op.kind == 'W' then
    if #op.payload ~= op.len then
      r = -4
    else
      pages.write(op.off, op.len, op.payload)
    end
  else
    pages.zero(op.off, op.len, known)
  end
  results[i] = r
end

pages.flush(CHUNK)
return results
