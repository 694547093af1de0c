// @ts-check
/**
 * The first step of `pnpm test`: brings what the tests need, so the README's two
 * lines are the whole set-up (issue #12).
 *
 *   probe NEEDS (PATH, python) ──missing──▶ may change the machine? ──yes──▶ apt-get install, once
 *   probe SERVICES (TCP ports) ───down────▶        (root or sudo -n)  ──yes──▶ start, wait for the port
 *                                                                    └─no───▶ print the exact command;
 *                                                                             CI: exit 1, else the tests run
 *
 * Plain Node with no dependencies rather than TypeScript under tsx: it runs on
 * every `pnpm test`, and node starts in ~0.06 s where tsx takes ~0.3 s.
 * Quiet when everything is there. LIFELINE_NO_INSTALL=1: change nothing, only say what to run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * What the tests run from Debian. `probe` is a command looked up on PATH (the
 * tests spawn it by name), or an argv that exits 0 when the need is met.
 * Adding a need (Chromium for the browser tests) is one row.
 * @typedef {{ name: string, probe: string | string[], pkg: string, why: string }} Need
 * @type {Need[]}
 */
export const NEEDS = [
  { name: 'socat', probe: 'socat', pkg: 'socat', why: 'serial pty pairs for the RTU tests' },
  { name: 'mbpoll', probe: 'mbpoll', pkg: 'mbpoll', why: 'a Modbus master we did not write' },
  { name: 'pymodbus', probe: ['/usr/bin/python3', '-c', 'import pymodbus'], pkg: 'python3-pymodbus', why: 'a Modbus slave we did not write' },
  { name: 'mosquitto', probe: 'mosquitto', pkg: 'mosquitto', why: 'the MQTT broker of the sync and mTLS tests' },
  { name: 'chromium', probe: 'chromium', pkg: 'chromium', why: 'the browser the console tests and `pnpm bench console` drive (playwright-core)' },
  { name: 'zsh', probe: 'zsh', pkg: 'zsh', why: 'the zsh completion script is run in a real zsh' },
  {
    name: 'CJK font',
    probe: ['sh', '-c', 'ls /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc 2>/dev/null | grep -q .'],
    pkg: 'fonts-wqy-zenhei',
    why: 'Chinese glyphs in the console screenshots (without a CJK font Chromium draws boxes)',
  },
];

/** The newest PostgreSQL version with a `main` cluster (.ci/run assumed exactly one). */
function postgresVersion() {
  try {
    const versions = readdirSync('/etc/postgresql').filter((v) => existsSync(`/etc/postgresql/${v}/main`));
    return versions.sort((a, b) => Number(b) - Number(a))[0] ?? null;
  } catch {
    return null;
  }
}
const PG_VERSION = postgresVersion();

/**
 * Machine services the integration tests connect to (same start commands as
 * the former .ci/run). `start` is null when the service is not installed;
 * `absent` then says what to do.
 * @typedef {{ name: string, port: number, start: string[] | null, absent?: string }} Service
 * @type {Service[]}
 */
export const SERVICES = [
  {
    name: 'PostgreSQL',
    port: 5432,
    start: PG_VERSION ? ['pg_ctlcluster', '--skip-systemctl-redirect', PG_VERSION, 'main', 'start'] : null,
    absent: 'no cluster in /etc/postgresql: install postgresql and create database test with trust auth for 127.0.0.1',
  },
  {
    name: 'Mosquitto',
    port: 1883,
    start: ['mosquitto', '-d', '-c', '/etc/mosquitto/mosquitto.conf'],
  },
];

/**
 * What the step found. `privilege`: how it may change the machine ('root',
 * 'sudo' for passwordless sudo, 'none'); only worked out when something is missing.
 * @typedef {{
 *   missing: Need[], notOnPath: { need: Need, at: string }[], down: Service[],
 *   privilege: 'root' | 'sudo' | 'none', aptGet: boolean, noInstall: boolean, ci: boolean
 * }} Facts
 *
 * What to do about it: argv lists to run, lines to print, whether to fail.
 * @typedef {{ install: string[][], start: { service: Service, argv: string[] }[], advice: string[], fail: boolean }} Plan
 */

/**
 * The decision, pure so it can be tested without apt-get: install and start
 * when allowed, otherwise print exactly what to run. A need the tests cannot
 * meet fails the step under CI only; a developer still runs the other tests.
 * @param {Facts} f
 * @returns {Plan}
 */
