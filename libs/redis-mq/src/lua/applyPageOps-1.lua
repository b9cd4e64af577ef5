-- applyPageOps: an ordered batch of IO against a disk's sparse page store (null_blk's
-- null_handle_memory_backed over its xarray of pages: copy_to_nullb / copy_from_nullb /
-- null_handle_discard), with byte offsets and lengths that are multiples of 512, for
-- tools and tests; the hot path moves data with the fenced runPageOps-4.lua.
-- KEYS[1] pages   hash  page index -> PAGE bytes; a missing page reads as zeros
-- ARGV[1] PAGE, the page size in bytes (4096)
-- ARGV[2..] four per op: kind, byte offset, length, payload
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
-- Redis commands: one HMGET of pages (partial pages and read ranges), then one HSET and
-- one HDEL of pages per 1000 pages.

local pagesKey = KEYS[1]
local PAGE = tonumber(ARGV[1])
local FIRST, WIDTH = 2, 4
local CHUNK = 1000
local nops = (#ARGV - FIRST + 1) / WIDTH

local function field(p) return string.format('%d', p) end

local function op(i)
  local b = FIRST + i * WIDTH
  return ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), ARGV[b + 3]
end

-- #include chunkedCalls
-- #include pageRanges

-- Pass 1: which stored pages the batch needs; load each once.
local stored, wanted, wantedList = {}, {}, {}
local pages = newPageRanges(PAGE, stored)
local function want(p)
  if not wanted[p] then
    wanted[p] = true
    wantedList[#wantedList + 1] = field(p)
  end
end
for i = 0, nops - 1 do
  local kind, off, len, payload = op(i)
  if kind == 'W' and #payload ~= len then return { -4, 'write #' .. i } end
  pages.loadsFor(kind == 'R' and 'R' or 'W', off, len, want)
end
for f, page in pairs(hmgetInto(pagesKey, wantedList, {}, CHUNK)) do stored[tonumber(f)] = page end

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

-- Flush: one HSET / HDEL per CHUNK pages.
pages.flush(pagesKey, CHUNK)
return results
