// Human-readable output of rnullctl: aligned tables, durations, rates and sizes, and JSON
// that carries 64-bit integers.

/** Left-aligned columns separated by two spaces; numeric-looking cells are right-aligned. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.]+$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `key  value` lines with the keys aligned. */
export function renderKeyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

/** Nanoseconds as `850ns`, `12.3µs`, `4.56ms`, `1.23s`: three significant digits. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1_000) return `${Math.round(ns)}ns`;
  if (ns < 1_000_000) return `${significant(ns / 1_000)}µs`;
  if (ns < 1_000_000_000) return `${significant(ns / 1_000_000)}ms`;
  return `${significant(ns / 1_000_000_000)}s`;
}

function significant(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Bytes per second as MiB/s with one decimal. */
export function formatMiBps(bytes: number, seconds: number): string {
  return seconds > 0 ? (bytes / 1048576 / seconds).toFixed(1) : '0.0';
}

/** An integer rate, e.g. IOPS. */
export function formatRate(count: number, seconds: number): string {
  return seconds > 0 ? Math.round(count / seconds).toString() : '0';
}

/** Bytes as `512 B`, `4 KiB`, `1.5 GiB`. */
export function formatBytes(bytes: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Number(bytes);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** JSON.stringify that writes bigints as numbers when exact, else as strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v),
    2,
  );
}
