-- applyPageOps: an ordered batch of IO against a disk's sparse page store (null_blk's
-- null_handle_memory_backed over its xarray of pages: copy_to_nullb / copy_from_nullb /
-- null_handle_discard), with byte offsets and lengths that are multiples of 512, for
-- tools and tests; the hot path moves data with the fenced runPageOps-5.lua.
-- KEYS[1] index   set   stored page numbers; page p is the string key ARGV[2] .. p (I8),
--                       a missing page reads as zeros
-- ARGV[1] PAGE, the page size in bytes (4096)
-- ARGV[2] the page key prefix (KeySchema.pagePrefix, the disk's hash slot)
-- ARGV[3..] four per op: kind, byte offset, length, payload
--   R  read                   payload ''      -> returns the bytes
--   W  write                  payload = bytes (exactly length of them) -> 0
--   Z  discard / write-zeroes payload ''      -> 0; whole pages are freed, a partial
--                             range is zeroed and the page freed once all zero
-- Returns one result per op, in order; or {-4, op} (RequestDataSize) when a write's
-- payload is not exactly `length` bytes.
-- Guarantees (Lua atomicity): the batch runs as if alone, ops in order, each op seeing
-- the ones before it; a refused batch changes nothing (writes are buffered and flushed at
-- the end); every stored page is exactly PAGE bytes and not all zeros after a Z.
-- Partial pages are read-modify-written here, so page bytes never travel to the client.
-- Redis commands: one MGET of page keys (partial pages and read ranges), then one MSET /
-- DEL of page keys and one SADD / SREM of the index per 1000 pages.

local indexKey, prefix = KEYS[1], ARGV[2]
local PAGE = tonumber(ARGV[1])
local FIRST, WIDTH = 3, 4
local CHUNK = 1000
local nops = (#ARGV - FIRST + 1) / WIDTH

local function op(i)
  local b = FIRST + i * WIDTH
  return ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), ARGV[b + 3]
end

-- #include chunkedCalls
-- #include pageRanges

-- Pass 1: which stored pages the batch needs; load each once.
local pages = newPageRanges(PAGE, {}, indexKey, prefix)
local loads = {}
for i = 0, nops - 1 do
  local kind, off, len, payload = op(i)
  if kind == 'W' and #payload ~= len then return { -4, 'write #' .. i } end
  loads[#loads + 1] = { kind = kind == 'R' and 'R' or 'W', off = off, len = len }
end
pages.loadFor(loads, CHUNK)

-- Pass 2: run the ops against the write-back cache of `pages` (false = page freed).
local results = {}
for i = 0, nops - 1 do
  local kind, off, len, payload = op(i)
  local r = 0
  if kind == 'R' then
    r = pages.read(off, len)
  elseif kind == 'W' then
    pages.write(off, len, payload)
  elseif kind == 'Z' then
    pages.zero(off, len)
  else
    return redis.error_reply('applyPageOps: unknown op kind ' .. tostring(kind))
  end
  results[#results + 1] = r
end

-- Flush: one MSET / DEL (and SADD / SREM of the index) per CHUNK pages.
pages.flush(CHUNK)
return results
