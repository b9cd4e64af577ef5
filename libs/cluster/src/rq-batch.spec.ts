// The wire helpers between services: completion notices, data fields, queue names.
import { BlkStatus, type RequestToken } from '#blk-mq';
import { dataField, formatNotice, nowMsPrecise, parseNotice, parseNoticeBuffer, QueueNames, readDataField } from './rq-batch';

describe('completion notices', () => {
  const tokens: RequestToken[] = [
    { hctx: 0, tag: 0, gen: 1 },
    { hctx: 3, tag: 4095, gen: 123_456_789 },
    { hctx: 255, tag: 17, gen: Number.MAX_SAFE_INTEGER },
  ];

  it.each(tokens)('round-trips %o with every status', (token) => {
    for (const status of [BlkStatus.OK, BlkStatus.IOERR, BlkStatus.TIMEOUT, BlkStatus.OFFLINE]) {
      const s = formatNotice(token, status);
      expect(s).toBe(`${token.hctx}:${token.tag}:${token.gen}:${status}`);
      expect(parseNotice(s)).toEqual({ token, status });
    }
  });

  it.each(['', '1:2:3', '1:2:3:4:5', 'a:b:c:d', '1:2:x:0', '1.5:2:3:0', '1:2:3:NaN', 'rnullb0/0/1#2'])(
    'refuses %j',
    (s) => {
      expect(parseNotice(s)).toBeUndefined();
    },
  );
});

describe('parseNoticeBuffer', () => {
  it('splits a notice from the read data it carries, whatever bytes the data holds', () => {
    const token = { hctx: 1, tag: 2, gen: 3 };
    expect(parseNoticeBuffer(Buffer.from('1:2:3:0'))).toEqual({ token, status: 0 });
    const data = Buffer.from([124, 0, 58, 255, 124]);
    const got = parseNoticeBuffer(Buffer.concat([Buffer.from('1:2:3:0|'), data]));
    expect(got).toEqual({ token, status: 0, data });
    expect(parseNoticeBuffer(Buffer.from('1:2:3:0|'))?.data).toEqual(Buffer.alloc(0));
  });

  it.each(['', '1:2:3', '1:2:x:0|abc', '|1:2:3:0', 'x'.repeat(200)])('refuses %j', (s) => {
    expect(parseNoticeBuffer(Buffer.from(s))).toBeUndefined();
  });
});

describe('dataField', () => {
  it('names one generation of one slot', () => {
    expect(dataField({ hctx: 2, tag: 9, gen: 41 })).toBe('2:9:41');
    expect(dataField({ hctx: 2, tag: 9, gen: 42 })).not.toBe(dataField({ hctx: 2, tag: 9, gen: 41 }));
    expect(readDataField({ hctx: 2, tag: 9, gen: 41 })).toBe('2:9:41:r');
  });
});

describe('QueueNames', () => {
  it('names one queue per disk and hctx, and the two completion queues', () => {
    expect(QueueNames.hctx('rnullb0', 3)).toBe('rq.rnullb0.3');
    expect(QueueNames.softirq).toBe('softirq');
    expect(QueueNames.timer).toBe('timer');
  });
});

describe('nowMsPrecise', () => {
  it('is wall-clock ms since the epoch with a fraction, and does not go backwards', () => {
    const a = nowMsPrecise();
    const b = nowMsPrecise();
    expect(Math.abs(a - Date.now())).toBeLessThan(1000);
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
