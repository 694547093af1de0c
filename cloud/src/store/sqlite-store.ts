/**
 * SQLite engine of the cloud store: the single-box default.
 * better-sqlite3 is synchronous; calls are short transactions, so the async
 * interface just wraps them.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCodes, LifelineError, RejectReason, type LaneEvent } from '@lifeline/shared';
import type { CommitResult, DeviceInfo, EventBatchIn, GatewayStatus, ReadingsQuery, Store, TelemetryBatch } from './store.js';

/** Versioned migrations; each runs once, in order, in a transaction. */
const MIGRATIONS: string[] = [
  `CREATE TABLE gateways(id TEXT PRIMARY KEY, online INTEGER NOT NULL DEFAULT 0, last_seen INTEGER, status TEXT);
   CREATE TABLE devices(id TEXT PRIMARY KEY, gateway TEXT NOT NULL, profile TEXT, kind TEXT, location TEXT, points TEXT, last_ts INTEGER);
   CREATE TABLE series(id INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(device, point));
   CREATE TABLE readings(series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX readings_series_ts ON readings(series, ts);
   CREATE TABLE events(gateway TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL, device TEXT, body TEXT NOT NULL, PRIMARY KEY(gateway, seq));
   CREATE INDEX events_ts ON events(ts);
   CREATE TABLE batches(gateway TEXT NOT NULL, lane TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, committed_at INTEGER NOT NULL, PRIMARY KEY(gateway, lane, first_seq));
   CREATE TABLE committed(gateway TEXT NOT NULL, lane TEXT NOT NULL, up_to INTEGER NOT NULL, PRIMARY KEY(gateway, lane));`,
];

