/**
 * `lifeline watch` against a real agent, as a technician sees it: a `lifeline run` child
 * process polls a TCP simulator (a flood gauge held above its red threshold, and a unit that
 * never answers); watch runs in a real terminal (tmux: capture-pane, then Ctrl-C by send-keys)
 * and as --json lines.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../../../test/helpers.js';
import { jsonLines, lifeline } from '../field/cli-run.js';
import type { WatchFrame } from '../../src/cli/watch.js';
import { startRunningAgent, type RunningAgent } from './running-agent.js';

const tmp = tempDir();
const cli = resolve(import.meta.dirname, '../../src/cli/main.ts');
const tmuxSocket = `lifeline-watch-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', tmuxSocket, ...args], { encoding: 'utf8' });
let run: RunningAgent | undefined;
let configFile = '';

beforeAll(async () => {
  run = await startRunningAgent(tmp.dir, 'gw-watch');
  configFile = run.configFile;
}, 60_000);

afterAll(async () => {
  spawnSync('tmux', ['-L', tmuxSocket, 'kill-server']);
  await run?.stop();
  tmp.cleanup();
});

describe('lifeline watch', { timeout: 90_000 }, () => {
  it('--json: values with units and alarm levels, success rate, latency and last good read per device', async () => {
    const frame = await waitFor(
      async () => {
        const r = await lifeline(tmp.dir, 'watch', '--config', configFile, '--json', '--count', '1');
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const f = jsonLines(r.stdout)[0] as unknown as WatchFrame;
        const [flood, water] = f.devices;
        return flood.points.some((p) => p.alarm === 'red (I)') && water.online === false ? f : undefined;
      },
      40_000,
      'the flood gauge read and alarming, the silent unit offline',
    );
    const [flood, water] = frame.devices;
    expect(frame.gateway).toBe('gw-watch');
    expect(flood).toMatchObject({ id: 'flood-1', bus: 'lan', online: true, successRate: 1 });
    expect(flood.latencyMs).toBeGreaterThan(0);
    expect(flood.lastGoodTs).toBeGreaterThan(frame.now - 10_000);
    expect(flood.points).toContainEqual({ point: 'water_level', value: 3.5, unit: 'm', alarm: 'red (I)' });
    expect(flood.points.find((p) => p.point === 'rainfall')).toMatchObject({ unit: 'mm', alarm: null });
    expect(water).toMatchObject({ id: 'water-9', online: false, successRate: 0, lastGoodTs: null });
    expect(water.failedPolls).toBeGreaterThan(0);
    // --device: that device only.
    const one = await lifeline(tmp.dir, 'watch', '--config', configFile, '--json', '--count', '1', '--device', 'water-9');
    expect((jsonLines(one.stdout)[0] as unknown as WatchFrame).devices.map((d) => d.id)).toEqual(['water-9']);
    const bad = await lifeline(tmp.dir, 'watch', '--config', configFile, '--device', 'nope');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--device: no device "nope" .*devices: flood-1, water-9/);
  });

  it('draws a live table in a terminal and stops cleanly on Ctrl-C', async () => {
    tmux('new-session', '-d', '-s', 'watch', '-x', '160', '-y', '30', '-c', tmp.dir, `${process.execPath} --import ${import.meta.resolve('tsx')} ${cli} watch --config ${configFile} --interval 500; echo EXIT=$?; sleep 60`);
    const screen = () => tmux('capture-pane', '-p', '-t', 'watch');
    // The first frames may come before the alarm is raised or the silent unit given up on.
    const first = await waitFor(
      () => {
        const s = screen();
        return /red \(I\)/.test(s) && /OFFLINE/.test(s) ? s : undefined;
      },
      30_000,
      'a frame with the alarm and the silent unit',
    );
    expect(first).toMatch(/^gw-watch · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d · every 0\.5 s · Ctrl-C to stop/m);
    expect(first).toMatch(/DEVICE\s+POINT\s+VALUE\s+UNIT\s+ALARM\s+STATE\s+POLLS OK\s+LATENCY\s+LAST GOOD READ/);
    expect(first).toMatch(/flood-1\s+water_level\s+3\.5\s+m\s+red \(I\)\s+online\s+100\.0% of \d+\s+\d+ ms\s+\S+ ago/);
    expect(first).toMatch(/water-9\s+.*OFFLINE\s+0\.0% of \d+\s+\d+ ms\s+never/);
    // Redrawn in place: the clock in the header moves, and the screen holds one frame.
    const stamp = (s: string) => / (\d\d:\d\d:\d\d) · every/.exec(s)?.[1];
    await waitFor(() => (stamp(screen()) !== stamp(first) ? true : undefined), 10_000, 'a second frame');
    expect(screen().match(/DEVICE\s+POINT/g)).toHaveLength(1);
    tmux('send-keys', '-t', 'watch', 'C-c');
    const end = await waitFor(() => (/EXIT=\d+/.test(screen()) ? screen() : undefined), 10_000, 'watch to exit');
    expect(end).toContain('EXIT=0');
  });
});
