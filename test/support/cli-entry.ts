// Runs the CLI from src/ (not dist/) for tests: `node --import tsx test/support/cli-entry.ts <args>`.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
