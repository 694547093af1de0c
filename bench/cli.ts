/**
 * `pnpm bench cli [--runs 10] [--artifact <tar.gz>]`
 *
 * How fast the technician's `lifeline` starts on a box: the ARTIFACT (`pnpm build`'s
 * dist/lifeline-edge-<version>-linux-<arch>.tar.gz, built first when absent) unpacked
 * into an empty temp directory, run by its bin/lifeline with node on PATH and nothing
 * of the checkout (no pnpm, no tsx). Prints, as its last line:
 *
 *   {"help_ms":..,"read_ms":..,"version_ms":..,"node_ms":..,"runs":10}
 *
 *   help_ms     median wall time of `lifeline --help`
 *   read_ms     median wall time of `lifeline read --tcp … --unit 1 --profile flood-gauge`
 *               against the artifact's own `lifeline simulate` (one round trip; the rest is startup)
 *   version_ms  median wall time of `lifeline --version`
 *   node_ms     median wall time of `node -e 0` in the same run: the floor on this machine now
 *
 * The runs interleave (help, read, version, node, help, ...) so load from other
 * processes falls on all figures alike.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain JavaScript build script (checked with // @ts-check, no declarations)
import { artifactPath, unpack } from '../scripts/pack-edge.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 10);
let tarball: string = arg('--artifact') ?? (artifactPath() as string);
if (!existsSync(tarball)) {
  console.error(`bench cli: ${tarball} is missing: running pnpm build`);
  const b = spawnSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
  tarball = artifactPath();
}

const box = mkdtempSync(join(tmpdir(), 'lifeline-bench-cli-'));
const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: box };
const bin: string = unpack(tarball, box);
console.error(`bench cli: ${tarball} unpacked into ${box}`);

/** Wall time of one run, ms; fails loudly if the command does. */
function timed(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: box, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The artifact's own simulator, in its own process (this one blocks in spawnSync).
const sim = spawn(bin, ['simulate', '--profile', 'flood-gauge', '--tcp', '0'], { cwd: box, env });
const port = await new Promise<number>((res, rej) => {
  let out = '';
  sim.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /127\.0\.0\.1:(\d+)/.exec(out);
    if (m) res(Number(m[1]));
  });
  sim.on('exit', (code) => rej(new Error(`lifeline simulate exited ${code}: ${out}`)));
});

const figures = { help: [] as number[], read: [] as number[], version: [] as number[], node: [] as number[] };
try {
  for (let i = 0; i < runs; i++) {
    figures.help.push(timed(bin, ['--help']));
    figures.read.push(timed(bin, ['read', '--tcp', `127.0.0.1:${port}`, '--unit', '1', '--profile', 'flood-gauge']));
    figures.version.push(timed(bin, ['--version']));
    figures.node.push(timed(process.execPath, ['-e', '0']));
  }
} finally {
  sim.kill('SIGINT');
  await new Promise((r) => sim.once('exit', r));
  rmSync(box, { recursive: true, force: true });
}
const r1 = (x: number) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({ help_ms: r1(median(figures.help)), read_ms: r1(median(figures.read)), version_ms: r1(median(figures.version)), node_ms: r1(median(figures.node)), runs }),
);
