-- zones (included by the loader at `-- #include zones`; not a script): null_blk's zone
-- state machine (drivers/block/null_blk/zoned.c) over one hash in the disk's slot
-- (KeySchema.zones, DESIGN I17), so every dispatch instance and driver process sees one
-- truth and a script that moves a write pointer moves it in the same atomic step as
-- whatever else the script does.
--   The hash: the shape `nr`, `conv`, `zsize` (sectors, a power of two), `cap` (capacity
--   sectors), `last` (length of the last zone), `max_open`, `max_active`, `append_max`
--   (sectors; 0 means the block layer's emulation: appends still run), `full` (1: a
--   sequential zone untouched since the layout is FULL at its capacity), the counters
--   `imp`, `exp`, `closed` (null_blk's nr_zones_imp_open / _exp_open / _closed, kept by
--   `set`, the one place a zone changes) and
--   `next` (imp_close_zone_no); per sequential zone z ever changed, `c<z>` (condition)
--   and `w<z>` (write pointer, -1 for none). An absent `c<z>` is the layout's: EMPTY at
--   its start, or FULL at start + capacity with `full`. Conventional zones have no fields.
--   newZones(key)          the zone table of hash `key`, or nil when not laid out
--   zt.write(sector, n, append)  null_zone_write's checks and moves: status, sector (the
--                          write's, or for an append the write pointer it landed at)
--   zt.mgmt(kind, sector)  O open, C close, F finish, X reset (null_zone_mgmt): status;
--                          XA reset all (sector ignored)
--   zt.setCond(sector, cond)  zone_cond_store (READ_ONLY or OFFLINE, again: back to EMPTY):
--                          status (IOERR for a conventional zone or a sector past the end)
--   zt.readable(sector, n) OK unless a zone of the range is OFFLINE (IOERR)
--   zt.save()              writes every changed zone and the counters back (one HSET)
--   zt.discards            {start, len} sector ranges whose data a reset dropped, in order
-- Conditions and statuses are the kernel's numbers (blk_zone_cond, blk_status_t).
-- Needs chunkedCalls included before it.

local ZONE_NOT_WP, ZONE_EMPTY, ZONE_IMP_OPEN, ZONE_EXP_OPEN, ZONE_CLOSED = 0, 1, 2, 3, 4
local ZONE_READONLY, ZONE_FULL, ZONE_OFFLINE = 13, 14, 15
local STS_OK, STS_IOERR, STS_OPEN_RESOURCE, STS_ACTIVE_RESOURCE = 0, 10, 14, 15
local NO_WP = -1

