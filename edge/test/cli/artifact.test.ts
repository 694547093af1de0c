/**
 * The deployable artifact as a box receives it: compiled from the current sources,
 * packed, unpacked into an empty directory (no checkout, no pnpm, no tsx), then
 * `bin/lifeline --version` and a `read` against a simulated device.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedDevice, loadProfile, startTcpSimulator, type TcpSimulator } from '@lifeline/devices';
import { tempDir } from '../../../test/helpers.js';
// @ts-expect-error plain JavaScript build script (checked with // @ts-check, no declarations)
import { compileEdge, pack, unpack } from '../../../scripts/pack-edge.mjs';

const out = tempDir('lifeline-artifact-');
const box = tempDir('lifeline-box-');
let bin = '';
let sim: TcpSimulator;

/** The checkout's package manifests: packing must leave them as they are (its copies are hard links). */
const manifests = () => ['shared', 'devices', 'edge'].map((p) => readFileSync(resolve(import.meta.dirname, `../../../${p}/package.json`), 'utf8'));

/** A dependency's module as the checkout has it (pnpm's copy of it in the artifact may be a hard link to this file). */
const yamlComposer = resolve(import.meta.dirname, '../../node_modules/yaml/dist/compose/composer.js');

/** The packages `pnpm store status` finds changed in pnpm's store (shared by every project on the machine). */
function storeModified(): string[] {
  const r = spawnSync('pnpm', ['store', 'status'], { cwd: resolve(import.meta.dirname, '../../..'), encoding: 'utf8' });
  const text = `${r.stdout}\n${r.stderr}`;
  const at = text.indexOf('These packages are modified:');
  return at < 0 ? [] : text.slice(at).split('\n').slice(1).filter((l) => /^\S+@\S+$/.test(l.trim())).map((l) => l.trim());
}

beforeAll(async () => {
  const before = manifests();
  const storeBefore = storeModified();
  const dependencyBefore = readFileSync(yamlComposer, 'utf8');
  compileEdge();
  const { tarball, sha256 } = (await pack({ out: out.dir })) as { tarball: string; sha256: string };
  expect(manifests()).toEqual(before);
  expect(readFileSync(yamlComposer, 'utf8')).toBe(dependencyBefore);
  // Packing once wrote source maps through hard links into the store (signal-exit's), so the next offline deploy failed.
  expect(storeModified().filter((p) => !storeBefore.includes(p))).toEqual([]);
  expect(readFileSync(join(out.dir, 'SHA256SUMS'), 'utf8')).toBe(`${sha256}  ${tarball.split('/').pop()}\n`);
  bin = unpack(tarball, box.dir);
  sim = await startTcpSimulator({ devices: [new SimulatedDevice(loadProfile('flood-gauge'), 3)] });
}, 240_000);
afterAll(async () => {
  await sim?.close();
  out.cleanup();
  box.cleanup();
});

/** A PATH with node and nothing of the checkout. */
const env = { PATH: `${resolve(process.execPath, '..')}:/usr/bin:/bin`, HOME: '/nonexistent' };

/** Runs the unpacked CLI without blocking this process (the simulator lives here). */
function lifeline(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(bin, args, { cwd: box.dir, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => res({ status, stdout, stderr }));
  });
}

