// @ts-check
/**
 * The last step of `pnpm build`: one versioned artifact for a Linux edge box.
 *
 *   edge/dist + shared/dist + devices/dist (tsc -b, run before by `pnpm -r build`)
 *        │
 *        ▼  pnpm deploy --prod (the workspace lockfile, injected workspace packages,
 *        │                      native modules as built on this machine)
 *   <stage>/lifeline-edge-<version>-linux-<arch>/
 *        lib/            the edge package: dist/, examples/, schema/, package.json, node_modules/
 *        bin/lifeline    sh and node at once: sh execs node on it, node requires lib/dist/cli/lifeline.cjs
 *        BUILD.json      version, commit, node version and ABI the native modules were built for
 *        │
 *        ▼  prune (TypeScript sources, tests, .d.ts, other platforms' prebuilt binaries)
 *        ▼  @lifeline/* package.json exports rewritten from src/*.ts to dist/*.js
 *        ▼  esbuild, file by file: @lifeline/* dist/*.js without comments and whitespace, ASCII only (minifyCompiled)
 *        ▼  esbuild: lib/dist/cli/bin.js + main, command table, commander → lib/dist/cli/lifeline.cjs
 *           (one CommonJS file; each command module stays a separate ESM file, imported on demand)
 *   dist/lifeline-edge-<version>-linux-<arch>.tar.gz  +  dist/SHA256SUMS
 *
 * Plain Node with no dependencies (like prepare-tests.mjs): runs without tsx.
 * Usage: node scripts/pack-edge.mjs [--out <dir>]   (default: dist/ in the repository)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, lstatSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Node/V8 flags bin/lifeline gives node (issue #18: the agent's memory; docs/decisions.md says why each).
 * None caps the heap: a cap sized for the demo site would be a crash on a larger one.
 *   --max-semi-space-size=1  young generation of 1 MB semi-spaces instead of up to 16 MB: the agent's
 *                            garbage is collected while it is small instead of piling up to ~50 MB.
 *   --heap-growing-percent=10  the old generation is collected when it has grown 10 % past what the last
 *                            collection kept, not ~2–4×: 500 devices peaked at ~130 MB instead of ~245–285 MB,
 *                            for more CPU in the collector (docs/benchmarks.md "## soak").
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1', '--heap-growing-percent=10'];
/** glibc malloc arenas (default 8 × cores): 2 keeps native allocations of the threads from fragmenting apart; an operator's own value wins. */
export const MALLOC_ARENA_MAX = 2;
/**
 * glibc malloc's thresholds, fixed (an operator's own value wins): allocations of 64 KB or more are mmapped and
 * unmapped when freed, and free memory at the top of the heap is given back past 64 KB. By default glibc raises
 * both thresholds as large blocks come and go (up to 32 MB), and V8's freed compile zones and buffers then stay in
 * RSS. One loaded 500-device soak: anon RSS 65.9 MB median against 74.8 with the same heap (docs/benchmarks.md, session 9).
 */
export const MALLOC_TUNING = { MALLOC_MMAP_THRESHOLD_: 65536, MALLOC_TRIM_THRESHOLD_: 65536, MALLOC_TOP_PAD_: 0 };

/** Runs a command; throws with its output when it fails. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.stdout.trim();
}

/** Walks a directory tree without following symlinks. */
function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    yield { path: p, name, st };
    if (st.isDirectory()) yield* walk(p);
  }
}

/** Platform directory names of prebuilt binaries that this machine can load. */
function keepsPlatform(name) {
  const arch = process.arch;
  const armName = { arm64: 'arm64', arm: 'arm' }[arch];
  return name.startsWith(`linux-${arch}`) || (armName !== undefined && name.startsWith(`linux-${armName}`));
}

/** Rewrites a workspace package's exports from its TypeScript sources to the compiled JavaScript. */
export function compiledExports(exportsField) {
  const toDist = (/** @type {string} */ p) => p.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '.js');
  if (typeof exportsField === 'string') return toDist(exportsField);
  return Object.fromEntries(Object.entries(exportsField).map(([k, v]) => [k, toDist(v)]));
}

