-- applyOps: run an ordered batch of request-table ops (request-table.ts `TableOp`) as one
-- atomic step: start, requeue, end, ref, drop on (hctx, tag, gen) tokens.
-- KEYS[1] slots      hash  slot index -> "gen:state:refs:status:hctx"
-- KEYS[2] free       zset  free slot indexes, score = index
-- KEYS[3] deadlines  zset  IN_FLIGHT slot indexes, score = deadline ms
-- KEYS[4] stats      hash  counters: recycled, stale_rejected, double_ends, bad_state,
--                          no_reference, drop_ended
-- KEYS[5] notices    list  completion notices of the submitter (any key of this disk's
--                          slot when ARGV[3] is not 1; it is then not touched)
-- KEYS[6] rqdata     hash  the disk's request data: "hctx:tag:gen" holds a request's
--                          write payload, "hctx:tag:gen:r" its read data
-- ARGV[1] recycle inline (1) or on-drop (0)
-- ARGV[2] status a request gets when its last reference drops before it ended (IOERR)
-- ARGV[3] 1 notify: every accepted end pushes "hctx:tag:gen:status" onto KEYS[5], with
--         "|" and the request's read data appended when it has some, which is taken
--         out of KEYS[6];
--         2 free data: both request-data fields of every op's token are deleted from
--         KEYS[6], whatever the op's result (the submitter's drop)
-- ARGV[4..] six per op: code, slot index (-1 for a token outside the tag space, which
--           is STALE), hctx, gen, arg, tag
--           code 1 start (arg = deadline ms), 2 requeue, 3 end (arg = status),
--           4 end + drop (arg = status), 5 ref, 6 drop
-- Returns one OpResult per op, in order: 0 Ok, 1 AlreadyStarted, 2 Recycled, -1 Stale,
-- -2 AlreadyComplete, -3 BadState, -4 NoReference.
-- Semantics are request-state.ts `applyOp`, op for op.
-- Guarantees (Lua atomicity): the batch runs as if alone, ops in order; a refused op
-- changes nothing but its counter; a slot is IDLE and in the free set exactly when it
-- was recycled; a slot is in the deadline set exactly while IN_FLIGHT; a notice is
-- pushed exactly for each end the batch accepted, in the same atomic step, so an ended
-- request's submitter always hears of it. Redis commands: one HMGET, one HSET, at most
-- two ZADD, one ZREM, one RPUSH and six HINCRBY per batch; with notices, one HMGET and
-- one HDEL of read data; freeing data, one HDEL.

local slotsKey, freeKey, deadlinesKey, statsKey, noticesKey, dataKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local inline = ARGV[1] == '1'
local DROP_STATUS = tonumber(ARGV[2])
local notify = ARGV[3] == '1'
local freeData = ARGV[3] == '2'
local FIRST, WIDTH = 4, 6
local notices = {}

local IDLE, ALLOCATED, IN_FLIGHT, COMPLETE = 0, 1, 2, 3
local OK, ALREADY_STARTED, RECYCLED = 0, 1, 2
local STALE, ALREADY_COMPLETE, BAD_STATE, NO_REFERENCE = -1, -2, -3, -4
local COUNTER = {
  [STALE] = 'stale_rejected', [ALREADY_COMPLETE] = 'double_ends',
  [BAD_STATE] = 'bad_state', [NO_REFERENCE] = 'no_reference', [RECYCLED] = 'recycled',
}