export function plan(f) {
  /** @type {Plan} */
  const p = { install: [], start: [], advice: [], fail: false };
  const may = !f.noInstall && f.privilege !== 'none';
  const sudo = f.privilege === 'root' ? [] : ['sudo', '-n'];
  // The printed command is for a person at a shell: plain sudo (may ask a password) when not root.
  const say = f.privilege === 'root' ? '' : 'sudo ';
  const pkgs = f.missing.map((n) => n.pkg);

  for (const { need, at } of f.notOnPath) {
    p.advice.push(`${need.name} is installed at ${at} but not on PATH, and the tests run it by name: add ${at.slice(0, at.lastIndexOf('/'))} to PATH`);
  }
  if (pkgs.length > 0) {
    if (may && f.aptGet) {
      p.install.push([...sudo, 'apt-get', 'update', '-qq']);
      p.install.push([...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=120', ...pkgs]);
    } else {
      const why = f.missing.map((n) => `${n.pkg} (${n.why})`).join(', ');
      p.advice.push(`missing ${why}; install with:`);
      p.advice.push(
        f.aptGet
          ? `  ${say}apt-get update && ${say}apt-get install -y ${pkgs.join(' ')}`
          : `  your package manager's equivalent of the Debian packages: ${pkgs.join(' ')}`,
      );
    }
  }
  for (const s of f.down) {
    if (!s.start) {
      p.advice.push(`${s.name} is not running on 127.0.0.1:${s.port} (${s.absent})`);
    } else if (may) {
      p.start.push({ service: s, argv: [...sudo, ...s.start] });
    } else {
      p.advice.push(`${s.name} is not running on 127.0.0.1:${s.port}; start it with:`);
      p.advice.push(`  ${say}${s.start.join(' ')}`);
    }
  }
  if (p.advice.length > 0) {
    if (f.ci) {
      p.fail = true;
      p.advice.push('CI is set: stopping before the tests (LIFELINE_NO_INSTALL=1 or no root/sudo kept the step from doing this itself).');
    } else p.advice.push('the tests that need these fail and say so; the others run.');
  }
  return p;
}

/**
 * Where `cmd` is on PATH, or null.
 * @param {string} cmd
 */
export function onPath(cmd, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * Debian's PATH for a user leaves out the sbin directories, where mosquitto lives.
 * @param {string} cmd
 */
function inSbin(cmd) {
  return ['/usr/local/sbin', '/usr/sbin', '/sbin'].map((d) => join(d, cmd)).find((p) => existsSync(p)) ?? null;
}

/** @param {Need} n */
function present(n) {
  if (typeof n.probe === 'string') return onPath(n.probe) !== null;
  const [cmd, ...args] = n.probe;
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/**
 * Resolves true when something accepts a connection on 127.0.0.1:port.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
function answers(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (/** @type {boolean} */ ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** @returns {'root' | 'sudo' | 'none'} */
function privilege() {
  if (process.getuid?.() === 0) return 'root';
  if (onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return 'sudo';
  return 'none';
}

/** @param {Need[]} needs */
function probeNeeds(needs) {
  /** @type {Need[]} */
  const missing = [];
  /** @type {{ need: Need, at: string }[]} */
  const notOnPath = [];
  for (const n of needs) {
    if (present(n)) continue;
    const at = typeof n.probe === 'string' ? inSbin(n.probe) : null;
    if (at) notOnPath.push({ need: n, at });
    else missing.push(n);
  }
  return { missing, notOnPath };
}

const log = (/** @type {string} */ line) => console.error(`prepare-tests: ${line}`);

async function main() {
  const env = process.env;
  const { missing, notOnPath } = probeNeeds(NEEDS);
  const up = await Promise.all(SERVICES.map((s) => answers(s.port)));
  const down = SERVICES.filter((_, i) => !up[i]);
  if (missing.length === 0 && notOnPath.length === 0 && down.length === 0) return 0;

  const ci = !!env.CI && env.CI !== 'false' && env.CI !== '0';
  const p = plan({ missing, notOnPath, down, privilege: privilege(), aptGet: onPath('apt-get') !== null, noInstall: env.LIFELINE_NO_INSTALL === '1', ci });
  let failed = p.fail;

  if (p.install.length > 0) {
    log(`installing ${missing.map((n) => n.pkg).join(' ')} (LIFELINE_NO_INSTALL=1 to only print the command)`);
    for (const argv of p.install) {
      const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) {
        log(`\`${argv.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`})`);
        break;
      }
    }
    const still = probeNeeds(missing);
    for (const n of still.missing) log(`${n.pkg} is still missing after apt-get; the tests that use ${n.name} will fail`);
    for (const { need, at } of still.notOnPath) log(`${need.name} is at ${at} but not on PATH; add its directory to PATH`);
    if (still.missing.length + still.notOnPath.length > 0 && ci) failed = true;
  }

  for (const { service, argv } of p.start) {
    log(`starting ${service.name}: ${argv.join(' ')}`);
    const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
    // Another `pnpm test` may have started it meanwhile: the port decides, not the exit code.
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = await answers(service.port, 200);
      if (!ok) await new Promise((res) => setTimeout(res, 100));
    }
    if (!ok) {
      log(`${service.name} did not come up on 127.0.0.1:${service.port} (${r.error?.message ?? `exit ${r.status}`}); its tests will fail`);
      if (ci) failed = true;
    }
  }

  for (const line of p.advice) log(line);
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
