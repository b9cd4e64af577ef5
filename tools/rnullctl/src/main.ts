// The rnullctl executable: runs the CLI against the real process streams and sets the exit
// code. `bin/rnullctl` loads the compiled form of this file (dist/tools/rnullctl/src/main.js).
//
// Contract: the exit code is set with process.exitCode, not process.exit, so stdout (raw
// bytes of `io read`) is fully flushed before the process ends.
import { run } from './cli';

/**
 * grpc-js passes the target's host as the TLS server name even when it is an IP address
 * (`--address 127.0.0.1:50051 --tls-certificates DIR`), and node warns about that on every
 * such run (DEP0123; the certificate is still checked against its IP SANs). That one warning
 * is dropped; every other is printed as node would.
 */
function dropTlsServerNameWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    if (w.code !== 'DEP0123') process.stderr.write(`(node) ${w.name}: ${w.message}\n`);
  });
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  dropTlsServerNameWarning();
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // A closed pipe (`rnullctl io read … | head -c 1`) ends output quietly, as `cat` does.
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  process.exitCode = await run(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  });
}

if (require.main === module) void main();
