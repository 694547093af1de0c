/**
 * The compiled CLI's entry: only runs main, so importing main.ts (tests, edge/bin/lifeline.js)
 * never starts the CLI. The artifact's bin/lifeline runs lib/dist/cli/lifeline.cjs, this file
 * bundled with main, the command table and commander into one script (scripts/pack-edge.mjs);
 * the command modules stay separate files, imported only for the command argv names. No
 * top-level await: the bundle is CommonJS.
 */
import { main } from './main.js';

main().then((code) => {
  process.exitCode = code;
});
