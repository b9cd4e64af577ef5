-- endBatch: finish a leased batch (rnull's end of a batch, or the completion service's
-- softirq / timer delivery): push the end message to the owner's completion list with
-- the read data of its ends appended, forward a softirq / timer batch, and ack the lease,
-- in one step fenced by the lease (DESIGN §3, §6; I4).
-- KEYS[1] leased   zset  the leased set of the queue the batch came from
-- KEYS[2] owners   zset  live owner epochs
-- KEYS[3] cq       list  the owner's completion list (KeySchema.completionList(disk, epoch))
-- KEYS[4] rqdata   hash  request id .. 'r' -> read data in transit
-- KEYS[5] fwdWait  list  the disk's softirq or timer queue's wait (untouched without ARGV[4])
-- KEYS[6] fwdMarker zset the same queue's marker
-- ARGV[1] member   the lease member being finished
-- ARGV[2] epoch    the owner epoch of the batch (both messages must carry it)
-- ARGV[3] endMessage     batch-codec kind 2 (End), no data appended yet; '' = none now
-- ARGV[4] forwardMessage batch-codec kind 3 (Softirq) or 4 (Timer); '' = none
-- Formats: header <c2BBHHI4I4d (24 B, version 2), end record <HI4BBI4d (20 B), read-data id
-- struct.pack('<I4HHI4', epoch, header hctx, tag, gen) .. 'r'.
-- Returns 1 when the owner is alive (messages delivered), 0 when the owner epoch is gone
-- (nothing delivered; the read data of both messages' hasData records deleted), both
-- after acking the lease (ZREM member); or -7 (LeaseLost) when ARGV[1] is not in leased:
-- nothing changes (a newer holder of the batch finishes it). Error replies (nothing
-- changed) name a malformed message or an epoch that is not ARGV[2].
-- Guarantees (Lua atomicity): an end is delivered at most once per lease, and the lease
-- ack is in the same step; the owner never gets an end with hasData = 1 without its data:
-- a record whose read data is missing or of another length than dataBytes is delivered
-- as status IOERR (10), hasData 0, dataBytes 0; every read-data field this run names is
-- deleted (data in transit never outlives its end, except for a forwarded message's,
-- which the forward's own endBatch takes), and so is the write payload field of every
-- ended request (a payload no driver copied in, e.g. without memory backing).
-- Redis commands: ZSCORE x2, one HMGET and one HDEL of rqdata (read data of hasData
-- records and write payloads of every record of the end message; of both messages when
-- the owner is gone), RPUSH cq, RPUSH + ZADD forward, ZREM.
-- Bytes: O(read data of the end message).

local leased, owners, cq, rqdata, fwdWait, fwdMarker = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local member, epoch, endMsg, fwdMsg = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local HEADER, END, READ_ID = '<c2BBHHI4I4d', '<HI4BBI4d', '<I4HHI4'
local HEADER_BYTES, END_BYTES, IOERR, CHUNK = 24, 20, 10, 1000

-- #include chunkedCalls

-- Parses an end-record message of one of `kinds`; returns its records or an error string.
local function parse(msg, what, kinds)
  if #msg < HEADER_BYTES then return nil, what .. ': truncated header' end
  local magic, version, kind, hctx, count, e = struct.unpack(HEADER, msg)
  if magic ~= 'rq' or version ~= 2 or not kinds[kind] then return nil, what .. ': not a v2 message of the right kind' end
  if #msg ~= HEADER_BYTES + count * END_BYTES then return nil, what .. ': length does not match count' end
  if tostring(e) ~= epoch then return nil, what .. ': epoch ' .. e .. ' is not ' .. epoch end
  local recs = {}
  for i = 1, count do
    local tag, gen, status, hasData, dataBytes, sector = struct.unpack(END, msg, HEADER_BYTES + (i - 1) * END_BYTES + 1)
    local id = struct.pack(READ_ID, e, hctx, tag, gen)
    recs[i] = { tag = tag, gen = gen, status = status, hasData = hasData == 1, dataBytes = dataBytes, sector = sector,
      writeId = id, readId = id .. 'r' }
  end
  return recs
end

local endRecs, fwdRecs, err = {}, {}, nil
if endMsg ~= '' then
  endRecs, err = parse(endMsg, 'endMessage', { [2] = true })
  if not endRecs then return redis.error_reply('endBatch: ' .. err) end
end
if fwdMsg ~= '' then
  fwdRecs, err = parse(fwdMsg, 'forwardMessage', { [3] = true, [4] = true })
  if not fwdRecs then return redis.error_reply('endBatch: ' .. err) end
end

-- The fence (I4).
if not redis.call('ZSCORE', leased, member) then return -7 end

local function readIds(recs, into)
  for _, r in ipairs(recs) do
    if r.hasData then into[#into + 1] = r.readId end
  end
  return into
end
local function hdel(ids) callChunked('HDEL', rqdata, ids, 1, CHUNK) end
-- A write payload its driver never copied in (no memory backing, a failure before the
-- copy) is deleted with the request's end, so staged data never outlives its request.
local function writeIds(recs, into)
  for _, r in ipairs(recs) do into[#into + 1] = r.writeId end
  return into
end

local alive = redis.call('ZSCORE', owners, epoch)
if not alive then
  hdel(readIds(fwdRecs, readIds(endRecs, writeIds(fwdRecs, writeIds(endRecs, {})))))
  redis.call('ZREM', leased, member)
  return 0
end

if endMsg ~= '' then
  local ids = readIds(endRecs, {})
  local data = hmgetInto(rqdata, ids, {}, CHUNK)
  local parts, appended = { string.sub(endMsg, 1, HEADER_BYTES) }, {}
  for _, r in ipairs(endRecs) do
    local d = r.hasData and data[r.readId]
    if r.hasData and (not d or #d ~= r.dataBytes) then
      parts[#parts + 1] = struct.pack(END, r.tag, r.gen, IOERR, 0, 0, 0)
    else
      parts[#parts + 1] = struct.pack(END, r.tag, r.gen, r.status, r.hasData and 1 or 0, r.dataBytes, r.sector)
      if r.hasData then appended[#appended + 1] = d end
    end
  end
  for _, d in ipairs(appended) do parts[#parts + 1] = d end
  hdel(writeIds(endRecs, ids))
  redis.call('RPUSH', cq, table.concat(parts))
end
if fwdMsg ~= '' then
  redis.call('RPUSH', fwdWait, fwdMsg)
  redis.call('ZADD', fwdMarker, 0, 'm')
end
redis.call('ZREM', leased, member)
return 1
