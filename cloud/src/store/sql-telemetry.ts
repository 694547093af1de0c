/**
 * The telemetry store in SQL both engines speak. The engine supplies the bulk
 * paths (series creation, reading insert, partitions, retention of raw rows).
 *
 *   commitTelemetry ─▶ seriesIds ─▶ rows in (series, ts) order (sql-batch.ts) ─▶ ledger tx{ insertReadings ─▶ rollup upsert ─▶ device activity (sql-activity.ts) ─▶ gaps ─▶ device last_ts } ─▶ ack
 *   commitEvents    ─▶ ledger tx{ events ─▶ alarms (current state, newest seq wins) }
 *   downsample      ─▶ sql-downsample.ts
 *   readings, downsample ─▶ hot rows ∪ cold blocks (sql-cold.ts); compact, storage ─▶ sql-cold.ts
 */
import type { LaneEvent } from '@lifeline/shared';
import type { Sql } from './sql.js';
import { deviceKey, type CommitResult, type DownsampleQuery, type EventCommit, type GapInfo, type GapQuery, type GapTotals, type ReadingsQuery, type TelemetryCommit, type TelemetryStore, type Bucket, type CompactResult, type StorageReport } from './telemetry-store.js';
import { ENSURE_GATEWAY, MINUTE, greatest, least, num, seriesKey, whereOf } from './sql-common.js';
import { SqlLedger } from './sql-ledger.js';
import { columnsOf, orderBatch } from './sql-batch.js';
import { downsample } from './sql-downsample.js';
import { activeMinutes, dropActivity } from './sql-activity.js';
import type { SqlCold } from './sql-cold.js';

/** A batch's reading rows as the engines insert them: columns, no object per row. */
export interface ReadingColumns {
  length: number;
  series: Int32Array;
  ts: Float64Array;
  /** As sent; a value that is not finite (NaN: quality bad) is stored as null. */
  value: Float64Array;
  quality: Int16Array;
  /** Smallest and largest ts (the day partition a batch can go to). */
  lo: number;
  hi: number;
}

/** What each engine does its own way: the bulk paths. */
export interface TelemetryEngine {
  /** Bulk-insert readings inside the commit transaction. */
  insertReadings(db: Sql, rows: ReadingColumns): Promise<void>;
  /** Make sure `series` rows exist for these keys (seriesKey); returns their ids by key. */
  createSeries(keys: string[]): Promise<Map<string, number>>;
  /** Before a telemetry commit (partitions for the rows' days); runs outside the transaction. */
  beforeTelemetry(rows: ReadingColumns): Promise<void>;
  /** Retention of raw readings. */
  dropReadings(before: number): Promise<void>;
  /** Merge a batch's minutes into readings_1m in one statement, where the engine can (else multi-row upserts). */
  upsertRollups?(db: Sql, rows: Minute[]): Promise<void>;
}

/** The SET of the rollup upsert: a minute's aggregates merged with the batch's. */
export function rollupMerge(dialect: Sql['dialect']): string {
  const lo = least(dialect, 'COALESCE(readings_1m.min, excluded.min)', 'COALESCE(excluded.min, readings_1m.min)');
  const hi = greatest(dialect, 'COALESCE(readings_1m.max, excluded.max)', 'COALESCE(excluded.max, readings_1m.max)');
  return `min = ${lo}, max = ${hi}, sum = COALESCE(readings_1m.sum, 0) + COALESCE(excluded.sum, 0), count = readings_1m.count + excluded.count`;
}

/** Per (series, minute) aggregates of a batch, for the rollup. */
export type Minute = { series: number; minute: number; min: number; max: number; sum: number; count: number };

export class SqlTelemetry implements TelemetryStore {
  private readonly seriesCache = new Map<string, number>();
  private readonly knownGateways = new Set<string>();
  private readonly ledger: SqlLedger;

  constructor(private readonly sql: Sql, private readonly engine: TelemetryEngine, readonly cold: SqlCold) {
    this.ledger = new SqlLedger(sql);
  }

  /** Series ids of a gateway's series by name, made where missing (cached: `gateway\0device\0point`, seriesKey). */
  private async seriesIds(gateway: string, names: readonly { device: string; point: string }[]): Promise<number[]> {
    const keys = names.map((n) => seriesKey(gateway, n.device, n.point));
    const missing = keys.filter((key) => !this.seriesCache.has(key));
    if (missing.length) for (const [k, id] of await this.engine.createSeries([...new Set(missing)])) this.seriesCache.set(k, id);
    return keys.map((key) => this.seriesCache.get(key)!);
  }

