// Mirrors null_blk's `nr_devices` module parameter: how many disks `npm start` creates at
// load (`--nr-devices N` or NR_DEVICES), and their names, rnullb0 … rnullb{N-1}.

/** null_blk's default: one device at load. */
export const DEFAULT_NR_DEVICES = 1;

/** null_blk does not bound nr_devices; this keeps a typo from creating thousands of disks. */
export const MAX_NR_DEVICES = 64;

/** The name of device `i`, as null_blk names its gendisks `nullb%d`. */
export function deviceName(i: number): string {
  return `rnullb${i}`;
}

/** `--nr-devices` / NR_DEVICES: unset or '' is the default; else an integer in 1..MAX_NR_DEVICES (throws naming it). */
export function readNrDevices(v: string | undefined): number {
  if (v === undefined || v === '') return DEFAULT_NR_DEVICES;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_NR_DEVICES) {
    throw new Error(`nr_devices must be an integer in 1..${MAX_NR_DEVICES}, got ${JSON.stringify(v)}`);
  }
  return n;
}
