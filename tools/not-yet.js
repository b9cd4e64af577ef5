#!/usr/bin/env node
// Placeholder for a root script whose issue has not landed: says so and fails, so that
// nothing pretends to work.
const [, , script, what] = process.argv;
console.error(`npm run ${script}: not yet — ${what} has not landed. See README.md.`);
process.exit(1);
