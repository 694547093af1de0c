/** What the concern contracts share: a fresh store per test, fixed times, series and transitions, the reference downsampler. */
import { afterEach, beforeEach, describe } from 'vitest';
import type { AlarmTransition, Reading } from '@lifeline/shared';
import type { Store } from '../../../src/store/store.js';

/**
 * Makes a fresh, migrated store; `cleanup` closes and removes it. `reopen` opens another store on
 * the same file or schema (a restarted cloud, or a second cloud process); the caller closes it.
 */
export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void>; reopen: () => Promise<Store> }>;

export const T0 = Date.UTC(2026, 10, 20, 10, 0, 0); // a fixed past day

export function series(device: string, point: string, from: number, n: number, everyMs: number, f: (i: number) => number): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device, point, ts: from + i * everyMs, value: f(i) }));
}

export function transition(seq: number, alarmId: string, from: AlarmTransition['from'], to: AlarmTransition['to'], level: number, ts: number, device = 'flood-1'): AlarmTransition {
  return { kind: 'alarm', seq, alarmId, device, point: 'water_level', ts, from, to, level, detector: 'threshold', cause: `water_level ${to}`, value: 3.2 + seq / 100 };
}

/** Naive downsampling in JS, the reference the stores must match. */
export function naive(rows: Reading[], from: number, to: number, step: number) {
  const m = new Map<number, number[]>();
  for (const r of rows) {
    if (r.ts < from || r.ts > to) continue;
    const b = Math.floor((r.ts - from) / step);
    if (!m.has(b)) m.set(b, []);
    if (Number.isFinite(r.value)) m.get(b)!.push(r.value);
  }
  return [...m.entries()]
    .filter(([, v]) => v.length > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([b, v]) => ({ ts: from + b * step, min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null, count: v.length, mean: v.length ? v.reduce((s, x) => s + x, 0) / v.length : null }));
}

/**
 * A describe block whose tests each get a fresh store from `factory`: `body`
 * receives a stand-in that forwards to the current test's store.
 */
export function contractSuite(title: string, factory: StoreFactory, body: (store: Store) => void): void {
  describe(title, () => {
    let current: Store | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    beforeEach(async () => {
      ({ store: current, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup?.();
    });
    body(
      new Proxy({} as Store, {
        get: (_t, p) => {
          const v = Reflect.get(current!, p) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(current) : v;
        },
      }),
    );
  });
}

/** Telemetry reads that the compressed variant precedes with a compaction. */
const READS = new Set<PropertyKey>(['readings', 'downsample', 'activeMinutes', 'activeMinutesBetween', 'gapTotals', 'listGaps', 'seriesPoints']);

/**
 * The same stores, but every telemetry read first compresses every day there is (as if a month
 * had passed): run against it, a read contract checks the answers hot rows and cold blocks give
 * are the same (a compressed day must answer exactly as it did hot).
 */
export function compressedBeforeReads(factory: StoreFactory): StoreFactory {
  return async () => {
    const f = await factory();
    const t = f.store.telemetry;
    const telemetry = new Proxy(t, {
      get: (o, p) => {
        const v = Reflect.get(o, p, o) as unknown;
        if (typeof v !== 'function') return v;
        const fn = v as (...a: unknown[]) => unknown;
        if (!READS.has(p)) return fn.bind(o);
        return async (...a: unknown[]) => {
          await o.compact(Date.now() + 30 * 86_400_000);
          return fn.apply(o, a);
        };
      },
    });
    const store = new Proxy(f.store, {
      get: (s, p) => {
        if (p === 'telemetry') return telemetry;
        const v = Reflect.get(s, p, s) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(s) : v;
      },
    });
    return { ...f, store };
  };
}
