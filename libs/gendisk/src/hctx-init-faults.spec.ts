// null_blk's init_hctx fault injection as gendisk asks it: once per hctx set up, size 1,
// an error naming init_hctx at the first failure, state kept per disk until the text
// changes or the disk is forgotten.
import { Registry } from 'prom-client';
import { BlockMetrics, InjectedFaultError } from '#service-kit';
import { HctxInitFaults } from './hctx-init-faults';

function errorOf(fn: () => void): InjectedFaultError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InjectedFaultError) return e;
    throw e;
  }
  throw new Error('expected an InjectedFaultError');
}

describe('HctxInitFaults', () => {
  it('does nothing without init_hctx', () => {
    const f = new HctxInitFaults();
    expect(() => f.check('d', { initHctx: '' }, 0, 64, 'power on')).not.toThrow();
  });

  it('fails power on at the first hctx the fault_attr picks, naming init_hctx, and counts it', async () => {
    const registry = new Registry();
    const metrics = BlockMetrics.of(registry, 'gendisk');
    const f = new HctxInitFaults({ metrics });
    const e = errorOf(() => f.check('d0', { initHctx: '3,100,0,-1' }, 0, 4, 'power on'));
    expect(e.attribute).toBe('init_hctx');
    expect(e.message).toBe('init_hctx: injected fault: hctx 2 of disk "d0" failed to initialise (EFAULT); power on refused');
    expect(e.code).toBe(10); // ABORTED
    const text = await registry.metrics();
    expect(text).toContain('rnull_injected_faults_total{disk="d0",kind="init_hctx"} 1');
  });

  it('asks once per hctx set up: a reshape asks only for the new ones', () => {
    const f = new HctxInitFaults();
    const a = { initHctx: '2,100,0,-1' }; // every 2nd call fails
    expect(() => f.check('d', a, 0, 1, 'power on')).not.toThrow(); // call 1
    expect(() => f.check('d', a, 1, 1, 'no change')).not.toThrow(); // no call
    expect(() => f.check('d', a, 1, 2, 'submit_queues change 1 -> 2')).toThrow(/hctx 1 .* submit_queues change 1 -> 2 refused/); // call 2
    expect(() => f.check('d', a, 1, 2, 'submit_queues change 1 -> 2')).not.toThrow(); // call 3
  });

  it('times bounds the failures; a new text, or forget, starts again', () => {
    const f = new HctxInitFaults();
    expect(() => f.check('d', { initHctx: '1,100,0,1' }, 0, 1, 'power on')).toThrow(InjectedFaultError);
    expect(() => f.check('d', { initHctx: '1,100,0,1' }, 0, 1, 'power on')).not.toThrow();
    f.forget('d');
    expect(() => f.check('d', { initHctx: '1,100,0,1' }, 0, 1, 'power on')).toThrow(InjectedFaultError);
    expect(() => f.check('d', { initHctx: '1,100,0,2' }, 0, 1, 'power on')).toThrow(InjectedFaultError);
    expect(() => f.check('e', { initHctx: '1,100,0,1' }, 0, 1, 'power on')).toThrow(InjectedFaultError); // per disk
  });
});
