// Reading a service's Prometheus text exposition (/metrics): sample values and histogram
// buckets, summed over label sets, for the timer and memory sections of the benchmark.
import type { CumulativeBucket } from './bench-stats';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line of `text`; comments and blank lines are skipped. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(LABEL)) labels[l[1]] = l[2];
    const v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

/** Sum of every sample named `name` (undefined when there is none). */
export function sumOf(samples: readonly Sample[], name: string): number | undefined {
  const hits = samples.filter((s) => s.name === name);
  return hits.length ? hits.reduce((a, s) => a + s.value, 0) : undefined;
}

/** The `<name>_bucket` series summed per `le`, ascending. */
export function bucketsOf(samples: readonly Sample[], name: string): CumulativeBucket[] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** `after - before` per bucket: the values recorded between two scrapes. */
export function bucketDelta(before: readonly CumulativeBucket[], after: readonly CumulativeBucket[]): CumulativeBucket[] {
  const was = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: b.count - (was.get(b.le) ?? 0) }));
}

/** GET http://127.0.0.1:port/metrics, parsed. */
export async function scrape(httpPort: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  if (!res.ok) throw new Error(`GET :${httpPort}/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}
