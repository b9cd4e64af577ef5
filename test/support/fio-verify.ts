// fio over NBD as the end-to-end tests run it: random 4 KiB writes at qd 16 over a range
// of an export, then a crc32c verify pass of every block written (fio's nbd engine), or
// the writes alone (`verify: false`).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MiB = 1024 * 1024;

export interface FioVerifyJob {
  /** `host:port` of the NBD server. */
  readonly address: string;
  readonly disk: string;
  readonly offsetMiB?: number;
  readonly sizeMiB: number;
  /** fio's job name (and its files' names under `cwd`). */
  readonly name: string;
  /** Where fio may write its scratch files. */
  readonly cwd: string;
  /**
   * false: the writes only, no verify pass (for runs across events that may lose writes no
   * FLUSH covered, such as a Redis failover: DESIGN I9). Default true.
   */
  readonly verify?: boolean;
}

/** fio's JSON job report: its error, and the IOs of each direction. */
export interface FioJobReport {
  readonly error: number;
  readonly write: { readonly total_ios: number };
  readonly read: { readonly total_ios: number };
}

/** Runs the job; rejects when fio fails (an IO or verify error), else resolves with its report. */
export async function fioVerify(job: FioVerifyJob): Promise<FioJobReport> {
  const { stdout } = await run(
    'fio',
    [
      `--name=${job.name}`,
      '--ioengine=nbd',
      `--uri=nbd://${job.address}/${job.disk}`,
      '--rw=randwrite',
      '--bs=4k',
      '--iodepth=16',
      `--offset=${(job.offsetMiB ?? 0) * MiB}`,
      `--size=${job.sizeMiB * MiB}`,
      ...(job.verify === false ? [] : ['--verify=crc32c', '--do_verify=1', '--verify_fatal=1', '--verify_state_save=0']),
      '--output-format=json',
    ],
    { timeout: 150_000, maxBuffer: 16 * MiB, cwd: job.cwd },
  );
  return JSON.parse(stdout.slice(stdout.indexOf('{'))).jobs[0] as FioJobReport;
}

/** 4 KiB blocks in `sizeMiB`: the writes (and verify reads) of one job. */
export const blocksIn = (sizeMiB: number): number => (sizeMiB * MiB) / 4096;
