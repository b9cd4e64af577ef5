// The NBD listener of a cluster process (the nbd-gateway service, or dispatch with
// NBD_IN_DISPATCH=1): an NbdServer over a backend, with its metrics and log lines.
import { Counter, Gauge, type Registry } from 'prom-client';
import { commandName, NbdErrno, type NbdBackend, NbdServer } from '#nbd';
import { CounterTally, type Logger } from '#service-kit';
import type { NbdEnv } from './nbd-env';

/** The command counter's tally keys: an errno takes one of this many slots (NBD's are below it; others are counted directly). */
const ERRNO_SLOTS = 1024;

/** The errno's name for a metric label (`ok`, `EINVAL`, …). */
export function errnoLabel(errno: number): string {
  if (errno === NbdErrno.OK) return 'ok';
  return Object.entries(NbdErrno).find(([, v]) => v === errno)?.[0] ?? String(errno);
}

/**
 * Records `rnull_nbd_commands_total{service,command,error}` and `rnull_nbd_connections`;
 * logs a failed command at warn (with the device's reason) and each closed connection.
 */
export class NbdFrontEnd {
  private readonly server: NbdServer;
  /** `host:port` the listener is bound to, once `listen()` resolved. */
  address = '';

  constructor(
    backend: NbdBackend,
    private readonly env: NbdEnv,
    service: string,
    registry: Registry,
    log: Logger,
  ) {
    // Counted per command: tallied by (command, errno), labelled when read.
    const commands: Counter<'service' | 'command' | 'error'> = new Counter({
      name: 'rnull_nbd_commands_total',
      help: 'NBD commands answered, by command and reply error',
      labelNames: ['service', 'command', 'error'],
      registers: [registry],
      collect: () => tally.flush(),
    });
    const tally = new CounterTally(commands, (_: string, key: number) => ({
      service,
      command: commandName(Math.floor(key / ERRNO_SLOTS)),
      error: errnoLabel(key % ERRNO_SLOTS),
    }));
    const connections = new Gauge({
      name: 'rnull_nbd_connections',
      help: 'Open NBD connections',
      labelNames: ['service'],
      registers: [registry],
    });
    connections.set({ service }, 0);
    this.server = new NbdServer({
      backend,
      maxConnections: env.maxConnections,
      tls: env.security.tls,
      access: env.security.access,
      handshakeTimeoutMs: env.handshakeTimeoutMs,
      idleTimeoutMs: env.idleTimeoutMs,
      limits: { maxInFlight: env.maxInFlight, maxInFlightBytes: 64 * 1024 * 1024, replyHighWaterBytes: 4 * 1024 * 1024 },
      events: {
        onConnectionOpen: (peer) => {
          connections.inc({ service });
          log.debug({ peer }, 'NBD connection opened');
        },
        onConnectionClose: (peer, exportName, how) => {
          connections.dec({ service });
          const line = { peer, export: exportName, how };
          if (/^(error|bad-magic|handshake-timeout|TLS handshake failed)/.test(how)) log.warn(line, 'NBD connection closed');
          else log.info(line, 'NBD connection closed');
        },
        onConnectionRefused: (peer, how) => log.warn({ peer, how, limit: 'NBD_MAX_CONNECTIONS' }, 'NBD connection refused'),
        onCommand: (type, errno, message) => {
          if (errno >= 0 && errno < ERRNO_SLOTS) tally.add('', type * ERRNO_SLOTS + errno);
          else commands.inc({ service, command: commandName(type), error: errnoLabel(errno) });
          if (errno !== NbdErrno.OK)
            log.warn({ command: commandName(type), error: errnoLabel(errno), reason: message }, 'NBD command failed');
        },
      },
    });
  }

  async listen(): Promise<string> {
    const port = await this.server.listen(this.env.nbdPort, this.env.nbdHost);
    this.address = `${this.env.nbdHost}:${port}`;
    return this.address;
  }

  /** Commands already read are answered, then every connection closes. */
  close(): Promise<void> {
    return this.server.close();
  }
}
