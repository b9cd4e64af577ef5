// `POST /debug/gc`: one full garbage collection on request, for measuring live memory. The
// bench's memory section runs it in every service before it reads RSS and the V8 heap, so
// garbage V8 has not collected yet cannot read as growth (docs/bench/v2-intel-host/).
// Contract: only a process started with `node --expose-gc` has it (the bench starts its
// services so); any other answers 404 and collects nothing, so a deployed service cannot
// be made to stall in a collection from its HTTP port.
import { Controller, HttpCode, NotFoundException, Post } from '@nestjs/common';

/** What `POST /debug/gc` answers: the heap in use right after the collection. */
export interface GcReply {
  readonly heapUsedBytes: number;
}

/** The collector `node --expose-gc` puts on the global object, if it does. */
function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

@Controller('debug')
export class DebugGcController {
  @Post('gc')
  @HttpCode(200)
  collect(): GcReply {
    const gc = exposedGc();
    if (!gc) throw new NotFoundException('POST /debug/gc needs the service started with node --expose-gc');
    gc();
    return { heapUsedBytes: process.memoryUsage().heapUsed };
  }
}
