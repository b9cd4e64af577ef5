// FOR UNIT TESTS ONLY: an in-process fake of dispatch's public gRPC API (blk.v1.GenDisk +
// blk.v1.BlockDevice) backed by Maps, so rnullctl's commands can be tested without the
// cluster. It has no blk-mq semantics (no tags, hctxs, timeouts, irqmodes); it only
// follows the protocol's documented error contract closely enough for a client.
//
// Contract (as proto/blk/v1 documents for the real server):
//   - Unary Submit: bad input fails the call (INVALID_ARGUMENT / OUT_OF_RANGE naming the
//     field, NOT_FOUND for an unknown disk, UNAVAILABLE when powered off); a driver-level
//     failure is a Completion with a non-OK status.
//   - SubmitStream: the same failures come back as completions (STATUS_IOERR + message);
//     completions are written on a later tick, optionally after `completionDelayMs`.
//   - ConfigureDisk on a powered disk may only change submit_queues, poll_queues and
//     badblocks (a write of the file, applied by libs/rnull's applyBadBlocksCommand).
//   - A zoned disk (zoned=1) runs libs/rnull's ZoneModel (null_blk's zoned.c in memory),
//     laid out at power on and dropped at power off as the cluster's zone table is: writes,
//     appends (the landed sector in the completion), zone management, reads of OFFLINE
//     zones, ReportZones and SetZoneCondition follow it; zone ops on a disk that is not
//     zoned complete NOTSUPP, management not at a zone start IOERR, as blk-mq answers.
import * as grpc from '@grpc/grpc-js';
import {
  BlockDeviceServer,
  BlockDeviceService,
  Completion,
  CompletionBatch,
  Op,
  Status,
  Submission,
  SubmitBatch,
  Zone,
} from '#proto/grpc/blk/v1/block_device';
import { Disk, DiskAttributes, GenDiskServer, GenDiskService, ZoneAdminCondition } from '#proto/grpc/blk/v1/gen_disk';
import { BlkStatus, NO_WRITE_POINTER, ZoneCond, type ZoneShape } from '#blk-mq';
import { applyBadBlocksCommand, DEFAULT_ATTRIBUTES, type ZoneMgmtOp, ZoneModel, zoneShapeOf } from '#rnull';

/** The server's defaults, from their one owner (`DEFAULT_ATTRIBUTES` of libs/rnull). */
const DEFAULTS: Required<DiskAttributes> = {
  ...DEFAULT_ATTRIBUTES,
  size: BigInt(DEFAULT_ATTRIBUTES.size),
  completionNsec: BigInt(DEFAULT_ATTRIBUTES.completionNsec),
};

export const FAKE_FEATURES = [
  'size',
  'blocksize',
  'submit_queues',
  'hw_queue_depth',
  'irqmode',
  'completion_nsec',
  'memory_backed',
  'discard',
  'fua',
  'shared_tag_bitmap',
  'rotational',
  'poll_queues',
  'timeout_ms',
  'recycle',
  'mbps',
  'max_sectors',
  'badblocks',
  'badblocks_once',
  'badblocks_partial_io',
  'timeout',
  'requeue',
  'init_hctx',
  'cache_size',
  'power',
];

export interface FakeOptions {
  /** Every n-th IO (1-based, counted across both APIs) completes with `status`. */
  readonly failEvery?: { readonly n: number; readonly status: Status; readonly message: string };
  /** Delay before a stream's completions are written (default: next tick). */
  readonly completionDelayMs?: number;
}

/** A gRPC failure of a unary call. */
class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    details: string,
  ) {
    super(details);
  }
}

interface FakeDisk {
  disk: Disk;
  /** 512-byte sectors that were written. */
  readonly sectors: Map<bigint, Buffer>;
  /** A zoned, powered disk's zones. */
  zones?: ZoneModel;
}

/** The zone management ops of the wire, as ZoneModel names them. */
const ZONE_MGMT: Partial<Record<Op, ZoneMgmtOp>> = {
  [Op.OP_ZONE_OPEN]: 'open',
  [Op.OP_ZONE_CLOSE]: 'close',
  [Op.OP_ZONE_FINISH]: 'finish',
  [Op.OP_ZONE_RESET]: 'reset',
  [Op.OP_ZONE_RESET_ALL]: 'reset-all',
};

