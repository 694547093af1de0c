/**
 * `node --import tsx bench/_storage-bound.ts [--data ../shared/data]` (not a `pnpm bench`: it needs `xz`):
 * how close the cold blocks come to what NAB's values allow (issue #19, docs/benchmarks.md "## storage").
 * For each NAB file, one day replayed at 1 s as the storage bench's codec sweep does (timestamps jittered
 * 0–15 ms, seed 42): the block's bytes per reading, and two estimates of the least a lossless codec
 * could store, each plus the timestamps' 0.5 B (uniform 0–15 ms jitter is exactly 4 bits):
 *   general   the smallest of xz -9e over the file's values as text, xz -9e over them as float64s and
 *             brotli -q 11 over the text: the whole file at once, so more context than a 600-reading frame has
 *   laplace   per 600-reading frame, the file's values as decimals m at the exponent that gives 99 % of
 *             them to within 1,024 ulps, the residuals of the best of m, deltas and second differences,
 *             costed under a discretised Laplace fitted to that frame (model and ulp corrections free)
 * Prints a Markdown table row per file and their means (the best of the two per file last).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, brotliCompressSync, constants } from 'node:zlib';
import { execSync } from 'node:child_process';
import { encodeBlock, prng } from '@lifeline/shared';
function files(dir: string): string[] { const out: string[] = []; for (const f of readdirSync(dir).sort()) { const p = join(dir, f); if (statSync(p).isDirectory()) out.push(...files(p)); else if (f.endsWith('.csv')) out.push(p); } return out; }
const args = process.argv.slice(2);
const dataDir = args.includes('--data') ? args[args.indexOf('--data') + 1] : join(import.meta.dirname, '../../shared/data');
const DAY = 86400;
const jitter = prng(42);
// Cost in bits of integers r under a discretised Laplace of scale b (mean |r - mu|), the model's parameters free.
function laplaceBits(r: number[]): number {
  const n = r.length; const s = [...r].sort((a, b) => a - b); const mu = s[n >> 1];
  let b = 0; for (const x of r) b += Math.abs(x - mu); b /= n;
  if (b === 0) return 0;
  const q = Math.exp(-1 / b); // geometric ratio; P(d) = (1-q)/(1+q) q^|d|
  let bits = 0; for (const x of r) bits -= Math.log2(((1 - q) / (1 + q)) * q ** Math.abs(x - mu));
  return bits;
}
let sumCur = 0, sumGen = 0, sumLap = 0, sumMin = 0;
const rows: string[] = [];
console.log('| file | values | k | block B/reading | general + ts | laplace + ts | best estimate |\n|---|---|---|---|---|---|---|');
for (const f of files(join(dataDir, 'nab', 'data'))) {
  const txt = readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1].trim());
  const vs = txt.map(Number);
  const t = Float64Array.from({ length: DAY }, (_, i) => i * 1000 + Math.floor(jitter() * 16));
  const v = Float64Array.from({ length: DAY }, (_, i) => vs[i % vs.length]);
  const cur = encodeBlock({ ts: t, values: v, quality: new Uint16Array(DAY) }, (x) => deflateRawSync(x, { level: 6 })).length / DAY;
  // General compressors over the file's whole value column (all of it as context, once): bytes per value.
  const text = Buffer.from(txt.join('\n'));
  const bin = Buffer.from(Float64Array.from(vs).buffer);
  const gen = Math.min(
    Number(execSync('xz -9e -c | wc -c', { input: text }).toString()),
    Number(execSync('xz -9e -c | wc -c', { input: bin }).toString()),
    brotliCompressSync(text, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 } }).length,
  ) / vs.length;
  // Per 600-value frame of the day: the file's decimals at the exponent most values need, residuals of
  // the better of deltas and 2nd-order prediction, costed under a Laplace fitted to the frame (ulp corrections free).
  // k: the decimal exponent that gives 99 % of the values to within 1,024 ulps (their printed digits).
  const ks = vs.map((x) => { let k = 0; while (k < 15 && Math.abs(x - Math.round(x * 10 ** k) / 10 ** k) > 1024 * Number.EPSILON * Math.abs(x)) k++; return k; }).sort((a, b) => a - b);
  const k = ks[Math.floor(0.99 * (ks.length - 1))];
  let lap = 0;
  for (let a = 0; a < DAY; a += 600) {
    const m = Array.from(v.subarray(a, a + 600), (x) => Math.round(x * 10 ** k));
    const d1 = m.map((x, i) => (i ? x - m[i - 1] : 0)).slice(1);
    const d2 = m.map((x, i) => (i > 1 ? x - 2 * m[i - 1] + m[i - 2] : 0)).slice(2);
    lap += Math.min(laplaceBits(d1), laplaceBits(d2), laplaceBits(m)) / 8;
  }
  lap /= DAY;
  sumCur += cur; sumGen += gen; sumLap += lap; sumMin += Math.min(gen, lap);
  rows.push(`| ${f.split('/').pop()!.replace('.csv', '')} | ${vs.length} | ${k} | ${cur.toFixed(2)} | ${(gen + 0.5).toFixed(2)} | ${(lap + 0.5).toFixed(2)} | ${(Math.min(gen, lap) + 0.5).toFixed(2)} |`);
}
const N = rows.length;
console.log(rows.join('\n'));
console.log(`| **mean of ${N}** | | | **${(sumCur / N).toFixed(3)}** | **${(sumGen / N + 0.5).toFixed(3)}** | **${(sumLap / N + 0.5).toFixed(3)}** | **${(sumMin / N + 0.5).toFixed(3)}** |`);