local nops = (#ARGV - FIRST + 1) / WIDTH

-- Load every slot the batch names with one HMGET.
local ids, byId = {}, {}
for i = 0, nops - 1 do
  local id = ARGV[FIRST + i * WIDTH + 1]
  if not byId[id] then
    byId[id] = true
    ids[#ids + 1] = id
  end
end
local CHUNK = 1000
for i = 1, #ids, CHUNK do
  local j = math.min(i + CHUNK - 1, #ids)
  local recs = redis.call('HMGET', slotsKey, unpack(ids, i, j))
  for k = 1, j - i + 1 do
    local s = { gen = 0, state = IDLE, refs = 0, status = 0, hctx = 0 }
    if recs[k] then
      local g, st, rf, ss, h = string.match(recs[k], '^(%d+):(%d+):(%d+):(%d+):(%d+)$')
      s.gen, s.state, s.refs, s.status, s.hctx =
        tonumber(g), tonumber(st), tonumber(rf), tonumber(ss), tonumber(h)
    end
    s.state0 = s.state
    byId[ids[i + k - 1]] = s
  end
end

local counts = { drop_ended = 0 }

local function recycle(s)
  s.state, s.refs, s.recycled = IDLE, 0, true
  return RECYCLED
end

-- Gives one reference back; the last one recycles, ending an unended request first.
local function release(s)
  if s.refs <= 0 then return NO_REFERENCE end
  s.refs = s.refs - 1
  if s.refs > 0 then return OK end
  if s.state ~= COMPLETE then
    s.status = DROP_STATUS
    counts.drop_ended = counts.drop_ended + 1
  end
  return recycle(s)
end

local function step(code, s, arg)
  if code == 1 then
    if s.state == ALLOCATED then
      s.state, s.refs, s.deadline = IN_FLIGHT, s.refs + 1, arg
      return OK
    elseif s.state == IN_FLIGHT then
      s.deadline = arg
      return ALREADY_STARTED
    end
    return BAD_STATE
  elseif code == 2 then
    if s.state ~= IN_FLIGHT then return BAD_STATE end
    -- The driver's reference goes back; the submitter's must remain.
    if s.refs < 2 then return NO_REFERENCE end
    s.state, s.refs = ALLOCATED, s.refs - 1
    return OK
  elseif code == 3 or code == 4 then
    if s.state == COMPLETE then return ALREADY_COMPLETE end
    if code == 4 and s.refs < 1 then return NO_REFERENCE end
    s.state, s.status = COMPLETE, tonumber(arg)
    if inline then return recycle(s) end
    if code == 4 then return release(s) end
    return OK
  elseif code == 5 then
    s.refs = s.refs + 1
    return OK
  elseif code == 6 then
    return release(s)
  end
  return redis.error_reply('applyOps: unknown op code ' .. tostring(code))
end

local results = {}
for i = 0, nops - 1 do
  local base = FIRST + i * WIDTH
  local code, id = tonumber(ARGV[base]), ARGV[base + 1]
  local hctx, gen, arg = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), ARGV[base + 4]
  local s = byId[id]
  local r
  if s.state == IDLE or s.gen ~= gen or s.hctx ~= hctx then
    r = STALE
  else
    r = step(code, s, arg)
    if type(r) == 'table' then return r end
    if r >= 0 then
      s.dirty = true
      if notify and (code == 3 or code == 4) then
        notices[#notices + 1] = hctx .. ':' .. ARGV[base + 5] .. ':' .. gen .. ':' .. arg
      end
    end
  end
  if COUNTER[r] then counts[COUNTER[r]] = (counts[COUNTER[r]] or 0) + 1 end
  results[#results + 1] = r
end

-- Write back: records, deadlines, free tags, counters.
local recs, deadlines, undeadlines, freed = {}, {}, {}, {}
for _, id in ipairs(ids) do
  local s = byId[id]
  if s.dirty then
    recs[#recs + 1] = id
    recs[#recs + 1] = string.format('%d:%d:%d:%d:%d', s.gen, s.state, s.refs, s.status, s.hctx)
    if s.state == IN_FLIGHT then
      if s.deadline then
        deadlines[#deadlines + 1] = s.deadline
        deadlines[#deadlines + 1] = id
      end
    elseif s.state0 == IN_FLIGHT or s.deadline then
      undeadlines[#undeadlines + 1] = id
    end
    if s.recycled then
      freed[#freed + 1] = id
      freed[#freed + 1] = id
    end
  end
end
local function chunked(cmd, key, list, width)
  local n = CHUNK * width
  for i = 1, #list, n do
    redis.call(cmd, key, unpack(list, i, math.min(i + n - 1, #list)))
  end
end
chunked('HSET', slotsKey, recs, 2)
chunked('ZADD', deadlinesKey, deadlines, 2)
chunked('ZREM', deadlinesKey, undeadlines, 1)
chunked('ZADD', freeKey, freed, 2)
-- Read data rides with its notice: the submitter needs no second round trip for it.
if #notices > 0 then
  local fields = {}
  for i = 1, #notices do
    fields[i] = string.match(notices[i], '^(%d+:%d+:%d+):') .. ':r'
  end
  for i = 1, #fields, CHUNK do
    local j = math.min(i + CHUNK - 1, #fields)
    local got = redis.call('HMGET', dataKey, unpack(fields, i, j))
    for k = 1, j - i + 1 do
      if got[k] then notices[i + k - 1] = notices[i + k - 1] .. '|' .. got[k] end
    end
  end
  chunked('HDEL', dataKey, fields, 1)
end
chunked('RPUSH', noticesKey, notices, 1)
for name, n in pairs(counts) do
  if n > 0 then redis.call('HINCRBY', statsKey, name, n) end
end
if freeData then
  local fields = {}
  for i = 0, nops - 1 do
    local base = FIRST + i * WIDTH
    local field = ARGV[base + 2] .. ':' .. ARGV[base + 5] .. ':' .. ARGV[base + 3]
    fields[#fields + 1] = field
    fields[#fields + 1] = field .. ':r'
  end
  chunked('HDEL', dataKey, fields, 1)
end
return results
