-- queueBatch: dispatch's one script per batch (RemoteDriver.queueRqs): give back the tag
-- budget freed since the last run, take budget for the first k requests of the batch,
-- push a batch of those k and stage their write payloads (DESIGN §3, §6). A disk whose
-- tags come from the shared tag set (meta tag_set = shared, I15) took them before, in
-- takeSharedTags (the set is in another hash slot, I7): this run takes no budget and
-- pushes all n (and refuses releases, which go to the set).
-- KEYS[1] meta    hash  tags:meta: queue_depth, shared_tag_bitmap, tag_set (read only)
-- KEYS[2] budget  hash  tags:budget: used:<pool>, held:<epoch>:<pool>, mismatch:release
-- KEYS[3] owners  zset  live owner epochs, score = lease expiry (ms)
-- KEYS[4] wait    list  the hctx batch queue's wait (LeasedQueue)
-- KEYS[5] marker  zset  the hctx batch queue's marker
-- KEYS[6] rqdata  hash  request id (12 B) -> write payload
-- ARGV[1] epoch   the caller's owner epoch
-- ARGV[2] pool    budget pool of this batch: its hctx, or 0 with shared tags
-- ARGV[3] now     ms since the epoch
-- ARGV[4] r       number of (pool, count) release pairs that follow
-- ARGV[5 .. 4+2r] pool, count: tags to give back (used and held:<epoch> decrease)
-- ARGV[5+2r]      the batch message (batch-codec kind 1, count n, epoch = ARGV[1]), or
--                 '' for a release-only run (n = 0)
-- ARGV[6+2r ..]   one payload per WRITE record (op 1) and ZONE_APPEND record (op 7) of the
--                 message, in record order
-- Formats: header <c2BBHHI4I4d (24 B, version 2), request <HI4BBI4d (20 B), request id <I4HHI4.
-- Returns k (0..n), the number of requests pushed; or -6 (OwnerGone) when ARGV[1] is not
-- in owners (reclaimed; an expired lease nobody reclaimed still counts); or -2 (NoTable) when meta has no
-- queue_depth. Error replies (nothing changed) name a malformed message, a wrong pool, a
-- payload count mismatch, or a record whose payload length is not its `bytes`.
-- Guarantees (Lua atomicity): every refusal changes nothing (all checks run before the
-- first write); used:<pool> never exceeds queue_depth through this script and no field
-- goes below 0 (a release of more than is held is clamped, and mismatch:release counts
-- the tags it could not give back); the pushed message holds exactly the first k
-- records with the header count rewritten to k, and exactly their payloads are staged,
-- before the marker is set (a worker that takes the batch sees its payloads).
-- Redis commands: ZSCORE, HMGET meta, HMGET budget, HSET of the budget fields that
-- changed (HINCRBY on a mismatch),
-- then when k > 0 one HSET rqdata per 1000 writes, RPUSH, ZADD marker. Payload bytes: O(sum of write bytes).

local meta, budget, owners, wait, marker, rqdata = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local HEADER, REQUEST, REQUEST_ID = '<c2BBHHI4I4d', '<HI4BBI4d', '<I4HHI4'
local HEADER_BYTES, REQUEST_BYTES, WRITE, ZONE_APPEND = 24, 20, 1, 7

-- #include chunkedCalls
-- #include tagBudget
local epoch, pool, now, r = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if not r or r < 0 or not now or not string.match(epoch, '^%d+$') or not string.match(pool, '^%d+$') then
  return redis.error_reply('queueBatch: bad epoch, pool, now or release count')
end
local msgAt = 5 + 2 * r
local msg = ARGV[msgAt]
if msg == nil then return redis.error_reply('queueBatch: no message argument') end

-- Checks, before any write.
local depth, shared, sharedSet = ownerDepth(meta, owners, epoch, pool, now, 'queueBatch')
if not depth then return shared end
if sharedSet and r > 0 then return redis.error_reply('queueBatch: the disk takes its tags from the shared tag set: give them back there') end

local n, hctx, rqs = 0, nil, {}
if msg ~= '' then
  if #msg < HEADER_BYTES then return redis.error_reply('queueBatch: message truncated header') end
  local magic, version, kind, h, count, e = struct.unpack(HEADER, msg)
  if magic ~= 'rq' or version ~= 2 or kind ~= 1 then return redis.error_reply('queueBatch: not a v2 batch message') end
  if #msg ~= HEADER_BYTES + count * REQUEST_BYTES then return redis.error_reply('queueBatch: message length does not match count') end
  if tostring(e) ~= epoch then return redis.error_reply('queueBatch: message epoch ' .. e .. ' is not ARGV epoch ' .. epoch) end
  if not shared and tostring(h) ~= pool then return redis.error_reply('queueBatch: pool ' .. pool .. ' is not the hctx ' .. h) end
  n, hctx = count, h
  local p = msgAt + 1
  for i = 1, n do
    local tag, gen, op, _, bytes = struct.unpack(REQUEST, msg, HEADER_BYTES + (i - 1) * REQUEST_BYTES + 1)
    rqs[i] = { tag = tag, gen = gen, op = op }
    if op == WRITE or op == ZONE_APPEND then
      local payload = ARGV[p]
      if payload == nil then return redis.error_reply('queueBatch: no payload for write record ' .. (i - 1)) end
      if #payload ~= bytes then
        return redis.error_reply('queueBatch: payload of record ' .. (i - 1) .. ' is ' .. #payload .. ' bytes, record says ' .. bytes)
      end
      rqs[i].payload = p
      p = p + 1
    end
  end
  if p ~= #ARGV + 1 then return redis.error_reply('queueBatch: ' .. (#ARGV + 1 - p) .. ' payloads more than write records') end
end

-- Release, then take k (tagBudget); all n with the shared tag set (I15).
local k = n
if not sharedSet then
  local releases, err = parseReleases(5, r)
  if not releases then return redis.error_reply('queueBatch: ' .. err) end
  k = settleBudget(budget, epoch, pool, releases, n, depth)
end

if k > 0 then
  local staged = {}
  for i = 1, k do
    if rqs[i].payload then
      staged[#staged + 1] = struct.pack(REQUEST_ID, tonumber(epoch), hctx, rqs[i].tag, rqs[i].gen)
      staged[#staged + 1] = ARGV[rqs[i].payload]
    end
  end
  callChunked('HSET', rqdata, staged, 2, 1000)
  local body = msg
  if k < n then body = string.sub(msg, 1, 6) .. struct.pack('<H', k) .. string.sub(msg, 9, HEADER_BYTES + k * REQUEST_BYTES) end
  redis.call('RPUSH', wait, body)
  redis.call('ZADD', marker, 0, 'm')
end
return k