/** Compiles shared, devices and edge (what the artifact holds) with tsc -b; incremental. */
export function compileEdge() {
  run(join(root, 'node_modules/.bin/tsc'), ['-b', 'edge/tsconfig.build.json']);
}

/** Where `pnpm build` writes the artifact for this machine. */
export function artifactPath(out = join(root, 'dist')) {
  const { version } = JSON.parse(readFileSync(join(root, 'edge/package.json'), 'utf8'));
  return join(out, `lifeline-edge-${version}-linux-${process.arch}.tar.gz`);
}

/**
 * Bundles the CLI's entry (bin.js, main.js, commands.js, shared's errors and commander) of the
 * staged lib/ into lib/dist/cli/lifeline.cjs. `lifeline --help` then reads one CommonJS file
 * instead of going through the ESM loader for six modules and commander's five files (bench cli:
 * issue #15). Every dynamic `import()` (the command modules) stays external, so a command still
 * loads only its own module graph; import.meta.url is the bundle's URL, in the same directory
 * as the modules it stands for (commands.js reads ../../package.json from it).
 */
export async function bundleCli(lib) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(lib, 'dist/cli/bin.js')],
    outfile: join(lib, 'dist/cli/lifeline.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    define: { 'import.meta.url': '__lifelineBundleUrl' },
    banner: { js: '"use strict";\nconst __lifelineBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [
      {
        name: 'commands-stay-lazy',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (a) => (a.kind === 'dynamic-import' ? { path: a.path, external: true } : undefined));
        },
      },
    ],
    logLevel: 'warning',
  });
}

/**
 * Rewrites the compiled JavaScript of the packed @lifeline packages without comments and whitespace, every
 * non-ASCII character escaped (esbuild, one file at a time: nothing bundled, names kept), each file's source
 * map chained to its TypeScript (`--enable-source-maps` still names the .ts line). V8 keeps every loaded
 * module's source text on the heap, two bytes a character as soon as one character is not Latin-1 (the
 * comments' ─▶ and Chinese): 2.2 MB of source strings became 0.7 MB (issue #18: the agent's memory).
 */
export async function minifyCompiled(dirs) {
  const { build } = await import('esbuild');
  for (const dir of dirs) {
    const entryPoints = [...walk(dir)].filter((e) => e.st.isFile() && e.name.endsWith('.js')).map((e) => e.path);
    await build({ entryPoints, outdir: dir, outbase: dir, allowOverwrite: true, bundle: false, minifyWhitespace: true, charset: 'ascii', sourcemap: 'linked', platform: 'node', logLevel: 'warning' });
  }
}

/**
 * The dependencies' JavaScript (node_modules/.pnpm) without comments and whitespace, ASCII only; names and syntax as
 * they were. V8 keeps each loaded module's source on the heap: at 500 devices 2.2 MB of it was third-party (TypeBox,
 * yaml, readable-stream, ip-address, ws, commander, mqtt…) against 0.7 MB of ours (issue #18). pack() deploys copies,
 * not hard links into pnpm's store; each file (and a package's own source map) is still replaced, never written in
 * place, so a link that slipped in could not change the store for every project on the machine. A linked source map (mappings only) takes `--enable-source-maps` back to the package's own lines.
 * A file esbuild cannot parse, or would not make smaller, stays as it was. Returns the bytes before and after.
 */
