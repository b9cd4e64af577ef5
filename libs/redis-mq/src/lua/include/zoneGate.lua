-- zoneGate (included by the loader at `-- #include zoneGate`; not a script): null_blk's
-- zone checks (null_process_zoned_cmd) of a zoned disk's page ops, run inside a page script
-- (runPageOps, runOwnedPageOps) so that a write and its write pointer move in one atomic
-- step and a reset frees its zone's pages in that same step (DESIGN I17).
-- gateZoneOps(zonesKey, ops, SECTOR, keepReads) -> statuses, landed, run
--   ops          the script's ops ({ kind, off, len, ... }, byte offsets), in order
--   statuses[i]  0, or the blk_status_t the zone checks gave op i (10 IOERR, 14
--                ZONE_OPEN_RESOURCE, 15 ZONE_ACTIVE_RESOURCE)
--   landed[i]    an append's landed sector, 0 for any other op
--   run          the page ops to run, in order, each with `.i` its op's index: an op the
--                checks refused is left out; an append (A) becomes a write (W) at its
--                landed offset; zone management (ZO ZC ZF) runs no page op; a reset (ZX,
--                ZXA) becomes one Z op per zone it emptied, where the reset stood; reads
--                (R) stay only with `keepReads`
-- Kinds checked: W S CW CS Z (writes: a write zeroes of a zoned disk is a write, discard
-- being off in zoned mode), A (zone append: ops[i].off is the zone's first byte), R (a read
-- fails on an OFFLINE zone), ZO ZC ZF ZX ZXA (open, close, finish, reset, reset all; off
-- is the zone's first byte). Any other kind (F, the cache's flush) passes unchecked.
-- Without a zone table (the disk powered off meanwhile) every checked op fails IOERR.
-- The checks only read and move zone state, never pages, so checking every op first and
-- then running `run` is the same as checking each op just before it runs.
-- planPageOps(zoned, zonesKey, ops, SECTOR, keepReads) -> results, landed, run, discards
--                the page scripts' plan: a zoned call's gateZoneOps; otherwise every op as
--                it is (results all 0, no landed); `discards` is true when `run` holds a Z op
-- pageOpsReply(results, cache, landed, nops) -> results: the page scripts' reply, the
--                results followed by the cache's two numbers (with a cache) and then each
--                op's landed sector (a zoned call)
-- Needs chunkedCalls and zones included before it.

local ZONE_MGMT = { ZO = 'O', ZC = 'C', ZF = 'F', ZX = 'X', ZXA = 'XA' }
local ZONE_WRITES = { W = true, S = true, CW = true, CS = true, Z = true }

local function gateZoneOps(zonesKey, ops, SECTOR, keepReads)
  local zt = newZones(zonesKey)
  local statuses, landed, run = {}, {}, {}
  for i, op in ipairs(ops) do
    local kind, status, at = op.kind, 0, 0
    local checked = ZONE_WRITES[kind] or kind == 'A' or kind == 'R' or ZONE_MGMT[kind]
    if checked and not zt then
      status = 10
    elseif ZONE_WRITES[kind] then
      status = zt.write(op.off / SECTOR, op.len / SECTOR, false)
    elseif kind == 'A' then
      status, at = zt.write(op.off / SECTOR, op.len / SECTOR, true)
      if status == 0 then op.kind, op.off = 'W', at * SECTOR else at = 0 end
    elseif kind == 'R' then
      status = zt.readable(op.off / SECTOR, op.len / SECTOR)
    elseif ZONE_MGMT[kind] then
      local before = #zt.discards
      status = zt.mgmt(ZONE_MGMT[kind], op.off / SECTOR)
      for d = before + 1, #zt.discards do
        local range = zt.discards[d]
        run[#run + 1] = { kind = 'Z', off = range[1] * SECTOR, len = range[2] * SECTOR, id = '', payload = '', i = i }
      end
    end
    statuses[i], landed[i] = status, at
    if status == 0 and not ZONE_MGMT[kind] and (kind ~= 'R' or keepReads) then
      op.i = i
      run[#run + 1] = op
    end
  end
  if zt then zt.save() end
  return statuses, landed, run
end

local function planPageOps(zoned, zonesKey, ops, SECTOR, keepReads)
  local results, landed, run = {}, nil, ops
  if zoned then
    results, landed, run = gateZoneOps(zonesKey, ops, SECTOR, keepReads)
  else
    for i, op in ipairs(ops) do
      results[i] = 0
      op.i = i
    end
  end
  local discards = false
  for _, op in ipairs(run) do
    if op.kind == 'Z' then discards = true end
  end
  return results, landed, run, discards
end

local function pageOpsReply(results, cache, landed, nops)
  if cache then
    results[#results + 1] = cache.count()
    results[#results + 1] = cache.written()
  end
  if landed then
    for i = 1, nops do results[#results + 1] = landed[i] end
  end
  return results
end
