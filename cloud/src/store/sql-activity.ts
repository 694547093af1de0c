/**
 * Minutes with data per device, kept by the commit (issue #13): the 24 h
 * completeness of GET /devices, /gateways and /summary reads one row per
 * device and hour instead of counting every device's rollup minutes.
 *
 *   commitTelemetry ─▶ Activity.add(device, ts) per reading and kept gap minute
 *                   ─▶ upsert device_activity(gateway, device, hour): lo |= bits of minutes 0–29, hi |= bits of 30–59, n = popcount
 *   activeMinutes(since) ─▶ SUM(n) over hours after since's hour + popcount of since's hour masked to its minutes ≥ since
 *   applyRetention(before) ─▶ rows of hours before `before` dropped, `before`'s hour masked alike
 *
 * A minute is set exactly when readings_1m holds a row of one of the device's series for it
 * (the rollup is written from the same readings and gap minutes in the same transaction), so
 * the count equals COUNT(DISTINCT minute) over the rollup. Two 30-bit halves: every value is a
 * safe JavaScript integer and BIGINT arithmetic in both engines.
 */
import type { Dialect, Sql } from './sql.js';
import { MINUTE } from './sql-common.js';
import { deviceKey } from './telemetry-store.js';

export const HOUR = 3_600_000;
const FULL = 2 ** 30 - 1;

/** Set bits of a value below 2^30, in SQL both engines speak (SWAR; every step parenthesised: PostgreSQL gives & and >> one precedence). */
export function popcount30(x: string): string {
  const a = `((${x}) - (((${x}) >> 1) & 1431655765))`;
  const b = `((${a} & 858993459) + ((${a} >> 2) & 858993459))`;
  const c = `((${b} + (${b} >> 4)) & 252645135)`;
  return `(((${c} * 16843009) >> 24) & 255)`;
}

/** The minutes ≥ minute-of-hour `k` of an hour, as (lo, hi) masks. */
function fromMinute(k: number): { lo: number; hi: number } {
  return { lo: k >= 30 ? 0 : FULL - (2 ** k - 1), hi: k <= 30 ? FULL : FULL - (2 ** (k - 30) - 1) };
}

/** One batch's minutes per device and hour, as bits. */
export class Activity {
  private readonly rows = new Map<string, { device: string; hour: number; lo: number; hi: number }>();

  add(device: string, ts: number): void {
    const minute = Math.floor(ts / MINUTE) * MINUTE;
    const hour = Math.floor(minute / HOUR) * HOUR;
    const key = `${device}\0${hour}`;
    let r = this.rows.get(key);
    if (!r) this.rows.set(key, (r = { device, hour, lo: 0, hi: 0 }));
    const m = (minute - hour) / MINUTE;
    if (m < 30) r.lo |= 2 ** m;
    else r.hi |= 2 ** (m - 30);
  }

  /** Merge into device_activity, inside the commit transaction; rows in (device, hour) order so concurrent commits lock alike. */
  async write(db: Sql, gateway: string): Promise<void> {
    const rows = [...this.rows.values()].sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : a.hour - b.hour));
    const lo = '(device_activity.lo | excluded.lo)';
    const hi = '(device_activity.hi | excluded.hi)';
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const params: unknown[] = [];
      for (const r of chunk) params.push(gateway, r.device, r.hour, r.lo, r.hi, bits(r.lo) + bits(r.hi));
      await db.run(
        `INSERT INTO device_activity(gateway, device, hour, lo, hi, n) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT(gateway, device, hour) DO UPDATE SET lo = ${lo}, hi = ${hi}, n = ${popcount30(lo)} + ${popcount30(hi)}
         WHERE ${lo} <> device_activity.lo OR ${hi} <> device_activity.hi`,
        params,
      );
    }
  }
}

/** Set bits of a value below 2^30 (JavaScript). */
function bits(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

/** Minutes with data since `since` (the minute holding it included), per device (deviceKey). */
export async function activeMinutes(sql: Sql, since: number): Promise<Map<string, number>> {
  const minute = Math.floor(since / MINUTE) * MINUTE;
  const hour = Math.floor(minute / HOUR) * HOUR;
  const m = fromMinute((minute - hour) / MINUTE);
  // The first hour's minutes before `since` are masked off; whole hours after it count their n.
  const first = `${popcount30(`lo & ${m.lo}`)} + ${popcount30(`hi & ${m.hi}`)}`;
  const rows = await sql.all<{ gateway: string; device: string; n: number | string }>(
    `SELECT gateway, device, SUM(CASE WHEN hour = ? THEN ${first} ELSE n END) AS n FROM device_activity WHERE hour >= ? GROUP BY gateway, device`,
    [hour, hour],
  );
  const out = new Map<string, number>();
  for (const r of rows) if (Number(r.n) > 0) out.set(deviceKey(r.gateway, r.device), Number(r.n));
  return out;
}

/** Retention: the minutes before `before` (its minute's start) are forgotten, as readings_1m forgets them. */
export async function dropActivity(sql: Sql, before: number): Promise<void> {
  const minute = Math.floor(before / MINUTE) * MINUTE;
  const hour = Math.floor(minute / HOUR) * HOUR;
  await sql.run('DELETE FROM device_activity WHERE hour < ?', [hour]);
  if (minute === hour) return;
  const m = fromMinute((minute - hour) / MINUTE);
  await sql.run(
    `UPDATE device_activity SET lo = lo & ${m.lo}, hi = hi & ${m.hi}, n = ${popcount30(`lo & ${m.lo}`)} + ${popcount30(`hi & ${m.hi}`)} WHERE hour = ?`,
    [hour],
  );
  await sql.run('DELETE FROM device_activity WHERE hour = ? AND n = 0', [hour]);
}

/**
 * The table, and its rows for a database written before it (a migration in both engines):
 * each device's distinct rollup minutes, per hour, as bits. Distinct minutes are distinct
 * bits, so their SUM is their OR.
 */
export function activityMigration(d: Dialect): string {
  const bit = (m: string) => (d === 'sqlite' ? `(1 << (${m}))` : `(CAST(1 AS BIGINT) << CAST(${m} AS INTEGER))`);
  return `CREATE TABLE device_activity(gateway TEXT NOT NULL, device TEXT NOT NULL, hour BIGINT NOT NULL, lo BIGINT NOT NULL, hi BIGINT NOT NULL,
       n INTEGER NOT NULL, PRIMARY KEY(gateway, device, hour));
     CREATE INDEX device_activity_hour ON device_activity(hour);
     INSERT INTO device_activity(gateway, device, hour, lo, hi, n)
       SELECT gateway, device, hour, SUM(CASE WHEN mi < 30 THEN ${bit('mi')} ELSE 0 END), SUM(CASE WHEN mi >= 30 THEN ${bit('mi - 30')} ELSE 0 END), COUNT(*)
       FROM (SELECT DISTINCT s.gateway AS gateway, s.device AS device, (m.minute / ${HOUR}) * ${HOUR} AS hour, (m.minute % ${HOUR}) / ${MINUTE} AS mi
             FROM series s JOIN readings_1m m ON m.series = s.id) x
       GROUP BY gateway, device, hour;`;
}
