// Mirrors the Redis-backed half of the block layer: the shared request table
// (`struct blk_mq_tags` + request state) and the null_blk page store, for every service.
//
// Recipe:
//   const keys = new KeySchema(process.env.REDIS_PREFIX ?? '');
//   const table = await RedisRequestTable.create(redis, 'rnullb0', tagSpace, { keys });
//   const [rq] = await table.alloc(0, 1);
//   await table.apply([{ op: 'start', token: rq, deadlineMs }, ...]);   // one EVALSHA
//   const pages = new PageStore(redis, keys);
//   await pages.apply('rnullb0', [{ op: 'write', sector, data }, ...]);  // one EVALSHA

export { KeySchema, checkDiskName, type BatchQueueKeys } from './key-schema';
export { RedisRequestTable, type RedisRequestTableOptions, type TableCounters, type QueuedRequest } from './redis-request-table';
export { TagSpaceLayout, checkTagSpace } from './tag-space-layout';
export { PageStore, PAGE_SIZE, SECTOR_SIZE, MAX_BATCH_BYTES, GATED, type PageGate, type PageOp, type PageOpResult } from './page-store';
export { destroyDisk, unlinkMatching } from './destroy-disk';
export { luaScripts, luaDir, scriptsFor, ScriptRunner, type LuaScript, type ScriptName, type ScriptArg } from './lua-scripts';
export {
  ScriptCode,
  RedisMqError,
  TableConfigMismatchError,
  TableNotFoundError,
  TableBusyError,
  RequestDataError,
  scriptError,
  checkReply,
} from './script-errors';
export { BatchQueue, newMessageId, type TakenMessage, type QueueCounts } from './batch-queue';
export { sendTogether } from './send-together';
