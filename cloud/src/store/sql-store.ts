/**
 * Everything both engines do with the same SQL: idempotent commits by seq
 * range, the per-minute rollup, downsampling, alarm state derived from
 * transitions, the registry, commands, configs, tokens and webhooks.
 * The engines supply migrations, the bulk insert of readings and retention.
 *
 *   commitTelemetry ─▶ seriesIds ─▶ tx{ range check ─▶ insertReadings ─▶ rollup upsert ─▶ device last_ts } ─▶ ack
 *   commitEvents    ─▶ tx{ range check ─▶ events ─▶ alarms (current state, newest seq wins) }
 *   downsample      ─▶ whole minutes from readings_1m + raw rows of the minutes a bucket edge cuts ─▶ merge
 */
import { ErrorCodes, LifelineError, RejectReason, type AlarmState, type LaneEvent, type Reading } from '@lifeline/shared';
import type { Sql } from './sql.js';
import type {
  AlarmComment,
  AlarmFilter,
  AlarmInfo,
  Bucket,
  CommandRecord,
  CommitResult,
  DeviceInfo,
  DownsampleQuery,
  EventBatchIn,
  GapInfo,
  GatewayConfigState,
  GatewayInfo,
  GatewayStatus,
  MqttCredential,
  ReadingsQuery,
  RegistryPatch,
  Store,
  TelemetryBatch,
  TokenRecord,
  WebhookRecord,
} from './store.js';

/** Rollup grain: one row per series and minute. */
export const MINUTE = 60_000;

/** One reading row as the engines insert it. */
export interface ReadingRow {
  series: number;
  ts: number;
  /** null for NaN (quality bad). */
  value: number | null;
  quality: number;
}

type GatewayRow = {
  id: string; name: string | null; lon: number | null; lat: number | null; district: string | null; grid_unit: string | null; kind: string | null;
  online: number; last_seen: number | null; first_seen: number | null; backlog_depth: number | null; backlog_oldest: number | null;
  clock_offset_ms: number | null; revoked_at: number | null; rejects: number; last_reject_at: number | null; last_reject_reason: string | null;
  reject_cleared_at: number | null;
};
type DeviceRow = {
  id: string; gateway: string; name: string | null; profile: string | null; kind: string | null; lon: number | null; lat: number | null;
  district: string | null; grid_unit: string | null; points: string | null; last_ts: number | null;
};
type AlarmRow = {
  id: number; gateway: string; alarm_id: string; device: string; point: string; detector: string; level: number; state: string;
  since: number; cause: string; value: number | null; raised_at: number | null; kind: string | null; district: string | null;
};
type CommandRow = {
  id: number; gateway: string; type: string; alarm: number | null; body: string; requested_by: string; requested_at: number;
  status: string; answer: string | null; answered_at: number | null;
};

function location(r: { lon: number | null; lat: number | null; district: string | null; grid_unit: string | null }): DeviceInfo['location'] {
  if (r.lon === null || r.lat === null) return null;
  return { lon: r.lon, lat: r.lat, ...(r.district ? { district: r.district } : {}), ...(r.grid_unit ? { gridUnit: r.grid_unit } : {}) };
}

const json = (s: string | null): unknown => (s === null ? null : JSON.parse(s));
/** A device's key in maps: devices are known by gateway and id (ids repeat across gateways). */
export const deviceKey = (gateway: string, device: string): string => `${gateway}\0${device}`;
/** A series' key in maps and in createSeries. */
export const seriesKey = (gateway: string, device: string, point: string): string => `${gateway}\0${device}\0${point}`;
const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

export abstract class SqlStore implements Store {
  protected seriesCache = new Map<string, number>();
  /** Gateway lanes whose `committed` row exists (rows are never deleted). */
  private knownLanes = new Set<string>();
  private knownGateways = new Set<string>();

  constructor(protected readonly sql: Sql) {}

  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;
  /** Bulk-insert readings inside the commit transaction. */
  protected abstract insertReadings(db: Sql, rows: ReadingRow[]): Promise<void>;
  /** Make sure `series` rows exist for these keys (seriesKey); returns their ids by key. */
  protected abstract createSeries(keys: string[]): Promise<Map<string, number>>;
  /** Engine hook before a telemetry commit (partitions); runs outside the transaction. */
  protected async beforeTelemetry(_readings: Reading[]): Promise<void> {}
  /** Engine part of retention (raw readings). */
  protected abstract dropReadings(before: number): Promise<void>;

  /** `GREATEST`/`MAX` of two values, by dialect. */
  protected greatest(a: string, b: string): string {
    return this.sql.dialect === 'sqlite' ? `MAX(${a}, ${b})` : `GREATEST(${a}, ${b})`;
  }
  protected least(a: string, b: string): string {
    return this.sql.dialect === 'sqlite' ? `MIN(${a}, ${b})` : `LEAST(${a}, ${b})`;
  }
  /** A subquery yielding one column `v` from a JSON array parameter (SQLite) or a bigint[] parameter (PostgreSQL). */
  protected listOf(): string {
    return this.sql.dialect === 'sqlite' ? '(SELECT value AS v FROM json_each(?))' : '(SELECT unnest(CAST(? AS BIGINT[])) AS v)';
  }
  protected listParam(values: number[]): unknown {
    return this.sql.dialect === 'sqlite' ? JSON.stringify(values) : values;
  }

  /** Series ids of a gateway's readings, keyed `gateway\0device\0point` (seriesKey). */
  protected async seriesIds(gateway: string, readings: readonly { device: string; point: string }[]): Promise<Map<string, number>> {
    const missing = new Set<string>();
    for (const r of readings) {
      const key = seriesKey(gateway, r.device, r.point);
      if (!this.seriesCache.has(key)) missing.add(key);
    }
    if (missing.size) for (const [k, id] of await this.createSeries([...missing])) this.seriesCache.set(k, id);
    return this.seriesCache;
  }

