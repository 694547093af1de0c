/** The telemetry store's contract: idempotent commits by seq range, raw and downsampled reads, activity and retention, migrations. */
import { expect, it } from 'vitest';
import { RejectReason, isLifelineError, type Reading } from '@lifeline/shared';
import { deviceKey } from '../../../src/store/store.js';
import { contractSuite, T0, naive, series, type StoreFactory } from './fixtures.js';

export function telemetryContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: telemetry`, factory, (store) => {
    it('commits a telemetry range once, acks the contiguous prefix, refuses overlaps', async () => {
      const batch = (first: number, last: number) => ({
        gateway: 'gw-1', firstSeq: first, lastSeq: last,
        readings: series('flood-1', 'water_level', T0 + first * 1000, last - first + 1, 1000, (i) => first + i),
      });
      expect(await store.telemetry.commitTelemetry(batch(1, 10))).toEqual({ duplicate: false, committedUpTo: 10 });
      expect(await store.telemetry.commitTelemetry(batch(1, 10))).toEqual({ duplicate: true, committedUpTo: 10 });
      // A gap: 21..30 arrives before 11..20; the ack stays at 10 until the hole is filled.
      expect(await store.telemetry.commitTelemetry(batch(21, 30))).toEqual({ duplicate: false, committedUpTo: 10 });
      expect(await store.telemetry.commitTelemetry(batch(21, 30))).toEqual({ duplicate: true, committedUpTo: 10 });
      expect(await store.telemetry.commitTelemetry(batch(11, 20))).toEqual({ duplicate: false, committedUpTo: 30 });
      // Inside the prefix: a duplicate, whatever its exact bounds.
      expect(await store.telemetry.commitTelemetry(batch(5, 8))).toEqual({ duplicate: true, committedUpTo: 30 });
      // Overlapping an early (not yet contiguous) batch: refused with SeqConflict.
      await store.telemetry.commitTelemetry(batch(41, 50));
      const err = await store.telemetry.commitTelemetry(batch(45, 60)).catch((e: unknown) => e);
      expect(isLifelineError(err, 'PAYLOAD_INVALID')).toBe(true);
      expect((err as { details: { rejectReason: number } }).details.rejectReason).toBe(RejectReason.SeqConflict);
      // The refused batch stored nothing; everything else once.
      const rows = await store.telemetry.readings({ gateway: 'gw-1', device: 'flood-1', point: 'water_level', from: 0, to: T0 + 1e9, limit: 1000 });
      expect(rows.map((r) => r.value)).toEqual([...Array.from({ length: 30 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => 41 + i)]);
      // Lanes and gateways are independent.
      expect((await store.telemetry.commitTelemetry({ ...batch(1, 10), gateway: 'gw-2' })).duplicate).toBe(false);
    });

    it('stores an onlyInOrder range only where it extends the prefix, and nothing otherwise', async () => {
      const batch = (first: number, last: number) => ({
        gateway: 'gw-o', firstSeq: first, lastSeq: last, onlyInOrder: true,
        readings: series('o-1', 'p', T0 + first * 1000, last - first + 1, 1000, (i) => first + i),
      });
      expect(await store.telemetry.commitTelemetry(batch(1, 10))).toEqual({ duplicate: false, committedUpTo: 10 });
      // Inside the prefix: a duplicate still. Past prefix + 1, or overlapping it: skipped, nothing stored, no SeqConflict.
      expect(await store.telemetry.commitTelemetry(batch(1, 10))).toEqual({ duplicate: true, committedUpTo: 10 });
      expect(await store.telemetry.commitTelemetry(batch(21, 30))).toEqual({ duplicate: false, committedUpTo: 10, skipped: true });
      expect(await store.telemetry.commitTelemetry(batch(5, 20))).toEqual({ duplicate: false, committedUpTo: 10, skipped: true });
      // An early range recorded further on (plain commit; a gateway sends its newest second live first): an
      // onlyInOrder range at prefix + 1 that does not touch it commits; one that touches it is skipped; the
      // prefix grows through the early range once a run reaches it.
      expect(await store.telemetry.commitTelemetry({ ...batch(51, 60), onlyInOrder: undefined })).toEqual({ duplicate: false, committedUpTo: 10 });
      expect(await store.telemetry.commitTelemetry(batch(11, 30))).toEqual({ duplicate: false, committedUpTo: 30 });
      expect(await store.telemetry.commitTelemetry(batch(31, 55))).toEqual({ duplicate: false, committedUpTo: 30, skipped: true });
      expect(await store.telemetry.commitTelemetry(batch(31, 50))).toEqual({ duplicate: false, committedUpTo: 60 });
      expect(await store.telemetry.commitTelemetry({ ...batch(51, 60), onlyInOrder: undefined })).toEqual({ duplicate: true, committedUpTo: 60 });
      const rows = await store.telemetry.readings({ gateway: 'gw-o', device: 'o-1', point: 'p', from: 0, to: T0 + 1e9, limit: 1000 });
      expect(rows.map((r) => r.value)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    });

    it('stores a batch whose readings are not in time order: raw rows time-ordered, rollup minutes merged once', async () => {
      // Two series interleaved, each newest first, two readings sharing a minute boundary.
      const a = series('t-1', 'p', T0, 150, 1000, (i) => i);
      const b = series('t-1', 'q', T0, 150, 1000, (i) => -1 - i);
      const readings = a.flatMap((r, i) => [r, b[i]]).reverse();
      await store.telemetry.commitTelemetry({ gateway: 'gw-t', firstSeq: 1, lastSeq: readings.length, readings });
      const got = await store.telemetry.readings({ gateway: 'gw-t', device: 't-1', point: 'p', from: 0, to: T0 + 1e9, limit: 1000 });
      expect(got.map((r) => r.value)).toEqual(a.map((r) => r.value));
      for (const [point, rs] of [['p', a], ['q', b]] as const) {
        const buckets = await store.telemetry.downsample({ gateway: 'gw-t', device: 't-1', point, from: T0, to: T0 + 150_000, step: 60_000 });
        expect(buckets.map((x) => [x.ts, x.count, x.min, x.max])).toEqual(naive(rs, T0, T0 + 150_000, 60_000).map((x) => [x.ts, x.count, x.min, x.max]));
      }
    });

    it('lets only one of two concurrent commits of the same range store it', async () => {
      const b = { gateway: 'gw-c', firstSeq: 1, lastSeq: 100, readings: series('c-1', 'p', T0, 100, 1000, (i) => i) };
      const results = await Promise.all([store.telemetry.commitTelemetry(b), store.telemetry.commitTelemetry(b), store.telemetry.commitTelemetry(b)]);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(results.every((r) => r.committedUpTo === 100)).toBe(true);
      expect(await store.telemetry.readings({ gateway: 'gw-c', device: 'c-1', point: 'p', from: 0, to: T0 + 1e9, limit: 1000 })).toHaveLength(100);
    });

    it('returns raw readings time-ordered, NaN for readings without a value, within the limit', async () => {
      const rs: Reading[] = [
        { device: 'd', point: 'p', ts: T0 + 3000, value: 3 },
        { device: 'd', point: 'p', ts: T0 + 1000, value: 1 },
        { device: 'd', point: 'p', ts: T0 + 2000, value: NaN, quality: 2 },
        { device: 'd', point: 'q', ts: T0 + 1500, value: 9 },
      ];
      await store.telemetry.commitTelemetry({ gateway: 'gw-1', firstSeq: 1, lastSeq: 4, readings: rs });
      const rows = await store.telemetry.readings({ gateway: 'gw-1', device: 'd', point: 'p', from: T0, to: T0 + 10_000, limit: 10 });
      expect(rows.map((r) => r.ts)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
      expect(rows[1].value).toBeNaN();
      expect(await store.telemetry.readings({ gateway: 'gw-1', device: 'd', point: 'p', from: T0, to: T0 + 10_000, limit: 2 })).toHaveLength(2);
      expect(await store.telemetry.readings({ gateway: 'gw-1', device: 'd', point: 'p', from: T0 + 1001, to: T0 + 2999, limit: 10 })).toHaveLength(1);
      const devices = await store.registry.listDevices();
      expect(devices.find((d) => d.id === 'd')).toMatchObject({ gateway: 'gw-1', lastReadingTs: T0 + 3000 });
    });

    it('downsamples exactly: min/max/mean/count per bucket, small and large steps', async () => {
      // Six hours at 1 s with a gap and some bad readings, committed in uneven batches.
      const start = T0 + 1234; // not minute-aligned
      const all = series('dev-ds', 'level', start, 6 * 3600, 1000, (i) => Math.sin(i / 500) * 10 + (i % 7));
      for (let i = 1000; i < 1300; i++) all[i].value = NaN;
      const kept = all.filter((_, i) => i < 5000 || i > 9000);
      let seq = 1;
      for (let i = 0; i < kept.length; i += 3333) {
        const chunk = kept.slice(i, i + 3333);
        await store.telemetry.commitTelemetry({ gateway: 'gw-ds', firstSeq: seq, lastSeq: seq + chunk.length - 1, readings: chunk });
        seq += chunk.length;
      }
      const from = start - 17_000;
      const to = start + 6 * 3600_000 - 5_000;
      for (const step of [7_000, 60_000, 600_000, 1_234_567, 3_600_000]) {
        const got = await store.telemetry.downsample({ gateway: 'gw-ds', device: 'dev-ds', point: 'level', from, to, step });
        const want = naive(kept, from, to, step);
        expect(got.map((b) => [b.ts, b.count, b.min, b.max])).toEqual(want.map((b) => [b.ts, b.count, b.min, b.max]));
        got.forEach((b, i) => expect(b.mean).toBeCloseTo(want[i].mean!, 9));
      }
      // A window starting mid-minute and mid-bucket.
      const got = await store.telemetry.downsample({ gateway: 'gw-ds', device: 'dev-ds', point: 'level', from: start + 90_500, to: start + 4 * 3600_000 + 30_250, step: 900_001 });
      expect(got.map((b) => b.count)).toEqual(naive(kept, start + 90_500, start + 4 * 3600_000 + 30_250, 900_001).map((b) => b.count));
      expect(await store.telemetry.downsample({ gateway: 'gw-ds', device: 'nope', point: 'level', from, to, step: 60_000 })).toEqual([]);
    });

    it('counts minutes with data per device, and drops readings past retention', async () => {
      const now = Date.now();
      const minuteStart = Math.floor(now / 60_000) * 60_000;
      // 10 minutes with data in the last hour, one old reading.
      const recent = Array.from({ length: 10 }, (_, i) => ({ device: 'm-1', point: 'p', ts: minuteStart - i * 120_000, value: i }));
      await store.telemetry.commitTelemetry({ gateway: 'gw-m', firstSeq: 1, lastSeq: 11, readings: [...recent, { device: 'm-1', point: 'p', ts: now - 3 * 86_400_000, value: 1 }] });
      expect((await store.telemetry.activeMinutes(now - 3600_000)).get(deviceKey('gw-m', 'm-1'))).toBe(10);
      await store.telemetry.applyRetention(now - 86_400_000);
      const left = await store.telemetry.readings({ gateway: 'gw-m', device: 'm-1', point: 'p', from: 0, to: now + 1, limit: 100 });
      expect(left).toHaveLength(10);
      expect((await store.telemetry.activeMinutes(0)).get(deviceKey('gw-m', 'm-1'))).toBe(10);
    });

    it('keeps each device\'s minutes with data as the rollup counts them: hour edges, points, gaps, two gateways, retention', async () => {
      const M = 60_000;
      const H = 60 * M;
      // A deterministic spread over 30 hours from T0 − 3 h: three devices (d-1 has two points; gw-2 reuses d-1's id),
      // readings in batches whose minutes overlap, values missing now and then, a thinned range's kept minutes.
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const start = T0 - 3 * H + 17 * 1000;
      const keys = [['gw-1', 'd-1', 'p'], ['gw-1', 'd-1', 'q'], ['gw-1', 'd-2', 'p'], ['gw-2', 'd-1', 'p']] as const;
      const seq = new Map<string, number>();
      for (let b = 0; b < 12; b++) {
        const byGw = new Map<string, Reading[]>();
        for (let i = 0; i < 120; i++) {
          const [gw, device, point] = keys[Math.floor(rnd() * keys.length)];
          const ts = start + Math.floor(rnd() * 30 * H);
          if (!byGw.has(gw)) byGw.set(gw, []);
          byGw.get(gw)!.push({ device, point, ts, value: rnd() < 0.1 ? NaN : rnd() });
        }
        for (const [gw, readings] of byGw) {
          const first = (seq.get(gw) ?? 0) + 1;
          seq.set(gw, first + readings.length - 1);
          const gaps = b === 3 && gw === 'gw-1' ? [{ device: 'd-2', point: 'p', from: T0 + 5 * H, to: T0 + 6 * H, minutes: [{ ts: T0 + 5 * H + 59 * M, count: 9, min: 1, max: 2, mean: 1.5 }, { ts: T0 + 6 * H, count: 3, min: 1, max: 1, mean: 1 }] }] : undefined;
          await store.telemetry.commitTelemetry({ gateway: gw, firstSeq: first, lastSeq: first + readings.length - 1, readings, ...(gaps ? { gaps } : {}) });
        }
      }
      // The counting query over the rollup (activeMinutesBetween, unbounded above) is the reference.
      const check = async (since: number) => expect(await store.telemetry.activeMinutes(since)).toEqual(await store.telemetry.activeMinutesBetween(since, Number.MAX_SAFE_INTEGER));
      const sinces = [0, T0 - 2 * H, T0 - 2 * H + 29 * M, T0 - 2 * H + 30 * M + 1, T0 + 59 * M, T0 + 5 * H + 59 * M + 30_000, T0 + 6 * H, T0 + 26 * H + 31 * M, T0 + 40 * H];
      for (let i = 0; i < 6; i++) sinces.push(start + Math.floor(rnd() * 30 * H));
      for (const since of sinces) await check(since);
      expect((await store.telemetry.activeMinutes(0)).size).toBe(3);
      // Retention cut mid-hour: the minutes before it are forgotten by both.
      await store.telemetry.applyRetention(T0 + 4 * H + 23 * M + 5_000);
      for (const since of sinces) await check(since);
    });

    it('counts active minutes and gap records per device over any range, by gateway, edges included', async () => {
      const M = 60_000;
      const r = (device: string, point: string, ts: number, value = 1): Reading => ({ device, point, ts, value });
      // gw-1/d-1: minutes 0 (twice), 1, 2 (another point), 5, 10 (a reading without a value still counts); gw-1/d-2: minute 3.
      const gw1 = [r('d-1', 'p', T0), r('d-1', 'p', T0 + 30_000), r('d-1', 'p', T0 + M), r('d-1', 'q', T0 + 2 * M), r('d-1', 'p', T0 + 6 * M - 1), { ...r('d-1', 'p', T0 + 10 * M, NaN), quality: 2 }, r('d-2', 'p', T0 + 3 * M)];
      const gaps1 = [
        { device: 'd-1', point: 'p', from: T0 + 40 * M, to: T0 + 41 * M, minutes: [] },
        { device: 'd-1', point: 'p', from: T0 - 120 * M, to: T0 - 60 * M, minutes: [{ ts: T0 - 120 * M, count: 5, min: 1, max: 2, mean: 1.5 }] },
      ];
      await store.telemetry.commitTelemetry({ gateway: 'gw-1', firstSeq: 1, lastSeq: gw1.length, readings: gw1, gaps: gaps1 });
      // gw-2 uses the id d-1 too: minutes −1 and 20, and a thinned range whose two kept minutes (30, 31) join the rollup.
      const gaps2 = [{ device: 'd-1', point: 'p', from: T0 + 30 * M, to: T0 + 32 * M, minutes: [{ ts: T0 + 30 * M, count: 60, min: 1, max: 3, mean: 2 }, { ts: T0 + 31 * M, count: 40, min: 2, max: 4, mean: 3 }] }];
      await store.telemetry.commitTelemetry({ gateway: 'gw-2', firstSeq: 1, lastSeq: 102, readings: [r('d-1', 'p', T0 - M), r('d-1', 'p', T0 + 20 * M)], gaps: gaps2 });

      const k = (g: string, d: string) => deviceKey(g, d);
      // The minute starting at `to` is in, a device with nothing in range is absent.
      expect(await store.telemetry.activeMinutesBetween(T0, T0 + 10 * M)).toEqual(new Map([[k('gw-1', 'd-1'), 5], [k('gw-1', 'd-2'), 1]]));
      // The minute holding `from` is in; one ending just before `to`'s minute starts is not cut.
      expect((await store.telemetry.activeMinutesBetween(T0 + 30_000, T0 + 10 * M - 1)).get(k('gw-1', 'd-1'))).toBe(4);
      expect(await store.telemetry.activeMinutesBetween(T0 - M, T0 + 40 * M, 'gw-2')).toEqual(new Map([[k('gw-2', 'd-1'), 4]]));
      expect(await store.telemetry.activeMinutesBetween(T0 + 11 * M, T0 + 19 * M)).toEqual(new Map());

      expect(await store.telemetry.gapTotals(T0, T0 + 60 * M)).toEqual(new Map([[k('gw-1', 'd-1'), { gaps: 1, thinnedReadings: 0 }], [k('gw-2', 'd-1'), { gaps: 1, thinnedReadings: 100 }]]));
      // Overlap is inclusive at both ends: the range ending at T0 + 32 min counts, the one starting at T0 + 40 min does not.
      expect(await store.telemetry.gapTotals(T0 + 32 * M, T0 + 40 * M - 1)).toEqual(new Map([[k('gw-2', 'd-1'), { gaps: 1, thinnedReadings: 100 }]]));
      expect(await store.telemetry.gapTotals(0, T0 + 60 * M, 'gw-1')).toEqual(new Map([[k('gw-1', 'd-1'), { gaps: 2, thinnedReadings: 5 }]]));
      expect(await store.telemetry.gapTotals(T0 + 50 * M, T0 + 60 * M)).toEqual(new Map());
    });

    it('migrates idempotently', async () => {
      await store.migrate();
      await store.telemetry.commitTelemetry({ gateway: 'g', firstSeq: 1, lastSeq: 1, readings: [{ device: 'x', point: 'y', ts: T0, value: 1 }] });
      await store.migrate();
      expect(await store.telemetry.readings({ gateway: 'g', device: 'x', point: 'y', from: 0, to: T0, limit: 5 })).toHaveLength(1);
    });
  });
}
