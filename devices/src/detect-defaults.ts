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
  const { basis: _basis, ...detectors } = point.detect;
  const entry = { device: 'profile', point: point.name, ...detectors };
  return detectorsConfigIssues({ points: [entry] }).map((i) => ({ path: i.path.replace(/^points\[0\]/, ''), message: i.message }));
}

/**
 * A `basis` names a standard by its number (GB, GB/T, GBZ, CJJ, CJ/T, JT/T, JTG, SL, QX/T, DB…,
 * or the CMA order) and a clause (§ 5.5.3, annex, table), or says "no standard: <why>".
 * Anything else is a limit of unknown origin, which a city cannot defend after an incident.
 */
const STANDARD = /\b(GB(\/T)?|GBZ|HJ|CJJ(\/T)?|CJ\/T|JT\/T|JTG|SL|QX\/T|DB\d{2}(\/T)?|IEC|CMA Order)[ \w./-]*?\d/;
const CLAUSE = /§\s*\d|\bannex\b|\btable\b/i;

/** True when a basis cites a standard and a clause, or says "no standard: " with a reason. */
export function citesBasis(basis: string): boolean {
  if (/^no standard: .{10,}/.test(basis)) return true;
  return STANDARD.test(basis) && CLAUSE.test(basis);
}

/** Problem with a point's `detect.basis`, or undefined when it cites a standard or says "no standard". */
export function basisIssue(point: Readonly<AnyPoint>): string | undefined {
  if (!point.detect) return undefined;
  const basis = point.detect.basis;
  if (basis === undefined) return 'every default limit needs a basis: the standard and clause it comes from (e.g. "GB/T 50493-2019 §5.1.4"), or "no standard: <why>"';
  if (!citesBasis(basis)) return `must cite a standard number and clause (e.g. "GB 50838-2015 §7.5.7") or start "no standard: " with a reason, got ${JSON.stringify(basis)}`;
  return undefined;
}

/** Each profile's `detect` issues: a loaded profile is frozen (and cached by loadProfile), so they are worked out once. */
const defaultIssuesOf = new WeakMap<Readonly<Profile>, ValidationIssue[]>();

/** Problems in the profiles' `detect` defaults, once per profile, named by profile and point. */
export function profileDefaultIssues(profiles: ReadonlyMap<string, Readonly<Profile>>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const profile of profiles.values()) {
    if (seen.has(profile.id)) continue;
    seen.add(profile.id);
    let own = Object.isFrozen(profile) ? defaultIssuesOf.get(profile) : undefined;
    if (!own) {
      own = profile.points.flatMap((pt) => detectBlockIssues(pt).map((i) => ({ path: `profile ${profile.id}: points.${pt.name}.detect${i.path}`, message: i.message })));
      if (Object.isFrozen(profile)) defaultIssuesOf.set(profile, own);
    }
    issues.push(...own.map((i) => ({ ...i })));
  }
  return issues;
}
