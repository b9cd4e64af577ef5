-- applyPageOps: an ordered batch of IO against a disk's sparse page store (null_blk's
-- null_handle_memory_backed over its xarray of pages: copy_to_nullb / copy_from_nullb /
-- null_handle_discard), with byte offsets and lengths that are multiples of 512.
-- KEYS[1] pages   hash  page index -> PAGE bytes; a missing page reads as zeros
-- KEYS[2] rqdata  hash  request-data field -> payload, for copies that bypass the client
-- KEYS[3] slots   hash  the request table's slots (applyOps-5.lua), read for gates only
-- ARGV[1] PAGE, the page size in bytes (4096)
-- ARGV[2..] five per op: kind, byte offset, length, payload, gate
--   gate '' runs the op; "index:gen" runs it only while slot `index` of KEYS[3] holds
--   generation `gen` IN_FLIGHT (started, not ended): otherwise the op is skipped, with
--   result -1, and its copy-in source is not checked
--   R  read                   payload ''      -> returns the bytes
--   W  write                  payload = bytes (exactly length of them) -> 0
--   Z  discard / write-zeroes payload ''      -> 0; whole pages are freed, a partial
--                             range is zeroed and the page freed once all zero
--   I  copy in                payload = rqdata field holding exactly length bytes -> 0
--   O  copy out               payload = rqdata field to receive the bytes -> 0
-- Returns one result per op, in order; or {-3, field} (NoRequestData) or
-- {-4, field} (RequestDataSize) when a copy-in source (or an inline write's payload)
-- of an op that runs is missing or not exactly `length` bytes.
-- Guarantees (Lua atomicity): the batch runs as if alone, ops in order, each op seeing
-- the ones before it; a gated op moves data only if its request is started and not yet
-- ended at the moment the batch runs (a redelivered stale request moves nothing); a
-- refused batch changes nothing (writes are buffered and flushed at the end); every
-- stored page is exactly PAGE bytes and not all zeros after a Z. Partial pages are
-- read-modify-written here, so page bytes never travel to the client.
-- Redis commands: one HMGET of slots when gated, one HMGET of pages (partial pages and
-- read ranges), one HMGET of rqdata, then one HSET and one HDEL of pages and one HSET
-- of rqdata, per 1000 pages.

local pagesKey, rqKey, slotsKey = KEYS[1], KEYS[2], KEYS[3]
local PAGE = tonumber(ARGV[1])
local FIRST, WIDTH = 2, 5
local IN_FLIGHT = 2
local CHUNK = 1000
local nops = (#ARGV - FIRST + 1) / WIDTH

local function field(p) return string.format('%d', p) end

local function op(i)
  local b = FIRST + i * WIDTH
  return ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), ARGV[b + 3]
end

-- #include chunkedCalls
-- #include pageRanges

-- Pass 0: which ops run (gates); skipped ops touch nothing below.
local runs, gated, gateIds = {}, {}, {}
for i = 0, nops - 1 do
  local gate = ARGV[FIRST + i * WIDTH + 4]
  runs[i] = true
  if gate ~= '' then
    local id, gen = string.match(gate, '^(%d+):(%d+)$')
    if not id then return redis.error_reply('applyPageOps: bad gate ' .. gate) end
    gated[#gated + 1] = { i = i, gen = tonumber(gen) }
    gateIds[#gateIds + 1] = id
  end
end
for c = 1, #gateIds, CHUNK do
  local j = math.min(c + CHUNK - 1, #gateIds)
  local recs = redis.call('HMGET', slotsKey, unpack(gateIds, c, j))
  for k = 1, j - c + 1 do
    local g = gated[c + k - 1]
    local gen, state
    if recs[k] then gen, state = string.match(recs[k], '^(%d+):(%d+):') end
    runs[g.i] = tonumber(gen) == g.gen and tonumber(state) == IN_FLIGHT
  end
end

-- Pass 1: which stored pages and request data the batch needs; load each once.
local stored, wanted, wantedList = {}, {}, {}
local pages = newPageRanges(PAGE, stored)
local function want(p)
  if not wanted[p] then
    wanted[p] = true
    wantedList[#wantedList + 1] = field(p)
  end
end
local sources, sourceList = {}, {}
for i = 0, nops - 1 do
  local kind, off, len, payload = op(i)
  if not runs[i] then
    -- skipped
  elseif kind == 'R' or kind == 'O' then
    pages.loadsFor('R', off, len, want)
  else
    pages.loadsFor('W', off, len, want)
    if kind == 'I' and not sources[payload] then
      sources[payload] = true
      sourceList[#sourceList + 1] = payload
    end
  end
end
for field, page in pairs(hmgetInto(pagesKey, wantedList, {}, CHUNK)) do stored[tonumber(field)] = page end
hmgetInto(rqKey, sourceList, sources, CHUNK)
for i = 0, nops - 1 do
  local kind, _, len, payload = op(i)
  if not runs[i] then kind = '' end
  if kind == 'W' and #payload ~= len then return { -4, 'inline write #' .. i } end
  if kind == 'I' then
    local src = sources[payload]
    if not src then return { -3, payload } end
    if #src ~= len then return { -4, payload } end
  end
end

-- Pass 2: run the ops against the write-back cache of `pages` (false = page freed).
local results, copies = {}, {}
for i = 0, nops - 1 do
  local kind, off, len, payload = op(i)
  local r = 0
  if not runs[i] then
    r = -1
  elseif kind == 'R' then
    r = pages.read(off, len)
  elseif kind == 'W' then
    pages.write(off, len, payload)
  elseif kind == 'I' then
    pages.write(off, len, sources[payload])
  elseif kind == 'Z' then
    pages.zero(off, len)
  elseif kind == 'O' then
    copies[#copies + 1] = payload
    copies[#copies + 1] = pages.read(off, len)
  else
    return redis.error_reply('applyPageOps: unknown op kind ' .. tostring(kind))
  end
  results[#results + 1] = r
end

-- Flush: one HSET / HDEL per CHUNK pages.
pages.flush(pagesKey, CHUNK)
callChunked('HSET', rqKey, copies, 2, CHUNK)
return results
