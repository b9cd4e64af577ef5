-- writeCache (included by the loader at `-- #include writeCache`; not a script): a disk's
-- write-back cache in front of its page store (null_blk's `cache_size`, DESIGN I13), the
-- moves of null_blk's null_flush_cache_page / null_make_cache_space / null_handle_flush.
-- Cached page p is the string key `cachePrefix .. p` (exactly PAGE bytes: the whole page
-- as reads must see it, the store's bytes under the cached writes) and the set
-- `cacheIndex` holds the cached page numbers; both in the disk's hash slot, like the
-- store (I8). A cached page is written back whole, by RENAME: its bytes never become a
-- Lua string.
-- newWriteCache(cacheIndex, cachePrefix, indexKey, prefix, chunk) -> C
--   C.seed(loaded)      for each page p of `loaded` (a pageRanges `stored` table filled
--                       from the cache keys) that is not cached, the store's page instead
--                       (one MGET per `chunk` pages): a partial write starts from it
--   C.writeBack(pages)  writes back the pages of the list (numbers) that are cached
--   C.writeBackAll()    writes back every cached page (FLUSH)
--   C.evict(limit)      writes back pages (SPOP: any pages) until at most `limit` are cached
--   C.settle(through, flushAll, limit)  the end of a batch's ops: every cached page with
--                       `flushAll` (a FLUSH ran), else the pages of `through` (written
--                       through) and then down to `limit` pages
--   C.written()         pages written back so far by this C
--   C.count()           pages cached now (SCARD)
-- Needs chunkedCalls included before it.
-- Guarantees: a page written back leaves the cache in the same step (RENAME, SREM), so a
-- read never sees an older page in the cache than in the store.
local function newWriteCache(cacheIndex, cachePrefix, indexKey, prefix, chunk)
  local C, written = {}, 0

  function C.seed(loaded)
    local missing = {}
    for p, v in pairs(loaded) do
      if not v then missing[#missing + 1] = p end
    end
    mgetPagesInto(prefix, missing, loaded, chunk)
  end

  -- `fields`: page numbers as decimal strings, each cached (in cacheIndex) or not; with
  -- `known`, taken out of cacheIndex by the caller. A page whose key is gone (a power
  -- off dropping the cache meanwhile, write-cache.ts) is skipped.
  local function moveBack(fields, known)
    local moved = {}
    for _, field in ipairs(fields) do
      if (known or redis.call('SISMEMBER', cacheIndex, field) == 1) and redis.call('EXISTS', cachePrefix .. field) == 1 then
        redis.call('RENAME', cachePrefix .. field, prefix .. field)
        moved[#moved + 1] = field
      end
    end
    callChunked('SADD', indexKey, moved, 1, chunk)
    if not known then callChunked('SREM', cacheIndex, moved, 1, chunk) end
    written = written + #moved
  end

  function C.writeBack(pages)
    local fields, seen = {}, {}
    for _, p in ipairs(pages) do
      if not seen[p] then
        seen[p] = true
        fields[#fields + 1] = string.format('%d', p)
      end
    end
    moveBack(fields, false)
  end

  function C.writeBackAll()
    local fields = redis.call('SMEMBERS', cacheIndex)
    moveBack(fields, true)
    redis.call('DEL', cacheIndex)
  end

  function C.evict(limit)
    local over = redis.call('SCARD', cacheIndex) - limit
    if over > 0 then moveBack(redis.call('SPOP', cacheIndex, over), true) end
  end

  function C.settle(through, flushAll, limit)
    if flushAll then
      C.writeBackAll()
    else
      C.writeBack(through)
      C.evict(limit)
    end
  end

  function C.written() return written end
  function C.count() return redis.call('SCARD', cacheIndex) end

  return C
end
