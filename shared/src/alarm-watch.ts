/**
 * The yellow watch (issue 17): the multivariate detector's provisional raise, which its orange
 * alarm confirms within 30 s or which is withdrawn. It travels as an ordinary alarm transition
 * (the wire format is unchanged, so an older cloud still takes it); what marks it is the cause the
 * detector writes, whose shapes are fixed here and checked against the detector's own output
 * (edge/src/detect/multivariate.test.ts), like their Chinese forms (cause-zh.ts).
 *
 *   cause ─▶ watchStage ─▶ 'raised'    "<point> <value> has been beyond its learned band … (CUSUM; watch at …"
 *                       ├─▶ 'withdrawn' "<point> watch withdrawn: not confirmed …" or "…: <device> not answering"
 *                       └─▶ null        anything else (the orange alarm that confirms a watch included)
 *
 * Receivers that page a person (SMS) are not told of a watch nor of its withdrawal: a watch is
 * "something may be starting", and a duty officer is woken by the alarm that confirms it.
 */

/** Where a transition stands in a watch's life, by its cause; null when it is no watch. */
export type WatchStage = 'raised' | 'withdrawn';

const RAISED = /^\S+ \S+ has been beyond its learned band and its excess has piled up to [\d.]+ \(CUSUM; watch at /;
const WITHDRAWN = /^\S+ watch withdrawn: (not confirmed |\S+ not answering$)/;

/** The watch stage a transition's cause tells, or null. */
export function watchStage(cause: string): WatchStage | null {
  if (WITHDRAWN.test(cause)) return 'withdrawn';
  if (RAISED.test(cause)) return 'raised';
  return null;
}