  /**
   * Commit a lane's range once: a range inside the committed prefix, or seen
   * before, is a duplicate; a range overlapping another one is refused.
   */
  protected async commitRange(lane: string, gateway: string, epoch: number, firstSeq: number, lastSeq: number, write: (db: Sql) => Promise<void>): Promise<CommitResult> {
    const key = `${gateway}\0${lane}\0${epoch}`;
    const out = await this.sql.tx(async (db): Promise<CommitResult> => {
      // Lock the gateway's lane row so two workers never commit the same gateway at once.
      // Cached only after a commit: a rolled-back insert must be made again.
      if (!this.knownLanes.has(key)) await db.run('INSERT INTO committed(gateway, lane, epoch, up_to) VALUES (?, ?, ?, 0) ON CONFLICT(gateway, lane, epoch) DO NOTHING', [gateway, lane, epoch]);
      const lock = db.dialect === 'postgres' ? ' FOR UPDATE' : '';
      const upTo = Number((await db.get<{ up_to: number }>(`SELECT up_to FROM committed WHERE gateway = ? AND lane = ? AND epoch = ?${lock}`, [gateway, lane, epoch]))!.up_to);
      if (lastSeq <= upTo) return { duplicate: true, committedUpTo: upTo };
      // Any recorded (early) batch touching this range: the same range is a duplicate, another one a conflict.
      const touching = await db.all<{ first_seq: number; last_seq: number }>(
        'SELECT first_seq, last_seq FROM batches WHERE gateway = ? AND lane = ? AND epoch = ? AND first_seq <= ? AND last_seq >= ? LIMIT 2',
        [gateway, lane, epoch, lastSeq, firstSeq],
      );
      if (touching.length === 1 && Number(touching[0].first_seq) === firstSeq && Number(touching[0].last_seq) === lastSeq) return { duplicate: true, committedUpTo: upTo };
      if (firstSeq <= upTo || touching.length) {
        throw new LifelineError(ErrorCodes.PayloadInvalid, `${lane} batch ${gateway} epoch ${epoch} [${firstSeq}, ${lastSeq}] overlaps a committed range (committed up to ${upTo})`, {
          details: { rejectReason: RejectReason.SeqConflict },
        });
      }
      await write(db);
      let next = upTo;
      if (firstSeq === upTo + 1) next = lastSeq; // in order: the prefix grows, nothing to record
      else await db.run('INSERT INTO batches(gateway, lane, epoch, first_seq, last_seq, committed_at) VALUES (?, ?, ?, ?, ?, ?)', [gateway, lane, epoch, firstSeq, lastSeq, Date.now()]);
      // Extend the contiguous prefix through any batches that arrived early.
      let absorbed = false;
      for (;;) {
        const row = await db.get<{ last_seq: number }>('SELECT last_seq FROM batches WHERE gateway = ? AND lane = ? AND epoch = ? AND first_seq = ?', [gateway, lane, epoch, next + 1]);
        if (!row) break;
        next = Number(row.last_seq);
        absorbed = true;
      }
      if (next !== upTo) await db.run('UPDATE committed SET up_to = ? WHERE gateway = ? AND lane = ? AND epoch = ?', [next, gateway, lane, epoch]);
      // Ranges inside the prefix are answered by `lastSeq <= upTo`; keep the table small.
      if (absorbed) await db.run('DELETE FROM batches WHERE gateway = ? AND lane = ? AND epoch = ? AND last_seq <= ?', [gateway, lane, epoch, next]);
      return { duplicate: false, committedUpTo: next };
    });
    this.knownLanes.add(key);
    return out;
  }

