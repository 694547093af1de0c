/**
 * What the ingest checks of a decoded batch before and while it commits, as
 * plain functions: names a store can keep, readings stamped in a sane window,
 * and store errors the data caused turned into a refusal (never a stuck lane).
 */
import { ErrorCodes, LifelineError, RejectReason, type Reading, type SeriesColumns } from '@lifeline/shared';

/** Names a store keeps as text: no control characters (PostgreSQL refuses NUL; none belongs in an id). */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Refuse a batch naming a device, point or alarm with a control character, naming the item and the value. */
export function checkNames(items: readonly { device?: string; point?: string; alarmId?: string }[], what: string): void {
  // A batch repeats a few names many times (a backlog: 1,000 series in 20,000 readings): test each distinct one once.
  const fine = new Set<string>();
  const check = (v: unknown, i: number, field: string) => {
    if (typeof v !== 'string' || fine.has(v)) return;
    if (CONTROL.test(v)) {
      throw new LifelineError(ErrorCodes.PayloadInvalid, `${what}[${i}].${field}: control characters are not allowed, got ${JSON.stringify(v)}`, {
        details: { rejectReason: RejectReason.Malformed },
      });
    }
    fine.add(v);
  };
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    check(x.device, i, 'device');
    check(x.point, i, 'point');
    check(x.alarmId, i, 'alarmId');
  }
}

/** Readings with lo ≤ ts ≤ hi, how many were not, and the first of those (for the log). */
export function splitByWindow(readings: Reading[], lo: number, hi: number): { kept: Reading[]; dropped: number; first?: Reading } {
  let first: Reading | undefined;
  let dropped = 0;
  for (const r of readings) if (!(r.ts >= lo && r.ts <= hi)) (first ??= r), dropped++;
  return dropped ? { kept: readings.filter((r) => r.ts >= lo && r.ts <= hi), dropped, first } : { kept: readings, dropped: 0 };
}

/** splitByWindow for columns per series: a series with a stamp outside gets its columns filtered (a series wholly outside is left out). */
export function splitSeriesByWindow(series: SeriesColumns[], lo: number, hi: number): { kept: SeriesColumns[]; dropped: number; first?: { device: string; point: string; ts: number } } {
  let kept: SeriesColumns[] | undefined;
  let dropped = 0;
  let first: { device: string; point: string; ts: number } | undefined;
  for (let s = 0; s < series.length; s++) {
    const c = series[s];
    let out = 0;
    for (let i = 0; i < c.ts.length; i++) if (!(c.ts[i] >= lo && c.ts[i] <= hi)) out++;
    if (!out) {
      kept?.push(c);
      continue;
    }
    kept ??= series.slice(0, s);
    const keep: number[] = [];
    for (let i = 0; i < c.ts.length; i++) {
      if (c.ts[i] >= lo && c.ts[i] <= hi) keep.push(i);
      else first ??= { device: c.device, point: c.point, ts: c.ts[i] };
    }
    dropped += out;
    if (keep.length) kept.push({ device: c.device, point: c.point, ts: Float64Array.from(keep, (i) => c.ts[i]), value: Float64Array.from(keep, (i) => c.value[i]), quality: Uint8Array.from(keep, (i) => c.quality[i]) });
  }
  return { kept: kept ?? series, dropped, first };
}

/**
 * Run a commit; an error the data caused (PostgreSQL class 22 data exception,
 * 23 constraint, 54 limit) refuses the batch. Others pass on: the gateway resends.
 */
export async function refuseBadData<T>(commit: () => Promise<T>): Promise<T> {
  try {
    return await commit();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^(22|23|54)/.test(code)) {
      throw new LifelineError(ErrorCodes.PayloadInvalid, `the store refused the batch's data: ${(err as Error).message}`, { cause: err, details: { rejectReason: RejectReason.Malformed } });
    }
    throw err;
  }
}
