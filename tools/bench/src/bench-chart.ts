// The chart the README shows: IOPS per configuration, one bar per path, on a log scale
// (nbdkit and the in-process engine are orders of magnitude apart from the cluster).
// Plain SVG written by hand: no dependency, readable in a diff, rendered by GitHub.
//
// Contract: only rows with a measurement are drawn; a path with no measured row is left
// out of the legend; configurations appear in the order of the rows.
import { configLabel, type PathId } from './bench-matrix';
import type { PathResult } from './bench-result';

export const PATH_COLORS: Readonly<Record<PathId, string>> = Object.freeze({
  a: '#1f77b4',
  b: '#9467bd',
  c: '#7f7f7f',
  d: '#2ca02c',
});

const LEGEND: Readonly<Record<PathId, string>> = Object.freeze({
  a: 'a: cluster, gRPC stream',
  b: 'b: cluster, NBD gateway + fio',
  c: 'c: nbdkit + fio',
  d: 'd: rnull in-process engine',
});

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function compact(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

export function renderChart(rows: readonly PathResult[], title: string): string {
  const measured = rows.filter((r) => r.m && r.m.iops > 0);
  const paths = (['a', 'b', 'c', 'd'] as const).filter((p) => measured.some((r) => r.path === p));
  const groups: string[] = [];
  for (const r of measured) if (!groups.includes(configLabel(r.config))) groups.push(configLabel(r.config));
  const left = 64;
  const minWidth = 640;
  // Groups spread over the minimum width when there are few; bars widen with them.
  const groupW = Math.max(Math.max(1, paths.length) * 14 + 18, Math.floor((minWidth - left - 20) / Math.max(1, groups.length)));
  const bar = Math.min(28, Math.floor((groupW - 18) / Math.max(1, paths.length)));
  const legendRows = Math.ceil(paths.length / 2);
  const top = 40 + legendRows * 16;
  const plotH = 300;
  const bottom = 130;
  // Room on the right for the last slanted configuration label.
  const labelRoom = 110;
  const width = Math.max(minWidth, left + groups.length * groupW + 20) + labelRoom;
  const height = top + plotH + bottom;
  const maxIops = Math.max(10, ...measured.map((r) => r.m!.iops));
  const lo = 1;
  const hi = Math.ceil(Math.log10(maxIops));
  const y = (v: number) => top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e).toFixed(1);
    out.push(`<line x1="${left}" y1="${yy}" x2="${width - labelRoom - 10}" y2="${yy}" stroke="#dddddd"/>`);
    out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${compact(10 ** e)}</text>`);
  }
  out.push(`<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">IOPS (log scale)</text>`);
  paths.forEach((p, i) => {
    const x = left + (i % 2) * 260;
    const ly = 30 + Math.floor(i / 2) * 16;
    out.push(`<rect x="${x}" y="${ly}" width="10" height="10" fill="${PATH_COLORS[p]}"/>`);
    out.push(`<text x="${x + 14}" y="${ly + 9}">${esc(LEGEND[p])}</text>`);
  });
  groups.forEach((g, gi) => {
    const gx = left + gi * groupW + (groupW - paths.length * bar) / 2;
    paths.forEach((p, pi) => {
      const r = measured.find((row) => row.path === p && configLabel(row.config) === g);
      if (!r) return;
      const yy = y(r.m!.iops);
      const x = gx + pi * bar;
      out.push(
        `<rect x="${x}" y="${yy.toFixed(1)}" width="${bar - 2}" height="${(top + plotH - yy).toFixed(1)}" fill="${PATH_COLORS[p]}">` +
          `<title>${esc(`${g} path ${p}: ${Math.round(r.m!.iops)} IOPS`)}</title></rect>`,
      );
    });
    const cx = gx + (paths.length * bar) / 2;
    out.push(`<text transform="translate(${cx.toFixed(1)} ${top + plotH + 8}) rotate(45)" font-size="10">${esc(g)}</text>`);
  });
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${width - labelRoom - 10}" y2="${top + plotH}" stroke="#333333"/>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