describe('the edge artifact unpacked into an empty directory', { timeout: 60_000 }, () => {
  it('holds the launcher, compiled code and no TypeScript sources or tsx', () => {
    const top = resolve(bin, '../..');
    expect(existsSync(join(top, 'lib/dist/cli/lifeline.cjs'))).toBe(true);
    expect(existsSync(join(top, 'lib/src'))).toBe(false);
    expect(existsSync(join(top, 'lib/node_modules/tsx'))).toBe(false);
    expect(readFileSync(bin, 'utf8')).toMatch(/^#!\/bin\/sh\n/);
    expect(readFileSync(bin, 'utf8')).toContain("require('../lib/dist/cli/lifeline.cjs')");
    const build = JSON.parse(readFileSync(join(top, 'BUILD.json'), 'utf8')) as { version: string; natives: string[] };
    expect(build.natives.some((n) => n.endsWith('better_sqlite3.node'))).toBe(true);
  });

  it('holds its compiled modules without comments, ASCII only, each source map chained to its TypeScript (issue #18)', () => {
    const top = resolve(bin, '../..');
    for (const file of ['lib/dist/detect/threshold.js', 'lib/node_modules/@lifeline/shared/dist/index.js']) {
      const js = readFileSync(join(top, file), 'utf8');
      expect(js).toMatch(/^[\x00-\x7f]*$/);
      expect(js).not.toMatch(/\/\*\*|^\s*\/\/ /m);
      expect(js).toMatch(/\/\/# sourceMappingURL=\S+\.js\.map\s*$/);
      const map = JSON.parse(readFileSync(join(top, `${file}.map`), 'utf8')) as { sources: string[] };
      expect(map.sources.every((s) => s.endsWith('.ts'))).toBe(true);
    }
  });

  it("holds its dependencies' modules without comments and whitespace, each with a source map (issue #18)", () => {
    const top = resolve(bin, '../..');
    const [dir] = readdirSync(join(top, 'lib/node_modules/.pnpm')).filter((n) => n.startsWith('yaml@'));
    const file = join(top, 'lib/node_modules/.pnpm', dir, 'node_modules/yaml/dist/compose/composer.js');
    const js = readFileSync(file, 'utf8');
    expect(js.length).toBeLessThan(readFileSync(yamlComposer, 'utf8').length * 0.8);
    expect(js).not.toMatch(/\/\*\*|^\s*\/\/ /m);
    expect(js).toMatch(/\/\/# sourceMappingURL=composer\.js\.map\s*$/);
    expect(JSON.parse(readFileSync(`${file}.map`, 'utf8')).mappings.length).toBeGreaterThan(0);
  });

  it('prints its version', async () => {
    const r = await lifeline('--version');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')).version);
  });

  it('runs through a symlink elsewhere (/usr/local/bin/lifeline -> /opt/…/bin/lifeline)', () => {
    const link = join(out.dir, 'lifeline');
    symlinkSync(bin, link);
    const r = spawnSync(link, ['--version'], { cwd: out.dir, env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('starts node with the memory settings (issue #18); the operator\'s MALLOC_ARENA_MAX and LIFELINE_NODE_FLAGS win', () => {
    // A stand-in for node that prints what it was given: the launcher line itself is under test.
    const fake = join(out.dir, 'fake-node');
    writeFileSync(fake, '#!/bin/sh\necho "arenas=$MALLOC_ARENA_MAX mmap=$MALLOC_MMAP_THRESHOLD_ trim=$MALLOC_TRIM_THRESHOLD_ pad=$MALLOC_TOP_PAD_ args=$*"\n', { mode: 0o755 });
    const run = (extra: Record<string, string>) => spawnSync(bin, ['run', '--config', 'a b.yaml'], { cwd: out.dir, env: { ...env, LIFELINE_NODE: fake, ...extra }, encoding: 'utf8' }).stdout.trim();
    expect(run({})).toBe(`arenas=2 mmap=65536 trim=65536 pad=0 args=--max-semi-space-size=1 --heap-growing-percent=10 ${bin} run --config a b.yaml`);
    expect(run({ MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '131072', LIFELINE_NODE_FLAGS: '--max-semi-space-size=8 --heap-growing-percent=0' })).toBe(
      `arenas=4 mmap=131072 trim=65536 pad=0 args=--max-semi-space-size=1 --heap-growing-percent=10 --max-semi-space-size=8 --heap-growing-percent=0 ${bin} run --config a b.yaml`,
    );
  });

  it('lists every command in its help from the bundled entry, no command module loaded', async () => {
    const r = await lifeline('--help');
    expect(r.status).toBe(0);
    for (const name of ['init', 'run', 'read', 'scan', 'probe', 'service']) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    // The bundle holds main and the command table; every command module stays a file of its own.
    const bundle = readFileSync(resolve(bin, '../../lib/dist/cli/lifeline.cjs'), 'utf8');
    expect(bundle).toContain('import("./read.js")');
    expect(bundle).not.toContain('function registerRead');
  });

  it("exits 2 on a bad argument a command module's own commander refuses", async () => {
    const r = await lifeline('read', '--raw', '--tcp', '127.0.0.1:1', '--unit', '999', '--register', '0');
    expect(r.stderr).toMatch(/999/);
    expect(r.status).toBe(2);
  });

  it('reads a simulated flood gauge over Modbus TCP', async () => {
    const r = await lifeline('read', '--tcp', `127.0.0.1:${sim.port}`, '--unit', '3', '--profile', 'flood-gauge', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { point: string; value: number | null });
    expect(rows.length).toBe(loadProfile('flood-gauge').points.length);
    expect(rows.every((p) => typeof p.value === 'number')).toBe(true);
  });

  it('loads the packed native modules (SQLite, serial port) with this node', () => {
    const lib = resolve(bin, '../../lib');
    const code =
      "const r = require('node:module').createRequire(process.cwd() + '/'); " +
      "console.log(r('better-sqlite3')(':memory:').prepare('select 41 + 1 as x').get().x); " +
      "const sp = require('node:module').createRequire(r.resolve('serialport')); " +
      // bindings-cpp loads its .node file (node-gyp-build, prebuilds/linux-<arch>) when imported.
      "console.log(typeof sp('@serialport/bindings-cpp').autoDetect().open);";
    const r = spawnSync(process.execPath, ['-e', code], { cwd: lib, env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('42\nfunction\n');
  });
});
