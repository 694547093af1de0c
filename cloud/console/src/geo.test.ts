/**
 * WGS-84 ↔ GCJ-02 against published reference points: the example pair of the
 * widely used coordtransform library (wandergis/coordtransform README:
 * wgs84togcj02(116.404, 39.915) = [116.41024449916938, 39.91640428150164],
 * gcj02towgs84(116.404, 39.915) = [116.39775550083061, 39.91359571849836]),
 * and the Jining offset staying within the few hundred metres GCJ-02 adds.
 */
import { describe, expect, it } from 'vitest';
import { fromMap, toMap, toMapAll } from './geo.js';

describe('geo', () => {
  it('converts WGS-84 to GCJ-02 like the published reference (Beijing, Tiananmen)', () => {
    const [lat, lon] = toMap(39.915, 116.404, 'gcj02');
    expect(lon).toBeCloseTo(116.41024449916938, 6);
    expect(lat).toBeCloseTo(39.91640428150164, 6);
  });

  it('converts GCJ-02 back to WGS-84 like the published reference', () => {
    const [lat, lon] = fromMap(39.915, 116.404, 'gcj02');
    expect(lon).toBeCloseTo(116.39775550083061, 5);
    expect(lat).toBeCloseTo(39.91359571849836, 5);
  });

  it('round-trips a Jining point (洸河路) to within a metre and shifts it by the expected few hundred metres', () => {
    const wgs: [number, number] = [35.4031, 116.6005];
    const gcj = toMap(...wgs, 'gcj02');
    const metres = (a: [number, number], b: [number, number]) => Math.hypot((a[0] - b[0]) * 111_000, (a[1] - b[1]) * 111_000 * Math.cos((a[0] * Math.PI) / 180));
    expect(metres(gcj, wgs)).toBeGreaterThan(100);
    expect(metres(gcj, wgs)).toBeLessThan(1000);
    expect(metres(fromMap(...gcj, 'gcj02'), wgs)).toBeLessThan(1);
  });

  it('leaves WGS-84 tiles alone', () => {
    expect(toMap(35.4, 116.6, 'wgs84')).toEqual([35.4, 116.6]);
    expect(toMapAll([[35.4, 116.6]], 'wgs84')).toEqual([[35.4, 116.6]]);
  });

  it('converts many points at once exactly as one at a time, leaving its input alone', () => {
    const points: [number, number][] = [[39.915, 116.404], [35.4031, 116.6005], [35.2, 116.3], [10, 10] /* outside China: unchanged */];
    const copy = points.map((p) => [...p]);
    expect(toMapAll(points, 'gcj02')).toEqual(points.map(([lat, lon]) => toMap(lat, lon, 'gcj02')));
    expect(points).toEqual(copy);
    expect(toMapAll([], 'gcj02')).toEqual([]);
  });
});
