/**
 * The gateway's series dictionary for live ranges (wire version 2, docs/wire-protocol.md §7).
 *
 *   live range ─▶ plan() ─┬─ dictionary known by the cloud, readings fit ─▶ Live frame (a few bytes a reading)
 *                         └─ otherwise ─▶ a batch with names that defines the dictionary (again)
 *   Ack {dictionary: id} ─▶ known(id)          Reject UnknownDictionary(id) ─▶ forgotten(id)
 *   Reject UnsupportedVersion of a version 2 message ─▶ off for this run (an older cloud)
 *
 * The cloud keeps dictionaries in memory only; forgetting one costs a round trip,
 * never a reading, because a Live frame is committed only against a dictionary the
 * cloud holds and the gateway falls back to names whenever it is told it does not.
 * A new dictionary is made when a series appears, the seq or time offsets grow past
 * what a few bytes carry, or every `renewMs` (fresh reference values keep deltas small).
 */
import { LIVE_ORDER, LiveLimits, codecFor, encodeLive, type DictionarySeries, type Reading, type SeriesDictionary } from '@lifeline/shared';

/** Tuning of the dictionary; the defaults suit the demo site. */
export interface LiveDictionaryOptions {
  /** Make a new dictionary (fresh reference values) after this long, ms (default 10 min). */
  renewMs?: number;
  /** Make a new dictionary when a frame's seq offset passes this (default 16,383: two bytes). */
  maxSeqOffset?: number;
  /** Recent values kept per series to choose its decimal scale (default 32). */
  history?: number;
  /** Ranges with more readings go as ordinary batches (default 256). */
  maxReadings?: number;
}

/** What to send for a live range. */
export type LivePlan = { kind: 'live'; payload: Uint8Array; dictionary: number } | { kind: 'define'; dictionary: SeriesDictionary } | { kind: 'plain' };

/** Ids this gateway uses: 1 … 2^14 − 1, two bytes on the wire. */
const MAX_ID = 16_383;

/** Least age of a dictionary replaced only to improve order or scale, ms. */
const MIN_RENEW_MS = 60_000;

const keyOf = (r: { device: string; point: string }) => `${r.device}\u0000${r.point}`;

export class LiveDictionary {
  /** The dictionary in use (undefined before the first live range). */
  current?: SeriesDictionary;
  /** Whether the cloud has acknowledged `current`. */
  known = false;
  /** False once an older cloud refused version 2: every range goes as version 1 for this run. */
  enabled = true;
  /** Counters for the status and tests. */
  readonly counters = { defined: 0, liveFrames: 0, forgotten: 0 };
  private nextId: number;
  private renewSoon = false;
  private readonly recent = new Map<string, number[]>();
  /** [firstSeq, ts] of recent live ranges: the seq rate for the timestamp prediction. */
  private readonly marks: Array<[number, number]> = [];
  private readonly renewMs: number;
  private readonly maxSeqOffset: number;
  private readonly history: number;
  private readonly maxReadings: number;

  constructor(
    private readonly epoch: number | undefined,
    opts: LiveDictionaryOptions = {},
    random: () => number = Math.random,
  ) {
    this.renewMs = opts.renewMs ?? 600_000;
    this.maxSeqOffset = Math.min(opts.maxSeqOffset ?? 16_383, LiveLimits.maxSeqOffset);
    this.history = opts.history ?? 32;
    this.maxReadings = Math.min(opts.maxReadings ?? 256, LiveLimits.maxReadings);
    // A random first id: a frame of an earlier run still in flight is unlikely to name this run's id.
    this.nextId = 1 + Math.floor(random() * (MAX_ID - 1));
  }

