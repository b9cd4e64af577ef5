-- moveStagedPages: the common write batch of local placement in its cheapest form (whole
-- pages, no write-back cache, not zoned; FencedPages.runOwned picks it). Each page waits
-- in its stage key, set by a plain MSET sent just before this call on the same connection;
-- the script moves every one into place with RENAME only while the owner epoch is alive,
-- the fence and the moves in one atomic step (I4). Its bytes never become a Lua string and
-- nothing per op is parsed: the general runOwnedPageOps-3 does the same for these batches
-- at about 1.5 times the Redis CPU (docs/bench/v2-lean/).
-- KEYS[1] index   set   stored page numbers; page p is the string key ARGV[2] .. p (I8)
-- KEYS[2] owners  zset  live owner epochs
-- ARGV[1] epoch   the owner epoch of the batch
-- ARGV[2] prefix  the page key prefix (KeySchema.pagePrefix)
-- ARGV[3] stage   this batch's stage prefix (KeySchema.stagedPagePrefix): page p waits in
--                 ARGV[3] .. p
-- ARGV[4..] the page numbers, decimal, each once (the caller keeps the last write of a page)
-- Returns 0 when every page moved; -6 (OwnerGone) when ARGV[1] is not in KEYS[2]: no page
-- changes and the stage keys are deleted; an error when a stage key is missing (the MSET
-- failed): no page changes and the stage keys there are deleted.
-- Guarantees (Lua atomicity): a batch of an owner presumed dead never moves data (I4); no
-- stage key of the call outlives it.
-- Redis commands: ZSCORE, EXISTS of the stage keys, a RENAME per page, one SADD of the
-- index per 1000 pages.

local indexKey, owners = KEYS[1], KEYS[2]
local prefix, stage = ARGV[2], ARGV[3]
local FIRST, CHUNK = 4, 1000

-- #include chunkedCalls
-- #include stagedFence

local stageKeys, pages = {}, {}
for i = FIRST, #ARGV do
  pages[#pages + 1] = ARGV[i]
  stageKeys[#stageKeys + 1] = stage .. ARGV[i]
end

-- The fence (I4).
local fenceReply = checkStagedFence(owners, ARGV[1], stageKeys, CHUNK, 'moveStagedPages')
if fenceReply then return fenceReply end

for i = 1, #pages do
  redis.call('RENAME', stageKeys[i], prefix .. pages[i])
end
callChunked('SADD', indexKey, pages, 1, CHUNK)
return 0
