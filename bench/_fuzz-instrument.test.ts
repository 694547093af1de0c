/**
 * The edge counters of bench/_fuzz-instrument.ts: each arm of a branch gets its own
 * probe, a probe counts once, and the instrumented code computes what the original did.
 */
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { COV_HITS, COV_MAP, COV_SIZE, instrument } from './_fuzz-instrument.js';

const source = `
  class Base { constructor(public k: number) {} }
  class Derived extends Base { constructor() { super(2); } }
  function classify(x: number, s?: string): string {
    let out = '';
    if (x > 10) out += 'big'; else if (x < 0) out += 'neg';
    if (x === 3) { out += 'three'; }
    switch (x % 3) { case 0: out += 'z'; break; case 1: out += 'o'; break; default: out += 'd'; }
    out += x % 2 ? 'odd' : 'even';
    out += (s && s.length) ?? 'none';
    for (let i = 0; i < x && i < 2; i++) out += i;
    try { if (x === 7) throw new Error('seven'); } catch { out += '!'; }
    const f = (y: number): number => y * new Derived().k;
    return out + f(x);
  }
  return classify;
`;

function load(firstId = 0): { fn: (x: number, s?: string) => string; probes: number } {
  const { code, probes } = instrument(source, 'sample.ts', firstId);
  return { fn: new Function(code)() as (x: number, s?: string) => string, probes };
}

const g = globalThis as unknown as Record<string, unknown>;
afterEach(() => {
  delete g[COV_MAP];
  delete g[COV_HITS];
});

describe('fuzz instrumentation (edge counters)', () => {
  it('computes what the original code computes', () => {
    g[COV_MAP] = new Uint8Array(COV_SIZE);
    g[COV_HITS] = new Int32Array(1);
    const { fn } = load();
    const plain = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
    const original = new Function(plain)() as (x: number, s?: string) => string;
    expect(plain).not.toContain(COV_MAP);
    for (const [x, s] of [[12, 'ab'], [-4, undefined], [3, ''], [7, 'x'], [0, undefined]] as const) expect(fn(x, s)).toBe(original(x, s));
  });

  it('counts each branch arm once, the first time it runs, and a new arm only when one runs', () => {
    const map = new Uint8Array(COV_SIZE);
    const hits = new Int32Array(1);
    g[COV_MAP] = map;
    g[COV_HITS] = hits;
    const { fn, probes } = load(100);
    // if/else ×2 (the second with an implicit else) ×2 arms, the nested if's arms, 3 cases, ternary, &&, ??, loop, throw-if, catch, 5 functions…
    expect(probes).toBeGreaterThan(20);
    expect(map.subarray(0, 100).every((b) => b === 0)).toBe(true);
    fn(12, 'ab');
    const first = hits[0];
    expect(first).toBeGreaterThan(5);
    fn(12, 'ab');
    expect(hits[0]).toBe(first); // the same path: nothing new
    fn(-5);
    const second = hits[0];
    expect(second).toBeGreaterThan(first); // the negative arm, ?? 'none'
    fn(7, 'q');
    expect(hits[0]).toBeGreaterThan(second); // the throw and the catch
    expect(map.reduce((a, b) => a + b, 0)).toBe(hits[0]);
    expect(hits[0]).toBeLessThanOrEqual(probes);
  });
});
