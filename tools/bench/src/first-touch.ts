// What this machine charges for memory it has not backed yet: CPU per 4 KiB page the first
// time a process writes it. A write to a fresh page of a memory-backed disk pays it in Redis
// (a new value) and in nbdkit alike, and it differs between VMs of the same kind by up to
// ten times (docs/bench/v2-final/), so the report names it beside the load average.
//
// Contract: maps `mib` MiB that no one has touched (glibc serves a malloc above 32 MiB, its
// largest mmap threshold, with a fresh mapping; smaller ones may reuse touched heap, so
// `mib` below that is refused), writes one byte per 4 KiB, and returns the CPU seconds of that loop per page, in µs.
// The bench runs it after its last measurement: the pages it frees go back to the kernel,
// and a later Redis could reuse them already backed.
import { selfCpuSeconds } from './cpu-per-io';

export const FIRST_TOUCH_PROBE_MIB = 128;
const PAGE = 4096;

/** glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: a larger malloc is always a new mapping. */
const FRESH_MAPPING_MIB = 32;

export function firstTouchUsPerPage(mib = FIRST_TOUCH_PROBE_MIB): number {
  if (!(mib > FRESH_MAPPING_MIB))
    throw new RangeError(`first-touch probe: ${mib} MiB may reuse touched memory; give more than ${FRESH_MAPPING_MIB}`);
  const bytes = mib * 1024 * 1024;
  const region = Buffer.allocUnsafeSlow(bytes);
  const before = selfCpuSeconds();
  for (let off = 0; off < bytes; off += PAGE) region[off] = 1;
  const seconds = selfCpuSeconds() - before;
  return (seconds * 1e6) / (bytes / PAGE);
}
