import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Run `pnpm chaos` with `args`; its exit code and the JSON line with the figures (or the skip). */
async function chaos(args: string[]): Promise<{ code: number | null; result: Record<string, number>; skipped?: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/chaos.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  // The result is the last line with the reconcile figures (a child's log line may follow it).
  const last = out.trim().split('\n').reverse().find((l) => l.includes('"lost"') || l.startsWith('{"skipped"')) ?? '';
  let result: Record<string, number> & { skipped?: string };
  try {
    result = JSON.parse(last) as Record<string, number> & { skipped?: string };
  } catch {
    throw new Error(`chaos printed no result (exit ${code}):\n${err.slice(-3000)}`);
  }
  if (!result.skipped && code !== 0) console.error(err.slice(-3000));
  return { code, result, skipped: result.skipped };
}

describe('pnpm chaos --short', () => {
  it('loses, doubles and delays nothing through kill -9, broker and ingest restarts and partitions', async () => {
    const { code, result } = await chaos(['--short']);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, alarms_late: 0 });
    for (const k of ['kills', 'broker_restarts', 'partitions', 'ingest_restarts']) expect(result[k], k).toBeGreaterThan(0);
    expect(result.readings).toBeGreaterThan(1000);
    expect(result.alarms).toBeGreaterThan(0);
    expect(code).toBe(0);
  }, 90_000);
});

describe('pnpm chaos --netem --short', () => {
  // Needs root (network namespaces), python3 and /dev/net/tun; under CI a missing one fails (chaos exits 1).
  it('loses, doubles and delays nothing behind a lossy, slow, flapping and blackholed link, through PostgreSQL restarts', async (ctx) => {
    const { code, result, skipped } = await chaos(['--netem', '--short']);
    if (skipped && !process.env.CI) return ctx.skip(`chaos --netem: ${skipped}`);
    expect(skipped).toBeUndefined();
    expect(result).toMatchObject({ lost: 0, duplicated: 0, alarms_late: 0 });
    for (const k of ['kills', 'broker_restarts', 'ingest_restarts', 'pg_restarts', 'lossy_periods', 'rate_caps', 'link_downs', 'blackholes']) expect(result[k], k).toBeGreaterThan(0);
    // The half-open connection of the blackhole was noticed (5 s keepalive in the short run) and the backlog drained.
    expect(result.blackhole_recover_s).toBeLessThan(30);
    expect(result.drain_s).toBeLessThan(30);
    expect(result.link_dropped).toBeGreaterThan(0);
    expect(result.readings).toBeGreaterThan(1000);
    expect(code).toBe(0);
  }, 240_000);
});
