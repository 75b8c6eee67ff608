#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('loopcheck: not built (dist/src/cli/main.js missing). Fix: run `npm ci` or `npm run build` in the package folder.\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
