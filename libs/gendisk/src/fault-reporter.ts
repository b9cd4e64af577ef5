// Mirrors what null_blk's fault injection leaves to see (`fail_dump()`'s log line): every
// fault the rnull driver injects into a request (its `timeout` and `requeue` attributes)
// counted in the process that runs the driver, as `rnull_injected_faults_total{disk,kind}`.
import type { RequestFaultKind } from '#rnull';
import type { Telemetry } from '#service-kit';
import type { DriverEvents } from './driver-factory';

/** The request fault kinds, each a series from the start (rate() reads 0, not nothing). */
const REQUEST_FAULT_KINDS: readonly RequestFaultKind[] = ['timeout', 'requeue'];

/** Contract: every injected fault increments the counter once and logs one debug line. */
export class FaultReporter {
  constructor(private readonly tel: Telemetry) {}

  /** The events of one disk's driver. */
  eventsFor(disk: string): Pick<DriverEvents, 'injectedFault'> {
    for (const kind of REQUEST_FAULT_KINDS) this.tel.metrics?.injectedFaults.inc({ disk, kind }, 0);
    return {
      injectedFault: (kind) => {
        this.tel.metrics?.injectedFaults.inc({ disk, kind });
        this.tel.log?.debug({ disk, kind }, 'injected fault');
      },
    };
  }
}
