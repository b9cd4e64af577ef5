// The handshake of a fixed newstyle NBD server: greeting, client flags, then options until
// the client picks an export (NBD_OPT_EXPORT_NAME or NBD_OPT_GO) or leaves. NBD_OPT_STARTTLS
// upgrades the connection in the middle (nbd-tls.ts).
import type { Socket } from 'node:net';
import { type NbdAccessPolicy, READ_WRITE_FOR_ALL } from './nbd-access';
import type { NbdBackend } from './nbd-backend';
import { type NbdExport, readOnlyExport } from './nbd-export';
import {
  MAX_OPTION_BYTES,
  MAX_SKIPPED_OPTION_BYTES,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
  NBD_INIT_MAGIC,
  NBD_OPTS_MAGIC,
  NBD_REP_MAGIC,
  NbdInfo,
  NbdOpt,
  NbdRep,
} from './nbd-protocol';
import { SocketReader } from './socket-reader';
import { type NbdIdentity, type NbdTls, startTls } from './nbd-tls';

/**
 * One connection as haggling leaves it. NBD_OPT_STARTTLS replaces `socket` (by the TLS
 * socket over it) and `reader`; the caller reads them after `haggle` (and may destroy
 * `socket` at any time to end it, e.g. on a timeout).
 */
export interface NbdConnection {
  socket: Socket;
  reader: SocketReader;
  /** True once NBD_OPT_STARTTLS's handshake is done: everything after it is over TLS. */
  tls: boolean;
  /** The identity the client proved in that handshake (a certificate CN or a PSK username). */
  identity?: NbdIdentity;
}

/** How the server haggles with one connection. */
export interface HaggleOptions {
  /** The server will not serve this connection: every option is refused with this (see `haggle`). */
  readonly refusal?: string;
  /** TLS (NBD_TLS=on|require); absent: NOTLS, NBD_OPT_STARTTLS is NBD_REP_ERR_UNSUP. */
  readonly tls?: NbdTls;
  /** What the client may do with the exports, by its identity (default: read and write). */
  readonly access?: NbdAccessPolicy;
}

/** The outcome of a handshake that reached the transmission phase. */
export interface Negotiated {
  readonly export: NbdExport;
  /** NBD_OPT_STRUCTURED_REPLY was acknowledged: READ replies are structured. */
  readonly structuredReplies: boolean;
  /** The client asked for NBD_INFO_BLOCK_SIZE, so it promised aligned requests. */
  readonly blockSizeAgreed: boolean;
}

/** Why a handshake ended without an export, for the log. */
export type HandshakeEnd = { readonly ended: string };

/**
 * The empty export name is the spec's "default export": the first export by name, or
 * `rnullb0` when there is one (the disk `npm start` creates).
 */
function pick(exports: NbdExport[], name: string): NbdExport | undefined {
  if (name !== '') return exports.find((e) => e.name === name);
  return exports.find((e) => e.name === 'rnullb0') ?? [...exports].sort((a, b) => a.name.localeCompare(b.name))[0];
}

/**
 * Runs the handshake on `conn`. Resolves the negotiated export, or `{ended}` when the
 * client aborted, vanished, broke the protocol (wrong magic, unknown client flags), failed
 * the TLS handshake, or named an unknown or forbidden export with NBD_OPT_EXPORT_NAME (which
 * has no error reply): the caller closes `conn.socket`. Every other bad option gets an
 * NBD_REP_ERR_* reply and haggling goes on.
 *
 * TLS (`opts.tls`, the spec's "TLS support"): NBD_OPT_STARTTLS is acknowledged and the
 * connection upgraded once; a second one is NBD_REP_ERR_INVALID. Under `require` every
 * option before it but NBD_OPT_ABORT is NBD_REP_ERR_TLS_REQD. What was negotiated before
 * it (structured replies) is forgotten. Access (`opts.access`, DESIGN I19) is asked at
 * LIST, INFO, GO and EXPORT_NAME: a refusal is NBD_REP_ERR_POLICY with its message, a
 * read-only grant gives `readOnlyExport`'s export.
 *
 * With `refusal` (the server will not serve this connection, e.g. it has its limit of
 * connections open) no export is ever entered: every option but NBD_OPT_ABORT is answered
 * NBD_REP_ERR_POLICY with `refusal` as its message, as the spec asks of a server that does
 * not want a client ("simply error inbound options until the client gets the hint"), so
 * the client can say why; NBD_OPT_EXPORT_NAME, which has no error reply, ends it.
 */
