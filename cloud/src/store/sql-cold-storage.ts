/**
 * Storage per UTC day and district (GET /api/v1/storage): cold blocks' bytes as
 * stored, hot rows' bytes as the engine measures one row (or the issue's
 * figure when it has nothing to measure), and the ratio of rows to what is kept.
 */
import type { Sql } from './sql.js';
import type { StorageReport, StorageRow } from './telemetry-store.js';
import { DAY } from './sql-cold-block.js';

/**
 * Bytes per hot reading when the engine has nothing to measure yet: PostgreSQL's
 * row (60 heap + 32 index), as measured in issue #19.
 */
export const HOT_BYTES_PER_READING = 91.8;

/** Storage per UTC day and district over [from, to) (epoch ms; whole days); `hotBytesPerReading` measured by the engine. */
export async function coldStorage(sql: Sql, hotBytesPerReading: () => Promise<number | undefined>, from: number, to: number): Promise<StorageReport> {
  const d0 = Math.floor(from / DAY);
  const d1 = Math.ceil(to / DAY);
  const district = 'COALESCE(d.district, g.district)';
  const joins = 'JOIN series s ON s.id = x.series LEFT JOIN devices d ON d.gateway = s.gateway AND d.id = s.device LEFT JOIN gateways g ON g.id = s.gateway';
  const [cold, hot, per] = await Promise.all([
    sql.all<{ day: number; district: string | null; n: number; b: number }>(
      `SELECT x.day AS day, ${district} AS district, SUM(x.readings) AS n, SUM(x.bytes) AS b FROM readings_cold x ${joins}
       WHERE x.day >= ? AND x.day < ? GROUP BY x.day, ${district}`,
      [d0, d1],
    ),
    sql.all<{ day: number; district: string | null; n: number }>(
      `SELECT CAST(x.ts / ${DAY} AS BIGINT) AS day, ${district} AS district, COUNT(*) AS n FROM readings x ${joins}
       WHERE x.ts >= ? AND x.ts < ? GROUP BY CAST(x.ts / ${DAY} AS BIGINT), ${district}`,
      [d0 * DAY, d1 * DAY],
    ),
    hotBytesPerReading(),
  ]);
  const perReading = per ?? HOT_BYTES_PER_READING;
  const rows = new Map<string, StorageRow>();
  const row = (day: number, district: string | null): StorageRow => {
    const key = `${day}\0${district ?? ''}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { day: new Date(day * DAY).toISOString().slice(0, 10), district, hot: { readings: 0, bytes: 0 }, cold: { readings: 0, bytes: 0 }, ratio: 1 }));
    return r;
  };
  for (const c of cold) {
    const r = row(Number(c.day), c.district);
    r.cold.readings += Number(c.n);
    r.cold.bytes += Number(c.b);
  }
  for (const h of hot) {
    const r = row(Number(h.day), h.district);
    r.hot.readings += Number(h.n);
    r.hot.bytes += Math.round(Number(h.n) * perReading);
  }
  for (const r of rows.values()) {
    const bytes = r.hot.bytes + r.cold.bytes;
    r.ratio = bytes ? Math.round((((r.hot.readings + r.cold.readings) * perReading) / bytes) * 10) / 10 : 1;
  }
  const days = [...rows.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : (a.district ?? '\uffff') < (b.district ?? '\uffff') ? -1 : 1));
  return { hotBytesPerReading: Math.round(perReading * 10) / 10, days };
}
