/**
 * `pnpm bench <name> [args]` runs bench/<name>.ts in its own process, so each
 * benchmark measures its own RSS and CPU. Every bench ends with one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

if (!name || name === '--help' || !existsSync(join(here, `${name}.ts`))) {
  if (name && name !== '--help') console.error(`bench: no benchmark named "${name}"`);
  console.error(`usage: pnpm bench <name> [args]\navailable: ${available.join(', ')}`);
  process.exit(name && name !== '--help' ? 2 : 0);
}

const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...args], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
