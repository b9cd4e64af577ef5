// An unhandled rejection anywhere in a test run fails that run (DESIGN section 7).
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`);
});
