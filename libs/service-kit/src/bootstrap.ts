// Starts a service process the same way for every service: NestJS app, HTTP listener for
// /healthz and /metrics, optional gRPC server with reflection (TLS and the token check of
// `env.grpcServer`, README "Security"), SIGTERM drains then exits.
import 'reflect-metadata';
import { type INestApplication, Logger, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type GrpcOptions, Transport } from '@nestjs/microservices';
import { ReflectionService } from '@grpc/reflection';
import type * as grpc from '@grpc/grpc-js';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { loadBlkPackageDefinition } from '#proto';
import type { ServerSecurity } from '#grpc-auth';
import { DEFAULT_GRPC_MAX_MESSAGE_BYTES, type GrpcLimits, readGrpcLimits } from './grpc-limits';
import { limitConnections } from './grpc-connection-limit';
import { widenFlowControlWindows } from './grpc-flow-control';
import { HealthChecks } from './health';
import type { ServiceEnv } from './service-env';

export interface BootstrapOptions {
  env: ServiceEnv;
  module: unknown;
  /** Serve the public gRPC packages on `env.grpcUrl`. */
  grpc?: boolean;
  logger?: LoggerService;
  /** More fields for the `ready` line (e.g. the NBD gateway's bound address). */
  readyFields?: (app: INestApplication) => Record<string, unknown>;
}

/**
 * The server pings each connection this often, and closes one whose peer does not answer
 * within GRPC_KEEPALIVE_TIMEOUT_MS. That is how a connection the server sent GOAWAY to
 * for a protocol error closes: RFC 9113 5.4.1 says the endpoint "MUST close the TCP
 * connection" then, but Node's HTTP/2 stops reading it instead (no event, and the
 * client's FIN is never read), so it stayed open for ever; no ping answer is read either.
 * A dead client's connection goes the same way (I5). Clients do not limit server pings; the
 * timeout is long enough that a client stalled by a loaded machine still answers.
 */
export const GRPC_KEEPALIVE_TIME_MS = 10_000;
export const GRPC_KEEPALIVE_TIMEOUT_MS = 10_000;

/**
 * gRPC options shared by every server: the whole blk.v1 package plus reflection and
 * keepalive pings, the message and stream limits of `limits` (README "Limits"), bound with `security`'s credentials; its interceptors (the token
 * check) run before every handler, reflection's included (Nest hands `channelOptions` to
 * grpc-js's Server as its options).
 */
export function grpcServerOptions(
  url: string,
  security?: ServerSecurity,
  limits: GrpcLimits = readGrpcLimits({}),
  /** Set to the grpc-js server once Nest made it (for `limitConnections`). */
  made?: { server?: grpc.Server },
): GrpcOptions {
  const packageDefinition = loadBlkPackageDefinition();
  return {
    transport: Transport.GRPC,
    options: {
      url,
      package: 'blk.v1',
      packageDefinition,
      credentials: security?.credentials,
      channelOptions: {
        ...(security?.interceptors.length ? { interceptors: security.interceptors } : {}),
        'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
      },
      maxReceiveMessageLength: limits.maxMessageBytes,
      // Replies are not limited by the setting: a read's completion carries up to 16 MiB.
      maxSendMessageLength: Math.max(limits.maxMessageBytes, DEFAULT_GRPC_MAX_MESSAGE_BYTES),
      keepalive: { keepaliveTimeMs: GRPC_KEEPALIVE_TIME_MS, keepaliveTimeoutMs: GRPC_KEEPALIVE_TIMEOUT_MS },
      onLoadPackageDefinition: (pkg: unknown, server: { addService: (...a: never[]) => void }) => {
        if (made) made.server = server as unknown as grpc.Server;
        new ReflectionService(packageDefinition).addToServer(server as never);
      },
    },
  };
}

/** True for a `host:port` on the loopback interface (where no token is the default). */
function isLoopback(url: string): boolean {
  const host = url.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * Runs the service until SIGTERM/SIGINT. On the signal, /healthz turns unhealthy, Nest's
 * shutdown hooks run (providers drain their work in `beforeApplicationShutdown`), and the
 * process exits 0; a drain that takes longer than `SHUTDOWN_TIMEOUT_MS` (10 s) exits 1.
 */
export async function bootstrapService(opts: BootstrapOptions): Promise<INestApplication> {
  const log = new Logger(opts.env.service);
  // Nest's lines are buffered until the pino logger (ServiceCoreModule) takes them over.
  const app = await NestFactory.create(opts.module as never, opts.logger ? { logger: opts.logger } : { bufferLogs: true });
  if (!opts.logger) app.useLogger(app.get(PinoNestLogger));
  if (opts.grpc) {
    const made: { server?: grpc.Server } = {};
    app.connectMicroservice(grpcServerOptions(opts.env.grpcUrl, opts.env.grpcServer, opts.env.grpcLimits, made), {
      inheritAppConfig: true,
    });
    await app.startAllMicroservices();
    if (!made.server) throw new Error('the gRPC server was not made (GRPC_MAX_CONNECTIONS and the flow-control windows need it)');
    widenFlowControlWindows(made.server);
    let dropped = 0;
    limitConnections(made.server, opts.env.grpcLimits.maxConnections, (peer) => {
      // The first refusal and every 100th after it: a flood of connections is no flood of lines.
      if (dropped++ % 100 === 0) {
        log.warn(
          `gRPC connection from ${peer} closed: GRPC_MAX_CONNECTIONS=${opts.env.grpcLimits.maxConnections} are open (${dropped} closed so far)`,
        );
      }
    });
    if (!opts.env.grpcServer?.tokens && !isLoopback(opts.env.grpcUrl)) {
      log.warn(`gRPC on ${opts.env.grpcUrl} checks no token (RNULL_AUTH_TOKENS is unset): every caller may do everything`);
    }
  }
  await app.listen(opts.env.httpPort, opts.env.httpHost);
  const address = app.getHttpServer().address();
  const httpPort = typeof address === 'object' && address ? address.port : opts.env.httpPort;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.log(`${signal}: draining`);
    app.get(HealthChecks).setDraining();
    const limit = Number(process.env.SHUTDOWN_TIMEOUT_MS || 10_000);
    setTimeout(() => {
      log.error(`drain took longer than ${limit} ms; exiting`);
      process.exit(1);
    }, limit).unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error(`shutdown failed: ${err instanceof Error ? err.stack : String(err)}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // One machine-readable line that `npm start` and the tests wait for.
  process.stdout.write(
    `${JSON.stringify({ msg: 'ready', service: opts.env.service, instance: opts.env.instanceId, http: httpPort, grpc: opts.grpc ? opts.env.grpcUrl : undefined, ...opts.readyFields?.(app) })}\n`,
  );
  return app;
}
