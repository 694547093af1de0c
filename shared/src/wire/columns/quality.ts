/** The quality column of one series: run-length (code, run) pairs. */
import { ByteReader, ByteWriter } from '../bytes.js';

/**
 * Quality codes on the wire: 0 = absent (Good implied), 1 + Quality otherwise
 * (1 Good, 2 Uncertain, 3 Bad).
 */
export const MAX_QUALITY_CODE = 3;

/** Writes the run-length quality block; no runs at all means every quality is absent. */
export function writeQuality(w: ByteWriter, codes: ArrayLike<number>): void {
  let any = false;
  for (let i = 0; i < codes.length; i++) if (codes[i] !== 0) any = true;
  if (!any) {
    w.uvarint(0);
    return;
  }
  const runs: number[] = [];
  let start = 0;
  for (let i = 1; i <= codes.length; i++) {
    if (i === codes.length || codes[i] !== codes[start]) {
      runs.push(codes[start], i - start);
      start = i;
    }
  }
  w.uvarint(runs.length / 2);
  for (let i = 0; i < runs.length; i += 2) {
    w.byte(runs[i]);
    w.uvarint(runs[i + 1]);
  }
}

/** Reads the quality block of `n` readings into codes (0 = absent). */
export function readQuality(r: ByteReader, n: number, label: string): Uint8Array {
  const codes = new Uint8Array(n);
  readRunsInto(r, n, label, 0, n, codes);
  return codes;
}

/**
 * Reads a run-length column of n codes (the quality column's form; also a cold block's null runs)
 * into `out` for readings a..b−1 only; counts the non-zero codes before a, inside a..b−1 and in all.
 */
export function readRunsInto(r: ByteReader, n: number, label: string, a: number, b: number, out: Uint8Array | Uint16Array): { before: number; inside: number; total: number } {
  const nRuns = r.count(`${label}.quality.runs`, n, 2);
  let at = 0;
  let before = 0;
  let inside = 0;
  let total = 0;
  for (let i = 0; i < nRuns; i++) {
    const codeAt = r.pos;
    const code = r.byte(`${label}.quality.code`);
    if (code > MAX_QUALITY_CODE) r.fail(`${label}.quality.code`, `unknown quality code ${code}`, codeAt);
    const lenAt = r.pos;
    const len = r.uvarint(`${label}.quality.run`, n);
    if (len < 1 || at + len > n) r.fail(`${label}.quality.run`, `run of ${len} does not fit the series' ${n - at} remaining readings`, lenAt);
    if (code) {
      total += len;
      const lo = Math.max(at, a);
      const hi = Math.min(at + len, b);
      before += Math.max(0, Math.min(at + len, a) - at);
      if (lo < hi) {
        inside += hi - lo;
        out.fill(code, lo - a, hi - a);
      }
    }
    at += len;
  }
  if (nRuns && at !== n) r.fail(`${label}.quality.runs`, `runs cover ${at} readings, the series has ${n}`);
  return { before, inside, total };
}
