// TLS on an NBD connection: the server's modes (the spec's "TLS support": NOTLS, FORCEDTLS,
// SELECTIVETLS with every export optional) and the in-session upgrade NBD_OPT_STARTTLS asks
// for, after which the rest of option haggling and the whole transmission phase run over
// TLS. The PEM files are read by the host (dispatch's nbd-tls-env); this module takes a
// ready SecureContext.
import type { Socket } from 'node:net';
import * as tls from 'node:tls';

/**
 * `off`: NOTLS, NBD_OPT_STARTTLS is NBD_REP_ERR_UNSUP. `on`: a client may upgrade, plain
 * clients are served too. `require`: FORCEDTLS, every option before STARTTLS but ABORT is
 * NBD_REP_ERR_TLS_REQD.
 */
export const NBD_TLS_MODES = ['off', 'on', 'require'] as const;
export type NbdTlsMode = (typeof NBD_TLS_MODES)[number];

/** Who the client proved to be during the TLS handshake. */
export interface NbdIdentity {
  /** `certificate`: the CN of its verified client certificate; `psk`: its PSK username. */
  readonly kind: 'certificate' | 'psk';
  readonly name: string;
}

/** What the server upgrades connections with (mode `on` or `require`). */
export interface NbdTls {
  readonly mode: Exclude<NbdTlsMode, 'off'>;
  /** The server's certificate and key (and the CA that verifies clients), when it has them. */
  readonly secureContext?: tls.SecureContext;
  /** Ask every client for a certificate and refuse the handshake without a valid one (mutual TLS). */
  readonly verifiesClients: boolean;
  /** The key of a PSK username, undefined for an unknown one (nbdkit's --tls-psk). */
  readonly pskKey?: (username: string) => Buffer | undefined;
}

/**
 * Upgrades `socket` (after the server sent NBD_OPT_STARTTLS's ACK) and resolves the TLS
 * socket once the handshake is done, with the client's identity when it proved one.
 * Rejects when the handshake fails or the peer goes away first; the caller then closes
 * the connection (the spec: "it is too late to continue without TLS").
 */
export function startTls(socket: Socket, settings: NbdTls): Promise<{ socket: tls.TLSSocket; identity?: NbdIdentity }> {
  let pskUser: string | undefined;
  const secure = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: settings.secureContext,
    requestCert: settings.verifiesClients,
    rejectUnauthorized: settings.verifiesClients,
    ...(settings.pskKey && {
      pskCallback: (_socket: tls.TLSSocket, username: string) => {
        const key = settings.pskKey?.(username);
        if (key) pskUser = username;
        return key ?? null;
      },
    }),
  } as tls.TLSSocketOptions);
  return new Promise((resolve, reject) => {
    const fail = (err?: Error) => {
      secure.destroy();
      reject(new Error(`TLS handshake failed: ${err?.message ?? 'the client closed the connection'}`));
    };
    const closed = () => fail();
    secure.once('error', fail);
    secure.once('close', closed);
    // The server's handshake timeout destroys the plain socket under it.
    socket.once('close', closed);
    secure.once('secure', () => {
      secure.off('error', fail);
      secure.off('close', closed);
      socket.off('close', closed);
      secure.on('error', () => undefined);
      if (pskUser !== undefined) return resolve({ socket: secure, identity: { kind: 'psk', name: pskUser } });
      const cn = settings.verifiesClients ? secure.getPeerCertificate()?.subject?.CN : undefined;
      const name = Array.isArray(cn) ? cn[0] : cn;
      resolve({ socket: secure, identity: name ? { kind: 'certificate', name } : undefined });
    });
  });
}
