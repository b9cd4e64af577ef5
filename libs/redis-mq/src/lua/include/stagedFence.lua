-- stagedFence (included by the loader at `-- #include stagedFence`; not a script): the owner
-- fence of local placement's page scripts over a batch's stage keys (I4, I8).
--   checkStagedFence(owners, epoch, stageKeys, chunk, who)  nil when `epoch` is in the
--       `owners` zset and every stage key exists; otherwise deletes the stage keys and
--       returns what the script must return: -6 (OwnerGone), or an error reply (`who`: the
--       script's name) saying how many stage keys are missing (their MSET failed)
-- Include chunkedCalls before it.
local function checkStagedFence(owners, epoch, stageKeys, chunk, who)
  if not redis.call('ZSCORE', owners, epoch) then
    callChunked('DEL', nil, stageKeys, 1, chunk)
    return -6
  end
  local present = 0
  for i = 1, #stageKeys, chunk do
    present = present + redis.call('EXISTS', unpack(stageKeys, i, math.min(i + chunk - 1, #stageKeys)))
  end
  if present ~= #stageKeys then
    callChunked('DEL', nil, stageKeys, 1, chunk)
    return redis.error_reply(who .. ': ' .. (#stageKeys - present) .. ' of ' .. #stageKeys .. ' staged pages are missing')
  end
  return nil
end
