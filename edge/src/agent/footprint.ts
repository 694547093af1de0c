/**
 * The agent's node flags sized from its config (issue #18: the agent's memory).
 *
 * bin/lifeline always gives node --max-semi-space-size=1 --heap-growing-percent=10 and MALLOC_ARENA_MAX=2 (scripts/pack-edge.mjs).
 * What a site can spend on speed depends on how much it polls, so the rest is chosen here, from the config,
 * by `lifeline service install` (the unit's LIFELINE_NODE_FLAGS) and by the soak bench:
 *
 *   points polled per second ≤ LITE_MODE_MAX_POINTS_PER_S  →  --lite-mode
 *     V8 without its optimising compilers (interpreter only, smaller feedback and code): about 20 MB less RSS
 *     for the demo site, whose 54 points a second need a small fraction of a core even interpreted.
 *   more  →  nothing more: the optimising compiler is what lets one core keep up with thousands a second.
 *
 * No flag here caps the heap: a cap is a crash on a site larger than the one it was sized for.
 */
import type { LoadedConfig } from '../config/load.js';

/**
 * At or below this many points polled per second the agent runs with --lite-mode: ten times the demo site's
 * 54 points/s; a --lite-mode agent polled 1,250 points/s of the soak fleet on the 2 loaded cores (docs/benchmarks.md).
 */
export const LITE_MODE_MAX_POINTS_PER_S = 500;

/** Points the config polls per second: every device's points over its poll interval (its own, else its profile's). */
export function pointsPerSecond(loaded: Pick<LoadedConfig, 'config' | 'profiles'>): number {
  let rate = 0;
  for (const bus of loaded.config.buses) {
    for (const dev of bus.devices) {
      const profile = loaded.profiles.get(dev.id);
      if (!profile) continue;
      const pollMs = dev.pollMs ?? profile.defaultPollMs;
      rate += (profile.points.length * 1000) / pollMs;
    }
  }
  return rate;
}

/** Node flags for the agent that runs this config, on top of bin/lifeline's own. */
export function agentNodeFlags(loaded: Pick<LoadedConfig, 'config' | 'profiles'>): string[] {
  return pointsPerSecond(loaded) <= LITE_MODE_MAX_POINTS_PER_S ? ['--lite-mode'] : [];
}

/** A warning when this node runs with --lite-mode but the config polls more than it is sized for (a site that grew). */
export function liteModeWarning(loaded: Pick<LoadedConfig, 'config' | 'profiles'>, execArgv: readonly string[] = process.execArgv): string | undefined {
  const rate = pointsPerSecond(loaded);
  if (!execArgv.includes('--lite-mode') || rate <= LITE_MODE_MAX_POINTS_PER_S) return undefined;
  return `node runs with --lite-mode but the config polls ${Math.round(rate)} points/s (more than ${LITE_MODE_MAX_POINTS_PER_S}): the agent may fall behind; run \`lifeline service install\` again to size the unit for this config`;
}
