/**
 * A pushed config whose trial was cut short (the process crashed or was
 * stopped on it) goes on at the next start, and one that keeps the agent from
 * running to the end of its check is rolled back without waiting.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, runAgent } from '../../src/index.js';
import { freePort, tempDir, testLog, waitFor } from '../../../test/helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function box(name: string, trial: { starts: number }) {
  const closed = await freePort();
  const config = (intervalMs: number) =>
    stringify({
      gateway: { id: `gw-resume-${name}` },
      buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: closed, devices: [{ id: 'fg-1', profile: 'flood-gauge', unit: 1 }] }],
      buffer: { path: `${name}.db` },
      sync: { transport: 'mqtt', url: `mqtt://127.0.0.1:${closed}`, intervalMs },
    });
  const file = join(tmp.dir, `${name}.yaml`);
  writeFileSync(file, config(222), { mode: 0o600 }); // the pushed one, on trial
  writeFileSync(`${file}.last-good`, config(111), { mode: 0o600 });
  writeFileSync(`${file}.apply`, JSON.stringify({ command: '42', deadline: 0, answeringBefore: [], starts: trial.starts }), { mode: 0o600 });
  return { file, good: config(111) };
}

describe('a pushed config on trial when the agent starts', () => {
  it('is rolled back at once after it has kept the agent from finishing its check three times', async () => {
    const { file, good } = await box('loop', { starts: 3 });
    const running = await runAgent(loadConfig(file), testLog, { applyCheckMs: 60_000 });
    try {
      expect(running.configApply).toMatchObject({ command: '42', result: 'rolled_back', reason: 'the agent stopped 3 times on it before its check ended' });
      expect(readFileSync(file, 'utf8')).toBe(good);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(running.agent.loaded.config.sync.intervalMs).toBe(111);
      const events = running.agent.buffer.events(1, running.agent.buffer.lastWritten('events')).map((e) => e.body as { type: string; details: unknown });
      expect(events).toContainEqual(expect.objectContaining({ type: 'config_rolled_back', details: { command: '42', reason: 'the agent stopped 3 times on it before its check ended' } }));
    } finally {
      await running.stop();
    }
  });

  it('gets a fresh window after a crash, and is rolled back when it still does not reach the cloud', async () => {
    const { file, good } = await box('resume', { starts: 1 });
    const running = await runAgent(loadConfig(file), testLog, { applyCheckMs: 1000 });
    try {
      expect(running.agent.loaded.config.sync.intervalMs).toBe(222); // on trial
      expect(JSON.parse(readFileSync(`${file}.apply`, 'utf8'))).toMatchObject({ starts: 2 });
      await waitFor(() => running.configApply?.result === 'rolled_back', 10_000, 'the rollback');
      expect(running.configApply!.reason).toMatch(/^it did not reach the cloud within 1 s \(broker mqtt:\/\/127\.0\.0\.1:\d+: /);
      expect(readFileSync(file, 'utf8')).toBe(good);
      expect(running.agent.loaded.config.sync.intervalMs).toBe(111);
    } finally {
      await running.stop();
    }
  });
});
