import { describe, expect, it } from 'vitest';
import { decodeLive, prng, type Reading } from '@lifeline/shared';
import { LiveDictionary } from './live-dictionary.js';

const T0 = 1_764_000_000_000;
const tick = (t: number, extra = false, swap = false): Reading[] => {
  const rs: Reading[] = [
    { device: 'f', point: 'level', ts: T0 + t * 1000, value: (2400 + (t % 3)) * 0.001 },
    { device: 'p', point: 'pressure', ts: T0 + t * 1000 + 20, value: (330 + (t % 2)) * 0.001 },
  ];
  if (extra) rs.push({ device: 'l', point: 'voltage', ts: T0 + t * 1000 + 40, value: 228.1 });
  return swap ? rs.reverse() : rs;
};

describe('LiveDictionary', () => {
  it('defines, goes live once acknowledged, grows for a new series, and defines again when forgotten', () => {
    const d = new LiveDictionary(9, {}, prng(1));
    let seq = 1;
    const plan = (rs: Reading[]) => {
      const p = d.plan(seq, rs);
      seq += rs.length;
      return p;
    };
    const first = plan(tick(0));
    expect(first.kind).toBe('define');
    expect(plan(tick(1)).kind).toBe('define'); // not acknowledged yet: names again
    d.acknowledged(d.current!.id);
    const live = plan(tick(2));
    expect(live.kind).toBe('live');
    if (live.kind === 'live') expect(decodeLive(live.payload, 'gw', () => d.current).readings).toEqual(tick(2));
    const grown = plan(tick(3, true));
    expect(grown.kind).toBe('define');
    if (grown.kind === 'define') expect(grown.dictionary.series.map((s) => s.point)).toEqual(['level', 'pressure', 'voltage']);
    d.acknowledged(d.current!.id);
    expect(plan(tick(4)).kind).toBe('live');
    d.forgotten(d.current!.id);
    expect(plan(tick(5)).kind).toBe('define');
    expect(d.counters.forgotten).toBe(1);
  });

  it('does not churn when the poll order varies: frames carry an order column, a new dictionary comes at most once a minute', () => {
    const d = new LiveDictionary(undefined, {}, prng(2));
    let seq = 1;
    let defines = 0;
    for (let t = 0; t < 300; t++) {
      const rs = tick(t, true, t % 2 === 1);
      const p = d.plan(seq, rs);
      seq += rs.length;
      if (p.kind === 'define') {
        defines++;
        d.acknowledged(p.dictionary.id);
      }
    }
    expect(defines).toBeLessThanOrEqual(6);
  });

  it('sends plain batches when turned off (an older cloud)', () => {
    const d = new LiveDictionary(1);
    d.enabled = false;
    expect(d.plan(1, tick(0)).kind).toBe('plain');
  });
});
