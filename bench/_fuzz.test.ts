/**
 * The short CI run of `pnpm bench fuzz --coverage`: a few thousand coverage-guided
 * inputs per target (seconds), and every input kept in test/fixtures/fuzz/ replayed.
 * Each must be answered or refused (LifelineError; the API: a 4xx), never crash.
 * The byte decoders and the loaders' value targets (config_values, profile_values) run
 * as the bench runs them, with edge counters put in at load time (a child process:
 * vitest loads modules its own way, past node:module hooks); the loaders' text targets
 * and the API in-process with V8's block coverage (which also sees yaml and ajv).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isLifelineError } from '../shared/src/errors.js';
import { Coverage, fuzz, type Crash, type FuzzStats } from './_fuzz-engine.js';
import { fuzzTargets } from './_fuzz-targets.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test/fixtures/fuzz');
// Loaders and the API run a few hundred inputs/s under coverage on a busy machine (the API's in-process checks thousands),
// and their parsers (yaml, ajv) are seen by V8's coverage only; the byte decoders thousands.
const slow = new Set(['profile_loader', 'config_loader', 'api_bodies', 'api_body_checks']);
const decoders = fuzzTargets()
  .map((t) => t.name)
  .filter((n) => !slow.has(n));

describe("bench fuzz, short run with edge counters (the byte decoders and the loaders' value targets)", () => {
  it('runs 2,000 inputs per decoder: no crash, and coverage grows past the seeds', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/fuzz.ts'), '--coverage', '--inputs', '2000', '--seed', '18', '--only', decoders.join(',')], {
      cwd: root,
      encoding: 'utf8',
    });
    expect([r.status, r.stderr.split('\n').filter((l) => /crashed|Error/.test(l))]).toEqual([0, []]);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { coverage: string; crashes: number; targets: Record<string, FuzzStats> };
    expect(out.coverage).toBe('edges');
    expect(Object.keys(out.targets).sort()).toEqual([...decoders].sort());
    for (const [name, s] of Object.entries(out.targets)) {
      expect([name, s.crashes, s.outcomes > 1, s.edges! > s.from_seeds!]).toEqual([name, 0, true, true]);
    }
  }, 240_000);
});
// The YAML parser warns (process.emitWarning) on odd aliases and tags: noise here, not findings.
process.removeAllListeners('warning');
const coverage = new Coverage();
afterAll(() => coverage.stop());

describe("bench fuzz, short run with V8 block coverage (the loaders' text targets and the API)", () => {
  for (const t of fuzzTargets().filter((x) => slow.has(x.name))) {
    it(`${t.name}: no crash, and coverage grows past the seeds`, async () => {
      const crashes: Crash[] = [];
      const stats = await fuzz(t, { inputs: 200, seed: 18, coverage, onCrash: (c) => crashes.push(c) });
      expect(crashes.map((c) => `${Buffer.from(c.input).toString('hex')}: ${String(c.error)}`)).toEqual([]);
      expect(stats.blocks).toBeGreaterThan(0);
      expect(stats.outcomes).toBeGreaterThan(1);
    }, 120_000);
  }
});

describe('fuzz, time-boxed', () => {
  it('stops after maxMs and reports the inputs it reached', async () => {
    let ran = 0;
    const t = { name: 'count', seeds: [Uint8Array.of(1)], run: () => ran++ };
    const stats = await fuzz(t, { inputs: 1e12, seed: 1, maxMs: 50 });
    expect(stats.inputs).toBeGreaterThan(0);
    expect(stats.inputs).toBeLessThan(1e12);
    expect([stats.inputs, stats.decoded]).toEqual([ran - 1, ran - 1]);
  });
});

describe('fuzz regression inputs (test/fixtures/fuzz)', () => {
  const targets = new Map(fuzzTargets().map((t) => [t.name, t]));
  const dirs = readdirSync(fixtures, { withFileTypes: true }).filter((d) => d.isDirectory());
  it('names a target in each directory', () => {
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) expect([d.name, targets.has(d.name)]).toEqual([d.name, true]);
  });
  for (const d of dirs) {
    for (const f of readdirSync(join(fixtures, d.name)).filter((x) => x.endsWith('.hex'))) {
      it(`${d.name}/${f} is answered or refused`, async () => {
        const t = targets.get(d.name)!;
        const input = Uint8Array.from(Buffer.from(readFileSync(join(fixtures, d.name, f), 'utf8').trim(), 'hex'));
        await t.open?.();
        try {
          await t.run(input);
        } catch (e) {
          expect([String(e), isLifelineError(e) || !!t.refused?.(e)]).toEqual([String(e), true]);
        } finally {
          await t.close?.();
        }
      });
    }
  }
});
