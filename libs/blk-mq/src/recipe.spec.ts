// The recipe of index.ts, run as written: implement Operations, make a TagSet, build a
// GenDisk, submit.

import { BlkStatus, GenDiskBuilder, ReqOp, TagSet, type Operations } from '#blk-mq';

describe('the index.ts recipe', () => {
  it('ends a write OK through a driver that ends every request inline', async () => {
    const ops: Operations = {
      queueRq(_hctx, rq) {
        rq.start();
        rq.end(BlkStatus.OK);
        return BlkStatus.OK;
      },
      commitRqs() {},
      complete(rq) {
        rq.end(BlkStatus.OK);
      },
    };

    const tagSet = new TagSet({ nrHwQueues: 1, queueDepth: 64 });

    const disk = new GenDiskBuilder().name('rnullb0').capacitySectors(2048).logicalBlockSize(4096).build(tagSet, ops);

    const { status } = await disk.submit({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(4096) });
    await disk.del();

    expect(status).toBe(BlkStatus.OK);
    expect(disk.table.busyCount).toBe(0);
    expect(disk.stats().engine).toMatchObject({ submitted: 1, completed: 1, failed: 0 });
  });
});