export async function minifyDependencies(store) {
  const { transform } = await import('esbuild');
  let before = 0;
  let after = 0;
  for (const e of [...walk(store)]) {
    if (!e.st.isFile() || !/\.[cm]?js$/.test(e.name) || e.name.endsWith('.min.js')) continue;
    const src = readFileSync(e.path, 'utf8');
    let out;
    try {
      out = await transform(src, { loader: 'js', minifyWhitespace: true, charset: 'ascii', sourcemap: 'external', sourcesContent: false, sourcefile: e.name, logLevel: 'silent' });
    } catch {
      continue;
    }
    const code = `${out.code}//# sourceMappingURL=${e.name}.map\n`;
    if (code.length >= src.length) continue;
    before += src.length;
    after += code.length;
    rmSync(e.path);
    writeFileSync(e.path, code, { mode: e.st.mode & 0o777 });
    rmSync(`${e.path}.map`, { force: true }); // the package's own map, if it ships one, may be a hard link too
    writeFileSync(`${e.path}.map`, out.map);
  }
  return { before, after };
}

/** Unpacks an artifact into `dir` (an empty directory); returns the path of its bin/lifeline. */
export function unpack(tarball, dir) {
  run('tar', ['-xzf', tarball, '-C', dir]);
  const [top] = readdirSync(dir);
  return join(dir, top, 'bin/lifeline');
}

