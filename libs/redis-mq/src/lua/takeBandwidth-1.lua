-- takeBandwidth: null_blk's `null_handle_throttled` over one batch, for a disk with mbps > 0,
-- on one budget per disk shared by every process that runs its driver (DESIGN I12). The rule
-- is libs/rnull's (`refilledBudget`, `chargeBudget` in bandwidth-budget.ts), on the ticks of
-- Redis's own clock (TIME), so processes on different hosts agree on the ticks.
-- KEYS[1] bw      hash  bw: tick (the tick of the last charge), bytes (`cur_bytes` then)
-- ARGV[1] perTick `mb_per_tick(mbps)`, bytes (> 0)
-- ARGV[2] tickUs  the tick, µs (20000)
-- ARGV[3 .. 2+n]  the batch's request sizes in bytes, in order
-- Returns {admitted, usToNextTick}: the first `admitted` requests were charged and may run;
-- the rest are refused (the caller answers DEV_RESOURCE and stops its queues until the tick).
-- Error replies (nothing changed) name a malformed argument.
-- Guarantees (Lua atomicity): every batch of every process is charged against one
-- `bytes`, in the order Redis runs the calls; a malformed batch changes nothing; the key
-- expires after an idle second once any overdraft is repaid (an absent key is a full tick
-- of budget, as after any idle tick), so idling never forgives an overdraft.
-- Redis commands: TIME, HMGET, HSET, PEXPIRE.

local perTick, tickUs = tonumber(ARGV[1]), tonumber(ARGV[2])
if not perTick or perTick <= 0 or not tickUs or tickUs <= 0 then
  return redis.error_reply('takeBandwidth: bad perTick or tickUs')
end

local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tick = math.floor(nowUs / tickUs)

local state = redis.call('HMGET', KEYS[1], 'tick', 'bytes')
local lastTick, bytes = tonumber(state[1]), tonumber(state[2])
if not lastTick or not bytes then
  bytes = perTick -- idle for over a second: a full tick
elseif lastTick ~= tick then
  -- refilledBudget: a full tick, less the overdraft not yet repaid (one tick's budget per tick passed).
  bytes = math.min(perTick, bytes + perTick * math.max(1, tick - lastTick))
end

-- chargeBudget: a request is admitted while the budget is not negative and takes its
-- bytes (perhaps driving it below 0: credit the next refills repay); once it is negative
-- every request after is refused.
for i = 3, #ARGV do
  local size = tonumber(ARGV[i])
  if not size or size < 0 then return redis.error_reply('takeBandwidth: bad request size ' .. tostring(ARGV[i])) end
end
local admitted = 0
for i = 3, #ARGV do
  if bytes < 0 then break end
  bytes = bytes - tonumber(ARGV[i])
  admitted = admitted + 1
end

redis.call('HSET', KEYS[1], 'tick', tick, 'bytes', bytes)
-- Kept until the overdraft is repaid (one tick's budget per tick), then an idle second.
local repayTicks = bytes < 0 and math.ceil(-bytes / perTick) or 0
redis.call('PEXPIRE', KEYS[1], 1000 + math.ceil(repayTicks * tickUs / 1000))
return { admitted, (tick + 1) * tickUs - nowUs }