export class SqliteStore implements Store {
  readonly db: Database.Database;
  private seriesIds = new Map<string, number>();

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT MAX(version) v FROM schema_version').get() as { v: number | null };
    for (let v = (row.v ?? 0) + 1; v <= MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v - 1]);
        this.db.prepare('INSERT INTO schema_version(version) VALUES (?)').run(v);
      })();
    }
  }

  private seriesId(device: string, point: string): number {
    const key = `${device}\0${point}`;
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      this.db.prepare('INSERT OR IGNORE INTO series(device, point) VALUES (?, ?)').run(device, point);
      id = (this.db.prepare('SELECT id FROM series WHERE device = ? AND point = ?').get(device, point) as { id: number }).id;
      this.seriesIds.set(key, id);
    }
    return id;
  }

  /**
   * Commit a lane's range once: a range inside the committed prefix, or seen
   * before, is a duplicate; a range overlapping another one is refused.
   */
  private commitRange(lane: string, gateway: string, firstSeq: number, lastSeq: number, write: () => void): CommitResult {
    return this.db.transaction((): CommitResult => {
      const upTo = (this.db.prepare('SELECT up_to FROM committed WHERE gateway = ? AND lane = ?').get(gateway, lane) as { up_to: number } | undefined)?.up_to ?? 0;
      if (lastSeq <= upTo) return { duplicate: true, committedUpTo: upTo };
      const same = this.db.prepare('SELECT last_seq FROM batches WHERE gateway = ? AND lane = ? AND first_seq = ?').get(gateway, lane, firstSeq) as { last_seq: number } | undefined;
      if (same?.last_seq === lastSeq) return { duplicate: true, committedUpTo: upTo };
      const overlap =
        firstSeq <= upTo || same || this.db.prepare('SELECT 1 FROM batches WHERE gateway = ? AND lane = ? AND first_seq <= ? AND last_seq >= ?').get(gateway, lane, lastSeq, firstSeq);
      if (overlap) {
        throw new LifelineError(ErrorCodes.PayloadInvalid, `${lane} batch ${gateway} [${firstSeq}, ${lastSeq}] overlaps a committed range (committed up to ${upTo})`, {
          details: { rejectReason: RejectReason.SeqConflict },
        });
      }
      write();
      this.db.prepare('INSERT INTO batches(gateway, lane, first_seq, last_seq, committed_at) VALUES (?, ?, ?, ?, ?)').run(gateway, lane, firstSeq, lastSeq, Date.now());
      // Extend the contiguous prefix through any batches that arrived early.
      let next = upTo;
      const after = this.db.prepare('SELECT last_seq FROM batches WHERE gateway = ? AND lane = ? AND first_seq = ?');
      for (let row = after.get(gateway, lane, next + 1) as { last_seq: number } | undefined; row; row = after.get(gateway, lane, next + 1) as typeof row) next = row.last_seq;
      this.db
        .prepare('INSERT INTO committed(gateway, lane, up_to) VALUES (?, ?, ?) ON CONFLICT(gateway, lane) DO UPDATE SET up_to = excluded.up_to')
        .run(gateway, lane, next);
      // Ranges inside the prefix are answered by `lastSeq <= upTo`; keep the table small.
      this.db.prepare('DELETE FROM batches WHERE gateway = ? AND lane = ? AND last_seq <= ?').run(gateway, lane, next);
      return { duplicate: false, committedUpTo: next };
    })();
  }

  async commitTelemetry(batch: TelemetryBatch): Promise<CommitResult> {
    const { gateway, readings } = batch;
    return this.commitRange('telemetry', gateway, batch.firstSeq, batch.lastSeq, () => {
      const insert = this.db.prepare('INSERT INTO readings(series, ts, value, quality) VALUES (?, ?, ?, ?)');
      const newest = new Map<string, number>();
      for (const r of readings) {
        insert.run(this.seriesId(r.device, r.point), r.ts, Number.isNaN(r.value) ? null : r.value, r.quality ?? 0);
        if ((newest.get(r.device) ?? -Infinity) < r.ts) newest.set(r.device, r.ts);
      }
      const touch = this.db.prepare(
        `INSERT INTO devices(id, gateway, last_ts) VALUES (?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET last_ts = MAX(COALESCE(last_ts, 0), excluded.last_ts)`,
      );
      for (const [device, ts] of newest) touch.run(device, gateway, ts);
    });
  }

  async commitEvents(batch: EventBatchIn): Promise<CommitResult> {
    return this.commitRange('events', batch.gateway, batch.firstSeq, batch.lastSeq, () => {
      const insert = this.db.prepare('INSERT INTO events(gateway, seq, ts, kind, device, body) VALUES (?, ?, ?, ?, ?, ?)');
      for (const e of batch.events) insert.run(batch.gateway, e.seq, e.ts, e.kind, e.device ?? null, JSON.stringify(e));
    });
  }

  async listEvents(q: { gateway?: string; limit: number }): Promise<(LaneEvent & { gateway: string })[]> {
    const rows = (
      q.gateway
        ? this.db.prepare('SELECT gateway, body FROM events WHERE gateway = ? ORDER BY ts DESC, seq DESC LIMIT ?').all(q.gateway, q.limit)
        : this.db.prepare('SELECT gateway, body FROM events ORDER BY ts DESC, seq DESC LIMIT ?').all(q.limit)
    ) as { gateway: string; body: string }[];
    return rows.map((r) => ({ ...(JSON.parse(r.body) as LaneEvent), gateway: r.gateway }));
  }

  async saveGatewayStatus(s: GatewayStatus): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO gateways(id, online, last_seen, status) VALUES (?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET online = excluded.online, last_seen = excluded.last_seen, status = excluded.status`,
        )
        .run(s.gateway, s.online ? 1 : 0, s.ts, JSON.stringify(s));
      const upsert = this.db.prepare(
        `INSERT INTO devices(id, gateway, profile, kind, location, points) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET gateway = excluded.gateway, profile = excluded.profile, kind = excluded.kind,
           location = excluded.location, points = excluded.points`,
      );
      for (const d of s.devices ?? [])
        upsert.run(d.id, s.gateway, d.profile, d.kind ?? null, d.location ? JSON.stringify(d.location) : null, JSON.stringify(d.points ?? []));
    })();
  }

  async listDevices(): Promise<DeviceInfo[]> {
    const rows = this.db.prepare('SELECT id, gateway, profile, kind, location, points, last_ts FROM devices ORDER BY id').all() as {
      id: string; gateway: string; profile: string | null; kind: string | null; location: string | null; points: string | null; last_ts: number | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      gateway: r.gateway,
      profile: r.profile,
      kind: r.kind,
      lastReadingTs: r.last_ts,
      location: r.location ? (JSON.parse(r.location) as DeviceInfo['location']) : null,
      points: r.points ? (JSON.parse(r.points) as DeviceInfo['points']) : [],
    }));
  }

  async readings(q: ReadingsQuery): Promise<{ ts: number; value: number }[]> {
    const rows = this.db
      .prepare(
        `SELECT r.ts, r.value FROM readings r JOIN series s ON s.id = r.series
         WHERE s.device = ? AND s.point = ? AND r.ts >= ? AND r.ts <= ? ORDER BY r.ts LIMIT ?`,
      )
      .all(q.device, q.point, q.from, q.to, q.limit) as { ts: number; value: number | null }[];
    return rows.map((r) => ({ ts: r.ts, value: r.value ?? NaN }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
