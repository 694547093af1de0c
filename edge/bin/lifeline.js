#!/usr/bin/env node
// The installed `lifeline` command: registers tsx, then runs the TypeScript CLI.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
process.exit(await main());
