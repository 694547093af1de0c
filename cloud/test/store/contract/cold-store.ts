/**
 * The cold tier's contract (sql-cold.ts): compressed days answer every read as they did hot,
 * late data merges into a compressed day once, compaction races ingest without losing or
 * doubling a reading, retention drops blocks, and storage is reported per day and district.
 */
import { expect, it } from 'vitest';
import { blockFrames, encodeBlock, prng, type Reading } from '@lifeline/shared';
import type { Store } from '../../../src/store/store.js';
import { contractSuite, naive, series, type StoreFactory } from './fixtures.js';

const DAY = 86_400_000;
/** Three whole UTC days well in the past (inside the default retention). */
const D0 = (Math.floor(Date.now() / DAY) - 10) * DAY;
const P = { gateway: 'gw-cold', device: 'gauge-1', point: 'level' };
const all = (store: Store, from = 0, to = D0 + 30 * DAY, limit = 1_000_000) => store.telemetry.readings({ ...P, from, to, limit });

/** Two days and a bit at 10 s with bad readings, quality flags and an hour missing, and a second point. */
function twoDays(): Reading[] {
  const rs = series(P.device, P.point, D0 + 3_600_000 + 250, 2 * 8_640 + 500, 10_000, (i) => Math.round((2 + Math.sin(i / 90) + (i % 13) / 100) * 1000) / 1000);
  for (let i = 500; i < 560; i++) Object.assign(rs[i], { value: NaN, quality: 2 });
  for (let i = 700; i < 720; i++) rs[i].quality = 1;
  const kept = rs.filter((_, i) => i < 4_000 || i >= 4_360);
  return [...kept, ...series(P.device, 'flow', D0 + 1000, 3000, 20_000, (i) => i * 0.1)];
}

async function commitAll(store: Store, rs: Reading[], gateway = P.gateway, epoch = 0, chunk = 7_777): Promise<void> {
  for (let i = 0; i < rs.length; i += chunk) {
    const part = rs.slice(i, i + chunk);
    await store.telemetry.commitTelemetry({ gateway, epoch, firstSeq: i + 1, lastSeq: i + part.length, readings: part });
  }
}