  /** What to send for the range firstSeq.. of `readings` (no holes, no gaps). */
  plan(firstSeq: number, readings: Reading[]): LivePlan {
    if (!this.enabled || readings.length === 0 || readings.length > this.maxReadings) return { kind: 'plain' };
    this.marks.push([firstSeq, readings[0].ts]);
    while (this.marks.length > 2 && this.marks[0][1] < readings[0].ts - 120_000) this.marks.shift();
    for (const r of readings) {
      const k = keyOf(r);
      let h = this.recent.get(k);
      if (!h) this.recent.set(k, (h = []));
      h.push(r.value);
      if (h.length > this.history) h.shift();
    }
    const cur = this.current;
    // A better order or scale is worth a new dictionary at most once a minute (a poll whose order varies must not churn).
    const better = this.renewSoon && cur !== undefined && readings[0].ts - cur.t0 >= MIN_RENEW_MS;
    if (!cur || better || !this.fits(cur, firstSeq, readings)) return this.define(firstSeq, readings);
    if (!this.known) return { kind: 'define', dictionary: cur };
    const payload = encodeLive(cur, { firstSeq, readings });
    if (!payload) return this.define(firstSeq, readings);
    // Out of dictionary order (an order column) or a value the scale missed: a better dictionary next time.
    if (payload[0] & LIVE_ORDER || this.misfit(cur, readings)) this.renewSoon = true;
    this.counters.liveFrames++;
    return { kind: 'live', payload, dictionary: cur.id };
  }

  /** The cloud holds dictionary `id`. */
  acknowledged(id: number): void {
    if (this.current?.id === id) this.known = true;
  }

  /** The cloud does not hold dictionary `id` (it restarted, or another worker got the definition). */
  forgotten(id: number): void {
    if (this.current?.id !== id) return;
    this.known = false;
    this.counters.forgotten++;
  }

  /** µs per seq over the last two minutes of live ranges (0 before there are two). */
  private period(firstSeq: number, ts: number): number {
    const [s0, t0] = this.marks[0];
    if (firstSeq <= s0 || ts <= t0) return 0;
    return Math.min(3_600_000_000, Math.round(((ts - t0) * 1000) / (firstSeq - s0)));
  }

  private fits(d: SeriesDictionary, firstSeq: number, readings: Reading[]): boolean {
    const seqOff = firstSeq - d.seq0;
    if (seqOff < 0 || seqOff > this.maxSeqOffset) return false;
    const dt = readings[0].ts - d.t0;
    if (dt < 0 || dt > this.renewMs) return false;
    const names = new Set(d.series.map(keyOf));
    return readings.every((r) => names.has(keyOf(r)));
  }

  private misfit(d: SeriesDictionary, readings: Reading[]): boolean {
    const codec = new Map(d.series.map((s) => [keyOf(s), s.codec]));
    return readings.some((r) => Number.isFinite(r.value) && codec.get(keyOf(r))?.kind === 'decimal' && r.quality === undefined && !sameScale(r.value, codec.get(keyOf(r))!));
  }

  /** A new dictionary: this range's series in its order, the others kept where they were. */
  private define(firstSeq: number, readings: Reading[]): LivePlan {
    const order: string[] = [];
    const seen = new Set<string>();
    for (const r of readings) {
      const k = keyOf(r);
      if (!seen.has(k)) {
        seen.add(k);
        order.push(k);
      }
    }
    const old = this.current?.series.map(keyOf) ?? [];
    for (let i = 0; i < old.length; i++) {
      if (seen.has(old[i])) continue;
      let at = 0;
      for (let j = i - 1; j >= 0; j--) {
        const p = order.indexOf(old[j]);
        if (p >= 0) {
          at = p + 1;
          break;
        }
      }
      order.splice(at, 0, old[i]);
      seen.add(old[i]);
    }
    if (order.length > LiveLimits.maxSeries) return { kind: 'plain' };
    const series: DictionarySeries[] = order.map((k) => {
      const [device, point] = k.split('\u0000');
      return { device, point, codec: codecFor(this.recent.get(k) ?? []) };
    });
    const id = this.nextId;
    this.nextId = id >= MAX_ID ? 1 : id + 1;
    this.current = { id, t0: readings[0].ts, seq0: firstSeq, period: this.period(firstSeq, readings[0].ts), series, ...(this.epoch !== undefined ? { epoch: this.epoch } : {}) };
    this.known = false;
    this.renewSoon = false;
    this.counters.defined++;
    return { kind: 'define', dictionary: this.current };
  }
}

/** Whether the decimal codec carries `v` exactly (else it travels as a float64 special). */
function sameScale(v: number, codec: DictionarySeries['codec']): boolean {
  if (codec.kind !== 'decimal') return true;
  const p = 10 ** codec.k;
  const m = Math.round(v * p);
  return (codec.mul ? m * Number(`1e-${codec.k}`) : m / Number(`1e${codec.k}`)) === v;
}
