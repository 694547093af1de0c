/**
 * `lifeline status` against a real agent: a `lifeline run` child process polling a
 * TCP simulator (one device answering, one unit that never does) and syncing to the
 * machine's Mosquitto. Status is asked through the real CLI, text and --json; once
 * the agent is gone it is a clear exit 1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../../../test/helpers.js';
import { lifeline } from '../field/cli-run.js';
import type { AgentStatus } from '../../src/agent/status.js';
import { startRunningAgent, type RunningAgent } from './running-agent.js';

const tmp = tempDir();
let run: RunningAgent | undefined;
let configFile = '';

beforeAll(async () => {
  run = await startRunningAgent(tmp.dir, 'gw-status');
  configFile = run.configFile;
}, 60_000);

afterAll(async () => {
  await run?.stop();
  tmp.cleanup();
});

describe('lifeline status', () => {
  it('shows buses, devices, buffer, sync, config version and active alarms of the running agent', async () => {
    // Give the poller time to reach both devices and the detector to raise the alarm.
    const s = await waitFor(
      async () => {
        const r = await lifeline(tmp.dir, 'status', '--config', configFile, '--json');
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const snap = JSON.parse(r.stdout) as AgentStatus;
        const devs = snap.buses[0].devices;
        return devs[0].online === true && devs[1].online === false && snap.alarms.length > 0 && snap.sync.connected ? snap : undefined;
      },
      40_000,
      'both devices polled, the alarm raised and sync connected',
    );
    expect(s.gateway).toBe('gw-status');
    expect(s.config.file).toBe(configFile);
    expect(s.config.hash).toMatch(/^[0-9a-f]{8,}$/);
    expect(s.buses.map((b) => [b.name, b.link])).toEqual([['lan', 'tcp']]);
    const [flood, water] = s.buses[0].devices;
    expect(flood).toMatchObject({ id: 'flood-1', profile: 'flood-gauge', online: true });
    expect(flood.lastGoodTs).toBeGreaterThan(s.startedAt - 1000);
    expect(water).toMatchObject({ id: 'water-9', online: false, lastGoodTs: null });
    expect(water.lastError).not.toBe('');
    expect(s.buffer.path).toBe(join(tmp.dir, 'edge.db'));
    // Nobody acknowledges on this broker: the readings stay buffered and the sent batches unacked.
    expect(s.buffer.telemetry.depth).toBeGreaterThan(0);
    expect(s.buffer.telemetry.oldestTs).not.toBeNull();
    expect(s.sync.url).toBe('mqtt://127.0.0.1:1883');
    expect(s.sync.lastAckAt).toBeNull();
    expect(s.alarms.map((a) => a.id)).toContain('flood-1/water_level/threshold');
    // The agent's own process memory, not the CLI's: a soak test samples it over time.
    expect(s.memory.rss).toBeGreaterThan(s.memory.heapUsed);
    expect(s.memory.heapUsed).toBeGreaterThan(1e6);
    expect(s.memory.heapTotal).toBeGreaterThanOrEqual(s.memory.heapUsed);

    const text = await lifeline(tmp.dir, 'status', '--config', configFile);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^gw-status: agent running \(pid \d+, up /);
    expect(text.stdout).toMatch(/lan\s+tcp\s+flood-1\s+flood-gauge\s+online\s+\d{4}-/);
    expect(text.stdout).toMatch(/lan\s+tcp\s+water-9\s+water-pressure-station\s+OFFLINE\s+never/);
    expect(text.stdout).toMatch(/buffer +\d+ readings \(oldest .* ago\), \d+ events.* not yet acknowledged by the cloud · [\d.]+ MB on disk/);
    expect(text.stdout).toMatch(/sync +connected to mqtt:\/\/127\.0\.0\.1:1883 · unacked batches: \d+ telemetry, \d+ events · last ack never/);
    expect(text.stdout).toMatch(/memory +[\d.]+ MB resident · heap [\d.]+ of [\d.]+ MB\nalarms +\d+ not normal\nSTATE/);
    expect(text.stdout).toContain('flood-1/water_level/threshold');
  }, 60_000);

  it('says "agent not running" with exit 1 once the agent is gone, and exit 2 for a bad config', async () => {
    run!.process.kill('SIGKILL');
    await new Promise((r) => run!.process.once('close', r));
    const r = await lifeline(tmp.dir, 'status', '--config', configFile);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('agent not running');
    expect(r.stdout).toBe('');
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'gateway: { id: 7 }\nbuses: []\n');
    const b = await lifeline(tmp.dir, 'status', '--config', bad);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('gateway.id');
  }, 60_000);
});