local function newZones(key)
  local m = redis.call('HMGET', key, 'nr', 'conv', 'zsize', 'cap', 'last', 'max_open', 'max_active', 'append_max', 'full',
    'imp', 'exp', 'closed', 'next')
  if not m[1] then return nil end
  local zt = {
    nr = tonumber(m[1]), conv = tonumber(m[2]), zsize = tonumber(m[3]), cap = tonumber(m[4]), last = tonumber(m[5]),
    maxOpen = tonumber(m[6]), maxActive = tonumber(m[7]), appendMax = tonumber(m[8]), full = m[9] == '1',
    imp = tonumber(m[10]) or 0, exp = tonumber(m[11]) or 0, closed = tonumber(m[12]) or 0, next = tonumber(m[13]) or tonumber(m[2]),
    discards = {},
  }
  local loaded, dirty = {}, {}

  local function start(z) return z * zt.zsize end
  local function len(z) return z == zt.nr - 1 and zt.last or zt.zsize end
  local function capacity(z) return math.min(len(z), zt.cap) end
  local function zoneOf(sector) return math.floor(sector / zt.zsize) end

  -- The state of sequential zone z, read once per script.
  local function zone(z)
    local s = loaded[z]
    if s then return s end
    local f = redis.call('HMGET', key, 'c' .. z, 'w' .. z)
    if f[1] then
      s = { cond = tonumber(f[1]), wp = tonumber(f[2]) }
    elseif zt.full then
      s = { cond = ZONE_FULL, wp = start(z) + capacity(z) }
    else
      s = { cond = ZONE_EMPTY, wp = start(z) }
    end
    loaded[z] = s
    return s
  end
  -- The one place a zone changes; the open / closed counters follow its condition.
  local COUNTED = { [ZONE_IMP_OPEN] = 'imp', [ZONE_EXP_OPEN] = 'exp', [ZONE_CLOSED] = 'closed' }
  local function set(z, cond, wp)
    local s = zone(z)
    local from, to = COUNTED[s.cond], COUNTED[cond]
    if from then zt[from] = zt[from] - 1 end
    if to then zt[to] = zt[to] + 1 end
    s.cond, s.wp = cond, wp
    dirty[z] = true
  end

  -- null_close_imp_open_zone: the next implicitly open zone, round robin, closes.
  local function closeImpOpen()
    local zno = zt.next
    if zno >= zt.nr then zno = zt.conv end
    for _ = zt.conv, zt.nr - 1 do
      local z = zno
      zno = zno + 1
      if zno >= zt.nr then zno = zt.conv end
      local s = zone(z)
      if s.cond == ZONE_IMP_OPEN then
        set(z, s.wp == start(z) and ZONE_EMPTY or ZONE_CLOSED, s.wp)
        zt.next = zno
        return
      end
    end
  end

  local function checkActive()
    if zt.maxActive == 0 or zt.exp + zt.imp + zt.closed < zt.maxActive then return STS_OK end
    return STS_ACTIVE_RESOURCE
  end

  local function checkOpen()
    if zt.maxOpen == 0 or zt.exp + zt.imp < zt.maxOpen then return STS_OK end
    if zt.imp > 0 and checkActive() == STS_OK then
      closeImpOpen()
      return STS_OK
    end
    return STS_OPEN_RESOURCE
  end

  -- null_check_zone_resources, for an EMPTY or CLOSED zone about to open.
  local function checkResources(cond)
    if cond == ZONE_EMPTY then
      local r = checkActive()
      if r ~= STS_OK then return r end
      return checkOpen()
    elseif cond == ZONE_CLOSED then
      return checkOpen()
    end
    return STS_IOERR
  end

  function zt.write(sector, n, append)
    local z = zoneOf(sector)
    if z >= zt.nr then return STS_IOERR, sector end
    if z < zt.conv then
      if append then return STS_IOERR, sector end
      return STS_OK, sector
    end
    local s = zone(z)
    if append then
      if s.wp == NO_WP then return STS_IOERR, sector end
      sector = s.wp
    end
    if sector ~= s.wp or s.wp + n > start(z) + capacity(z) then return STS_IOERR, sector end
    if s.cond == ZONE_CLOSED or s.cond == ZONE_EMPTY then
      local r = checkResources(s.cond)
      if r ~= STS_OK then return r, sector end
      set(z, ZONE_IMP_OPEN, s.wp)
    end
    local wp = s.wp + n
    set(z, wp == start(z) + capacity(z) and ZONE_FULL or s.cond, wp)
    return STS_OK, sector
  end

  local function open(z)
    local s = zone(z)
    if s.cond == ZONE_EXP_OPEN then return STS_OK end
    if s.cond == ZONE_EMPTY or s.cond == ZONE_CLOSED then
      local r = checkResources(s.cond)
      if r ~= STS_OK then return r end
    elseif s.cond ~= ZONE_IMP_OPEN then
      return STS_IOERR
    end
    set(z, ZONE_EXP_OPEN, s.wp)
    return STS_OK
  end

  local function close(z)
    local s = zone(z)
    if s.cond == ZONE_CLOSED then return STS_OK end
    if s.cond ~= ZONE_IMP_OPEN and s.cond ~= ZONE_EXP_OPEN then return STS_IOERR end
    set(z, s.wp == start(z) and ZONE_EMPTY or ZONE_CLOSED, s.wp)
    return STS_OK
  end

  local function finish(z)
    local s = zone(z)
    if s.cond == ZONE_FULL then return STS_OK end
    if s.cond == ZONE_EMPTY or s.cond == ZONE_CLOSED then
      local r = checkResources(s.cond)
      if r ~= STS_OK then return r end
    elseif s.cond ~= ZONE_IMP_OPEN and s.cond ~= ZONE_EXP_OPEN then
      return STS_IOERR
    end
    set(z, ZONE_FULL, start(z) + len(z))
    return STS_OK
  end

  local function reset(z)
    local c = zone(z).cond
    if c == ZONE_READONLY or c == ZONE_OFFLINE then return STS_IOERR end
    set(z, ZONE_EMPTY, start(z))
    zt.discards[#zt.discards + 1] = { start(z), len(z) }
    return STS_OK
  end

  function zt.mgmt(kind, sector)
    if kind == 'XA' then
      for z = zt.conv, zt.nr - 1 do
        local c = zone(z).cond
        if c ~= ZONE_EMPTY and c ~= ZONE_READONLY and c ~= ZONE_OFFLINE then reset(z) end
      end
      return STS_OK
    end
    local z = zoneOf(sector)
    if z >= zt.nr or z < zt.conv then return STS_IOERR end
    local c = zone(z).cond
    if c == ZONE_READONLY or c == ZONE_OFFLINE then return STS_IOERR end
    if kind == 'O' then return open(z) end
    if kind == 'C' then return close(z) end
    if kind == 'F' then return finish(z) end
    if kind == 'X' then return reset(z) end
    return redis.error_reply('zones: unknown management op ' .. tostring(kind))
  end

  function zt.setCond(sector, cond)
    local z = zoneOf(sector)
    if z >= zt.nr or z < zt.conv or (cond ~= ZONE_READONLY and cond ~= ZONE_OFFLINE) then return STS_IOERR end
    local s = zone(z)
    if s.cond == cond then
      set(z, ZONE_EMPTY, start(z))
      zt.discards[#zt.discards + 1] = { start(z), len(z) }
    else
      if s.cond ~= ZONE_READONLY and s.cond ~= ZONE_OFFLINE then finish(z) end
      set(z, cond, NO_WP)
    end
    return STS_OK
  end

  function zt.readable(sector, n)
    local last = math.min(zoneOf(sector + math.max(n, 1) - 1), zt.nr - 1)
    for z = math.max(zoneOf(sector), zt.conv), last do
      if zone(z).cond == ZONE_OFFLINE then return STS_IOERR end
    end
    return STS_OK
  end

  function zt.save()
    local fields = { 'imp', zt.imp, 'exp', zt.exp, 'closed', zt.closed, 'next', zt.next }
    for z in pairs(dirty) do
      local s = loaded[z]
      fields[#fields + 1] = 'c' .. z
      fields[#fields + 1] = s.cond
      fields[#fields + 1] = 'w' .. z
      fields[#fields + 1] = string.format('%d', s.wp)
    end
    callChunked('HSET', key, fields, 2, 1000)
  end

  return zt
end
