/**
 * The edge buffer: every reading stays in SQLite (WAL) until the cloud has
 * committed it. Only this module knows SQLite.
 *
 *   readings ─▶ append (seq assigned, one transaction per poll batch)
 *                  │
 *   sync ◀── nextBatch(lane) ── outbox (stable batch boundaries, so a resend
 *                  │            after a restart is byte-for-byte the same range)
 *   cloud ack ─▶ ack(lane, upTo) ─▶ rows ≤ upTo reclaimed
 *
 * Sequence numbers are per lane, strictly increasing, never reused.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Quality, type Reading } from '@lifeline/shared';

/** The sync lanes: telemetry, and alarms/events which go ahead of any backlog. */
export type LaneName = 'telemetry' | 'events';

/** A contiguous range of one lane, ready to send. */
export interface OutboxBatch<T> {
  lane: LaneName;
  firstSeq: number;
  lastSeq: number;
  items: T[];
}

/** An event (alarm transition, comm change) buffered for the cloud. */
export interface BufferedEvent {
  seq: number;
  ts: number;
  kind: string;
  body: unknown;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(device, point));
CREATE TABLE IF NOT EXISTS readings(seq INTEGER PRIMARY KEY, series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(lane TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, PRIMARY KEY(lane, first_seq));
CREATE TABLE IF NOT EXISTS cursors(lane TEXT PRIMARY KEY, acked INTEGER NOT NULL, last_seq INTEGER NOT NULL);
`;

export class EdgeBuffer {
  readonly db: Database.Database;
  private seriesIds = new Map<string, number>();
  private series = new Map<number, { device: string; point: string }>();
  private lastSeq: Record<LaneName, number> = { telemetry: 0, events: 0 };
  private acked: Record<LaneName, number> = { telemetry: 0, events: 0 };
  private readonly stmt;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash; alarm events switch to FULL.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    for (const lane of ['telemetry', 'events'] as LaneName[]) {
      const table = lane === 'telemetry' ? 'readings' : 'events';
      const cur = this.db.prepare('SELECT acked, last_seq FROM cursors WHERE lane = ?').get(lane) as { acked: number; last_seq: number } | undefined;
      const maxRow = (this.db.prepare(`SELECT MAX(seq) m FROM ${table}`).get() as { m: number | null }).m ?? 0;
      this.acked[lane] = cur?.acked ?? 0;
      this.lastSeq[lane] = Math.max(maxRow, cur?.last_seq ?? 0, this.acked[lane]);
      this.db.prepare('INSERT OR IGNORE INTO cursors(lane, acked, last_seq) VALUES (?, 0, 0)').run(lane);
    }
    for (const r of this.db.prepare('SELECT id, device, point FROM series').all() as { id: number; device: string; point: string }[]) {
      this.seriesIds.set(`${r.device}\0${r.point}`, r.id);
      this.series.set(r.id, { device: r.device, point: r.point });
    }
    this.stmt = {
      insertSeries: this.db.prepare('INSERT INTO series(device, point) VALUES (?, ?)'),
      insertReading: this.db.prepare('INSERT INTO readings(seq, series, ts, value, quality) VALUES (?, ?, ?, ?, ?)'),
      insertEvent: this.db.prepare('INSERT INTO events(seq, ts, kind, body) VALUES (?, ?, ?, ?)'),
      saveLast: this.db.prepare('UPDATE cursors SET last_seq = ? WHERE lane = ?'),
      saveAcked: this.db.prepare('UPDATE cursors SET acked = ? WHERE lane = ?'),
      outboxAfter: this.db.prepare('SELECT first_seq, last_seq FROM outbox WHERE lane = ? AND first_seq > ? ORDER BY first_seq'),
      outboxLast: this.db.prepare('SELECT MAX(last_seq) m FROM outbox WHERE lane = ?'),
      insertOutbox: this.db.prepare('INSERT INTO outbox(lane, first_seq, last_seq) VALUES (?, ?, ?)'),
      readingsRange: this.db.prepare('SELECT seq, series, ts, value, quality FROM readings WHERE seq BETWEEN ? AND ? ORDER BY seq'),
      eventsRange: this.db.prepare('SELECT seq, ts, kind, body FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq'),
      lastOfNext: {
        telemetry: this.db.prepare('SELECT MAX(seq) m FROM (SELECT seq FROM readings WHERE seq > ? ORDER BY seq LIMIT ?)'),
        events: this.db.prepare('SELECT MAX(seq) m FROM (SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT ?)'),
      },
    };
  }

  private seriesId(device: string, point: string): number {
    const key = `${device}\0${point}`;
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      id = Number(this.stmt.insertSeries.run(device, point).lastInsertRowid);
      this.seriesIds.set(key, id);
      this.series.set(id, { device, point });
    }
    return id;
  }

  /** Store readings durably in one transaction; returns the last seq assigned. */
  append(readings: readonly Reading[]): number {
    if (!readings.length) return this.lastSeq.telemetry;
    this.db.transaction(() => {
      let seq = this.lastSeq.telemetry;
      for (const r of readings) {
        const v = Number.isNaN(r.value) ? null : r.value;
        this.stmt.insertReading.run(++seq, this.seriesId(r.device, r.point), r.ts, v, r.quality ?? Quality.Good);
      }
      this.stmt.saveLast.run(seq, 'telemetry');
      this.lastSeq.telemetry = seq;
    })();
    return this.lastSeq.telemetry;
  }

  /** Store one event; synced to disk (FULL) before returning, since an action may depend on it. */
  appendEvent(ts: number, kind: string, body: unknown): number {
    const seq = this.lastSeq.events + 1;
    this.db.pragma('synchronous = FULL');
    try {
      this.db.transaction(() => {
        this.stmt.insertEvent.run(seq, ts, kind, JSON.stringify(body));
        this.stmt.saveLast.run(seq, 'events');
      })();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
    this.lastSeq.events = seq;
    return seq;
  }

  /** Highest seq the cloud has committed, per lane. */
  ackedUpTo(lane: LaneName): number {
    return this.acked[lane];
  }

  /** Highest seq written, per lane. */
  lastWritten(lane: LaneName): number {
    return this.lastSeq[lane];
  }

  /**
   * Batches to send after `afterSeq`: first the ones already cut (resends keep
   * their boundaries), then a new one of at most `max` items if data is waiting.
   */
  batchesAfter(lane: LaneName, afterSeq: number, max: number, limit: number): { firstSeq: number; lastSeq: number }[] {
    const out = (this.stmt.outboxAfter.all(lane, Math.max(afterSeq, this.acked[lane])) as { first_seq: number; last_seq: number }[])
      .slice(0, limit)
      .map((r) => ({ firstSeq: r.first_seq, lastSeq: r.last_seq }));
    while (out.length < limit) {
      const cutTo = Math.max((this.stmt.outboxLast.get(lane) as { m: number | null }).m ?? 0, this.acked[lane]);
      const end = (this.stmt.lastOfNext[lane].get(cutTo, max) as { m: number | null }).m;
      if (end === null) break;
      this.stmt.insertOutbox.run(lane, cutTo + 1, end);
      out.push({ firstSeq: cutTo + 1, lastSeq: end });
    }
    return out;
  }

  /** The readings of a telemetry range, with the seq of each. */
  readings(firstSeq: number, lastSeq: number): { readings: Reading[]; seqs: number[] } {
    const rows = this.stmt.readingsRange.all(firstSeq, lastSeq) as { seq: number; series: number; ts: number; value: number | null; quality: number }[];
    const seqs = new Array<number>(rows.length);
    const readings = rows.map((r, i) => {
      seqs[i] = r.seq;
      const s = this.series.get(r.series)!;
      const reading: Reading = { device: s.device, point: s.point, ts: r.ts, value: r.value ?? NaN };
      if (r.quality !== Quality.Good) reading.quality = r.quality;
      return reading;
    });
    return { readings, seqs };
  }

  /** The events of an events range. */
  events(firstSeq: number, lastSeq: number): BufferedEvent[] {
    return (this.stmt.eventsRange.all(firstSeq, lastSeq) as { seq: number; ts: number; kind: string; body: string }[]).map((r) => ({
      seq: r.seq,
      ts: r.ts,
      kind: r.kind,
      body: JSON.parse(r.body) as unknown,
    }));
  }

  /** The cloud committed everything up to `upTo`: reclaim it. Returns false if it was old news. */
  ack(lane: LaneName, upTo: number): boolean {
    if (upTo <= this.acked[lane]) return false;
    const capped = Math.min(upTo, this.lastSeq[lane]);
    const table = lane === 'telemetry' ? 'readings' : 'events';
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM ${table} WHERE seq <= ?`).run(capped);
      this.db.prepare('DELETE FROM outbox WHERE lane = ? AND last_seq <= ?').run(lane, capped);
      this.stmt.saveAcked.run(capped, lane);
    })();
    this.acked[lane] = capped;
    return true;
  }

  /** Backlog depth and the age of its oldest item, per lane. */
  backlog(lane: LaneName): { depth: number; oldestTs: number | null } {
    const table = lane === 'telemetry' ? 'readings' : 'events';
    const r = this.db.prepare(`SELECT COUNT(*) n, MIN(ts) t FROM ${table} WHERE seq > ?`).get(this.acked[lane]) as { n: number; t: number | null };
    return { depth: r.n, oldestTs: r.t };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
