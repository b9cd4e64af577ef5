// Mirrors what of the block layer must be shared between processes, kept in Redis: the
// tag space and its budget, owner leases, leased batch queues, the null_blk page store,
// request data in transit and completion lists (DESIGN §3-6). Requests' state is not
// here: it lives in the owning dispatch instance's engine.

export { KeySchema, checkDiskName, type BatchQueueKeys } from './key-schema';
export { PageStore, PAGE_SIZE, SECTOR_SIZE, MAX_BATCH_BYTES, type PageOp, type PageOpResult } from './page-store';
export { destroyDisk, unlinkMatching } from './destroy-disk';
export { ReplicaSync, NotPersistedError, NO_REPLICA_WAIT, DEFAULT_FLUSH_TIMEOUT_MS, type ReplicaSyncOptions } from './replica-sync';
export { isRedisCluster, asRedisCluster, keyspaceConnections } from './cluster-client';
export { luaScripts, luaDir, scriptsFor, ScriptRunner, type LuaScript, type ScriptName, type ScriptArg } from './lua-scripts';
export { ScriptCode, RedisMqError, TableNotFoundError, TableBusyError, RequestDataError, scriptError, checkReply } from './script-errors';
export { sendTogether, plugUntilNextTick } from './send-together';
export { ScatterCommand, sendScattered, SCATTER_MIN_BYTES } from './scatter-command';

// ---- the data path (DESIGN §3-6): codec, leased queues, owners, fenced scripts ----
// Recipe (one script run per step, every key under the disk's hash tag):
//   dispatch: epoch = await new OwnerRegistry(redis, keys).register(disk, leaseMs), renew it;
//             k = await new BatchSubmitter(redis, keys).queueBatch({disk, epoch, pool,
//               releases, message: encodeBatch(...), payloads})          // queueBatch-6
//   rnull:    [lease] = await new LeasedQueue(redis, name, keys.hctxQueue(disk, h)).claim(…);
//             await new FencedPages(redis, keys).runFenced(disk, {leased, member, epoch}, ops);
//             await new EndWriter(redis, keys).endBatch({disk, leased, member, epoch,
//               end: encodeEnds(MessageKind.End, …), forward})          // endBatch-6
//   owner:    decodeEnds(await redis.lpopBuffer(keys.completionList(disk, epoch)))
export {
  MessageKind,
  CodecError,
  MESSAGE_MAGIC,
  MESSAGE_VERSION,
  HEADER_FORMAT,
  REQUEST_FORMAT,
  END_FORMAT,
  REQUEST_ID_FORMAT,
  HEADER_BYTES,
  REQUEST_BYTES,
  END_BYTES,
  REQUEST_ID_BYTES,
  READ_DATA_ID_BYTES,
  MAX_RECORDS,
  encodeBatch,
  decodeBatch,
  encodeEnds,
  decodeEnds,
  decodeHeader,
  requestId,
  readDataId,
  type EndKind,
  type MessageHeader,
  type HeaderFields,
  type RequestRecord,
  type EndRecord,
} from './batch-codec';
export { LeasedQueue, CLAIM_TOKEN_BYTES, MAX_CLAIM, type Lease, type LeasedQueueCounts } from './leased-queue';
export { BatchSubmitter, type BudgetRelease, type QueueBatchInput } from './batch-submitter';
export { OwnerRegistry, type PoolBudget, type RenewResult } from './owner-registry';
export {
  FencedPages,
  pageOpOf,
  pageOpStatus,
  type FencedPageOp,
  type PageFence,
  type FencedResult,
  type OwnedPageOp,
  type OwnedResult,
  type CacheState,
} from './fenced-pages';
export { dropWriteCache } from './write-cache';
export { EndWriter, type EndBatchInput, type EndBatchResult } from './end-writer';
export { OwnerGoneError, LeaseLostError, TagSetShapeError } from './script-errors';
export { readTagSpace, layOutTagSpace, checkTagSpace, type TagSetKind } from './tag-space';
export { SharedTagSet, SHARED_TAGS_IDLE_MS, type SharedTagSetState } from './shared-tag-set';
export { DiskBandwidth, type DiskBandwidthVerdict } from './disk-bandwidth';
export { ZoneTable, type ZoneOp, type ZoneOpResult, runZoneRequests, zoneOpKindOf } from './zone-table';
