/**
 * The compiled CLI's entry (the artifact's bin/lifeline runs `node lib/dist/cli/bin.js`):
 * only runs main, so importing main.ts (tests, edge/bin/lifeline.js) never starts the CLI.
 */
import { main } from './main.js';

process.exitCode = await main();