export async function pack({ out = join(root, 'dist') } = {}) {
  const edgePkg = JSON.parse(readFileSync(join(root, 'edge/package.json'), 'utf8'));
  const version = edgePkg.version;
  for (const p of ['shared', 'devices', 'edge']) {
    if (!existsSync(join(root, p, 'dist/index.js'))) throw new Error(`${p}/dist is missing: run \`pnpm build\` (or \`pnpm -r build\`) first`);
  }
  const name = `lifeline-edge-${version}-linux-${process.arch}`;
  const stage = mkdtempSync(join(tmpdir(), 'lifeline-pack-'));
  const top = join(stage, name);
  const lib = join(top, 'lib');
  try {
    // The workspace lockfile decides the versions; injected workspace packages are copies, not symlinks into the checkout.
    // Files copied, not hard-linked from pnpm's store: the minifying below rewrites them (and writes source maps
    // where packages ship their own), which through a hard link would change the store for every project here.
    run('pnpm', ['--filter', '@lifeline/edge', '--config.inject-workspace-packages=true', '--config.package-import-method=copy', 'deploy', '--prod', '--offline', lib]);

    // Prune what a box does not run.
    rmSync(join(lib, 'pnpm-lock.yaml'), { force: true });
    for (const pkgDir of [lib, ...readdirSync(join(lib, 'node_modules/@lifeline')).map((n) => realpathSync(join(lib, 'node_modules/@lifeline', n)))]) {
      // What follows deletes sources and rewrites package.json: only ever in the staged copy. A workspace
      // package that pnpm linked instead of injecting resolves into the checkout; stop before touching it.
      if (!realpathSync(pkgDir).startsWith(realpathSync(stage) + '/')) throw new Error(`pack-edge: ${pkgDir} is outside the staging directory (a symlink into the checkout?); refusing to prune it`);
      for (const junk of ['src', 'test', 'tsconfig.build.json', 'dist/.tsbuildinfo']) rmSync(join(pkgDir, junk), { recursive: true, force: true });
      for (const { path, name: n } of [...walk(join(pkgDir, 'dist'))]) if (n.endsWith('.d.ts') || n.endsWith('.d.ts.map')) rmSync(path);
      const pj = join(pkgDir, 'package.json');
      const pkg = JSON.parse(readFileSync(pj, 'utf8'));
      pkg.exports = compiledExports(pkg.exports);
      delete pkg.devDependencies;
      delete pkg.scripts;
      if (pkgDir === lib) pkg.bin = { lifeline: './dist/cli/lifeline.cjs' };
      // A new file, not a write into the old one: pnpm's injected copies are hard links to the
      // checkout's files, so writing in place rewrote the checkout's own package.json.
      rmSync(pj);
      writeFileSync(pj, JSON.stringify(pkg, null, 2) + '\n');
    }
    rmSync(join(lib, 'bin'), { recursive: true, force: true });
    await minifyCompiled([join(lib, 'dist'), ...readdirSync(join(lib, 'node_modules/@lifeline')).map((n) => join(realpathSync(join(lib, 'node_modules/@lifeline', n)), 'dist'))]);
    await bundleCli(lib);
    const store = join(lib, 'node_modules/.pnpm');
    for (const { path, name: n, st } of [...walk(store)]) {
      if (!existsSync(path) || !st.isDirectory()) continue;
      // Prebuilt binaries for other platforms (aws-crt dist/bin/<os>-<arch>-<libc>, serialport prebuilds/<os>-<arch>).
      const parent = basename(dirname(path));
      if ((parent === 'prebuilds' || (parent === 'bin' && path.includes('/aws-crt/dist/bin/'))) && !keepsPlatform(n)) rmSync(path, { recursive: true, force: true });
      // Native build leftovers: intermediate objects and the sources they were compiled from.
      if (path.endsWith('/build/Release/obj.target') || path.endsWith('/build/Release/obj') || path.endsWith('/better-sqlite3/deps') || path.endsWith('/better-sqlite3/src')) {
        rmSync(path, { recursive: true, force: true });
      }
    }

    await minifyDependencies(store);

    // Every native module that stays must load with this node (the box's node must have the same ABI).
    const natives = [...walk(store)].filter((e) => e.st.isFile() && e.name.endsWith('.node')).map((e) => e.path.slice(lib.length + 1));
    const commit = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || 'unknown';
    const build = { name: 'lifeline-edge', version, commit, platform: `linux-${process.arch}`, node: process.version, nodeModulesAbi: process.versions.modules, natives };
    writeFileSync(join(top, 'BUILD.json'), JSON.stringify(build, null, 2) + '\n');

    mkdirSync(join(top, 'bin'));
    writeFileSync(
      join(top, 'bin/lifeline'),
      [
        // Read by sh and by node: sh runs line 2 (`:` then exec node on this same file, no fork of
        // readlink or dirname: bench cli counts every process); node skips the shebang and takes line 2
        // for a string and a comment. Node resolves the symlinks of its main script, so __dirname is
        // this bin/ even when started as /usr/local/bin/lifeline -> /opt/lifeline/bin/lifeline.
        '#!/bin/sh',
        `":" //; MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-${MALLOC_ARENA_MAX}} ${Object.entries(MALLOC_TUNING).map(([k, v]) => `${k}=\${${k}:-${v}}`).join(' ')} exec "\${LIFELINE_NODE:-node}" ${AGENT_NODE_FLAGS.join(' ')} \$LIFELINE_NODE_FLAGS "$0" "$@"`,
        `// lifeline ${version} (${commit}): the compiled edge CLI and agent. Native modules built for node ${process.version} (ABI ${process.versions.modules}).`,
        '// LIFELINE_NODE picks another node; LIFELINE_NODE_FLAGS adds node flags after these (the last of a flag wins).',
        '// MALLOC_ARENA_MAX, the malloc thresholds and the node flags: docs/decisions.md (issue #18). This file is run by node as CommonJS: keep no package.json with "type": "module" above it.',
        "require('../lib/dist/cli/lifeline.cjs');",
        '',
      ].join('\n'),
    );
    chmodSync(join(top, 'bin/lifeline'), 0o755);

    mkdirSync(out, { recursive: true });
    const tarball = join(out, `${name}.tar.gz`);
    run('tar', ['-C', stage, '--owner=0', '--group=0', '-czf', tarball, name]);
    const sum = createHash('sha256').update(readFileSync(tarball)).digest('hex');
    writeFileSync(join(out, 'SHA256SUMS'), `${sum}  ${basename(tarball)}\n`);
    return { tarball, sha256: sum, bytes: statSync(tarball).size, version };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const r = await pack(i > 0 ? { out: resolve(process.argv[i + 1]) } : {});
  console.log(`${r.tarball} (${(r.bytes / 1e6).toFixed(1)} MB, sha256 ${r.sha256.slice(0, 16)}…, listed in SHA256SUMS)`);
}
