/**
 * Chattering suppression (ISA-18.2): an alarm raised `chatter.count` times within
 * `chatter.windowMs` is suppressed until it has not been raised for `chatter.releaseMs`.
 * Its raise times live in the record (`raises`), so they survive a restart.
 *
 *   raise ─▶ noteRaise (record.raises) ─▶ chatters? ─▶ suppressed ('chatter')
 *   tick  ─▶ chatterQuietFor ─▶ quiet long enough ─▶ released (the manager)
 */
import type { ResolvedAlarmsConfig } from './config.js';
import { formatDuration } from './duration.js';
import { pushWindow } from './raise-window.js';
import type { AlarmRecord } from './types.js';

type ChatterConfig = ResolvedAlarmsConfig['chatter'];

/** Records a raise of `rec` at `ts` in its own window. */
export function noteRaise(rec: AlarmRecord, ts: number, chatter: ChatterConfig): void {
  pushWindow(rec.raises, ts, chatter.windowMs, chatter.count);
}

/** Whether `rec` has been raised often enough within the window to be suppressed as chattering. */
export function chatters(rec: AlarmRecord, chatter: ChatterConfig): boolean {
  return chatter.enabled && rec.raises.length >= chatter.count;
}

/** The cause recorded when `rec` is suppressed as chattering. */
export function chatterCause(rec: AlarmRecord, chatter: ChatterConfig, cause: string): string {
  return `chattering: raised ${rec.raises.length} times within ${formatDuration(chatter.windowMs)}, suppressed until quiet for ${formatDuration(chatter.releaseMs)}; ${cause}`;
}

/**
 * For an alarm suppressed as chattering: how long it has not been raised at `now`,
 * when that is long enough to release it; null while it must stay suppressed.
 */
export function chatterQuietFor(rec: AlarmRecord, now: number, chatter: ChatterConfig): number | null {
  const last = rec.raises.length ? rec.raises[rec.raises.length - 1] : -Infinity;
  return last <= now - chatter.releaseMs ? now - last : null;
}
