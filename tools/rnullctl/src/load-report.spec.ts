import { LatencyHistogram } from './latency-histogram';
import { LoadProgress, LoadResult } from './load-generator';
import { progressLine, ProgressPrinter, renderSummary, summaryToJson } from './load-report';
import { CapturedOutput } from './testing/captured-io';
import { formatNs, renderTable, toJson } from './text-format';

const PROGRESS: LoadProgress = {
  elapsedNs: 2_000_000_000n,
  ios: 20_000,
  bytes: 20_000 * 4096,
  errors: 0,
  inFlight: 32,
  intervalIos: 10_000,
  intervalBytes: 10_000 * 4096,
  intervalNs: 1_000_000_000n,
};

function result(): LoadResult {
  const histogram = new LatencyHistogram();
  [1_000, 2_000, 3_000, 1_000_000].forEach((v) => histogram.record(v));
  return {
    ios: 4,
    reads: 3,
    writes: 1,
    bytes: 3 * 4096,
    errors: { STATUS_IOERR: 1 },
    errorMessages: { STATUS_IOERR: 'bad' },
    unknownTags: 0,
    messagesSent: 2,
    messagesReceived: 2,
    elapsedNs: 500_000_000n,
    iops: 8,
    mibPerSec: 0.0234,
    latency: histogram.summary(),
    histogram,
  };
}

const PARAMS = { disk: 'rnullb0', rw: 'randread', blockSize: 4096, queueDepth: 32, batchSize: 16 };

describe('load report', () => {
  it('shows elapsed, IOs and the interval IOPS and MiB/s in the progress line', () => {
    expect(progressLine(PROGRESS)).toBe('[   2.0s]      20000 IOs     10000 IOPS      39.1 MiB/s  qd 32');
    expect(progressLine({ ...PROGRESS, errors: 3 })).toMatch(/ {2}errors 3$/);
  });

  it('rewrites the line with \\r on a TTY and ends it with a newline', () => {
    const tty = new CapturedOutput(true);
    const p = new ProgressPrinter(tty);
    p.update(PROGRESS);
    p.update(PROGRESS);
    p.finish();
    expect(tty.text()).toBe(`\r${progressLine(PROGRESS)}\x1b[K\r${progressLine(PROGRESS)}\x1b[K\n`);
  });

  it('writes one full line per update when not a TTY', () => {
    const pipe = new CapturedOutput(false);
    const p = new ProgressPrinter(pipe);
    p.update(PROGRESS);
    p.finish();
    expect(pipe.text()).toBe(progressLine(PROGRESS) + '\n');
  });

  it('summarises IOs, errors by status, rates and latency percentiles', () => {
    const text = renderSummary(PARAMS, result());
    expect(text).toMatch(/^ios\s+4 \(reads 3, writes 1, errors 1\)$/m);
    expect(text).toMatch(/^ {2}STATUS_IOERR\s+1 {2}e\.g\. "bad"$/m);
    expect(text).toMatch(/^iops\s+8$/m);
    expect(text).toMatch(/^latency\s+p50 2\.01µs {2}p99 1\.00ms {2}p99\.9 1\.00ms {2}max 1\.00ms/m);
  });

  it('serialises the summary to JSON with bigints as numbers', () => {
    const json = JSON.parse(toJson(summaryToJson(PARAMS, result())));
    expect(json.elapsed_ns).toBe(500_000_000);
    expect(json.latency_ns.max).toBe(1_000_000);
    expect(json.errors).toEqual({ STATUS_IOERR: 1 });
  });
});

describe('text format', () => {
  it('formats durations with three significant digits', () => {
    expect(formatNs(850)).toBe('850ns');
    expect(formatNs(12_345)).toBe('12.3µs');
    expect(formatNs(4_560_000)).toBe('4.56ms');
    expect(formatNs(123_000_000_000)).toBe('123s');
  });

  it('right-aligns numeric columns of a table', () => {
    expect(
      renderTable(
        ['NAME', 'N'],
        [
          ['a', '5'],
          ['bbb', '100'],
        ],
      ),
    ).toBe('NAME    N\na       5\nbbb   100\n');
  });
});