export async function haggle(conn: NbdConnection, backend: NbdBackend, opts: HaggleOptions = {}): Promise<Negotiated | HandshakeEnd> {
  const { refusal, tls } = opts;
  const greeting = Buffer.alloc(18);
  greeting.writeBigUInt64BE(NBD_INIT_MAGIC, 0);
  greeting.writeBigUInt64BE(NBD_OPTS_MAGIC, 8);
  greeting.writeUInt16BE(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 16);
  conn.socket.write(greeting);

  const clientFlags = await conn.reader.read(4);
  if (!clientFlags) return { ended: 'client left before sending its flags' };
  const cflags = clientFlags.readUInt32BE(0);
  if ((cflags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) !== 0)
    return { ended: `unknown client flags 0x${cflags.toString(16)}` };
  const noZeroes = (cflags & NBD_FLAG_C_NO_ZEROES) !== 0;
  let structuredReplies = false;

  const reply = (option: number, type: number, data: Buffer = Buffer.alloc(0)) => {
    const h = Buffer.alloc(20);
    h.writeBigUInt64BE(NBD_REP_MAGIC, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(type, 12);
    h.writeUInt32BE(data.length, 16);
    conn.socket.write(data.length ? Buffer.concat([h, data]) : h);
  };
  const error = (option: number, type: number, message: string) => reply(option, type, Buffer.from(message));
  /**
   * What this client may do, asked before any export is named or listed, so a client that
   * may not see exports does not learn which exist either (DESIGN I19).
   */
  const access = () => (opts.access ?? READ_WRITE_FOR_ALL)(conn.identity);
  /** `exp` as a client with `granted` access uses it. */
  const asGranted = (exp: NbdExport, granted: { readOnly: boolean }) => (granted.readOnly ? readOnlyExport(exp) : exp);

  for (;;) {
    const head = await conn.reader.read(16);
    if (!head) return { ended: 'client left during option haggling' };
    if (head.readBigUInt64BE(0) !== NBD_OPTS_MAGIC) return { ended: 'wrong option magic' };
    const option = head.readUInt32BE(8);
    const length = head.readUInt32BE(12);
    if (length > MAX_OPTION_BYTES) {
      // NBD_OPT_EXPORT_NAME has no error reply: the spec's only refusal is to close.
      if (option === NbdOpt.EXPORT_NAME) return { ended: `NBD_OPT_EXPORT_NAME of ${length} bytes is too long` };
      const tooBig = `option data of ${length} bytes is over the limit of ${MAX_OPTION_BYTES}`;
      if (length > MAX_SKIPPED_OPTION_BYTES) {
        error(option, NbdRep.ERR_TOO_BIG, `${tooBig}; closing the connection`);
        return { ended: `option ${option} of ${length} bytes refused at once (over ${MAX_SKIPPED_OPTION_BYTES})` };
      }
      if (!(await conn.reader.skip(length))) return { ended: `client left in the middle of option ${option} of ${length} bytes` };
      error(option, NbdRep.ERR_TOO_BIG, tooBig);
      continue;
    }
    const data = await conn.reader.read(length);
    if (!data) return { ended: 'client left in the middle of an option' };
    if (refusal !== undefined && option !== NbdOpt.ABORT) {
      if (option === NbdOpt.EXPORT_NAME) return { ended: `refused (NBD_OPT_EXPORT_NAME has no error reply): ${refusal}` };
      error(option, NbdRep.ERR_POLICY, refusal);
      continue;
    }
    // FORCEDTLS (the spec's "TLS support"): nothing but STARTTLS and ABORT before TLS.
    if (tls?.mode === 'require' && !conn.tls && option !== NbdOpt.ABORT && option !== NbdOpt.STARTTLS) {
      if (option === NbdOpt.EXPORT_NAME)
        return { ended: 'NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS under NBD_TLS=require (it has no error reply)' };
      error(option, NbdRep.ERR_TLS_REQD, 'this server requires TLS (NBD_TLS=require): send NBD_OPT_STARTTLS first');
      continue;
    }

    switch (option) {
      case NbdOpt.EXPORT_NAME: {
        const granted = access();
        if ('refused' in granted) return { ended: `refused (NBD_OPT_EXPORT_NAME has no error reply): ${granted.refused}` };
        const found = pick(await backend.listExports(), data.toString('utf8'));
        if (!found) return { ended: `unknown export ${JSON.stringify(data.toString('utf8'))} (NBD_OPT_EXPORT_NAME)` };
        const exp = asGranted(found, granted);
        const out = Buffer.alloc(noZeroes ? 10 : 134);
        out.writeBigUInt64BE(exp.sizeBytes, 0);
        out.writeUInt16BE(exp.flags, 8);
        conn.socket.write(out);
        return { export: exp, structuredReplies, blockSizeAgreed: false };
      }
      case NbdOpt.ABORT:
        reply(option, NbdRep.ACK);
        return { ended: 'client aborted' };
      case NbdOpt.LIST: {
        if (length !== 0) {
          error(option, NbdRep.ERR_INVALID, 'NBD_OPT_LIST carries no data');
          break;
        }
        const granted = access();
        if ('refused' in granted) {
          error(option, NbdRep.ERR_POLICY, granted.refused);
          break;
        }
        for (const exp of await backend.listExports()) {
          const name = Buffer.from(exp.name);
          const len = Buffer.alloc(4);
          len.writeUInt32BE(name.length, 0);
          reply(option, NbdRep.SERVER, Buffer.concat([len, name, Buffer.from(exp.description)]));
        }
        reply(option, NbdRep.ACK);
        break;
      }
      case NbdOpt.STRUCTURED_REPLY:
        if (length !== 0) {
          error(option, NbdRep.ERR_INVALID, 'NBD_OPT_STRUCTURED_REPLY carries no data');
          break;
        }
        structuredReplies = true;
        reply(option, NbdRep.ACK);
        break;
      case NbdOpt.INFO:
      case NbdOpt.GO: {
        const request = parseInfoRequest(data);
        if (typeof request === 'string') {
          error(option, NbdRep.ERR_INVALID, request);
          break;
        }
        const granted = access();
        if ('refused' in granted) {
          error(option, NbdRep.ERR_POLICY, granted.refused);
          break;
        }
        const found = pick(await backend.listExports(), request.name);
        if (!found) {
          error(option, NbdRep.ERR_UNKNOWN, `no powered disk is called ${JSON.stringify(request.name)}`);
          break;
        }
        const exp = asGranted(found, granted);
        for (const info of infoReplies(exp, request.infos)) reply(option, NbdRep.INFO, info);
        reply(option, NbdRep.ACK);
        if (option === NbdOpt.GO) return { export: exp, structuredReplies, blockSizeAgreed: request.infos.includes(NbdInfo.BLOCK_SIZE) };
        break;
      }
      case NbdOpt.STARTTLS: {
        if (!tls) {
          error(option, NbdRep.ERR_UNSUP, 'TLS is off on this server (NBD_TLS=off)');
          break;
        }
        if (conn.tls) {
          error(option, NbdRep.ERR_INVALID, 'TLS is already on');
          break;
        }
        if (length !== 0) {
          error(option, NbdRep.ERR_INVALID, 'NBD_OPT_STARTTLS carries no data');
          break;
        }
        // The client waits for the ACK before its ClientHello: bytes already here break the protocol.
        if (conn.reader.bufferedBytes > 0) return { ended: 'client sent data after NBD_OPT_STARTTLS before its ACK' };
        reply(option, NbdRep.ACK);
        conn.reader.detach();
        try {
          const upgraded = await startTls(conn.socket, tls);
          conn.socket = upgraded.socket;
          conn.identity = upgraded.identity;
        } catch (err) {
          return { ended: err instanceof Error ? err.message : String(err) };
        }
        conn.reader = new SocketReader(conn.socket);
        conn.tls = true;
        // What was negotiated in plaintext is forgotten: the client asks again over TLS.
        structuredReplies = false;
        break;
      }
      default:
        error(option, NbdRep.ERR_UNSUP, `option ${option} is not supported`);
    }
  }
}

/** The data of NBD_OPT_INFO / NBD_OPT_GO, or what is wrong with it. */
function parseInfoRequest(data: Buffer): { name: string; infos: number[] } | string {
  if (data.length < 6) return `option data of ${data.length} bytes is too short for a name length and an info count`;
  const nameLen = data.readUInt32BE(0);
  if (4 + nameLen + 2 > data.length) return `export name length ${nameLen} runs past the option data`;
  const name = data.subarray(4, 4 + nameLen).toString('utf8');
  const count = data.readUInt16BE(4 + nameLen);
  if (4 + nameLen + 2 + 2 * count !== data.length) return `${count} information requests do not fill the ${data.length}-byte option data`;
  const infos: number[] = [];
  for (let i = 0; i < count; i++) infos.push(data.readUInt16BE(4 + nameLen + 2 + 2 * i));
  return { name, infos };
}

/** NBD_INFO_EXPORT and NBD_INFO_BLOCK_SIZE always; NAME and DESCRIPTION when asked for. */
function infoReplies(exp: NbdExport, asked: number[]): Buffer[] {
  const out: Buffer[] = [];
  const info = Buffer.alloc(12);
  info.writeUInt16BE(NbdInfo.EXPORT, 0);
  info.writeBigUInt64BE(exp.sizeBytes, 2);
  info.writeUInt16BE(exp.flags, 10);
  out.push(info);
  const text = (type: number, s: string) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(type, 0);
    return Buffer.concat([b, Buffer.from(s)]);
  };
  if (asked.includes(NbdInfo.NAME)) out.push(text(NbdInfo.NAME, exp.name));
  if (asked.includes(NbdInfo.DESCRIPTION)) out.push(text(NbdInfo.DESCRIPTION, exp.description));
  const bs = Buffer.alloc(14);
  bs.writeUInt16BE(NbdInfo.BLOCK_SIZE, 0);
  bs.writeUInt32BE(exp.minBlock, 2);
  bs.writeUInt32BE(exp.preferredBlock, 6);
  bs.writeUInt32BE(exp.maxPayload, 10);
  out.push(bs);
  return out;
}
