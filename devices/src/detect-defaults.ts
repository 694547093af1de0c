/**
 * A profile point's `detect:` defaults, checked with the gateway's own detector
 * rules (shared/src/config/detectors.ts): a profile whose defaults the gateway
 * would refuse fails the profile lint here, before it reaches a box.
 *
 *   points[].detect ─▶ as a one-entry detectors section ─▶ detectorsConfigIssues
 *                   ─▶ lintProfile (points[i].detect...)  |  the gateway's config check (profile <id>: points.<name>.detect...)
 */
import type { ValidationIssue } from '@lifeline/shared';
import { detectorsConfigIssues } from '@lifeline/shared/config';
import type { AnyPoint, Profile } from './profile.js';

/** Problems of one point's `detect:` block, paths relative to it (`.threshold.high.red`, '' for the block). */
export function detectBlockIssues(point: Readonly<AnyPoint>): ValidationIssue[] {
  if (!point.detect) return [];
  const entry = { device: 'profile', point: point.name, ...point.detect };
  return detectorsConfigIssues({ points: [entry] }).map((i) => ({ path: i.path.replace(/^points\[0\]/, ''), message: i.message }));
}

/** Problems in the profiles' `detect` defaults, once per profile, named by profile and point. */
export function profileDefaultIssues(profiles: ReadonlyMap<string, Readonly<Profile>>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const profile of profiles.values()) {
    if (seen.has(profile.id)) continue;
    seen.add(profile.id);
    for (const pt of profile.points) {
      for (const i of detectBlockIssues(pt)) issues.push({ path: `profile ${profile.id}: points.${pt.name}.detect${i.path}`, message: i.message });
    }
  }
  return issues;
}