/** The zone shape of zoned attributes (null_init_zoned_dev), or INVALID_ARGUMENT naming the attribute. */
function shapeOf(a: DiskAttributes): ZoneShape {
  try {
    return zoneShapeOf({
      size: Number(a.size),
      blocksize: a.blocksize!,
      zoneSize: a.zoneSize!,
      zoneCapacity: a.zoneCapacity!,
      zoneNrConv: a.zoneNrConv!,
      zoneMaxOpen: a.zoneMaxOpen!,
      zoneMaxActive: a.zoneMaxActive!,
      zoneAppendMaxSectors: a.zoneAppendMaxSectors!,
      zoneFull: a.zoneFull!,
    }).shape;
  } catch (e) {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, (e as Error).message);
  }
}

/** A zone of a report on the wire (no write pointer: 2^64 - 1). */
function wireZone(z: ReturnType<ZoneModel['report']>[number]): Zone {
  return {
    start: BigInt(z.start),
    len: BigInt(z.len),
    capacity: BigInt(z.capacity),
    wp: z.wp === NO_WRITE_POINTER ? 2n ** 64n - 1n : BigInt(z.wp),
    type: z.type as number,
    cond: z.cond as number,
  };
}

export class FakeRnullServer {
  readonly disks = new Map<string, FakeDisk>();
  /** IOs seen on either API. */
  ios = 0;
  /** SubmitBatch messages received on streams. */
  streamMessages = 0;
  /** Most submissions in one SubmitBatch. */
  largestBatch = 0;
  private readonly server = new grpc.Server();
  private port = 0;

  private constructor(private readonly options: FakeOptions) {}

