import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('pnpm chaos --short', () => {
  it('loses, doubles and delays nothing through kill -9, broker and ingest restarts and partitions', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/chaos.ts'), '--short'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    // The result is the last line with the reconcile figures (a child's log line may follow it).
    const last = out.trim().split('\n').reverse().find((l) => l.includes('"lost"')) ?? '';
    let result: Record<string, number>;
    try {
      result = JSON.parse(last) as Record<string, number>;
    } catch {
      throw new Error(`chaos printed no result (exit ${code}):\n${err.slice(-3000)}`);
    }
    expect(result).toMatchObject({ lost: 0, duplicated: 0, alarms_late: 0 });
    expect(result.kills).toBeGreaterThan(0);
    expect(result.broker_restarts).toBeGreaterThan(0);
    expect(result.partitions).toBeGreaterThan(0);
    expect(result.ingest_restarts).toBeGreaterThan(0);
    expect(result.readings).toBeGreaterThan(1000);
    expect(result.alarms).toBeGreaterThan(0);
    expect(code).toBe(0);
  }, 90_000);
});
