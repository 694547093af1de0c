import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { BurstKeeper } from './bursts.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('BurstKeeper', () => {
  it('writes nothing without an alarm, then the bursts before and after one, bounded on disk', () => {
    const k = new BurstKeeper({ dir: join(tmp.dir, 'bursts'), before: 2, after: 1, maxFiles: 4 });
    const burst = (v: number) => Float64Array.from({ length: 10 }, () => v);
    for (let i = 0; i < 5; i++) k.add('bridge-1', i * 600_000, 100, burst(i));
    expect(k.files('bridge-1')).toEqual([]);
    k.alarm('bridge-1');
    k.add('bridge-1', 5 * 600_000, 100, burst(5)); // the one after
    k.add('bridge-1', 6 * 600_000, 100, burst(6)); // back to the ring only
    expect(k.files('bridge-1')).toEqual(['1800000-100hz.f32', '2400000-100hz.f32', '3000000-100hz.f32']);
    const f = join(tmp.dir, 'bursts', 'bridge-1', '3000000-100hz.f32');
    expect([...new Float32Array(new Uint8Array(readFileSync(f)).buffer)]).toEqual(Array(10).fill(5));
    expect(statSync(f).mode & 0o777).toBe(0o600);
    k.alarm('bridge-1'); // the ring (burst 6) + the next one: 5 files, the oldest goes
    k.add('bridge-1', 7 * 600_000, 100, burst(7));
    expect(k.files('bridge-1')).toEqual(['2400000-100hz.f32', '3000000-100hz.f32', '3600000-100hz.f32', '4200000-100hz.f32']);
  });

  it('keeps a device id from naming a path outside its folder', () => {
    const k = new BurstKeeper({ dir: join(tmp.dir, 'b2'), before: 1 });
    k.add('../../etc', 1, 100, [1, 2]);
    k.alarm('../../etc');
    expect(k.files('../../etc')).toEqual(['1-100hz.f32']);
    expect(readdirSync(join(tmp.dir, 'b2'))).toEqual(['__.._etc']);
  });
});