  async commitTelemetry(batch: TelemetryCommit): Promise<CommitResult> {
    const { gateway } = batch;
    // Rows in (series, ts) order, with their minutes, activity and newest stamps (sql-batch.ts).
    const series = batch.series ?? columnsOf(batch.readings ?? []);
    const { rows, minutes, activity, newest } = orderBatch(series, await this.seriesIds(gateway, series));
    await this.engine.beforeTelemetry(rows);
    let sorted = minutes;
    // Thinned ranges: their kept minutes join the rollup, so charts show the aggregates where raw data is gone.
    const gaps = batch.gaps ?? [];
    if (gaps.length) {
      const merged = new Map(minutes.map((m) => [`${m.series}:${m.minute}`, m]));
      const gapIds = await this.seriesIds(gateway, gaps);
      gaps.forEach((g, i) => {
        const series = gapIds[i];
        for (const m of g.minutes) {
          const minute = Math.floor(m.ts / MINUTE) * MINUTE;
          let r = merged.get(`${series}:${minute}`);
          if (!r) merged.set(`${series}:${minute}`, (r = { series, minute, min: Infinity, max: -Infinity, sum: 0, count: 0 }));
          activity.add(g.device, m.ts);
          if (Number.isFinite(m.mean)) {
            if (m.min < r.min) r.min = m.min;
            if (m.max > r.max) r.max = m.max;
            r.sum += m.mean * m.count;
            r.count += m.count;
          }
        }
      });
      // Sorted keys: concurrent commits lock rollup and device rows in one order, so they cannot deadlock.
      sorted = [...merged.values()].sort((a, b) => a.series - b.series || a.minute - b.minute);
    }
    const result = await this.ledger.commit('telemetry', gateway, batch.epoch ?? 0, batch.firstSeq, batch.lastSeq, async (db) => {
      await this.engine.insertReadings(db, rows);
      // Minutes in (series, minute) order: concurrent commits lock rollup rows in one order, so they cannot deadlock.
      await (this.engine.upsertRollups ? this.engine.upsertRollups(db, sorted) : this.upsertRollups(db, sorted));
      await activity.write(db, gateway);
      const at = Date.now();
      for (const g of gaps) {
        const kept = g.minutes.reduce((a, m) => a + m.count, 0);
        await db.run(
          'INSERT INTO gaps(gateway, epoch, device, point, from_ts, to_ts, first_seq, last_seq, kept_minutes, kept_readings, minutes, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [gateway, batch.epoch ?? 0, g.device, g.point, g.from, g.to, batch.firstSeq, batch.lastSeq, g.minutes.length, kept, JSON.stringify(g.minutes.map((m) => [m.ts, m.count, num(m.min), num(m.max), num(m.mean)])), at],
        );
      }
      const last = greatest(db.dialect, 'COALESCE(devices.last_ts, 0)', 'excluded.last_ts');
      const touched = [...newest].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (let i = 0; i < touched.length; i += 500) {
        const chunk = touched.slice(i, i + 500);
        await db.run(
          `INSERT INTO devices(id, gateway, last_ts) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')} ON CONFLICT(gateway, id) DO UPDATE SET last_ts = ${last}`,
          chunk.flatMap(([device, ts]) => [device, gateway, ts]),
        );
      }
      if (!this.knownGateways.has(gateway)) await db.run(ENSURE_GATEWAY, [gateway, Date.now()]);
    }, batch.onlyInOrder);
    if (!result.duplicate && !result.skipped) this.knownGateways.add(gateway);
    return result;
  }

  /** Merge per-minute aggregates into readings_1m with multi-row upserts. */
  private async upsertRollups(db: Sql, rows: Minute[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const params: unknown[] = [];
      for (const r of chunk) params.push(r.series, r.minute, num(r.min), num(r.max), r.count ? r.sum : null, r.count);
      await db.run(
        `INSERT INTO readings_1m(series, minute, min, max, sum, count) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT(series, minute) DO UPDATE SET ${rollupMerge(db.dialect)}`,
        params,
      );
    }
  }

