// An in-process NbdBackend for unit tests: one RAM buffer per export, commands recorded,
// completion held back on demand so tests control the order and timing of replies.
import { exportOf, type ExportDisk, type NbdExport } from '../nbd-export';
import type { BlockCommand, BlockResult, BlockSession, NbdBackend } from '../nbd-backend';
import { NbdErrno } from '../nbd-protocol';

export interface HeldCommand {
  readonly cmd: BlockCommand;
  release(result?: BlockResult): void;
}

export class MemoryBackend implements NbdBackend {
  readonly data = new Map<string, Buffer>();
  readonly commands: BlockCommand[] = [];
  readonly held: HeldCommand[] = [];
  /** When true, commands wait in `held` until released. */
  hold = false;
  sessionsOpen = 0;
  sessionsClosed = 0;
  private readonly exports: NbdExport[];

  constructor(disks: ExportDisk[], maxPayload = 1024 * 1024) {
    this.exports = disks.map((d) => exportOf(d, maxPayload));
    for (const d of disks) this.data.set(d.name, Buffer.alloc(Number(d.sizeBytes)));
  }

  async listExports(): Promise<NbdExport[]> {
    return this.exports;
  }

  /** Submitted commands not yet done, over every session. */
  get inFlight(): number {
    return this.held.length;
  }

  openSession(exp: NbdExport): BlockSession {
    this.sessionsOpen++;
    let pending = 0;
    let idle: (() => void) | undefined;
    const buf = this.data.get(exp.name)!;
    const run = (cmd: BlockCommand): BlockResult => {
      // As dispatch refuses a submission over its cap (MAX_SUBMISSION_BYTES, the export's maxPayload).
      if (cmd.length > exp.maxPayload) return { errno: NbdErrno.EIO, message: `length ${cmd.length} is over ${exp.maxPayload}` };
      const at = Number(cmd.offset);
      switch (cmd.op) {
        case 'read':
          return { errno: NbdErrno.OK, data: Buffer.from(buf.subarray(at, at + cmd.length)) };
        case 'write':
          cmd.data!.copy(buf, at);
          return { errno: NbdErrno.OK };
        case 'discard':
        case 'write-zeroes':
          buf.fill(0, at, at + cmd.length);
          return { errno: NbdErrno.OK };
        default:
          return { errno: NbdErrno.OK };
      }
    };
    return {
      submit: (cmd, done) => {
        this.commands.push(cmd);
        pending++;
        const finish = (r: BlockResult) => {
          pending--;
          done(r);
          if (pending === 0) idle?.();
        };
        if (!this.hold) {
          setImmediate(() => finish(run(cmd)));
          return;
        }
        const held: HeldCommand = {
          cmd,
          release: (result) => {
            this.held.splice(this.held.indexOf(held), 1);
            finish(result ?? run(cmd));
          },
        };
        this.held.push(held);
      },
      close: async () => {
        if (pending > 0) await new Promise<void>((resolve) => (idle = resolve));
        this.sessionsClosed++;
      },
    };
  }

  releaseAll(): void {
    for (const h of [...this.held]) h.release();
  }
}
