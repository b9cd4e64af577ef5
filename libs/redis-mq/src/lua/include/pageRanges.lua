-- pageRanges (included by the loader at `-- #include pageRanges`; not a script): byte
-- ranges over a disk's sparse page store through a write-back cache, the page math of
-- null_blk's copy_to_nullb / copy_from_nullb / null_handle_discard.
-- The store (I8): page p is the string key `prefix .. p` (exactly PAGE bytes), and the set
-- `indexKey` holds every stored page number; both in the disk's hash slot. One key per
-- page lets a write's bytes be staged with a plain command and moved in by RENAME, so they
-- never become a Lua string (R.stage).
-- newPageRanges(PAGE, stored, indexKey, prefix) -> R, where stored[p] is the stored page p
-- (PAGE bytes), or nil/false when absent; the caller loads into `stored` every page it will
-- read or partially overwrite or zero (R.loadFor) before running ops.
--   R.eachPage(off, len, fn)   fn(p, a, b) for each page the range covers; [a, b) is the
--                              part inside the range, in page-relative bytes
--   R.read(off, len)           the bytes; absent pages read as zeros
--   R.write(off, len, src)     src is exactly len bytes
--   R.stage(off, len, base)    a page-aligned whole-page write whose page j (from 0) waits
--                              in the string key `base .. j`; flush RENAMEs it into place
--   R.zero(off, len, known)    discard / write-zeroes: whole pages freed, partial pages
--                              zeroed in place and freed once all zero. With `known` (a
--                              function returning every stored page index), a range of
--                              more pages than are stored visits the stored and cached
--                              pages only: cost O(min(range, stored pages))
--   R.loadsFor(kind, off, len, fn) fn(p) for each page op `kind` needs loaded: every
--                              page for 'R', only partially covered pages for 'W'/'Z'
--                              (at most two, computed without walking the range)
--   R.loadFor(ops, chunk)      loads into `stored`, with one MGET per `chunk` pages, every
--                              page the ops ({kind, off, len}) need (loadsFor)
--   R.storedIn()               a `known` function for R.zero: SMEMBERS of the index, once
--   R.flush(chunk)             MSET / DEL of page keys and SADD / SREM of the index per
--                              `chunk` pages, a RENAME per staged page, and DEL of the
--                              stage keys a later op of the batch superseded
-- Needs chunkedCalls included before it.
-- Guarantees: every page the cache keeps is exactly PAGE bytes and not all zeros after a
-- zero; ops see the ones before them (write-back cache); after flush no stage key given
-- to R.stage is left.
local function newPageRanges(PAGE, stored, indexKey, prefix)
  -- A page of zeros, made on first use: a 4 KiB Lua string costs microseconds to make.
  local ZERO
  local function zeros()
    if not ZERO then ZERO = string.rep('\0', PAGE) end
    return ZERO
  end
  -- cache[p]: bytes, false (freed) or { stage = key } (a staged page not yet moved)
  local cache = {}
  local stages = {}
  local R = {}

  function R.eachPage(off, len, fn)
    if len <= 0 then return end
    local last = math.floor((off + len - 1) / PAGE)
    for p = math.floor(off / PAGE), last do
      local base = p * PAGE
      fn(p, math.max(off, base) - base, math.min(off + len, base + PAGE) - base)
    end
  end

  local function get(p)
    local v = cache[p]
    if v == nil then v = stored[p] end
    if type(v) == 'table' then
      -- A staged page that a later op reads or partially rewrites: its bytes, once.
      v = redis.call('GET', v.stage)
      cache[p] = v
    end
    return v or nil
  end

  function R.read(off, len)
    local parts = {}
    R.eachPage(off, len, function(p, a, b)
      local v = get(p)
      if not v then
        parts[#parts + 1] = (b - a == PAGE) and zeros() or string.rep('\0', b - a)
      elseif b - a == PAGE then
        parts[#parts + 1] = v
      else
        parts[#parts + 1] = string.sub(v, a + 1, b)
      end
    end)
    if #parts == 1 then return parts[1] end
    return table.concat(parts)
  end

  function R.write(off, len, src)
    R.eachPage(off, len, function(p, a, b)
      local s = p * PAGE + a - off
      if a == 0 and b == PAGE then
        -- A one-page source is the page itself: no copy.
        cache[p] = (s == 0 and #src == PAGE) and src or string.sub(src, s + 1, s + PAGE)
      else
        local v = get(p) or zeros()
        cache[p] = string.sub(v, 1, a) .. string.sub(src, s + 1, s + b - a) .. string.sub(v, b + 1)
      end
    end)
  end

  function R.stage(off, len, base)
    if off % PAGE ~= 0 or len % PAGE ~= 0 then error('pageRanges: a staged write must cover whole pages') end
    local first = off / PAGE
    for j = 0, len / PAGE - 1 do
      local key = base .. string.format('%d', j)
      stages[#stages + 1] = key
      cache[first + j] = { stage = key }
    end
  end

  local function zeroPage(p, a, b)
    if a == 0 and b == PAGE then
      cache[p] = false
    else
      local v = get(p)
      if v then
        v = string.sub(v, 1, a) .. string.rep('\0', b - a) .. string.sub(v, b + 1)
        if v == zeros() then cache[p] = false else cache[p] = v end
      end
    end
  end

  function R.zero(off, len, known)
    if len <= 0 then return end
    local first, last = math.floor(off / PAGE), math.floor((off + len - 1) / PAGE)
    local indexes = known and (last - first + 1 > 64) and known() or nil
    if not indexes or last - first + 1 <= #indexes then
      R.eachPage(off, len, zeroPage)
      return
    end
    local seen = {}
    local function visit(p)
      if p >= first and p <= last and not seen[p] then
        seen[p] = true
        local base = p * PAGE
        zeroPage(p, math.max(off, base) - base, math.min(off + len, base + PAGE) - base)
      end
    end
    for _, p in ipairs(indexes) do visit(p) end
    local cached = {}
    for p in pairs(cache) do cached[#cached + 1] = p end
    for _, p in ipairs(cached) do visit(p) end
  end

  function R.loadsFor(kind, off, len, fn)
    if len <= 0 then return end
    if kind == 'R' then
      R.eachPage(off, len, function(p) fn(p) end)
      return
    end
    local first, last = math.floor(off / PAGE), math.floor((off + len - 1) / PAGE)
    if off % PAGE ~= 0 or (first == last and len < PAGE) then fn(first) end
    if last ~= first and (off + len) % PAGE ~= 0 then fn(last) end
  end

  function R.loadFor(ops, chunk)
    local wanted, list = {}, {}
    for _, op in ipairs(ops) do
      R.loadsFor(op.kind, op.off, op.len, function(p)
        if not wanted[p] then
          wanted[p] = true
          list[#list + 1] = p
        end
      end)
    end
    mgetPagesInto(prefix, list, stored, chunk)
  end

  function R.storedIn()
    local indexes
    return function()
      if not indexes then
        indexes = redis.call('SMEMBERS', indexKey)
        for i = 1, #indexes do indexes[i] = tonumber(indexes[i]) end
      end
      return indexes
    end
  end

  function R.flush(chunk)
    local sets, added, dels, removed, moved = {}, {}, {}, {}, {}
    for p, v in pairs(cache) do
      local field = string.format('%d', p)
      if type(v) == 'table' then
        redis.call('RENAME', v.stage, prefix .. field)
        moved[v.stage] = true
        added[#added + 1] = field
      elseif v then
        sets[#sets + 1] = prefix .. field
        sets[#sets + 1] = v
        added[#added + 1] = field
      else
        dels[#dels + 1] = prefix .. field
        removed[#removed + 1] = field
      end
    end
    local superseded = {}
    for _, key in ipairs(stages) do
      if not moved[key] then superseded[#superseded + 1] = key end
    end
    callChunked('MSET', nil, sets, 2, chunk)
    callChunked('DEL', nil, dels, 1, chunk)
    callChunked('DEL', nil, superseded, 1, chunk)
    callChunked('SADD', indexKey, added, 1, chunk)
    callChunked('SREM', indexKey, removed, 1, chunk)
  end

  return R
end