export function coldContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: cold storage`, factory, (store) => {
    it('answers raw ranges, limits and downsampling the same after the days are compressed', async () => {
      const rs = twoDays();
      await commitAll(store, rs, P.gateway, 0, 777);
      const ranges: [number, number, number][] = [
        [0, D0 + 10 * DAY, 1_000_000],
        [D0 + 86_000_000, D0 + 86_800_000, 1_000_000], // across midnight
        [D0 + 3_600_000, D0 + 3 * DAY, 5_000], // a limit inside the first frame's neighbours
        [D0 + 86_399_999, D0 + 86_400_000, 10],
      ];
      const steps: [number, number, number][] = [
        [D0 - 17_000, D0 + 3 * DAY, 600_000],
        [D0 + 1_234, D0 + 2 * DAY + 77, 259_200_000 / 1000 + 7], // ~1,000 buckets, edges cutting minutes
        [D0 + 86_000_000, D0 + 86_900_000, 7_000],
        [D0, D0 + 3 * DAY, 3_600_000],
      ];
      const read = async () => ({
        raw: await Promise.all(ranges.map(([from, to, limit]) => store.telemetry.readings({ ...P, from, to, limit }))),
        ds: await Promise.all(steps.map(([from, to, step]) => store.telemetry.downsample({ ...P, from, to, step }))),
        flow: await store.telemetry.readings({ ...P, point: 'flow', from: 0, to: D0 + 10 * DAY, limit: 10_000 }),
        active: await store.telemetry.activeMinutesBetween(D0, D0 + 3 * DAY),
      });
      const hot = await read();
      expect(hot.raw[0]).toHaveLength(rs.length - 3000);
      const done = await store.telemetry.compact(D0 + 5 * DAY);
      expect(done.readings).toBe(rs.length);
      expect(done.seriesDays).toBe(3 + 1); // level: three days; flow: one
      const cold = await read();
      expect(cold.raw.map((r) => r.length)).toEqual(hot.raw.map((r) => r.length));
      // Compared as text (fast on 170,000 readings); NaN, readings without a value, print alike on both sides.
      cold.raw.forEach((r, i) => expect(JSON.stringify(r) === JSON.stringify(hot.raw[i])).toBe(true));
      cold.ds.forEach((buckets, i) => {
        expect(buckets.map((b) => [b.ts, b.count, b.min, b.max])).toEqual(hot.ds[i].map((b) => [b.ts, b.count, b.min, b.max]));
        buckets.forEach((b, k) => expect(b.mean).toBeCloseTo(hot.ds[i][k].mean, 9));
      });
      // And against the reference downsampler on the readings themselves.
      const level = rs.filter((r) => r.point === P.point);
      const [from, to, step] = steps[1];
      expect(cold.ds[1].map((b) => b.count)).toEqual(naive(level, from, to, step).map((b) => b.count));
      expect(cold.flow).toEqual(hot.flow);
      expect(cold.active).toEqual(hot.active);
      // Nothing is left in rows: the storage report counts every reading in blocks, under 2 bytes each.
      const report = await store.telemetry.storage(D0, D0 + 3 * DAY);
      const sum = (k: 'hot' | 'cold', f: 'readings' | 'bytes') => report.days.reduce((a, d) => a + d[k][f], 0);
      expect(sum('hot', 'readings')).toBe(0);
      expect(sum('cold', 'readings')).toBe(rs.length);
      expect(sum('cold', 'bytes') / rs.length).toBeLessThan(2);
      // A second run has nothing to do.
      expect(await store.telemetry.compact(D0 + 5 * DAY)).toEqual({ seriesDays: 0, readings: 0, bytes: 0, failed: [] });
    });

    it('answers cut-minute downsampling the same from bit-packed frames (jittered 1 s float32 signal)', async () => {
      const rand = prng(19);
      let level = 0.32;
      // Half a day at 1 s, stamped 0–15 ms late like a poller's, a noisy float32 register, a few readings without a value.
      const rs = series(P.device, 'strain', D0 + 7_000, 43_200, 1000, () => Math.fround((level += (rand() - 0.5) / 1e4) + (rand() - 0.5) * 0.004));
      rs.forEach((r, i) => {
        r.ts += Math.floor(rand() * 16);
        if (i % 5_000 === 17) Object.assign(r, { value: NaN, quality: 2 });
      });
      // The form the store's blocks take for such a day: frames stored bit-packed, not deflated.
      const block = encodeBlock({ ts: Float64Array.from(rs, (r) => r.ts), values: Float64Array.from(rs, (r) => r.value), quality: new Uint16Array(rs.length) });
      expect(blockFrames(block).frames.filter((f) => !f.deflated).length).toBeGreaterThan(blockFrames(block).frames.length / 2);
      await commitAll(store, rs);
      const q = { ...P, point: 'strain' };
      const steps: [number, number, number][] = [
        // Steps of 10 minutes and more read whole minutes from the rollup and only the cut ones raw; steps
        // longer than a frame (600 readings) leave one cut minute per frame, decoded alone.
        [D0 + 1_234, D0 + 1_234 + 24 * 1_800_013 - 1, 1_800_013], // 24 buckets over the half day: every edge cuts a minute
        [D0 + 60_500, D0 + 6 * 3_600_000, 600_007],
        [D0 + 60_500, D0 + 6 * 3_600_000, 1_234_567],
      ];
      const read = () => Promise.all(steps.map(([from, to, step]) => store.telemetry.downsample({ ...q, from, to, step })));
      const hot = await read();
      await store.telemetry.compact(D0 + 5 * DAY);
      const cold = await read();
      cold.forEach((buckets, i) => {
        expect(buckets.map((b) => [b.ts, b.count, b.min, b.max])).toEqual(hot[i].map((b) => [b.ts, b.count, b.min, b.max]));
        buckets.forEach((b, k) => expect(b.mean).toBeCloseTo(hot[i][k].mean, 9));
      });
      const [from, to, step] = steps[0];
      expect(cold[0].map((b) => b.count)).toEqual(naive(rs.filter((r) => r.value === r.value), from, to, step).map((b) => b.count));
      // Second and third reads (frames cached, CRCs verified once) answer the same.
      expect(await read()).toEqual(cold);
      expect(await read()).toEqual(cold);
    });

    it('merges late data into a compressed day once: nothing lost, nothing doubled, a resent reading replaces its twin', async () => {
      const day = series(P.device, P.point, D0 + 1000, 3600, 1000, (i) => i);
      await commitAll(store, day);
      await store.telemetry.compact(D0 + 3 * DAY);
      // A gateway back from a week offline: a new epoch with readings in the compressed day's holes,
      // one at a timestamp already stored (its value corrected), and some on the next day.
      const late: Reading[] = [
        { ...P, ts: D0 + 500, value: -1 },
        { ...P, ts: D0 + 1000 + 10 * 1000, value: 1000 },
        { ...P, ts: D0 + 3601 * 1000 + 500, value: 7 },
        { ...P, ts: D0 + DAY + 5, value: 8 },
      ];
      const batch = { gateway: P.gateway, epoch: 9, firstSeq: 1, lastSeq: late.length, readings: late };
      expect((await store.telemetry.commitTelemetry(batch)).duplicate).toBe(false);
      const want = [...day.map((r) => ({ ts: r.ts, value: r.ts === late[1].ts ? 1000 : r.value })), ...[late[0], late[2], late[3]].map((r) => ({ ts: r.ts, value: r.value }))].sort((a, b) => a.ts - b.ts);
      // Downsampled with cut minutes first (each read alone from its frame, nothing decoded yet, the corrected
      // reading's minute among them): the hot readings merge in and replace their twin there too.
      const [from, step] = [D0 + 137, 600_013];
      const buckets = await store.telemetry.downsample({ ...P, from, to: from + 7 * step - 1, step });
      const expected = naive(want as Reading[], from, from + 7 * step - 1, step);
      expect(buckets.map((b) => [b.ts, b.count, b.min, b.max])).toEqual(expected.map((b) => [b.ts, b.count, b.min, b.max]));
      expect(buckets[0]).toMatchObject({ min: -1, count: 601 });
      buckets.forEach((b, k) => expect(b.mean).toBeCloseTo(expected[k].mean!, 9));
      // Before the next compaction (hot ∪ cold) and after it (all cold): the same, each reading once.
      expect(await all(store)).toEqual(want);
      const merged = await store.telemetry.compact(D0 + 3 * DAY);
      expect(merged).toMatchObject({ seriesDays: 2, readings: 4 });
      expect(await all(store)).toEqual(want);
      // The batch sent again is a duplicate and changes nothing.
      expect((await store.telemetry.commitTelemetry(batch)).duplicate).toBe(true);
      await store.telemetry.compact(D0 + 3 * DAY);
      expect(await all(store)).toEqual(want);
      const report = await store.telemetry.storage(D0, D0 + 2 * DAY);
      expect(report.days.map((d) => [d.day, d.cold.readings, d.hot.readings])).toEqual([
        [new Date(D0).toISOString().slice(0, 10), day.length + 2, 0],
        [new Date(D0 + DAY).toISOString().slice(0, 10), 1, 0],
      ]);
    });

    it('compacts two hot readings at one timestamp into the later one (a reading resent in a new epoch before its day was compressed)', async () => {
      const first: Reading[] = [0, 1, 2, 3].map((i) => ({ ...P, ts: D0 + 1000 * i + 7, value: i }));
      await commitAll(store, first, P.gateway, 1);
      const again: Reading[] = [{ ...P, ts: D0 + 1007, value: 10 }, { ...P, ts: D0 + 2007, value: 20 }];
      await commitAll(store, again, P.gateway, 2);
      await store.telemetry.compact(D0 + 3 * DAY);
      expect(await all(store)).toEqual([
        { ts: D0 + 7, value: 0 },
        { ts: D0 + 1007, value: 10 },
        { ts: D0 + 2007, value: 20 },
        { ts: D0 + 3007, value: 3 },
      ]);
    });

    it('loses and doubles nothing when compaction runs while a gateway commits into the same day', async () => {
      const first = series(P.device, P.point, D0, 20_000, 1000, (i) => i);
      await commitAll(store, first);
      const more = series(P.device, P.point, D0 + 20_000_000, 20_000, 1000, (i) => -(i + 1));
      const ingest = (async () => {
        for (let i = 0; i < more.length; i += 1000) {
          await store.telemetry.commitTelemetry({ gateway: P.gateway, epoch: 2, firstSeq: i + 1, lastSeq: i + 1000, readings: more.slice(i, i + 1000) });
        }
      })();
      await Promise.all([ingest, store.telemetry.compact(D0 + 3 * DAY), store.telemetry.compact(D0 + 3 * DAY)]);
      await store.telemetry.compact(D0 + 3 * DAY);
      const got = await all(store);
      expect(got).toHaveLength(40_000);
      expect(JSON.stringify(got) === JSON.stringify([...first, ...more].map((r) => ({ ts: r.ts, value: r.value })))).toBe(true);
    });

    it('drops blocks with retention, and trims the block of the day retention cuts', async () => {
      await commitAll(store, series(P.device, P.point, D0, 3 * 24 * 60, 60_000, (i) => i));
      await store.telemetry.compact(D0 + 5 * DAY);
      const cut = D0 + DAY + 12 * 3_600_000;
      await store.telemetry.applyRetention(cut);
      const left = await all(store);
      expect(left[0].ts).toBe(cut);
      expect(left).toHaveLength(3 * 24 * 60 - 36 * 60);
      const report = await store.telemetry.storage(D0, D0 + 3 * DAY);
      expect(report.days.map((d) => [d.day, d.cold.readings])).toEqual([
        [new Date(D0 + DAY).toISOString().slice(0, 10), 12 * 60],
        [new Date(D0 + 2 * DAY).toISOString().slice(0, 10), 24 * 60],
      ]);
    });

    it('reports storage per day and district, with the ratio to hot rows', async () => {
      await commitAll(store, series('d-1', 'p', D0, 2000, 1000, (i) => i % 10), 'gw-a');
      await store.registry.updateGateway('gw-a', { location: { lon: 116.6, lat: 35.4, district: 'Rencheng' } });
      await commitAll(store, series('d-2', 'p', D0 + DAY, 1000, 1000, (i) => i / 100), 'gw-b');
      const hot = await store.telemetry.storage(D0, D0 + 2 * DAY);
      expect(hot.hotBytesPerReading).toBeGreaterThan(0);
      expect(hot.days.map((d) => [d.day, d.district, d.hot.readings, d.cold.readings, d.ratio])).toEqual([
        [new Date(D0).toISOString().slice(0, 10), 'Rencheng', 2000, 0, 1],
        [new Date(D0 + DAY).toISOString().slice(0, 10), null, 1000, 0, 1],
      ]);
      await store.telemetry.compact(D0 + 5 * DAY);
      const cold = await store.telemetry.storage(D0, D0 + 2 * DAY);
      for (const d of cold.days) {
        expect(d.hot.readings).toBe(0);
        expect(d.cold.bytes).toBeGreaterThan(0);
        expect(d.ratio).toBeGreaterThan(10);
      }
      // Only the days asked for.
      expect((await store.telemetry.storage(D0 + DAY, D0 + 2 * DAY)).days).toHaveLength(1);
    });
  });
}
