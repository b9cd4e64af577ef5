// Request, RequestRef and the error mapping, on a bare table and a stub host.

import { BlkStatus } from './blk-status';
import { InProcRequestTable } from './inproc-request-table';
import { ReqOp } from './req-op';
import { Request, RequestHost } from './request';
import {
  DoubleEndError,
  NoReferenceError,
  RequestStateError,
  RequestTableError,
  StaleRequestError,
  checkOpResult,
  tableError,
} from './request-errors';
import { OpResult, RecycleMode, RqState, formatToken, parseToken } from './request-table';

function setup(recycle: RecycleMode = 'on-drop') {
  const table = new InProcRequestTable('nullb1', { nrHwQueues: 1, queueDepth: 1, sharedTagBitmap: false, recycle });
  const events: string[] = [];
  const host: RequestHost<{ n: number }> = {
    table,
    timeoutMs: 100,
    now: () => 1_000,
    pduOf: () => ({ n: 1 }),
    onStart: (rq) => events.push(`start ${rq.name}`),
    onEnd: (rq, s) => events.push(`end ${rq.name} ${s}`),
    onComplete: (rq) => events.push(`complete ${rq.name}`),
    onRequeue: (rq) => events.push(`requeue ${rq.name}`),
  };
  const make = () => {
    const [token] = table.allocSync(0, 1);
    return new Request({ token, op: ReqOp.READ, flags: 0, sector: 0, bytes: 512, bios: [] }, host);
  };
  return { table, events, make };
}

describe('Request', () => {
  it('starts with a deadline, ends once releasing the driver reference, and tells its host', () => {
    const { table, events, make } = setup();
    const rq = make();
    rq.start();
    expect(table.slotSync(0, 0)).toMatchObject({ state: RqState.InFlight, refs: 2, deadlineMs: 1_100 });
    rq.start();
    rq.end(BlkStatus.NOSPC);
    expect(table.slotSync(0, 0)).toMatchObject({ state: RqState.Complete, refs: 1, status: BlkStatus.NOSPC });
    expect([rq.ended, rq.status, rq.started, rq.state]).toEqual([true, BlkStatus.NOSPC, false, RqState.Complete]);
    expect(() => rq.start()).toThrow(RequestStateError);
    expect(() => rq.requeue()).toThrow(RequestStateError);
    expect(events).toEqual(['start nullb1/0/0#1', 'start nullb1/0/0#1', `end nullb1/0/0#1 ${BlkStatus.NOSPC}`]);
    expect(rq.toString()).toBe('Request{nullb1/0/0#1 READ sector 0, 512 B, NONE}');
  });

  it('requeue gives the driver reference back and asks the host to dispatch again', () => {
    const { table, events, make } = setup();
    const rq = make();
    rq.start();
    rq.requeue();
    expect(table.slotSync(0, 0)).toMatchObject({ state: RqState.Allocated, refs: 1 });
    expect(rq.started).toBe(false);
    rq.complete();
    expect(events.slice(1)).toEqual(['requeue nullb1/0/0#1', 'complete nullb1/0/0#1']);
  });
});

describe('RequestRef', () => {
  it('drops at the end of a `using` scope', () => {
    const { table, make } = setup();
    const rq = make();
    {
      using ref = rq.ref();
      expect(ref.isHeld).toBe(true);
      expect(table.slotSync(0, 0).refs).toBe(2);
    }
    expect(table.slotSync(0, 0).refs).toBe(1);
  });

  it('refuses a double drop with NoReferenceError and leaves the count alone', () => {
    const { table, make } = setup();
    const rq = make();
    const a = rq.ref();
    rq.ref();
    expect(a.drop()).toBe(OpResult.Ok);
    expect(() => a.drop()).toThrow(NoReferenceError);
    expect(() => a[Symbol.dispose]()).toThrow('nullb1/0/0#1: RequestRef dropped twice');
    expect(table.slotSync(0, 0).refs).toBe(2);
    expect(a.toString()).toBe('RequestRef{nullb1/0/0#1 dropped}');
  });

  it('recycles the slot when the last reference drops after the end', () => {
    const { table, make } = setup();
    const rq = make();
    const ref = rq.ref();
    rq.end();
    table.applySync([{ op: 'drop', token: rq.token }]);
    expect(ref.drop()).toBe(OpResult.Recycled);
    expect(table.slotSync(0, 0).state).toBe(RqState.Idle);
  });

  it("with recycle 'inline' a reference held across the end drops as STALE, without error", () => {
    const { table, make } = setup('inline');
    const rq = make();
    const ref = rq.ref();
    rq.end();
    expect(table.slotSync(0, 0).state).toBe(RqState.Idle);
    expect(ref.drop()).toBe(OpResult.Stale);
  });
});

describe('tableError', () => {
  it.each([
    [OpResult.Stale, StaleRequestError, /stale request/],
    [OpResult.AlreadyComplete, DoubleEndError, /already ended \(AlreadyComplete\)/],
    [OpResult.BadState, RequestStateError, /does not apply/],
    [OpResult.NoReference, NoReferenceError, /no reference left/],
  ])('maps code %p to its class, naming the token and the op', (code, cls, message) => {
    const e = tableError(code, 'nullb0/1/2#3', 'end')!;
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(RequestTableError);
    expect(e).toMatchObject({ code, token: 'nullb0/1/2#3', name: cls.name });
    expect(e.message).toMatch(/^nullb0\/1\/2#3: end refused, /);
    expect(e.message).toMatch(message);
  });

  it('returns undefined for success codes; checkOpResult passes them through', () => {
    for (const ok of [OpResult.Ok, OpResult.AlreadyStarted, OpResult.Recycled]) {
      expect(tableError(ok, 't')).toBeUndefined();
      expect(checkOpResult(ok, 't')).toBe(ok);
    }
    expect(tableError(-99 as OpResult, 'x/0/0#1')?.message).toMatch(/unknown code -99/);
  });

  it('formats and parses tokens', () => {
    expect(formatToken('nullb0', { hctx: 1, tag: 2, gen: 3 })).toBe('nullb0/1/2#3');
    expect(parseToken('nullb0/1/2#3')).toEqual({ disk: 'nullb0', token: { hctx: 1, tag: 2, gen: 3 } });
  });
});
