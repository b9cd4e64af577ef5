// The process of path (d): runs one configuration of `runInproc` and reports back over IPC.
//
// Contract (with `runInprocInChild`): the parent sends one `InprocRequest`; this process
// answers with `progress` messages while it runs, then exactly one `done` or `error`, and
// exits. Nothing else runs here, so the CPU the row reports is the path's own.
import type { BenchConfig } from '../bench-matrix';
import type { PathMeasurement } from '../bench-result';
import { type InprocOptions, runInproc } from './inproc-path';

export interface InprocRequest {
  readonly config: BenchConfig;
  readonly options: Omit<InprocOptions, 'onProgress'>;
}

export type InprocReply =
  | { readonly kind: 'progress'; readonly ios: number; readonly seconds: number }
  | { readonly kind: 'done'; readonly measurement: PathMeasurement }
  | { readonly kind: 'error'; readonly message: string };

function send(reply: InprocReply): Promise<void> {
  return new Promise((resolve) => process.send!(reply, undefined, {}, () => resolve()));
}

process.once('message', (request: InprocRequest) => {
  runInproc(request.config, { ...request.options, onProgress: (ios, seconds) => void send({ kind: 'progress', ios, seconds }) })
    .then((measurement) => send({ kind: 'done', measurement }))
    .catch((err: unknown) => send({ kind: 'error', message: (err as Error).message ?? String(err) }))
    .finally(() => process.exit(0));
});
