/**
 * The agent's node flags sized from its config (edge/src/agent/footprint.ts, issue #18).
 */
import { describe, expect, it } from 'vitest';
import { loadProfile } from '@lifeline/devices';
import { validateConfig } from '../../src/config/load.js';
import { LITE_MODE_MAX_POINTS_PER_S, agentNodeFlags, liteModeWarning, pointsPerSecond } from '../../src/agent/footprint.js';

/** `n` flood gauges, the first polled at its profile's default, the rest every `pollMs`. */
function site(n: number, pollMs: number) {
  return validateConfig(
    {
      gateway: { id: 'gw-1' },
      buses: [{ name: 'lan', link: 'tcp', host: '127.0.0.1', port: 5020, devices: Array.from({ length: n }, (_, i) => ({ id: `f-${i}`, profile: 'flood-gauge', unit: i + 1, ...(i ? { pollMs } : {}) })) }],
      buffer: { path: ':memory:' },
      sync: { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
    },
    'test',
  );
}

describe('agent footprint', () => {
  const flood = loadProfile('flood-gauge');
  const perPoll = flood.points.length;

  it('counts the points polled per second, each device at its own interval or its profile default', () => {
    expect(pointsPerSecond(site(1, 0))).toBeCloseTo((perPoll * 1000) / flood.defaultPollMs);
    expect(pointsPerSecond(site(3, 250))).toBeCloseTo((perPoll * 1000) / flood.defaultPollMs + 2 * perPoll * 4);
  });

  it('runs a small site with --lite-mode and a large one with the optimising compiler', () => {
    expect(agentNodeFlags(site(2, 1000))).toEqual(['--lite-mode']);
    const n = Math.ceil((LITE_MODE_MAX_POINTS_PER_S / perPoll) * 0.1) + 2; // polled every 100 ms: over the limit
    expect(pointsPerSecond(site(n, 100))).toBeGreaterThan(LITE_MODE_MAX_POINTS_PER_S);
    expect(agentNodeFlags(site(n, 100))).toEqual([]);
  });

  it('warns when --lite-mode runs a config that grew past what it is sized for, and only then', () => {
    const big = site(Math.ceil(LITE_MODE_MAX_POINTS_PER_S / perPoll) + 2, 100);
    expect(liteModeWarning(big, ['--lite-mode'])).toMatch(/--lite-mode but the config polls \d+ points\/s .*lifeline service install/);
    expect(liteModeWarning(big, [])).toBeUndefined();
    expect(liteModeWarning(site(2, 1000), ['--lite-mode'])).toBeUndefined();
  });
});
