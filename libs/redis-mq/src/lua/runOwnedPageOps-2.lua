-- runOwnedPageOps: the writes, discards and zeroes of one batch whose driver runs in the
-- owning dispatch process (LocalDriver's backing), with the write payloads as arguments,
-- only while the owner epoch is alive, checked in the same atomic step as the copies
-- (I4). Its reads need no script (FencedPages.readPages). The remote path's twin is
-- runPageOps-4.lua.
-- KEYS[1] pages   hash  page index -> PAGE bytes (the xarray); a missing page reads as zeros
-- KEYS[2] owners  zset  live owner epochs
-- ARGV[1] epoch   the owner epoch of the batch
-- ARGV[2] PAGE    the page size in bytes (4096)
-- ARGV[3..] four per op: kind, byte offset, length, payload ('' for Z)
--   W  write          copy the payload (exactly length bytes) in
--   Z  discard / write zeroes: whole pages freed, partial pages zeroed in place and freed
--                     once all zero
-- Returns one result per op, in order: 0, or -4 (RequestDataSize)
-- for a write whose payload is not exactly `length` bytes (that op does nothing, the
-- others run). Or, for the whole batch: -6 (OwnerGone) when ARGV[1] is not in KEYS[2]:
-- no page changes.
-- Guarantees (Lua atomicity): the fence and the copies are one step, so the batch of an
-- owner presumed dead never moves data (I4); ops run in order, each seeing the ones before.
-- Redis commands: ZSCORE, one HMGET of pages (partially covered pages),
-- HKEYS of pages only when a Z range covers more than 64 pages, then one HSET and one
-- HDEL of pages per 1000 pages.

local pagesKey, owners = KEYS[1], KEYS[2]
local PAGE = tonumber(ARGV[2])
local FIRST, WIDTH, CHUNK = 3, 4, 1000
local nops = (#ARGV - FIRST + 1) / WIDTH
if not PAGE or nops ~= math.floor(nops) then return redis.error_reply('runOwnedPageOps: want PAGE and 4 ARGV per op') end

-- #include chunkedCalls
-- #include pageRanges

local ops = {}
for i = 1, nops do
  local b = FIRST + (i - 1) * WIDTH
  local op = { kind = ARGV[b], off = tonumber(ARGV[b + 1]), len = tonumber(ARGV[b + 2]), payload = ARGV[b + 3] }
  if not op.off or not op.len or op.off < 0 or op.len < 0 then return redis.error_reply('runOwnedPageOps: op ' .. i .. ': bad range') end
  if op.kind ~= 'W' and op.kind ~= 'Z' then
    return redis.error_reply('runOwnedPageOps: op ' .. i .. ': unknown kind ' .. tostring(op.kind))
  end
  ops[i] = op
end

-- The fence (I4).
if not redis.call('ZSCORE', owners, ARGV[1]) then return -6 end

-- Load what the ops need, once.
local pages = newPageRanges(PAGE, {})
pages.loadFor(pagesKey, ops, CHUNK)
local known = pages.storedIn(pagesKey)

-- Run.
local results = {}
for i, op in ipairs(ops) do
  local r = 0
  if op.kind == 'W' then
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

pages.flush(pagesKey, CHUNK)
return results
