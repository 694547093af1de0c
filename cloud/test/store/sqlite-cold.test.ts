/**
 * SQLite's compaction pipeline (sqlite-cold.ts) where the contract cannot reach: rows that change between a
 * series-day's read and its write (a late commit, retention) are neither lost nor doubled, and blocks made on the
 * encoder's thread are byte for byte those made inline.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { ColdEncoder, encodeJob, type EncodeJob, type EncodedBlock } from '../../src/store/sql-cold-encoder.js';
import { series } from './contract/fixtures.js';
import { tempDir } from '../../../test/helpers.js';

const DAY = 86_400_000;
const D0 = (Math.floor(Date.now() / DAY) - 10) * DAY;
const P = { gateway: 'gw-c', device: 'gauge-1', point: 'level' };

/** An encoder that runs `before` (once) when the first block is asked for: after that series-day's read, before its write. */
class HookedEncoder extends ColdEncoder {
  before?: () => Promise<void>;
  jobs = 0;
  override async encode(job: EncodeJob): Promise<EncodedBlock> {
    this.jobs++;
    const hook = this.before;
    this.before = undefined;
    await hook?.();
    return super.encode(job);
  }
}

class HookedStore extends SqliteStore {
  protected override readonly encoder = new HookedEncoder();
  get hooked(): HookedEncoder {
    return this.encoder;
  }
}

const tmp = tempDir('lifeline-sqlite-cold-');
const open: SqliteStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
afterAll(() => tmp.cleanup());
async function store(name: string): Promise<HookedStore> {
  const s = new HookedStore(join(tmp.dir, `${name}.db`));
  await s.migrate();
  open.push(s);
  return s;
}
const all = (s: SqliteStore) => s.telemetry.readings({ ...P, from: 0, to: D0 + 30 * DAY, limit: 1_000_000 });
const hotRows = (s: SqliteStore) => (s.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
const commit = (s: SqliteStore, readings: Reading[], epoch: number) =>
  s.telemetry.commitTelemetry({ gateway: P.gateway, epoch, firstSeq: 1, lastSeq: readings.length, readings });

describe('sqlite compaction pipeline', () => {
  it('redoes a series-day in one transaction when a late reading commits between its read and its write', async () => {
    const s = await store('late');
    const day = series(P.device, P.point, D0 + 500, 5_000, 1000, (i) => i / 10);
    await commit(s, day, 1);
    // The late batch: one reading in the gap before the day's first, one replacing a stored timestamp's value.
    const late: Reading[] = [
      { ...P, ts: D0 + 100, value: -1 },
      { ...P, ts: D0 + 500 + 42_000, value: 99 },
    ];
    s.hooked.before = async () => void (await commit(s, late, 2));
    const done = await s.telemetry.compact(D0 + 3 * DAY);
    expect(done).toMatchObject({ seriesDays: 1, readings: day.length + late.length, failed: [] });
    expect(hotRows(s)).toBe(0);
    const want = [{ ts: D0 + 100, value: -1 }, ...day.map((r) => ({ ts: r.ts, value: r.ts === late[1].ts ? 99 : r.value }))];
    expect(await all(s)).toEqual(want);
  });

  it('deletes no reading retention removed between the read and the write, and brings none back', async () => {
    const s = await store('retention');
    await commit(s, series(P.device, P.point, D0, 2 * 1440, 60_000, (i) => i), 1);
    const cut = D0 + 12 * 3_600_000;
    s.hooked.before = () => s.telemetry.applyRetention(cut);
    const done = await s.telemetry.compact(D0 + 3 * DAY);
    expect(done.failed).toEqual([]);
    expect(hotRows(s)).toBe(0);
    const got = await all(s);
    expect(got).toHaveLength(2 * 1440 - 720);
    expect(got[0]).toEqual({ ts: cut, value: 720 });
    expect(got.at(-1)).toEqual({ ts: D0 + (2 * 1440 - 1) * 60_000, value: 2 * 1440 - 1 });
  });

  it('stores the same bytes whether blocks are made on the encoder thread or inline', async () => {
    const readings = series(P.device, P.point, D0 + 7, 3 * 8_640, 10_000, (i) => Math.round(Math.sin(i / 300) * 1e4) / 100 || 0); // || 0: SQLite keeps no -0
    const blocks = async (s: SqliteStore) =>
      (s.db.prepare('SELECT day, readings, bytes, data FROM readings_cold ORDER BY day').all() as { data: Buffer }[]).map((r) => ({ ...r, data: r.data.toString('hex') }));
    const threaded = await store('threaded');
    expect(await threaded.hooked.warm()).toBe(true); // the thread loads (from TypeScript, through tsx)
    await commit(threaded, readings, 1);
    await threaded.telemetry.compact(D0 + 5 * DAY);
    const inline = await store('inline');
    await inline.hooked.close(); // a closed encoder makes every block inline
    await commit(inline, readings, 1);
    await inline.telemetry.compact(D0 + 5 * DAY);
    expect(threaded.hooked.jobs).toBe(3);
    expect(await blocks(threaded)).toEqual(await blocks(inline));
    expect(await all(threaded)).toEqual(readings.map((r) => ({ ts: r.ts, value: r.value })));
  });

  it('encodes a job inline when the thread stops with the job unanswered', async () => {
    const enc = new ColdEncoder();
    expect(await enc.warm()).toBe(true);
    const n = 20_000;
    const job: EncodeJob = { hot: { ts: Float64Array.from({ length: n }, (_, i) => D0 + i * 1000), values: Float64Array.from({ length: n }, (_, i) => i % 97), quality: new Uint16Array(n) } };
    const pending = enc.encode(job);
    await enc.close();
    expect(Buffer.from((await pending).data).equals(Buffer.from(encodeJob(job).data))).toBe(true);
  });
});

