/**
 * Probe: the ingest's CPU work on a 100,000-reading run of the drain's shape before its COPY
 * (checkNames, groupBySeries, orderBatch), two checkouts side by side, alternating, 40 rounds each.
 *   node --import tsx bench/_drain-prep-probe.ts <before checkout> <after checkout>
 * Prints the medians (first 10 rounds dropped as warm-up) in ms and before / after.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const [before, after] = process.argv.slice(2);
if (!before || !after) throw new Error('usage: bench/_drain-prep-probe.ts <before checkout> <after checkout>');
const T0 = 1_764_000_000_000;
const readings: { device: string; point: string; ts: number; value: number }[] = [];
for (let round = 0; round < 100; round++) for (let s = 0; s < 1000; s++) readings.push({ device: `dev-${(s / 10) | 0}`, point: `p${s % 10}`, ts: T0 + round * 1000, value: Math.round(1000 + 100 * Math.sin(round / 60 + s)) / 100 });
const load = async (root: string) => ({
  batch: await import(pathToFileURL(`${root}/cloud/src/store/sql-batch.ts`).href),
  checks: await import(pathToFileURL(`${root}/cloud/src/ingest/batch-checks.ts`).href),
});
const sides = { main: await load(resolve(before)), branch: await load(resolve(after)) };
const times: Record<string, number[]> = { main: [], branch: [] };
for (let i = 0; i < 40; i++) {
  for (const name of (i % 2 ? ['main', 'branch'] : ['branch', 'main']) as ('main' | 'branch')[]) {
    const { batch, checks } = sides[name];
    const t = performance.now();
    checks.checkNames(readings, 'readings');
    const g = batch.groupBySeries(readings);
    batch.orderBatch(readings, g, g.names.map((_: unknown, k: number) => k + 1));
    times[name].push(performance.now() - t);
  }
}
const med = (a: number[]) => a.slice(10).sort((x, y) => x - y)[Math.floor((a.length - 10) / 2)];
console.log(JSON.stringify({ before_ms: Math.round(med(times.main) * 10) / 10, after_ms: Math.round(med(times.branch) * 10) / 10, ratio: Math.round((med(times.main) / med(times.branch)) * 100) / 100 }));
