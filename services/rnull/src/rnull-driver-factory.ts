// The driver this service hosts: rnull, one per powered disk, with the fenced page-store
// backing the host hands it (DESIGN §3, I4). The libraries take drivers from a factory.
import type { DriverFactory } from '#driver-host';
import { RnullDriver } from '#rnull';

export const rnullDriverFactory: DriverFactory = (record, backing) => new RnullDriver(record.attributes, backing);
