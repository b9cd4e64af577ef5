// What `rnullctl load` prints: the live progress line (stderr) and the end-of-run summary
// (stdout, text or JSON). Pure formatting of load-generator results.
import { LoadProgress, LoadResult } from './load-generator';
import { formatMiBps, formatNs, formatRate, renderKeyValues } from './text-format';

/** The parameters of a run, echoed in the summary. */
export interface LoadParams {
  readonly disk: string;
  readonly rw: string;
  readonly blockSize: number;
  readonly queueDepth: number;
  readonly batchSize: number;
}

/** One progress line: elapsed, IOs so far, and the IOPS and MiB/s of the last interval. */
export function progressLine(p: LoadProgress): string {
  const elapsed = (Number(p.elapsedNs) / 1e9).toFixed(1);
  const seconds = Number(p.intervalNs) / 1e9;
  const errors = p.errors ? `  errors ${p.errors}` : '';
  return (
    `[${elapsed.padStart(6)}s] ${String(p.ios).padStart(10)} IOs  ${formatRate(p.intervalIos, seconds).padStart(8)} IOPS  ` +
    `${formatMiBps(p.intervalBytes, seconds).padStart(8)} MiB/s  qd ${p.inFlight}${errors}`
  );
}

/** Writes progress lines: rewritten in place on a TTY, one per call otherwise. */
export class ProgressPrinter {
  private shown = false;

  constructor(private readonly out: { write(s: string): unknown; readonly isTTY?: boolean }) {}

  update(p: LoadProgress): void {
    this.shown = true;
    if (this.out.isTTY) this.out.write(`\r${progressLine(p)}\x1b[K`);
    else this.out.write(progressLine(p) + '\n');
  }

  /** Ends the rewritten line so that later output starts on a fresh one. */
  finish(): void {
    if (this.shown && this.out.isTTY) this.out.write('\n');
  }
}

/** The human summary: IOs, errors by status, IOPS, MiB/s, latency percentiles. */
export function renderSummary(params: LoadParams, r: LoadResult): string {
  const seconds = Number(r.elapsedNs) / 1e9;
  const lat = r.latency;
  const errorTotal = Object.values(r.errors).reduce((a, b) => a + b, 0);
  const pairs: [string, string][] = [
    ['disk', `${params.disk}  rw=${params.rw} bs=${params.blockSize} qd=${params.queueDepth} batch=${params.batchSize}`],
    ['ios', `${r.ios} (reads ${r.reads}, writes ${r.writes}, errors ${errorTotal})`],
  ];
  for (const [status, n] of Object.entries(r.errors).sort(([a], [b]) => a.localeCompare(b))) {
    const sample = r.errorMessages[status];
    pairs.push([`  ${status}`, `${n}${sample ? `  e.g. "${sample}"` : ''}`]);
  }
  if (r.unknownTags) pairs.push(['unknown tags', `${r.unknownTags} (completions for tags not in flight)`]);
  pairs.push(
    ['elapsed', `${seconds.toFixed(3)} s`],
    ['iops', formatRate(r.ios, seconds)],
    ['bandwidth', `${formatMiBps(r.bytes, seconds)} MiB/s`],
    [
      'latency',
      `p50 ${formatNs(lat.p50Ns)}  p99 ${formatNs(lat.p99Ns)}  p99.9 ${formatNs(lat.p999Ns)}  max ${formatNs(lat.maxNs)}  ` +
        `(mean ${formatNs(lat.meanNs)})`,
    ],
    [
      'messages',
      `${r.messagesSent} sent, ${r.messagesReceived} received (${(r.ios / Math.max(1, r.messagesSent)).toFixed(1)} IOs/message)`,
    ],
  );
  return renderKeyValues(pairs);
}

/** The summary as a JSON-ready object (latencies in ns). */
export function summaryToJson(params: LoadParams, r: LoadResult): Record<string, unknown> {
  const seconds = Number(r.elapsedNs) / 1e9;
  return {
    ...params,
    ios: r.ios,
    reads: r.reads,
    writes: r.writes,
    bytes: r.bytes,
    errors: r.errors,
    error_messages: r.errorMessages,
    unknown_tags: r.unknownTags,
    messages_sent: r.messagesSent,
    messages_received: r.messagesReceived,
    elapsed_ns: r.elapsedNs,
    iops: seconds > 0 ? r.ios / seconds : 0,
    mib_per_sec: r.mibPerSec,
    latency_ns: {
      min: r.latency.minNs,
      mean: r.latency.meanNs,
      p50: r.latency.p50Ns,
      p90: r.latency.p90Ns,
      p99: r.latency.p99Ns,
      p999: r.latency.p999Ns,
      max: r.latency.maxNs,
    },
  };
}
