/**
 * Detector defaults from device profiles. A profile point may carry `detect:`
 * with the keys of a config `detectors.points` entry (threshold, rate, stuck,
 * range, anomaly, artime, rainstorm): the limits a device model's standard or manual gives. Every
 * instance of the profile gets them unless the instance says
 * `detectorDefaults: false`. A config entry for the same point replaces a
 * default detector of the same kind and keeps the others.
 *
 * The profile lint and the gateway's config check refuse defaults the
 * detectors would not take (devices/src/detect-defaults.ts).
 *
 *   profile points[].detect ─┐
 *   config detectors.points ─┴─▶ effectiveDetectors ─▶ createDetectors
 */
import type { Profile } from '@lifeline/devices';
import type { DetectorsConfig, PointDetectorsConfig } from '@lifeline/shared/config';

const KINDS = ['threshold', 'rate', 'stuck', 'range', 'anomaly', 'artime', 'rainstorm'] as const;

/**
 * What effectiveDetectors reads of the gateway config: its own detectors and
 * which devices take their profile's defaults. The config's `GatewayConfig` is
 * one; declared here so the ground floor imports no feature.
 */
export interface DetectorsSource {
  detectors?: DetectorsConfig;
  buses: readonly { devices: readonly { id: string; detectorDefaults?: boolean }[] }[];
}

/** The detectors the agent runs: profile defaults, then the config's entries, each point's unit from its profile. */
export function effectiveDetectors(config: Readonly<DetectorsSource>, profiles: ReadonlyMap<string, Readonly<Profile>>): DetectorsConfig {
  const own = config.detectors ?? {};
  const byKey = new Map<string, PointDetectorsConfig>();
  const key = (device: string, point: string) => `${device}\0${point}`;
  for (const bus of config.buses) {
    for (const dev of bus.devices) {
      if (dev.detectorDefaults === false) continue;
      const profile = profiles.get(dev.id);
      for (const pt of profile?.points ?? []) {
        if (!pt.detect) continue;
        const { basis: _basis, ...detectors } = pt.detect; // documentation, not a detector
        byKey.set(key(dev.id, pt.name), { device: dev.id, point: pt.name, ...(detectors as Omit<PointDetectorsConfig, 'device' | 'point'>) });
      }
    }
  }
  for (const p of own.points ?? []) {
    const k = key(p.device, p.point);
    const base = byKey.get(k);
    byKey.delete(k); // re-inserted last: the config's order wins for its own points
    const merged: PointDetectorsConfig = { ...(base ?? {}), ...p };
    for (const kind of KINDS) if (p[kind] === undefined && base?.[kind] !== undefined) (merged as Record<string, unknown>)[kind] = base[kind];
    byKey.set(k, merged);
  }
  const points = [...byKey.values()].map((p) =>
    p.unit !== undefined ? p : { ...p, unit: profiles.get(p.device)?.points.find((x) => x.name === p.point)?.unit || undefined },
  );
  return { ...own, ...(points.length ? { points } : {}) };
}
