/**
 * Bench-only experiment (docs/detection-results.md, "NAB: nested cross-validation"): a
 * simplified contextual sequence memory after the published description of CAD OSE
 * (Smirnov & Kabanov's Contextual Anomaly Detector): contexts of past "facts" predict the
 * next ones; the anomaly is the share of the current facts no active context predicted; a
 * rest period follows an alarm. Not a detector of the agent. Settings fixed before it ran:
 *
 *     value ─▶ level q ∈ 0..31 on the declared range (the file's min/max, NAB's input range)
 *     facts of a row: q and the change of level (q − q_prev)
 *     contexts: the facts of the last 1, 2 and 3 rows; the longest one seen so far decides
 *     raw = share of the row's 2 facts that context never saw next (1: no context seen)
 *     rest: after raw ≥ 0.75, the next probation/5 rows score 0
 *     memory: ≤ 20,000 contexts (then no new ones)
 */
import type { NabData } from './_nab.js';
import { probationRows } from './score/nab.js';

const LEVELS = 32;
const ORDERS = 3;
const MAX_CONTEXTS = 20_000;
const BASE = 0.75;

export function cadScores(f: NabData): Float64Array {
  const n = f.value.length;
  let min = Infinity;
  let max = -Infinity;
  for (const v of f.value) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min || 1;
  const rest = Math.floor(probationRows(n) / 5);
  const probation = probationRows(n);
  // context key (the last k rows' facts) → the facts seen next (level as L, change as 1000 + d)
  const memory = new Map<string, Set<number>>();
  const hist: number[] = []; // fact pairs of past rows, flattened: level, change
  const out = new Float64Array(n);
  let prevQ = -1;
  let restUntil = -1;
  for (let i = 0; i < n; i++) {
    const q = Math.max(0, Math.min(LEVELS - 1, Math.round(((f.value[i] - min) / span) * (LEVELS - 1))));
    const d = prevQ < 0 ? 0 : q - prevQ;
    prevQ = q;
    const facts = [q, 1000 + d];
    let raw = 1;
    const rows = hist.length / 2;
    for (let k = Math.min(ORDERS, rows); k >= 1; k--) {
      const seen = memory.get(hist.slice(hist.length - 2 * k).join(','));
      if (seen) {
        raw = facts.filter((x) => !seen.has(x)).length / facts.length;
        break;
      }
    }
    for (let k = 1; k <= Math.min(ORDERS, rows); k++) {
      const key = hist.slice(hist.length - 2 * k).join(',');
      let seen = memory.get(key);
      if (!seen && memory.size < MAX_CONTEXTS) memory.set(key, (seen = new Set()));
      if (seen) for (const x of facts) seen.add(x);
    }
    hist.push(q, 1000 + d);
    if (hist.length > 2 * ORDERS) hist.splice(0, 2);
    if (i < probation || i <= restUntil) continue;
    out[i] = raw;
    if (raw >= BASE) restUntil = i + rest;
  }
  return out;
}