  async commitTelemetry(batch: TelemetryBatch): Promise<CommitResult> {
    const { gateway, readings } = batch;
    await this.beforeTelemetry(readings);
    const ids = await this.seriesIds(gateway, readings);
    const rows: ReadingRow[] = new Array(readings.length);
    // Per (series, minute): min, max, sum, count of the values, for the rollup.
    const minutes = new Map<string, { series: number; minute: number; min: number; max: number; sum: number; count: number }>();
    const newest = new Map<string, number>();
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i];
      const series = ids.get(seriesKey(gateway, r.device, r.point))!;
      const value = Number.isFinite(r.value) ? r.value : null;
      rows[i] = { series, ts: r.ts, value, quality: r.quality ?? 0 };
      const minute = Math.floor(r.ts / MINUTE) * MINUTE;
      const key = `${series}:${minute}`;
      let m = minutes.get(key);
      if (!m) minutes.set(key, (m = { series, minute, min: Infinity, max: -Infinity, sum: 0, count: 0 }));
      if (value !== null) {
        if (value < m.min) m.min = value;
        if (value > m.max) m.max = value;
        m.sum += value;
        m.count++;
      }
      if ((newest.get(r.device) ?? -Infinity) < r.ts) newest.set(r.device, r.ts);
    }
    // Thinned ranges: their kept minutes join the rollup, so charts show the aggregates where raw data is gone.
    const gaps = batch.gaps ?? [];
    if (gaps.length) {
      const gapIds = await this.seriesIds(gateway, gaps);
      for (const g of gaps) {
        const series = gapIds.get(seriesKey(gateway, g.device, g.point))!;
        for (const m of g.minutes) {
          const minute = Math.floor(m.ts / MINUTE) * MINUTE;
          const key = `${series}:${minute}`;
          let r = minutes.get(key);
          if (!r) minutes.set(key, (r = { series, minute, min: Infinity, max: -Infinity, sum: 0, count: 0 }));
          if (Number.isFinite(m.mean)) {
            if (m.min < r.min) r.min = m.min;
            if (m.max > r.max) r.max = m.max;
            r.sum += m.mean * m.count;
            r.count += m.count;
          }
        }
      }
    }
    const result = await this.commitRange('telemetry', gateway, batch.epoch ?? 0, batch.firstSeq, batch.lastSeq, async (db) => {
      await this.insertReadings(db, rows);
      // Sorted keys: concurrent commits lock rollup and device rows in one order, so they cannot deadlock.
      await this.upsertRollups(db, [...minutes.values()].sort((a, b) => a.series - b.series || a.minute - b.minute));
      const at = Date.now();
      for (const g of gaps) {
        const kept = g.minutes.reduce((a, m) => a + m.count, 0);
        await db.run(
          'INSERT INTO gaps(gateway, epoch, device, point, from_ts, to_ts, first_seq, last_seq, kept_minutes, kept_readings, minutes, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [gateway, batch.epoch ?? 0, g.device, g.point, g.from, g.to, batch.firstSeq, batch.lastSeq, g.minutes.length, kept, JSON.stringify(g.minutes.map((m) => [m.ts, m.count, num(m.min), num(m.max), num(m.mean)])), at],
        );
      }
      const last = this.greatest('COALESCE(devices.last_ts, 0)', 'excluded.last_ts');
      const touched = [...newest].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (let i = 0; i < touched.length; i += 500) {
        const chunk = touched.slice(i, i + 500);
        await db.run(
          `INSERT INTO devices(id, gateway, last_ts) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')} ON CONFLICT(gateway, id) DO UPDATE SET last_ts = ${last}`,
          chunk.flatMap(([device, ts]) => [device, gateway, ts]),
        );
      }
      if (!this.knownGateways.has(gateway)) await db.run('INSERT INTO gateways(id, online, first_seen) VALUES (?, 0, ?) ON CONFLICT(id) DO NOTHING', [gateway, Date.now()]);
    });
    if (!result.duplicate) this.knownGateways.add(gateway);
    return result;
  }

  /** Merge per-minute aggregates into readings_1m with multi-row upserts. */
  private async upsertRollups(db: Sql, rows: { series: number; minute: number; min: number; max: number; sum: number; count: number }[]): Promise<void> {
    const lo = this.least('COALESCE(readings_1m.min, excluded.min)', 'COALESCE(excluded.min, readings_1m.min)');
    const hi = this.greatest('COALESCE(readings_1m.max, excluded.max)', 'COALESCE(excluded.max, readings_1m.max)');
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const params: unknown[] = [];
      for (const r of chunk) params.push(r.series, r.minute, num(r.min), num(r.max), r.count ? r.sum : null, r.count);
      await db.run(
        `INSERT INTO readings_1m(series, minute, min, max, sum, count) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT(series, minute) DO UPDATE SET min = ${lo}, max = ${hi},
           sum = COALESCE(readings_1m.sum, 0) + COALESCE(excluded.sum, 0), count = readings_1m.count + excluded.count`,
        params,
      );
    }
  }

  async openEpoch(gateway: string, lane: 'telemetry' | 'events', epoch: number, at: number): Promise<boolean> {
    // Each epoch is its own seq space: nothing to map, only a record of when it was first seen.
    return (await this.sql.run('INSERT INTO sync_epochs(gateway, lane, epoch, base, opened_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT(gateway, lane, epoch) DO NOTHING', [gateway, lane, epoch, at])) > 0;
  }

  async laneCommitted(gateway: string, lane: string, epoch: number): Promise<number> {
    const r = await this.sql.get<{ up_to: number }>('SELECT up_to FROM committed WHERE gateway = ? AND lane = ? AND epoch = ?', [gateway, lane, epoch]);
    return r ? Number(r.up_to) : 0;
  }

  async listGaps(q: { gateway?: string; device?: string; point?: string; from?: number; to?: number; limit: number }): Promise<GapInfo[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.gateway !== undefined) where.push('gateway = ?'), params.push(q.gateway);
    if (q.device !== undefined) where.push('device = ?'), params.push(q.device);
    if (q.point !== undefined) where.push('point = ?'), params.push(q.point);
    if (q.from !== undefined) where.push('to_ts >= ?'), params.push(q.from);
    if (q.to !== undefined) where.push('from_ts <= ?'), params.push(q.to);
    params.push(q.limit);
    const rows = await this.sql.all<{
      id: number; gateway: string; device: string; point: string; from_ts: number; to_ts: number; first_seq: number; last_seq: number;
      kept_readings: number; minutes: string; committed_at: number;
    }>(`SELECT * FROM gaps ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY from_ts DESC, id DESC LIMIT ?`, params);
    const f = (v: number | null): number => (v === null ? NaN : v);
    return rows.map((r) => ({
      id: Number(r.id), gateway: r.gateway, device: r.device, point: r.point, from: Number(r.from_ts), to: Number(r.to_ts),
      firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), keptReadings: Number(r.kept_readings), committedAt: Number(r.committed_at),
      minutes: (JSON.parse(r.minutes) as [number, number, number | null, number | null, number | null][]).map(([ts, count, min, max, mean]) => ({ ts, count, min: f(min), max: f(max), mean: f(mean) })),
    }));
  }

  async commitEvents(batch: EventBatchIn): Promise<CommitResult> {
    return this.commitRange('events', batch.gateway, batch.epoch ?? 0, batch.firstSeq, batch.lastSeq, async (db) => {
      const events = [...batch.events].sort((a, b) => a.seq - b.seq);
      for (const e of events) {
        await db.run('INSERT INTO events(gateway, epoch, seq, ts, kind, device, alarm_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
          batch.gateway, batch.epoch ?? 0, e.seq, e.ts, e.kind, e.device ?? null, e.kind === 'alarm' ? e.alarmId : null, JSON.stringify(e),
        ]);
        if (e.kind !== 'alarm') continue;
        // The newest transition is the alarm's current state: by seq within one buffer epoch,
        // by time across epochs (an old buffer restored late must not roll the state back).
        await db.run(
          `INSERT INTO alarms(gateway, alarm_id, device, point, detector, level, state, since, cause, value, raised_at, last_seq, last_epoch)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(gateway, alarm_id) DO UPDATE SET device = excluded.device, point = excluded.point, detector = excluded.detector,
             level = excluded.level, state = excluded.state, since = excluded.since, cause = excluded.cause, value = excluded.value,
             raised_at = COALESCE(excluded.raised_at, alarms.raised_at), last_seq = excluded.last_seq, last_epoch = excluded.last_epoch
           WHERE (alarms.last_epoch = excluded.last_epoch AND alarms.last_seq < excluded.last_seq)
              OR (alarms.last_epoch <> excluded.last_epoch AND alarms.since <= excluded.since)`,
          [batch.gateway, e.alarmId, e.device, e.point, e.detector, e.level, e.to, e.ts, e.cause, e.value === null ? null : num(e.value), e.from === 'normal' ? e.ts : null, e.seq, batch.epoch ?? 0],
        );
      }
    });
  }

  async listEvents(q: { gateway?: string; limit: number }): Promise<(LaneEvent & { gateway: string })[]> {
    const rows = q.gateway
      ? await this.sql.all<{ gateway: string; body: string }>('SELECT gateway, body FROM events WHERE gateway = ? ORDER BY ts DESC, seq DESC LIMIT ?', [q.gateway, q.limit])
      : await this.sql.all<{ gateway: string; body: string }>('SELECT gateway, body FROM events ORDER BY ts DESC, seq DESC LIMIT ?', [q.limit]);
    return rows.map((r) => ({ ...(JSON.parse(r.body) as LaneEvent), gateway: r.gateway }));
  }

  async saveGatewayStatus(s: GatewayStatus): Promise<void> {
    await this.sql.tx(async (db) => {
      const loc = s.location;
      await db.run(
        `INSERT INTO gateways(id, online, last_seen, first_seen, status, name, lon, lat, district, grid_unit, backlog_depth, backlog_oldest, clock_offset_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET online = excluded.online, last_seen = excluded.last_seen, status = excluded.status,
           first_seen = COALESCE(gateways.first_seen, excluded.first_seen),
           name = COALESCE(excluded.name, gateways.name), lon = COALESCE(excluded.lon, gateways.lon), lat = COALESCE(excluded.lat, gateways.lat),
           district = COALESCE(excluded.district, gateways.district), grid_unit = COALESCE(excluded.grid_unit, gateways.grid_unit),
           backlog_depth = COALESCE(excluded.backlog_depth, gateways.backlog_depth),
           backlog_oldest = CASE WHEN excluded.backlog_depth IS NULL THEN gateways.backlog_oldest ELSE excluded.backlog_oldest END,
           clock_offset_ms = COALESCE(excluded.clock_offset_ms, gateways.clock_offset_ms)`,
        [
          s.gateway, s.online ? 1 : 0, s.ts, s.ts, JSON.stringify(s), s.name ?? null, loc?.lon ?? null, loc?.lat ?? null, loc?.district ?? null,
          loc?.gridUnit ?? null, s.backlog?.depth ?? null, s.backlog?.oldestTs ?? null, s.clockOffsetMs ?? null,
        ],
      );
      // Sorted by id, as telemetry commits lock device rows: a status and a commit of one gateway on two workers cannot deadlock.
      for (const d of [...(s.devices ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
        const l = d.location;
        await db.run(
          `INSERT INTO devices(id, gateway, profile, kind, points, lon, lat, district, grid_unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(gateway, id) DO UPDATE SET profile = excluded.profile, kind = COALESCE(excluded.kind, devices.kind),
             points = excluded.points, lon = COALESCE(excluded.lon, devices.lon), lat = COALESCE(excluded.lat, devices.lat),
             district = COALESCE(excluded.district, devices.district), grid_unit = COALESCE(excluded.grid_unit, devices.grid_unit)`,
          [d.id, s.gateway, d.profile, d.kind ?? null, JSON.stringify(d.points ?? []), l?.lon ?? null, l?.lat ?? null, l?.district ?? null, l?.gridUnit ?? null],
        );
      }
    });
    // The config it reports is what it runs: operators start from it, never from null.
    if (s.config) await this.setRunningConfig(s.gateway, s.config, s.ts);
    // A rolled-back apply replaces the "applied" answer the command got before the gateway checked it.
    const a = s.configApply;
    if (a?.result === 'rolled_back') {
      const prev = (await this.getConfig(s.gateway)).answer;
      if (prev?.status !== 'rolled_back' || prev.ts !== a.ts) {
        await this.setConfigAnswer(s.gateway, { ...(a.command ? { command: Number(a.command) } : {}), ok: false, status: 'rolled_back', message: `rolled back to the last good config: ${a.reason ?? 'no reason given'}`, ts: a.ts }, a.ts);
      }
    }
  }

  async listDevices(): Promise<DeviceInfo[]> {
    const rows = await this.sql.all<DeviceRow>('SELECT id, gateway, name, profile, kind, lon, lat, district, grid_unit, points, last_ts FROM devices ORDER BY id, gateway');
    return rows.map((r) => ({
      id: r.id,
      gateway: r.gateway,
      name: r.name,
      profile: r.profile,
      kind: r.kind,
      lastReadingTs: r.last_ts,
      location: location(r),
      points: r.points ? (JSON.parse(r.points) as DeviceInfo['points']) : [],
    }));
  }

  async seriesPoints(gateway: string, device: string): Promise<string[]> {
    return (await this.sql.all<{ point: string }>('SELECT point FROM series WHERE gateway = ? AND device = ? ORDER BY point', [gateway, device])).map((r) => r.point);
  }

  async readings(q: ReadingsQuery): Promise<{ ts: number; value: number }[]> {
    const rows = await this.sql.all<{ ts: number; value: number | null }>(
      `SELECT r.ts, r.value FROM readings r JOIN series s ON s.id = r.series
       WHERE s.gateway = ? AND s.device = ? AND s.point = ? AND r.ts >= ? AND r.ts <= ? ORDER BY r.ts LIMIT ?`,
      [q.gateway, q.device, q.point, q.from, q.to, q.limit],
    );
    return rows.map((r) => ({ ts: r.ts, value: r.value ?? NaN }));
  }

  /**
   * Buckets [from + i·step, from + (i+1)·step) clipped to `to`. Whole minutes
   * inside one bucket come from the rollup; the minutes a bucket edge (or
   * from/to) cuts are read raw, so the answer is exact either way.
   */
  async downsample(q: DownsampleQuery): Promise<Bucket[]> {
    const series = await this.sql.get<{ id: number }>('SELECT id FROM series WHERE gateway = ? AND device = ? AND point = ?', [q.gateway, q.device, q.point]);
    if (!series) return [];
    const { from, to, step } = q;
    const acc = new Map<number, { min: number | null; max: number | null; sum: number; count: number }>();
    const add = (rows: { b: number; mn: number | null; mx: number | null; sm: number | null; n: number }[]) => {
      for (const r of rows) {
        const a = acc.get(r.b);
        if (!a) acc.set(r.b, { min: r.mn, max: r.mx, sum: r.sm ?? 0, count: r.n });
        else {
          if (r.mn !== null && (a.min === null || r.mn < a.min)) a.min = r.mn;
          if (r.mx !== null && (a.max === null || r.mx > a.max)) a.max = r.mx;
          a.sum += r.sm ?? 0;
          a.count += r.n;
        }
      }
    };
    const bucketOf = (col: string) => `CAST((${col} - CAST(? AS BIGINT)) / CAST(? AS BIGINT) AS BIGINT)`;
    const raw = `SELECT ${bucketOf('r.ts')} AS b, MIN(r.value) AS mn, MAX(r.value) AS mx, SUM(r.value) AS sm, COUNT(r.value) AS n`;
    if (step < 10 * MINUTE || to - from < 2 * step) {
      // Small steps: plain aggregation of raw rows (the range is short, the bucket cap saw to that).
      add(await this.sql.all(`${raw} FROM readings r WHERE r.series = ? AND r.ts >= ? AND r.ts <= ? GROUP BY b`, [from, step, series.id, from, to]));
    } else {
      const cut = new Set<number>();
      const firstWhole = Math.ceil(from / MINUTE) * MINUTE;
      const lastWholeEnd = Math.floor((to + 1) / MINUTE) * MINUTE; // exclusive
      if (firstWhole > from) cut.add(firstWhole - MINUTE);
      if (lastWholeEnd <= to) cut.add(lastWholeEnd);
      for (let edge = from + step; edge <= to; edge += step) if (edge % MINUTE !== 0) cut.add(Math.floor(edge / MINUTE) * MINUTE);
      const cuts = [...cut].sort((a, b) => a - b);
      // PostgreSQL must probe the index once per cut minute (LATERAL); left to itself it may hash-join a full scan.
      const cutRows =
        this.sql.dialect === 'postgres'
          ? `${this.listOf()} m CROSS JOIN LATERAL (SELECT ts, value FROM readings r WHERE r.series = ? AND r.ts >= m.v AND r.ts < m.v + ${MINUTE}) r`
          : `${this.listOf()} m JOIN readings r ON r.series = ? AND r.ts >= m.v AND r.ts < m.v + ${MINUTE}`;
      // The two halves are independent: run them side by side (two pool connections on PostgreSQL).
      const [cutPart, wholePart] = await Promise.all([
        this.sql.all<Parameters<typeof add>[0][number]>(`${raw} FROM ${cutRows} WHERE r.ts >= ? AND r.ts <= ? GROUP BY b`, [from, step, this.listParam(cuts), series.id, from, to]),
        // Whole minutes inside [from, to] whose first and last ms fall in the same bucket.
        this.sql.all<Parameters<typeof add>[0][number]>(
          `SELECT ${bucketOf('m.minute')} AS b, MIN(m.min) AS mn, MAX(m.max) AS mx, SUM(m.sum) AS sm, SUM(m.count) AS n
           FROM readings_1m m WHERE m.series = ? AND m.minute >= ? AND m.minute + ${MINUTE - 1} <= ?
             AND ${bucketOf('m.minute')} = ${bucketOf(`(m.minute + ${MINUTE - 1})`)}
           GROUP BY b`,
          [from, step, series.id, firstWhole, to, from, step, from, step],
        ),
      ]);
      add(cutPart);
      add(wholePart);
    }
    return [...acc.entries()]
      .sort((a, b) => a[0] - b[0])
      .filter(([, a]) => a.count > 0)
      .map(([b, a]) => ({ ts: from + b * step, min: a.min!, max: a.max!, mean: a.sum / a.count, count: a.count }));
  }

  async activeMinutes(since: number): Promise<Map<string, number>> {
    const rows = await this.sql.all<{ gateway: string; device: string; n: number }>(
      'SELECT s.gateway AS gateway, s.device AS device, COUNT(DISTINCT m.minute) AS n FROM readings_1m m JOIN series s ON s.id = m.series WHERE m.minute >= ? GROUP BY s.gateway, s.device',
      [Math.floor(since / MINUTE) * MINUTE],
    );
    return new Map(rows.map((r) => [deviceKey(r.gateway, r.device), Number(r.n)]));
  }

  async applyRetention(before: number): Promise<void> {
    await this.dropReadings(before);
    await this.sql.run('DELETE FROM readings_1m WHERE minute < ?', [Math.floor(before / MINUTE) * MINUTE]);
  }

  // ---- registry

  private gatewayInfo(r: GatewayRow): GatewayInfo {
    return {
      id: r.id,
      name: r.name,
      location: location(r),
      kind: r.kind,
      online: !!r.online && r.revoked_at === null,
      lastSeen: r.last_seen,
      firstSeen: r.first_seen,
      backlog: r.backlog_depth === null ? null : { depth: r.backlog_depth, oldestTs: r.backlog_oldest, ageMs: r.backlog_oldest === null ? null : Math.max(0, Date.now() - r.backlog_oldest) },
      clockOffsetMs: r.clock_offset_ms,
      revokedAt: r.revoked_at,
      sync: {
        faulty: r.last_reject_at !== null && (r.reject_cleared_at === null || r.reject_cleared_at < r.last_reject_at),
        rejects: Number(r.rejects),
        lastRejectAt: r.last_reject_at,
        lastRejectReason: r.last_reject_reason,
      },
    };
  }

  private static gatewayCols =
    'id, name, lon, lat, district, grid_unit, kind, online, last_seen, first_seen, backlog_depth, backlog_oldest, clock_offset_ms, revoked_at, rejects, last_reject_at, last_reject_reason, reject_cleared_at';

  async listGateways(): Promise<GatewayInfo[]> {
    return (await this.sql.all<GatewayRow>(`SELECT ${SqlStore.gatewayCols} FROM gateways ORDER BY id`)).map((r) => this.gatewayInfo(r));
  }

  async getGateway(id: string): Promise<GatewayInfo | undefined> {
    const r = await this.sql.get<GatewayRow>(`SELECT ${SqlStore.gatewayCols} FROM gateways WHERE id = ?`, [id]);
    return r && this.gatewayInfo(r);
  }

  private patchSql(p: RegistryPatch): { set: string[]; params: unknown[] } {
    const set: string[] = [];
    const params: unknown[] = [];
    if (p.name !== undefined) set.push('name = ?'), params.push(p.name);
    if (p.kind !== undefined) set.push('kind = ?'), params.push(p.kind);
    if (p.revokedAt === null) set.push('revoked_at = NULL');
    if (p.location !== undefined) {
      set.push('lon = ?', 'lat = ?', 'district = ?', 'grid_unit = ?');
      params.push(p.location?.lon ?? null, p.location?.lat ?? null, p.location?.district ?? null, p.location?.gridUnit ?? null);
    }
    return { set, params };
  }

  async updateGateway(id: string, patch: RegistryPatch): Promise<void> {
    await this.sql.run('INSERT INTO gateways(id, online, first_seen) VALUES (?, 0, ?) ON CONFLICT(id) DO NOTHING', [id, Date.now()]);
    const { set, params } = this.patchSql(patch);
    if (set.length) await this.sql.run(`UPDATE gateways SET ${set.join(', ')} WHERE id = ?`, [...params, id]);
  }

  async updateDevice(gateway: string, id: string, patch: RegistryPatch): Promise<boolean> {
    const { set, params } = this.patchSql(patch);
    if (!set.length) return !!(await this.sql.get('SELECT 1 AS x FROM devices WHERE gateway = ? AND id = ?', [gateway, id]));
    return (await this.sql.run(`UPDATE devices SET ${set.join(', ')} WHERE gateway = ? AND id = ?`, [...params, gateway, id])) > 0;
  }

  async recordReject(gateway: string, reason: string, at: number): Promise<void> {
    await this.sql.run('INSERT INTO gateways(id, online, first_seen) VALUES (?, 0, ?) ON CONFLICT(id) DO NOTHING', [gateway, at]);
    await this.sql.run('UPDATE gateways SET rejects = rejects + 1, last_reject_at = ?, last_reject_reason = ? WHERE id = ?', [at, reason.slice(0, 500), gateway]);
  }

  async clearRejects(gateway: string, at: number): Promise<boolean> {
    return (
      (await this.sql.run('UPDATE gateways SET reject_cleared_at = ? WHERE id = ? AND last_reject_at IS NOT NULL AND (reject_cleared_at IS NULL OR reject_cleared_at < last_reject_at)', [
        Math.max(at, 0), gateway,
      ])) > 0
    );
  }

  async revokeGateway(id: string, at: number): Promise<boolean> {
    return this.sql.tx(async (db) => {
      const g = await db.run('UPDATE gateways SET revoked_at = ?, online = 0 WHERE id = ? AND revoked_at IS NULL', [at, id]);
      const c = await db.run('UPDATE mqtt_credentials SET revoked_at = ? WHERE gateway = ? AND revoked_at IS NULL', [at, id]);
      return g + c > 0;
    });
  }

  // ---- alarms

  private static alarmSelect = `SELECT a.id, a.gateway, a.alarm_id, a.device, a.point, a.detector, a.level, a.state, a.since, a.cause, a.value,
    a.raised_at, d.kind, d.district FROM alarms a LEFT JOIN devices d ON d.gateway = a.gateway AND d.id = a.device`;

  private alarmInfo(r: AlarmRow): AlarmInfo {
    return {
      id: r.id, gateway: r.gateway, alarmId: r.alarm_id, device: r.device, point: r.point, detector: r.detector, level: r.level,
      state: r.state as AlarmState, since: r.since, cause: r.cause, value: r.value, raisedAt: r.raised_at, kind: r.kind, district: r.district,
    };
  }

  async listAlarms(f: AlarmFilter): Promise<AlarmInfo[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const inList = (col: string, values: unknown[] | undefined) => {
      if (!values?.length) return;
      where.push(`${col} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    inList('a.state', f.state);
    inList('a.level', f.level);
    inList('d.kind', f.kind);
    inList('d.district', f.district);
    if (f.minLevel !== undefined) where.push('a.level >= ?'), params.push(f.minLevel);
    if (f.gateway) where.push('a.gateway = ?'), params.push(f.gateway);
    if (f.device) where.push('a.device = ?'), params.push(f.device);
    const rows = await this.sql.all<AlarmRow>(
      `${SqlStore.alarmSelect} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.since DESC, a.id DESC LIMIT ?`,
      [...params, f.limit],
    );
    return rows.map((r) => this.alarmInfo(r));
  }

  async getAlarm(id: number): Promise<AlarmInfo | undefined> {
    const r = await this.sql.get<AlarmRow>(`${SqlStore.alarmSelect} WHERE a.id = ?`, [id]);
    return r && this.alarmInfo(r);
  }

  async findAlarm(gateway: string, alarmId: string): Promise<AlarmInfo | undefined> {
    const r = await this.sql.get<AlarmRow>(`${SqlStore.alarmSelect} WHERE a.gateway = ? AND a.alarm_id = ?`, [gateway, alarmId]);
    return r && this.alarmInfo(r);
  }

  async alarmHistory(id: number): Promise<LaneEvent[]> {
    const rows = await this.sql.all<{ body: string }>(
      'SELECT e.body FROM alarms a JOIN events e ON e.gateway = a.gateway AND e.alarm_id = a.alarm_id WHERE a.id = ? ORDER BY e.ts, e.epoch, e.seq',
      [id],
    );
    return rows.map((r) => JSON.parse(r.body) as LaneEvent);
  }

  async addComment(c: Omit<AlarmComment, 'id'>): Promise<AlarmComment> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO alarm_comments(alarm, ts, user_name, body) VALUES (?, ?, ?, ?) RETURNING id', [c.alarm, c.ts, c.user, c.text]);
    return { id: r!.id, ...c };
  }

  async listComments(alarm: number): Promise<AlarmComment[]> {
    const rows = await this.sql.all<{ id: number; alarm: number; ts: number; user_name: string; body: string }>(
      'SELECT id, alarm, ts, user_name, body FROM alarm_comments WHERE alarm = ? ORDER BY ts, id',
      [alarm],
    );
    return rows.map((r) => ({ id: r.id, alarm: r.alarm, ts: r.ts, user: r.user_name, text: r.body }));
  }

  // ---- commands and configs

  private commandRecord(r: CommandRow): CommandRecord {
    return {
      id: r.id, gateway: r.gateway, type: r.type, alarm: r.alarm, body: JSON.parse(r.body) as Record<string, unknown>, requestedBy: r.requested_by,
      requestedAt: r.requested_at, status: r.status as CommandRecord['status'], answer: json(r.answer) as CommandRecord['answer'], answeredAt: r.answered_at,
    };
  }

  async addCommand(c: Omit<CommandRecord, 'id' | 'status' | 'answer' | 'answeredAt'>): Promise<CommandRecord> {
    const r = await this.sql.get<{ id: number }>(
      "INSERT INTO commands(gateway, type, alarm, body, requested_by, requested_at, status) VALUES (?, ?, ?, ?, ?, ?, 'pending') RETURNING id",
      [c.gateway, c.type, c.alarm, JSON.stringify(c.body), c.requestedBy, c.requestedAt],
    );
    return { ...c, id: r!.id, status: 'pending', answer: null, answeredAt: null };
  }

  async answerCommand(id: number, ok: boolean, answer: Record<string, unknown>, at: number): Promise<boolean> {
    return (
      (await this.sql.run("UPDATE commands SET status = ?, answer = ?, answered_at = ? WHERE id = ? AND status = 'pending'", [
        ok ? 'done' : 'failed', JSON.stringify(answer), at, id,
      ])) > 0
    );
  }

  async listCommands(q: { gateway?: string; alarm?: number; limit: number }): Promise<CommandRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.gateway !== undefined) where.push('gateway = ?'), params.push(q.gateway);
    if (q.alarm !== undefined) where.push('alarm = ?'), params.push(q.alarm);
    const rows = await this.sql.all<CommandRow>(
      `SELECT id, gateway, type, alarm, body, requested_by, requested_at, status, answer, answered_at FROM commands
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      [...params, q.limit],
    );
    return rows.map((r) => this.commandRecord(r));
  }

  async getCommand(id: number): Promise<CommandRecord | undefined> {
    const r = await this.sql.get<CommandRow>(
      'SELECT id, gateway, type, alarm, body, requested_by, requested_at, status, answer, answered_at FROM commands WHERE id = ?',
      [id],
    );
    return r && this.commandRecord(r);
  }

  async getConfig(gateway: string): Promise<GatewayConfigState> {
    const r = await this.sql.get<{
      running: string | null; running_ts: number | null; desired: string | null; desired_ts: number | null; desired_by: string | null;
      desired_command: number | null; answer: string | null; answer_ts: number | null;
    }>('SELECT running, running_ts, desired, desired_ts, desired_by, desired_command, answer, answer_ts FROM gateway_config WHERE gateway = ?', [gateway]);
    return {
      gateway,
      running: json(r?.running ?? null),
      runningTs: r?.running_ts ?? null,
      desired: json(r?.desired ?? null),
      desiredTs: r?.desired_ts ?? null,
      desiredBy: r?.desired_by ?? null,
      desiredCommand: r?.desired_command ?? null,
      answer: json(r?.answer ?? null) as GatewayConfigState['answer'],
      answerTs: r?.answer_ts ?? null,
    };
  }

  private async configRow(gateway: string): Promise<void> {
    await this.sql.run('INSERT INTO gateway_config(gateway) VALUES (?) ON CONFLICT(gateway) DO NOTHING', [gateway]);
  }

  async setDesiredConfig(gateway: string, config: unknown, by: string, command: number, at: number): Promise<void> {
    await this.configRow(gateway);
    await this.sql.run('UPDATE gateway_config SET desired = ?, desired_ts = ?, desired_by = ?, desired_command = ? WHERE gateway = ?', [
      JSON.stringify(config), at, by, command, gateway,
    ]);
  }

  async setRunningConfig(gateway: string, config: unknown, at: number): Promise<void> {
    await this.configRow(gateway);
    await this.sql.run('UPDATE gateway_config SET running = ?, running_ts = ? WHERE gateway = ?', [JSON.stringify(config), at, gateway]);
  }

  async setConfigAnswer(gateway: string, answer: Record<string, unknown>, at: number): Promise<void> {
    await this.configRow(gateway);
    await this.sql.run('UPDATE gateway_config SET answer = ?, answer_ts = ? WHERE gateway = ?', [JSON.stringify(answer), at, gateway]);
  }

  // ---- tokens, enrolment, credentials, webhooks

  private static tokenCols = 'id, name, role, created_at, created_by, revoked_at';
  private tokenRecord(r: { id: number; name: string; role: string; created_at: number; created_by: string; revoked_at: number | null }): TokenRecord {
    return { id: r.id, name: r.name, role: r.role, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at };
  }

  async addToken(t: { name: string; role: string; hash: string; createdBy: string; createdAt: number }): Promise<TokenRecord> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO api_tokens(name, role, hash, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id', [
      t.name, t.role, t.hash, t.createdBy, t.createdAt,
    ]);
    return { id: r!.id, name: t.name, role: t.role, createdAt: t.createdAt, createdBy: t.createdBy, revokedAt: null };
  }

  async putToken(t: { name: string; role: string; hash: string; createdBy: string; createdAt: number }): Promise<void> {
    await this.sql.tx(async (db) => {
      await db.run('DELETE FROM api_tokens WHERE name = ? AND created_by = ?', [t.name, t.createdBy]);
      await db.run('DELETE FROM api_tokens WHERE hash = ?', [t.hash]);
      await db.run('INSERT INTO api_tokens(name, role, hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)', [t.name, t.role, t.hash, t.createdBy, t.createdAt]);
    });
  }

  async findToken(hash: string): Promise<TokenRecord | undefined> {
    const r = await this.sql.get<Parameters<SqlStore['tokenRecord']>[0]>(`SELECT ${SqlStore.tokenCols} FROM api_tokens WHERE hash = ? AND revoked_at IS NULL`, [hash]);
    return r && this.tokenRecord(r);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.sql.all<Parameters<SqlStore['tokenRecord']>[0]>(`SELECT ${SqlStore.tokenCols} FROM api_tokens ORDER BY id`)).map((r) => this.tokenRecord(r));
  }

  async revokeToken(id: number, at: number): Promise<boolean> {
    return (await this.sql.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])) > 0;
  }

  async addEnrolment(e: { hash: string; note: string | null; createdBy: string; createdAt: number; expiresAt: number; forGateway?: string | null }): Promise<{ id: number }> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO enrolments(hash, note, created_by, created_at, expires_at, for_gateway) VALUES (?, ?, ?, ?, ?, ?) RETURNING id', [
      e.hash, e.note, e.createdBy, e.createdAt, e.expiresAt, e.forGateway ?? null,
    ]);
    return { id: r!.id };
  }

  async findEnrolment(hash: string, at: number): Promise<{ forGateway: string | null } | undefined> {
    const r = await this.sql.get<{ for_gateway: string | null }>('SELECT for_gateway FROM enrolments WHERE hash = ? AND used_at IS NULL AND expires_at > ?', [hash, at]);
    return r && { forGateway: r.for_gateway };
  }

  async consumeEnrolment(hash: string, gateway: string, at: number): Promise<boolean> {
    const refused = new Error('enrolment refused'); // thrown to roll the spend back: a refused attempt keeps its token
    try {
      return await this.sql.tx(async (db) => {
        // Spend first: in PostgreSQL the row lock makes a second spender wait, then find it used.
        const e = await db.get<{ for_gateway: string | null }>(
          'UPDATE enrolments SET used_at = ?, gateway = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING for_gateway',
          [at, gateway, hash, at],
        );
        if (!e) return false;
        const ok =
          e.for_gateway === null
            ? // A new gateway: the insert is the claim, so two tokens cannot both take one id.
              (await db.run('INSERT INTO gateways(id, online, first_seen) VALUES (?, 0, ?) ON CONFLICT(id) DO NOTHING', [gateway, at])) === 1
            : e.for_gateway === gateway && !!(await db.get('SELECT 1 AS x FROM gateways WHERE id = ? AND revoked_at IS NULL', [gateway]));
        if (!ok) throw refused;
        return true;
      });
    } catch (err) {
      if (err === refused) return false;
      throw err;
    }
  }

  async putMqttCredential(c: Omit<MqttCredential, 'revokedAt'>, at: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO mqtt_credentials(username, gateway, salt, hash, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(username) DO UPDATE SET gateway = excluded.gateway, salt = excluded.salt, hash = excluded.hash, created_at = excluded.created_at, revoked_at = NULL`,
      [c.username, c.gateway, c.salt, c.hash, at],
    );
  }

  async findMqttCredential(username: string): Promise<MqttCredential | undefined> {
    const r = await this.sql.get<{ username: string; gateway: string; salt: string; hash: string; revoked_at: number | null }>(
      'SELECT username, gateway, salt, hash, revoked_at FROM mqtt_credentials WHERE username = ?',
      [username],
    );
    return r && { username: r.username, gateway: r.gateway, salt: r.salt, hash: r.hash, revokedAt: r.revoked_at };
  }

  async addWebhook(w: Omit<WebhookRecord, 'id'>): Promise<WebhookRecord> {
    const r = await this.sql.get<{ id: number }>('INSERT INTO webhooks(url, secret, min_level, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id', [
      w.url, w.secret, w.minLevel, w.createdBy, w.createdAt,
    ]);
    return { id: r!.id, ...w };
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    const rows = await this.sql.all<{ id: number; url: string; secret: string; min_level: number; created_by: string; created_at: number }>(
      'SELECT id, url, secret, min_level, created_by, created_at FROM webhooks ORDER BY id',
    );
    return rows.map((r) => ({ id: r.id, url: r.url, secret: r.secret, minLevel: r.min_level, createdBy: r.created_by, createdAt: r.created_at }));
  }

  async deleteWebhook(id: number): Promise<boolean> {
    return (await this.sql.run('DELETE FROM webhooks WHERE id = ?', [id])) > 0;
  }
}
