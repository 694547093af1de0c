/**
 * The import ladder (../shared/STYLE.md): shared ← devices ← edge | cloud.
 * edge and cloud never import each other; shared imports no Node-only module
 * (it also runs in the dashboard's browser bundle); devices imports shared only.
 * Checked on package.json dependencies and on every import in the sources.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, sources } from './imports.js';

const root = resolve(import.meta.dirname, '..');

const forbidden: Record<string, RegExp> = {
  // shared: only itself and browser-safe libraries.
  shared: /^(node:|@lifeline\/|fs$|net$|path$|os$|child_process$|better-sqlite3|serialport|mqtt$|modbus-serial|pino|fastify|pg$|onoff)/,
  devices: /^@lifeline\/(edge|cloud)/,
  edge: /^@lifeline\/cloud|^(\.\.\/)+cloud\//,
  cloud: /^@lifeline\/(edge|devices)|^(\.\.\/)+edge\//,
};

describe('import ladder', () => {
  it('finds imports of every form (so the check below can fail)', () => {
    expect(importsOf(`import { a } from '@lifeline/cloud';\nexport * from "./x.js";\nconst m = await import('node:fs');\nimport 'side';`)).toEqual([
      '@lifeline/cloud',
      './x.js',
      'node:fs',
      'side',
    ]);
  });

  for (const pkg of Object.keys(forbidden)) {
    it(`${pkg} imports only what the ladder allows`, () => {
      const bad: string[] = [];
      for (const file of sources(join(root, pkg))) {
        for (const spec of importsOf(readFileSync(file, 'utf8'))) {
          // shared's own relative imports are fine; its tests may use Node.
          if (pkg === 'shared' && (spec.startsWith('.') || /\.test\.ts$/.test(file))) continue;
          if (forbidden[pkg].test(spec)) bad.push(`${relative(root, file)} imports ${spec}`);
        }
      }
      expect(bad).toEqual([]);
    });

    it(`${pkg}/package.json depends on no package above it`, () => {
      const pj = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      const deps = Object.keys(pj.dependencies ?? {});
      expect(deps.filter((d) => forbidden[pkg].test(d) && d.startsWith('@lifeline/'))).toEqual([]);
    });
  }
});
