// What a process that runs rnull drivers reports of them: bad-block hits, injected faults
// and the mbps throttle, each through its reporter; dispatch (local placement) and the
// rnull service (remote) take every disk's driver events from here.
import type { Telemetry } from '#service-kit';
import { BadBlockReporter, type BadBlocksWriter } from './bad-block-reporter';
import type { DriverEvents } from './driver-factory';
import { FaultReporter } from './fault-reporter';
import { ThrottleReporter } from './throttle-reporter';

/** One disk's driver events from every reporter; `writer` sends once-cleared bad blocks to the registry. */
export function driverEventReporters(tel: Telemetry, writer?: BadBlocksWriter): (disk: string) => DriverEvents {
  const badBlocks = new BadBlockReporter(tel, writer);
  const faults = new FaultReporter(tel);
  const throttle = new ThrottleReporter(tel);
  return (disk) => ({ ...badBlocks.eventsFor(disk), ...faults.eventsFor(disk), ...throttle.eventsFor(disk) });
}