  static async start(options: FakeOptions = {}): Promise<FakeRnullServer> {
    const fake = new FakeRnullServer(options);
    fake.server.addService(GenDiskService, fake.genDisk());
    fake.server.addService(BlockDeviceService, fake.blockDevice());
    fake.port = await new Promise<number>((resolve, reject) =>
      fake.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    return fake;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private get(name: string): FakeDisk {
    const d = this.disks.get(name);
    if (!d) throw new RpcError(grpc.status.NOT_FOUND, `disk '${name}' not found`);
    return d;
  }

  private genDisk(): GenDiskServer {
    let index = 0;
    const h =
      <Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> =>
      (call, cb) => {
        try {
          cb(null, fn(call.request));
        } catch (e) {
          if (!(e instanceof RpcError)) throw e;
          cb({ code: e.code, details: e.message });
        }
      };
    return {
      createDisk: h((req) => {
        if (!/^[A-Za-z0-9._-]{1,31}$/.test(req.name))
          throw new RpcError(grpc.status.INVALID_ARGUMENT, `name: '${req.name}' is not 1..31 of [A-Za-z0-9._-]`);
        if (this.disks.has(req.name)) throw new RpcError(grpc.status.ALREADY_EXISTS, `disk '${req.name}' exists`);
        const attributes = validate({ ...DEFAULTS, ...defined(req.attributes) });
        const disk: Disk = { name: req.name, attributes, power: req.power, capacitySectors: attributes.size! * 2048n, index: index++ };
        this.disks.set(req.name, { disk, sectors: new Map(), zones: layOut(disk) });
        return disk;
      }),
      getDisk: h((req) => this.get(req.name).disk),
      listDisks: h(() => ({ disks: [...this.disks.values()].map((d) => d.disk) })),
      configureDisk: h((req) => {
        const d = this.get(req.name);
        const change = defined(req.attributes);
        if (change.badblocks !== undefined) {
          try {
            change.badblocks = applyBadBlocksCommand(d.disk.attributes!.badblocks ?? '', change.badblocks);
          } catch (e) {
            throw new RpcError(grpc.status.INVALID_ARGUMENT, `badblocks: ${(e as Error).message}`);
          }
        }
        const busy = Object.keys(change).filter((k) => k !== 'submitQueues' && k !== 'pollQueues' && k !== 'badblocks');
        if (d.disk.power && busy.length) {
          throw new RpcError(grpc.status.FAILED_PRECONDITION, `disk '${req.name}' is powered on: ${busy.join(', ')} cannot change (EBUSY)`);
        }
        const attributes = validate({ ...d.disk.attributes, ...change });
        d.disk = { ...d.disk, attributes, capacitySectors: attributes.size! * 2048n };
        return d.disk;
      }),
      powerDisk: h((req) => {
        const d = this.get(req.name);
        if (d.disk.power !== req.power) {
          d.disk = { ...d.disk, power: req.power };
          d.zones = layOut(d.disk);
        }
        return d.disk;
      }),
      deleteDisk: h((req) => {
        this.get(req.name);
        this.disks.delete(req.name);
        return {};
      }),
      features: h(() => ({ features: FAKE_FEATURES })),
      setZoneCondition: h((req) => {
        const d = this.get(req.name);
        if (!d.disk.attributes!.zoned) throw new RpcError(grpc.status.INVALID_ARGUMENT, `name: disk "${req.name}" is not zoned`);
        if (!d.zones)
          throw new RpcError(grpc.status.FAILED_PRECONDITION, `disk "${req.name}" is powered off: its zones are laid out at power on`);
        const cond =
          req.condition === ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY
            ? ZoneCond.READONLY
            : req.condition === ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE
              ? ZoneCond.OFFLINE
              : undefined;
        if (cond === undefined)
          throw new RpcError(grpc.status.INVALID_ARGUMENT, `condition: must be READ_ONLY or OFFLINE, got ${req.condition}`);
        if (d.zones.setCond(Number(req.sector), cond) !== BlkStatus.OK)
          throw new RpcError(grpc.status.INVALID_ARGUMENT, `sector: ${req.sector} is not in a sequential zone`);
        this.dropDiscarded(d);
        return {};
      }),
    };
  }

  private blockDevice(): BlockDeviceServer {
    return {
      reportZones: (call, cb) => {
        try {
          const d = this.get(call.request.disk);
          if (!d.disk.attributes!.zoned) throw new RpcError(grpc.status.FAILED_PRECONDITION, `disk "${call.request.disk}" is not zoned`);
          if (!d.zones) throw new RpcError(grpc.status.UNAVAILABLE, `disk "${call.request.disk}" is powered off`);
          if (call.request.sector >= d.disk.capacitySectors)
            throw new RpcError(grpc.status.OUT_OF_RANGE, `sector: ${call.request.sector} is past the end of the disk`);
          const zones = d.zones.report(Number(call.request.sector), call.request.count || Number.MAX_SAFE_INTEGER);
          cb(null, { zones: zones.map(wireZone) });
        } catch (e) {
          if (!(e instanceof RpcError)) throw e;
          cb({ code: e.code, details: e.message });
        }
      },
      submit: (call, cb) => {
        try {
          cb(null, this.execute(call.request));
        } catch (e) {
          if (!(e instanceof RpcError)) throw e;
          cb({ code: e.code, details: e.message });
        }
      },
      submitStream: (call) => {
        let ended = false;
        let writing = 0;
        const delay = this.options.completionDelayMs;
        const later = (fn: () => void) => (delay === undefined ? setImmediate(fn) : setTimeout(fn, delay));
        call.on('data', (batch: SubmitBatch) => {
          this.streamMessages++;
          this.largestBatch = Math.max(this.largestBatch, batch.submissions.length);
          const completions = batch.submissions.map((s) => this.executeTagged(s));
          writing++;
          later(() => {
            writing--;
            call.write(CompletionBatch.fromPartial({ completions }));
            if (ended && writing === 0) call.end();
          });
        });
        call.on('end', () => {
          ended = true;
          if (writing === 0) call.end();
        });
      },
    };
  }

  /** Keeps `count` sectors of `data` at `sector` when the disk is memory backed. */
  private store(d: FakeDisk, sector: bigint, count: bigint, data: Buffer): void {
    if (!d.disk.attributes!.memoryBacked) return;
    for (let i = 0n; i < count; i++) d.sectors.set(sector + i, Buffer.from(data.subarray(Number(i) * 512, Number(i + 1n) * 512)));
  }

  /** Drops the data of the zones a reset emptied (ZoneModel's `discards`). */
  private dropDiscarded(d: FakeDisk): void {
    for (const [start, len] of d.zones!.discards.splice(0)) {
      for (const s of d.sectors.keys()) if (s >= BigInt(start) && s < BigInt(start + len)) d.sectors.delete(s);
    }
  }

  /** A stream submission: every failure becomes a completion. */
  private executeTagged(sub: Submission): Completion {
    try {
      return this.execute(sub);
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      return Completion.fromPartial({ tag: sub.tag, status: Status.STATUS_IOERR, message: e.message });
    }
  }

  private execute(sub: Submission): Completion {
    const d = this.get(sub.disk);
    if (!d.disk.power) throw new RpcError(grpc.status.UNAVAILABLE, `disk '${sub.disk}' is powered off`);
    const a = d.disk.attributes!;
    const ok = (data = Buffer.alloc(0)) => Completion.fromPartial({ tag: sub.tag, status: Status.STATUS_OK, data, latencyNsec: 1000n });
    this.ios++;
    const fail = this.options.failEvery;
    if (fail && this.ios % fail.n === 0) return Completion.fromPartial({ tag: sub.tag, status: fail.status, message: fail.message });
    if (sub.op === Op.OP_FLUSH) return ok();
    const mgmt = ZONE_MGMT[sub.op];
    if (mgmt !== undefined || sub.op === Op.OP_ZONE_APPEND) {
      if (!d.zones)
        return Completion.fromPartial({
          tag: sub.tag,
          status: Status.STATUS_NOTSUPP,
          message: `${Op[sub.op]} needs a zoned disk (zoned=1)`,
        });
      if (mgmt !== undefined && mgmt !== 'reset-all' && sub.sector % BigInt(d.zones.shape.zoneSectors) !== 0n)
        return Completion.fromPartial({
          tag: sub.tag,
          status: Status.STATUS_IOERR,
          message: `sector ${sub.sector} is not the first sector of a zone`,
        });
    }
    if (mgmt !== undefined) {
      const status = d.zones!.mgmt(mgmt, Number(sub.sector));
      this.dropDiscarded(d);
      return Completion.fromPartial({ tag: sub.tag, status: status as number, latencyNsec: 1000n });
    }
    if (sub.length === 0 || sub.length % a.blocksize! !== 0) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `length: ${sub.length} is not a positive multiple of the block size ${a.blocksize}`);
    }
    if ((sub.sector * 512n) % BigInt(a.blocksize!) !== 0n)
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `sector: ${sub.sector} is not block-aligned`);
    const count = BigInt(sub.length / 512);
    if (sub.sector + count > d.disk.capacitySectors)
      throw new RpcError(grpc.status.OUT_OF_RANGE, `sector: ${sub.sector}+${count} is past the end`);
    if (d.zones && (sub.op === Op.OP_WRITE || sub.op === Op.OP_ZONE_APPEND || sub.op === Op.OP_READ)) {
      const r =
        sub.op === Op.OP_READ
          ? { status: d.zones.readable(Number(sub.sector), Number(count)), sector: Number(sub.sector) }
          : d.zones.write(Number(sub.sector), Number(count), sub.op === Op.OP_ZONE_APPEND);
      if (r.status !== BlkStatus.OK) return Completion.fromPartial({ tag: sub.tag, status: r.status as number, message: 'zone rules' });
      if (sub.op === Op.OP_ZONE_APPEND) {
        this.store(d, BigInt(r.sector), count, sub.data);
        return Completion.fromPartial({ tag: sub.tag, status: Status.STATUS_OK, latencyNsec: 1000n, sector: BigInt(r.sector) });
      }
    }
    switch (sub.op) {
      case Op.OP_READ: {
        const out = Buffer.alloc(sub.length);
        for (let i = 0n; i < count; i++) d.sectors.get(sub.sector + i)?.copy(out, Number(i) * 512);
        return ok(out);
      }
      case Op.OP_WRITE:
        if (sub.data.length !== sub.length)
          throw new RpcError(grpc.status.INVALID_ARGUMENT, `data: ${sub.data.length} bytes, length says ${sub.length}`);
        this.store(d, sub.sector, count, sub.data);
        return ok();
      case Op.OP_DISCARD:
        if (!a.discard)
          return Completion.fromPartial({ tag: sub.tag, status: Status.STATUS_NOTSUPP, message: 'discard: disk has discard=0' });
        for (let i = 0n; i < count; i++) d.sectors.delete(sub.sector + i);
        return ok();
      case Op.OP_WRITE_ZEROES:
        for (let i = 0n; i < count; i++) d.sectors.delete(sub.sector + i);
        return ok();
      default:
        throw new RpcError(grpc.status.INVALID_ARGUMENT, `op: ${sub.op} is not an operation`);
    }
  }
}

/** A zoned, powered disk's zones as null_init_zoned_dev lays them out; none otherwise. */
function layOut(disk: Disk): ZoneModel | undefined {
  return disk.power && disk.attributes!.zoned ? new ZoneModel(shapeOf(disk.attributes!)) : undefined;
}

/** The set fields of a DiskAttributes (unset = keep). */
function defined(attrs: DiskAttributes | undefined): DiskAttributes {
  return Object.fromEntries(Object.entries(attrs ?? {}).filter(([, v]) => v !== undefined)) as DiskAttributes;
}

function validate(a: DiskAttributes): DiskAttributes {
  const bs = a.blocksize!;
  if (bs < 512 || bs > 4096 || (bs & (bs - 1)) !== 0)
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `blocksize: ${bs} is not a power of two in 512..4096`);
  if (a.irqmode! > 2) throw new RpcError(grpc.status.INVALID_ARGUMENT, `irqmode: ${a.irqmode} is not 0, 1 or 2`);
  if (a.size! < 1n) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'size: must be at least 1 MiB');
  if (a.zoned) shapeOf(a);
  return a;
}