  async commitEvents(batch: EventCommit): Promise<CommitResult> {
    return this.ledger.commit('events', batch.gateway, batch.epoch ?? 0, batch.firstSeq, batch.lastSeq, async (db) => {
      const events = [...batch.events].sort((a, b) => a.seq - b.seq);
      for (const e of events) {
        await db.run('INSERT INTO events(gateway, epoch, seq, ts, kind, device, alarm_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
          batch.gateway, batch.epoch ?? 0, e.seq, e.ts, e.kind, e.device ?? null, e.kind === 'alarm' ? e.alarmId : null, JSON.stringify(e),
        ]);
        if (e.kind !== 'alarm') continue;
        // The newest transition is the alarm's current state: by seq within one buffer epoch,
        // by time across epochs (an old buffer restored late must not roll the state back).
        // raised_cause: why it reached its level (the raise's cause, then an escalation's); an acknowledgement,
        // a shelving, a lowering or the clearing keep it (a lowering's cause is the lower limit's, not the peak's).
        await db.run(
          `INSERT INTO alarms(gateway, alarm_id, device, point, detector, level, state, since, cause, value, raised_at, raised_cause, last_seq, last_epoch)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(gateway, alarm_id) DO UPDATE SET device = excluded.device, point = excluded.point, detector = excluded.detector,
             level = excluded.level, state = excluded.state, since = excluded.since, cause = excluded.cause, value = excluded.value,
             raised_at = COALESCE(excluded.raised_at, alarms.raised_at),
             raised_cause = CASE WHEN excluded.raised_at IS NOT NULL THEN excluded.raised_cause
               WHEN excluded.level > alarms.level THEN excluded.cause ELSE alarms.raised_cause END, last_seq = excluded.last_seq, last_epoch = excluded.last_epoch
           WHERE (alarms.last_epoch = excluded.last_epoch AND alarms.last_seq < excluded.last_seq)
              OR (alarms.last_epoch <> excluded.last_epoch AND alarms.since <= excluded.since)`,
          [batch.gateway, e.alarmId, e.device, e.point, e.detector, e.level, e.to, e.ts, e.cause, e.value === null ? null : num(e.value), e.from === 'normal' ? e.ts : null, e.from === 'normal' ? e.cause : null, e.seq, batch.epoch ?? 0],
        );
      }
    });
  }

  openEpoch(gateway: string, lane: 'telemetry' | 'events', epoch: number, at: number): Promise<boolean> {
    return this.ledger.openEpoch(gateway, lane, epoch, at);
  }

  laneCommitted(gateway: string, lane: string, epoch: number): Promise<number> {
    return this.ledger.laneCommitted(gateway, lane, epoch);
  }

  async listGaps(q: GapQuery): Promise<GapInfo[]> {
    const conds: [string, unknown][] = [];
    if (q.gateway !== undefined) conds.push(['gateway = ?', q.gateway]);
    if (q.device !== undefined) conds.push(['device = ?', q.device]);
    if (q.point !== undefined) conds.push(['point = ?', q.point]);
    if (q.from !== undefined) conds.push(['to_ts >= ?', q.from]);
    if (q.to !== undefined) conds.push(['from_ts <= ?', q.to]);
    const { where, params } = whereOf(conds);
    const rows = await this.sql.all<{
      id: number; gateway: string; device: string; point: string; from_ts: number; to_ts: number; first_seq: number; last_seq: number;
      kept_readings: number; minutes: string; committed_at: number;
    }>(`SELECT * FROM gaps ${where} ORDER BY from_ts DESC, id DESC LIMIT ?`, [...params, q.limit]);
    const f = (v: number | null): number => (v === null ? NaN : v);
    return rows.map((r) => ({
      id: Number(r.id), gateway: r.gateway, device: r.device, point: r.point, from: Number(r.from_ts), to: Number(r.to_ts),
      firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), keptReadings: Number(r.kept_readings), committedAt: Number(r.committed_at),
      minutes: (JSON.parse(r.minutes) as [number, number, number | null, number | null, number | null][]).map(([ts, count, min, max, mean]) => ({ ts, count, min: f(min), max: f(max), mean: f(mean) })),
    }));
  }

  async listEvents(q: { gateway?: string; limit: number }): Promise<(LaneEvent & { gateway: string })[]> {
    const rows = q.gateway
      ? await this.sql.all<{ gateway: string; body: string }>('SELECT gateway, body FROM events WHERE gateway = ? ORDER BY ts DESC, seq DESC LIMIT ?', [q.gateway, q.limit])
      : await this.sql.all<{ gateway: string; body: string }>('SELECT gateway, body FROM events ORDER BY ts DESC, seq DESC LIMIT ?', [q.limit]);
    return rows.map((r) => ({ ...(JSON.parse(r.body) as LaneEvent), gateway: r.gateway }));
  }

  async seriesPoints(gateway: string, device: string): Promise<string[]> {
    return (await this.sql.all<{ point: string }>('SELECT point FROM series WHERE gateway = ? AND device = ? ORDER BY point', [gateway, device])).map((r) => r.point);
  }

  async readings(q: ReadingsQuery): Promise<{ ts: number; value: number }[]> {
    const series = await this.sql.get<{ id: number }>('SELECT id FROM series WHERE gateway = ? AND device = ? AND point = ?', [q.gateway, q.device, q.point]);
    if (!series) return [];
    const hot = await this.sql.all<{ ts: number; value: number | null }>('SELECT ts, value FROM readings WHERE series = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?', [
      series.id, q.from, q.to, q.limit,
    ]);
    if (!(await this.cold.overlaps(series.id, q.from, q.to))) return hot.map((r) => ({ ts: Number(r.ts), value: r.value ?? NaN }));
    const m = await this.cold.merge(series.id, [[q.from, q.to]], hot, q.limit);
    // Hot rows stopped at the limit: past the last one, a hot row may be missing that replaces a cold one.
    const until = hot.length === q.limit ? Number(hot[hot.length - 1].ts) : Infinity;
    const out: { ts: number; value: number }[] = [];
    for (let i = 0; i < m.ts.length && out.length < q.limit && m.ts[i] <= until; i++) out.push({ ts: m.ts[i], value: m.values[i] });
    return out;
  }

  downsample(q: DownsampleQuery): Promise<Bucket[]> {
    return downsample(this.sql, q, this.cold);
  }

  compact(now?: number, signal?: AbortSignal): Promise<CompactResult> {
    return this.cold.compact(now, signal);
  }

  storage(from: number, to: number): Promise<StorageReport> {
    return this.cold.storage(from, to);
  }

  activeMinutes(since: number): Promise<Map<string, number>> {
    // Kept by the commit (sql-activity.ts): one row per device and hour, not every rollup minute.
    return activeMinutes(this.sql, since);
  }

  async applyRetention(before: number): Promise<void> {
    await this.engine.dropReadings(before);
    await this.cold.retention(before);
    await this.sql.run('DELETE FROM readings_1m WHERE minute < ?', [Math.floor(before / MINUTE) * MINUTE]);
    await dropActivity(this.sql, before);
  }

  async activeMinutesBetween(from: number, to: number, gateway?: string): Promise<Map<string, number>> {
    // A minute row counts when it starts in the range: the minute holding `from` is in, the one after `to` is not.
    const { where, params } = whereOf([['m.minute >= ?', Math.floor(from / MINUTE) * MINUTE], ['m.minute <= ?', to], ...(gateway === undefined ? [] : [['s.gateway = ?', gateway] as [string, unknown]])]);
    const rows = await this.sql.all<{ gateway: string; device: string; n: number | string }>(
      // Series first (CROSS JOIN keeps SQLite's join order): each series' rows in range are one seek on (series, minute).
      `SELECT s.gateway AS gateway, s.device AS device, COUNT(DISTINCT m.minute) AS n FROM series s CROSS JOIN readings_1m m ${where} AND m.series = s.id GROUP BY s.gateway, s.device`,
      params,
    );
    return new Map(rows.map((r) => [deviceKey(r.gateway, r.device), Number(r.n)]));
  }

  async gapTotals(from: number, to: number, gateway?: string): Promise<Map<string, GapTotals>> {
    const { where, params } = whereOf([['to_ts >= ?', from], ['from_ts <= ?', to], ...(gateway === undefined ? [] : [['gateway = ?', gateway] as [string, unknown]])]);
    // COUNT and SUM of BIGINT come back as strings from PostgreSQL.
    const rows = await this.sql.all<{ gateway: string; device: string; n: number | string; kept: number | string | null }>(
      `SELECT gateway, device, COUNT(*) AS n, SUM(kept_readings) AS kept FROM gaps ${where} GROUP BY gateway, device`,
      params,
    );
    return new Map(rows.map((r) => [deviceKey(r.gateway, r.device), { gaps: Number(r.n), thinnedReadings: Number(r.kept ?? 0) }]));
  }
}
