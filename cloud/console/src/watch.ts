/**
 * The multivariate detector's yellow watch (docs/alarms.md#the-yellow-watch) as the console shows it:
 * 观察中 (watch) instead of 未确认, with a line saying that it needs no action yet. A watch is told by
 * the cause that set its level (shared/src/alarm-watch.ts), like the cloud's notifications tell it.
 */
import { watchStage } from '@lifeline/shared/alarm-watch';
import { t, tState } from './i18n/index.js';

/** Whether an alarm at `level` in `state`, whose level was set by `cause`, is a yellow watch still waiting. */
export function isWatch(a: { level: number; state: string }, cause: string): boolean {
  return a.level === 2 && (a.state === 'active_unacked' || a.state === 'active_acked') && watchStage(cause) === 'raised';
}

/** An alarm's state as a row shows it: 观察中 and its explanation (a tooltip) for a watch, else the state's name. */
export function alarmState(a: { level: number; state: string }, cause: string): { text: string; hint?: string } {
  if (!isWatch(a, cause)) return { text: tState(a.state) };
  // Acknowledged, it stays a watch until confirmed or withdrawn; the row still says it was acknowledged.
  return { text: a.state === 'active_acked' ? `${t('state.watch')} · ${tState(a.state)}` : t('state.watch'), hint: t('alarm.watchHint') };
}
