/**
 * The alarm console's order and filters, pure so they are tested without a browser.
 * Order: unacknowledged red first (it stays on top until acknowledged), then by
 * level (red … blue), then active before the rest, then newest raised first.
 */
import type { Alarm } from './api.js';

export interface AlarmFilters {
  kind: string;
  district: string;
  grid: string;
  state: string;
}
export const NO_FILTERS: AlarmFilters = { kind: '', district: '', grid: '', state: 'open' };

const stateRank: Record<string, number> = { active_unacked: 0, cleared_unacked: 1, active_acked: 2, shelved: 3, suppressed: 4, out_of_service: 5, normal: 6 };

export function compareAlarms(a: Alarm, b: Alarm): number {
  const redA = a.level === 4 && a.state === 'active_unacked' ? 0 : 1;
  const redB = b.level === 4 && b.state === 'active_unacked' ? 0 : 1;
  return redA - redB || b.level - a.level || (stateRank[a.state] ?? 9) - (stateRank[b.state] ?? 9) || (b.raisedAt ?? b.since) - (a.raisedAt ?? a.since) || a.id - b.id;
}

/** `state`: '' all, 'open' anything but normal, or one state. `gridOf` finds an alarm's grid unit (from its device). */
export function filterAlarms(alarms: Alarm[], f: AlarmFilters, gridOf: (a: Alarm) => string | null | undefined): Alarm[] {
  return alarms
    .filter(
      (a) =>
        (!f.kind || (a.kind ?? '') === f.kind) &&
        (!f.district || (a.district ?? '') === f.district) &&
        (!f.grid || (gridOf(a) ?? '') === f.grid) &&
        (f.state === '' || (f.state === 'open' ? a.state !== 'normal' : a.state === f.state)),
    )
    .sort(compareAlarms);
}

/**
 * The transition that took the alarm to its level, whose cause says why it is (or was) that bad: the
 * last one that left normal or raised the level (an escalation from blue to red); an acknowledgement,
 * a shelving, a lowering or the clearing keep it. Like the API's `raisedCause`.
 */
export function levelTransition<T extends { from: string; to: string; level: number }>(history: T[]): T | undefined {
  let found: T | undefined;
  let level = 0;
  for (const h of history) {
    if (h.to !== 'normal' && h.level > 0 && (h.from === 'normal' || h.level > level)) found = h;
    level = h.to === 'normal' ? 0 : h.level;
  }
  return found ?? history[0];
}
