import { DEFAULT_PORTS } from '#service-kit';
import { readNbdEnv } from './nbd-env';

describe('readNbdEnv', () => {
  it('defaults: NBD on 127.0.0.1:10809, not inside dispatch, dispatch at its default address', () => {
    expect(readNbdEnv({})).toEqual({
      inDispatch: false,
      dispatchUrl: `127.0.0.1:${DEFAULT_PORTS.dispatchGrpc}`,
      nbdPort: DEFAULT_PORTS.nbdGateway,
      nbdHost: '127.0.0.1',
      maxConnections: 256,
      maxInFlight: 128,
      handshakeTimeoutMs: 10_000,
      idleTimeoutMs: 0,
      security: { summary: { tls: 'off', verifiesClients: false, pskUsers: 0, identities: 0 } },
    });
  });

  it('reads every variable', () => {
    expect(
      readNbdEnv({
        NBD_IN_DISPATCH: '1',
        DISPATCH_URL: 'dispatch:50051',
        NBD_PORT: '0',
        NBD_HOST: '0.0.0.0',
        NBD_MAX_CONNECTIONS: '4',
        NBD_MAX_IN_FLIGHT: '8',
        NBD_HANDSHAKE_TIMEOUT_MS: '500',
        NBD_IDLE_TIMEOUT_MS: '60000',
      }),
    ).toMatchObject({
      inDispatch: true,
      dispatchUrl: 'dispatch:50051',
      nbdPort: 0,
      nbdHost: '0.0.0.0',
      maxConnections: 4,
      maxInFlight: 8,
      handshakeTimeoutMs: 500,
      idleTimeoutMs: 60_000,
    });
  });

  it.each([
    [{ NBD_IN_DISPATCH: 'yes' }, /NBD_IN_DISPATCH must be 0 or 1, got "yes"/],
    [{ NBD_PORT: '-1' }, /NBD_PORT must be a whole number >= 0/],
    [{ NBD_MAX_IN_FLIGHT: '0' }, /NBD_MAX_IN_FLIGHT must be a whole number >= 1, got "0"/],
    [{ NBD_MAX_CONNECTIONS: 'many' }, /NBD_MAX_CONNECTIONS must be a whole number >= 1/],
    [{ NBD_HANDSHAKE_TIMEOUT_MS: '0' }, /NBD_HANDSHAKE_TIMEOUT_MS must be a whole number >= 1, got "0"/],
    [{ NBD_IDLE_TIMEOUT_MS: '-5' }, /NBD_IDLE_TIMEOUT_MS must be a whole number >= 0/],
    [{ NBD_TLS: 'yes' }, /^NBD_TLS must be one of off, on, require, got "yes"$/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => readNbdEnv(env)).toThrow(message);
  });
});
