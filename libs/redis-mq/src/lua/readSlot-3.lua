-- readSlot: one slot's record and deadline, read together.
-- KEYS[1] slots      hash  slot index -> "gen:state:refs:status:hctx"
-- KEYS[2] deadlines  zset  IN_FLIGHT slot indexes, score = deadline ms
-- KEYS[3] meta       hash  gen_base = generation of slots without a record
-- ARGV[1] slot index
-- Returns {record-or-"", deadline-or-"", gen_base-or-""}; a missing record is an unused
-- IDLE slot of generation gen_base.
-- Read-only.
-- Guarantees (Lua atomicity): record and deadline come from the same instant.

return {
  redis.call('HGET', KEYS[1], ARGV[1]) or '',
  redis.call('ZSCORE', KEYS[2], ARGV[1]) or '',
  redis.call('HGET', KEYS[3], 'gen_base') or '',
}
