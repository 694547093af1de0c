/**
 * The edge buffer: every reading stays in SQLite (WAL) until the cloud has
 * committed it. Only this module knows SQLite.
 *
 *   readings ─▶ append ─▶ one chunk row per call (columnar blob, seqs first..last)
 *                  │
 *   sync ◀── cutBacklog / cutLive ── outbox (stable ranges: a resend after a restart covers the same seqs)
 *                  │
 *   cloud ack ─▶ ack(lane, upTo) / committed(lane, range) ─▶ chunks reclaimed
 *                  │
 *   disk budget ─▶ enforceBudget: oldest unsent chunks merged into per-minute min/max/mean (gap records)
 *
 * Sequence numbers are per lane, strictly increasing, never reused within one
 * epoch. The epoch is a random id made with the database: a gateway whose file
 * is lost starts again at seq 1 under a new epoch, and the cloud keeps the two
 * apart (docs/wire-protocol.md §1.1).
 *
 * Readings are stored as chunks (one row per append, the readings in four
 * columns: ts f64, value f64, series u32, quality u8 = 21 bytes a reading)
 * rather than a row per reading: SQLite's per-row cost is what limits a
 * row-per-reading buffer, and a chunk keeps the seq range contiguous.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCodes, LifelineError, Quality, type GapRecord, type Reading } from '@lifeline/shared';

/** The sync lanes: telemetry, and alarms/events which go ahead of any backlog. */
export type LaneName = 'telemetry' | 'events';

/** A contiguous range of one lane as recorded in the outbox. */
export interface OutboxRange {
  lane: LaneName;
  firstSeq: number;
  lastSeq: number;
  /** The cloud said it committed this range (ahead of its contiguous prefix). */
  done: boolean;
}

/** An event (alarm transition, comm change) buffered for the cloud. */
export interface BufferedEvent {
  seq: number;
  ts: number;
  kind: string;
  body: unknown;
}

/** The readings of a telemetry range: raw readings (with seqs) and the gap records of thinned seqs. */
export interface TelemetryRange {
  readings: Reading[];
  seqs: number[];
  gaps: GapRecord[];
}

/** Buffer options. */
export interface BufferOptions {
  /** Disk budget in bytes (database + WAL); 0 or absent: no budget. */
  diskBudgetBytes?: number;
  /** Clock for gap bookkeeping (tests). */
  now?: () => number;
}

/** What thinning has done since the buffer opened. */
export interface ThinningCounters {
  /** Raw readings replaced by per-minute aggregates. */
  thinnedReadings: number;
  /** Aggregate minutes dropped because even they did not fit. */
  droppedMinutes: number;
  /** Times enforceBudget had to act. */
  runs: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(device, point));
CREATE TABLE IF NOT EXISTS chunks(first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, n INTEGER NOT NULL,
  ts_min INTEGER, ts_max INTEGER, data BLOB NOT NULL, seqs BLOB, gaps TEXT, gapdata BLOB);
CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(lane TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(lane, first_seq));
CREATE TABLE IF NOT EXISTS cursors(lane TEXT PRIMARY KEY, acked INTEGER NOT NULL, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commands(id TEXT PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL, by_ TEXT NOT NULL, body TEXT NOT NULL, answer TEXT NOT NULL);
`;

const MINUTE = 60_000;
/** Bytes a reading takes in a chunk blob. */
export const CHUNK_BYTES_PER_READING = 21;

type ChunkRow = { first_seq: number; last_seq: number; n: number; ts_min: number | null; ts_max: number | null; data: Buffer; seqs: Buffer | null; gaps: string | null; gapdata: Buffer | null };
type ChunkHead = { first_seq: number; last_seq: number; n: number; holes: number };
/** Gap metadata in a chunk row; the minutes are in `gapdata`, 5 f64 each (ts, count, min, max, mean). */
type GapMeta = { series: number; from: number; to: number; minutes: number };

/** A decoded chunk. */
interface Chunk {
  first: number;
  last: number;
  n: number;
  ts: Float64Array;
  value: Float64Array;
  series: Uint32Array;
  quality: Uint8Array;
  /** Explicit seqs when thinning left holes; else seq i = first + i. */
  seqs: Float64Array | null;
  gaps: { meta: GapMeta; minutes: Float64Array }[];
}

function aligned(buf: Buffer): ArrayBuffer {
  // better-sqlite3 hands out Buffers at any offset; typed views need an 8-byte boundary.
  if (buf.byteOffset % 8 === 0) return buf.buffer as ArrayBuffer;
  return new Uint8Array(buf).buffer;
}

/** Encodes columns into one blob: ts | value | series | quality. */
function packChunk(ts: Float64Array, value: Float64Array, series: Uint32Array, quality: Uint8Array, n: number): Buffer {
  const ab = new ArrayBuffer(n * CHUNK_BYTES_PER_READING);
  new Float64Array(ab, 0, n).set(n === ts.length ? ts : ts.subarray(0, n));
  new Float64Array(ab, 8 * n, n).set(n === value.length ? value : value.subarray(0, n));
  new Uint32Array(ab, 16 * n, n).set(n === series.length ? series : series.subarray(0, n));
  new Uint8Array(ab, 20 * n, n).set(n === quality.length ? quality : quality.subarray(0, n));
  return Buffer.from(ab);
}

function unpackChunk(r: ChunkRow): Chunk {
  const n = r.n;
  const ab = aligned(r.data);
  const off = r.data.byteOffset % 8 === 0 ? r.data.byteOffset : 0;
  const chunk: Chunk = {
    first: r.first_seq,
    last: r.last_seq,
    n,
    ts: new Float64Array(ab, off, n),
    value: new Float64Array(ab, off + 8 * n, n),
    series: new Uint32Array(ab, off + 16 * n, n),
    quality: new Uint8Array(ab, off + 20 * n, n),
    seqs: null,
    gaps: [],
  };
  if (r.seqs) {
    const sab = aligned(r.seqs);
    chunk.seqs = new Float64Array(sab, r.seqs.byteOffset % 8 === 0 ? r.seqs.byteOffset : 0, n);
  }
  if (r.gaps && r.gapdata) {
    const metas = JSON.parse(r.gaps) as GapMeta[];
    const gab = aligned(r.gapdata);
    let off2 = r.gapdata.byteOffset % 8 === 0 ? r.gapdata.byteOffset : 0;
    for (const meta of metas) {
      chunk.gaps.push({ meta, minutes: new Float64Array(gab, off2, meta.minutes * 5) });
      off2 += meta.minutes * 40;
    }
  }
  return chunk;
}

/** A random epoch in 1 … 2^53 − 1. */
function newEpoch(): number {
  const b = randomBytes(7);
  let v = 0;
  for (let i = 0; i < 7; i++) v = v * 256 + b[i];
  return (v % (Number.MAX_SAFE_INTEGER - 1)) + 1;
}

/**
 * Make the buffer's directory one level at a time. `mkdirSync(…, {recursive})`
 * spins forever where a parent refuses children (`/proc/nope`); this fails,
 * naming the path, and refuses a parent that is a file (`/etc/hostname/…`).
 */
function ensureDir(dir: string, forPath: string): void {
  const missing: string[] = [];
  let d = dir;
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  if (!statSync(d).isDirectory()) throw new LifelineError(ErrorCodes.ConfigInvalid, `buffer.path: ${d} is not a directory, got ${JSON.stringify(forPath)}`);
  for (const m of missing) {
    try {
      mkdirSync(m, { mode: 0o700 });
    } catch (err) {
      throw new LifelineError(ErrorCodes.ConfigInvalid, `buffer.path: cannot create ${m} (${(err as NodeJS.ErrnoException).code ?? 'error'}), got ${JSON.stringify(forPath)}`, { cause: err });
    }
  }
}

/** The database and its WAL and shared-memory files hold the gateway's data: 0600, kept so. */
function restrictFiles(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

export class EdgeBuffer {
  readonly db: Database.Database;
  /** This database's incarnation: made with the file, sent with every batch. */
  readonly epoch: number;
  readonly thinning: ThinningCounters = { thinnedReadings: 0, droppedMinutes: 0, runs: 0 };
  private readonly path: string;
  private budget: number;
  private readonly pointIds = new Map<string, Map<string, number>>();
  private readonly series = new Map<number, { device: string; point: string }>();
  private lastSeq: Record<LaneName, number> = { telemetry: 0, events: 0 };
  private acked: Record<LaneName, number> = { telemetry: 0, events: 0 };
  /** Bytes appended since the budget was last checked (an estimate). */
  private sinceCheck = 0;
  private readonly stmt;

  constructor(path: string, opts: BufferOptions = {}) {
    if (path !== ':memory:') {
      ensureDir(dirname(path), path);
      // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm the database's mode.
      closeSync(openSync(path, 'a', 0o600));
      restrictFiles(path);
    }
    this.path = path;
    this.budget = opts.diskBudgetBytes ?? 0;
    this.db = new Database(path);
    // Incremental auto-vacuum (only takes effect on a new file): thinning gives pages back to the file system.
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    if (path !== ':memory:') restrictFiles(path); // a -wal or -shm left by an older version
    // NORMAL in WAL mode: a commit survives a process crash; alarm events switch to FULL.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.setBudget(this.budget);
    const epochRow = this.db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string } | undefined;
    if (epochRow) this.epoch = Number(epochRow.value);
    else {
      this.epoch = newEpoch();
      this.db.prepare("INSERT INTO meta(key, value) VALUES ('epoch', ?)").run(String(this.epoch));
    }
    this.migrateRowReadings();
    for (const lane of ['telemetry', 'events'] as LaneName[]) {
      const cur = this.db.prepare('SELECT acked, last_seq FROM cursors WHERE lane = ?').get(lane) as { acked: number; last_seq: number } | undefined;
      const maxRow =
        lane === 'telemetry'
          ? ((this.db.prepare('SELECT MAX(last_seq) m FROM chunks').get() as { m: number | null }).m ?? 0)
          : ((this.db.prepare('SELECT MAX(seq) m FROM events').get() as { m: number | null }).m ?? 0);
      this.acked[lane] = cur?.acked ?? 0;
      this.lastSeq[lane] = Math.max(maxRow, cur?.last_seq ?? 0, this.acked[lane]);
      this.db.prepare('INSERT OR IGNORE INTO cursors(lane, acked, last_seq) VALUES (?, 0, 0)').run(lane);
    }
    for (const r of this.db.prepare('SELECT id, device, point FROM series').all() as { id: number; device: string; point: string }[]) this.remember(r.id, r.device, r.point);
    this.stmt = {
      insertSeries: this.db.prepare('INSERT INTO series(device, point) VALUES (?, ?)'),
      insertChunk: this.db.prepare('INSERT INTO chunks(first_seq, last_seq, n, ts_min, ts_max, data) VALUES (?, ?, ?, ?, ?, ?)'),
      insertFullChunk: this.db.prepare('INSERT INTO chunks(first_seq, last_seq, n, ts_min, ts_max, data, seqs, gaps, gapdata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      insertEvent: this.db.prepare('INSERT INTO events(seq, ts, kind, body) VALUES (?, ?, ?, ?)'),
      saveLast: this.db.prepare('UPDATE cursors SET last_seq = ? WHERE lane = ?'),
      saveAcked: this.db.prepare('UPDATE cursors SET acked = ?, last_seq = MAX(last_seq, ?) WHERE lane = ?'),
      outboxAll: this.db.prepare('SELECT first_seq, last_seq, done FROM outbox WHERE lane = ? ORDER BY first_seq'),
      insertOutbox: this.db.prepare('INSERT INTO outbox(lane, first_seq, last_seq) VALUES (?, ?, ?)'),
      deleteOutbox: this.db.prepare('DELETE FROM outbox WHERE lane = ? AND first_seq = ?'),
      markDone: this.db.prepare('UPDATE outbox SET done = 1 WHERE lane = ? AND first_seq = ? AND last_seq = ?'),
      chunkHeadsFrom: this.db.prepare('SELECT first_seq, last_seq, n, (seqs IS NOT NULL OR gaps IS NOT NULL) holes FROM chunks WHERE last_seq >= ? ORDER BY first_seq LIMIT ?'),
      chunkHeadsBack: this.db.prepare('SELECT first_seq, last_seq, n, (seqs IS NOT NULL OR gaps IS NOT NULL) holes FROM chunks WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT ?'),
      chunksOverlapping: this.db.prepare('SELECT * FROM chunks WHERE last_seq >= ? AND first_seq <= ? ORDER BY first_seq'),
      rawHeads: this.db.prepare('SELECT first_seq, last_seq, n, 0 holes FROM chunks WHERE first_seq > ? AND n > 0 ORDER BY first_seq LIMIT ?'),
      chunksBetween: this.db.prepare('SELECT * FROM chunks WHERE first_seq BETWEEN ? AND ? ORDER BY first_seq'),
      chunksOldest: this.db.prepare('SELECT * FROM chunks WHERE first_seq > ? AND last_seq < ? ORDER BY first_seq LIMIT ?'),
      deleteChunk: this.db.prepare('DELETE FROM chunks WHERE first_seq = ?'),
      deleteChunksUpTo: this.db.prepare('DELETE FROM chunks WHERE last_seq <= ?'),
      deleteChunksIn: this.db.prepare('DELETE FROM chunks WHERE first_seq >= ? AND last_seq <= ?'),
      deleteOutboxUpTo: this.db.prepare('DELETE FROM outbox WHERE lane = ? AND last_seq <= ?'),
      deleteEventsUpTo: this.db.prepare('DELETE FROM events WHERE seq <= ?'),
      eventsRange: this.db.prepare('SELECT seq, ts, kind, body FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq'),
      eventSeqsFrom: this.db.prepare('SELECT seq FROM events WHERE seq >= ? ORDER BY seq LIMIT ?'),
      telemetryBacklog: this.db.prepare('SELECT COALESCE(SUM(n), 0) n, MIN(ts_min) t, COUNT(*) c FROM chunks WHERE last_seq > ?'),
      eventsBacklog: this.db.prepare('SELECT COUNT(*) n, MIN(ts) t FROM events WHERE seq > ?'),
    };
  }

  /** Changes the disk budget (bytes; 0 = none) and sizes the WAL to it. */
  setBudget(bytes: number): void {
    this.budget = bytes;
    if (!bytes) return;
    const page = this.db.pragma('page_size', { simple: true }) as number;
    // The WAL counts against the budget: checkpoint often enough that it stays a small share of it
    // (an eighth at most; 4 MiB for budgets over 32 MiB). Each checkpoint costs an fsync.
    const walBytes = Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(bytes / 8)));
    this.db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.floor(walBytes / page))}`);
    this.db.pragma(`journal_size_limit = ${walBytes}`);
  }

  /** Databases written before chunks kept one row per reading: fold them into chunks once. */
  private migrateRowReadings(): void {
    const has = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'readings'").get();
    if (!has) return;
    this.db.transaction(() => {
      const rows = this.db.prepare('SELECT seq, series, ts, value, quality FROM readings ORDER BY seq').all() as { seq: number; series: number; ts: number; value: number | null; quality: number }[];
      let i = 0;
      while (i < rows.length) {
        let j = i + 1;
        while (j < rows.length && j - i < 10_000 && rows[j].seq === rows[j - 1].seq + 1) j++;
        const n = j - i;
        const ts = new Float64Array(n), value = new Float64Array(n), series = new Uint32Array(n), quality = new Uint8Array(n);
        let tmin = Infinity, tmax = -Infinity;
        for (let k = 0; k < n; k++) {
          const r = rows[i + k];
          ts[k] = r.ts;
          value[k] = r.value ?? NaN;
          series[k] = r.series;
          quality[k] = r.quality;
          if (r.ts < tmin) tmin = r.ts;
          if (r.ts > tmax) tmax = r.ts;
        }
        this.db.prepare('INSERT INTO chunks(first_seq, last_seq, n, ts_min, ts_max, data) VALUES (?, ?, ?, ?, ?, ?)').run(rows[i].seq, rows[j - 1].seq, n, tmin, tmax, packChunk(ts, value, series, quality, n));
        i = j;
      }
      this.db.exec('DROP TABLE readings');
    })();
  }

  private remember(id: number, device: string, point: string): void {
    let points = this.pointIds.get(device);
    if (!points) this.pointIds.set(device, (points = new Map()));
    points.set(point, id);
    this.series.set(id, { device, point });
  }

  private seriesId(device: string, point: string): number {
    const id = this.pointIds.get(device)?.get(point);
    if (id !== undefined) return id;
    const created = Number(this.stmt.insertSeries.run(device, point).lastInsertRowid);
    this.remember(created, device, point);
    return created;
  }

  /** Store readings durably in one transaction (one chunk); returns the last seq assigned. */
  append(readings: readonly Reading[]): number {
    const n = readings.length;
    if (!n) return this.lastSeq.telemetry;
    // The chunk's columns are written straight into the blob's memory: ts | value | series | quality.
    const ab = new ArrayBuffer(n * CHUNK_BYTES_PER_READING);
    const ts = new Float64Array(ab, 0, n);
    const value = new Float64Array(ab, 8 * n, n);
    const series = new Uint32Array(ab, 16 * n, n);
    const quality = new Uint8Array(ab, 20 * n, n);
    let tmin = Infinity;
    let tmax = -Infinity;
    let lastDevice = '';
    let points: Map<string, number> | undefined;
    for (let i = 0; i < n; i++) {
      const r = readings[i];
      // Poll batches come device by device: keep the device's point map across its readings.
      if (r.device !== lastDevice || !points) {
        lastDevice = r.device;
        points = this.pointIds.get(r.device);
      }
      let id = points?.get(r.point);
      if (id === undefined) {
        id = this.seriesId(r.device, r.point);
        points = this.pointIds.get(r.device);
      }
      const t = r.ts;
      ts[i] = t;
      value[i] = r.value;
      series[i] = id;
      quality[i] = r.quality ?? Quality.Good;
      if (t < tmin) tmin = t;
      if (t > tmax) tmax = t;
    }
    const first = this.lastSeq.telemetry + 1;
    const last = first + n - 1;
    const blob = Buffer.from(ab);
    this.stmt.insertChunk.run(first, last, n, tmin, tmax, blob);
    this.lastSeq.telemetry = last;
    this.sinceCheck += blob.length + 64;
    if (this.budget && this.sinceCheck > this.budget / 256) this.enforceBudget();
    return last;
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

  /** Highest seq the cloud has committed (contiguously), per lane. */
  ackedUpTo(lane: LaneName): number {
    return this.acked[lane];
  }

  /** Highest seq written, per lane. */
  lastWritten(lane: LaneName): number {
    return this.lastSeq[lane];
  }

  /** Ranges cut and not yet reclaimed, in seq order (done ones included). */
  outbox(lane: LaneName): OutboxRange[] {
    return (this.stmt.outboxAll.all(lane) as { first_seq: number; last_seq: number; done: number }[]).map((r) => ({
      lane,
      firstSeq: r.first_seq,
      lastSeq: r.last_seq,
      done: r.done === 1,
    }));
  }

  /**
   * The oldest seqs not yet in any outbox range, cut into a new range of at
   * most `max` items (whole chunks; a chunk is split only when it has no
   * holes). Undefined when everything written is already cut.
   */
  cutBacklog(lane: LaneName, max: number): OutboxRange | undefined {
    const ranges = this.outbox(lane);
    let start = this.acked[lane] + 1;
    let limit = this.lastSeq[lane];
    for (const r of ranges) {
      if (r.lastSeq < start) continue;
      if (r.firstSeq <= start) {
        start = r.lastSeq + 1;
        continue;
      }
      limit = r.firstSeq - 1;
      break;
    }
    if (start > limit) return undefined;
    const end = lane === 'events' ? this.eventsEnd(start, limit, max) : this.chunksEnd(start, limit, max);
    if (end < start) return undefined;
    this.stmt.insertOutbox.run(lane, start, end);
    return { lane, firstSeq: start, lastSeq: end, done: false };
  }

  /**
   * The newest uncut telemetry (at most `max` readings) as its own range, so
   * the operator's view stays current while an older backlog drains.
   * Undefined when the newest seq is already cut.
   */
  cutLive(max: number): OutboxRange | undefined {
    const ranges = this.outbox('telemetry');
    const tail = Math.max(this.acked.telemetry, ranges.length ? ranges[ranges.length - 1].lastSeq : 0);
    const end = this.lastSeq.telemetry;
    if (end <= tail) return undefined;
    // Walk back from the newest chunk until `max` readings are covered.
    let start = end + 1;
    let count = 0;
    for (const h of this.stmt.chunkHeadsBack.all(end, 64) as ChunkHead[]) {
      if (h.last_seq <= tail || (count > 0 && count + h.n > max)) break;
      start = Math.max(h.first_seq, tail + 1);
      count += h.n;
      if (count >= max) break;
    }
    if (start > end) return undefined;
    // A live range must not cut a chunk with holes in two.
    this.stmt.insertOutbox.run('telemetry', start, end);
    return { lane: 'telemetry', firstSeq: start, lastSeq: end, done: false };
  }

  private eventsEnd(start: number, limit: number, max: number): number {
    const rows = this.stmt.eventSeqsFrom.all(start, max) as { seq: number }[];
    let end = start - 1;
    for (const r of rows) if (r.seq <= limit) end = r.seq;
    // Seqs with no row (none are expected in the event lane) are covered up to the next row.
    return rows.length < max ? limit : end;
  }

  private chunksEnd(start: number, limit: number, max: number): number {
    let count = 0;
    let end = start - 1;
    let from = start;
    for (;;) {
      const heads = this.stmt.chunkHeadsFrom.all(from, 256) as ChunkHead[];
      if (!heads.length) return limit;
      for (const h of heads) {
        if (h.first_seq > limit) return end;
        const lo = Math.max(h.first_seq, start);
        const hi = Math.min(h.last_seq, limit);
        const items = h.holes ? h.n : hi - lo + 1;
        if (count + items <= max || count === 0) {
          if (!h.holes && count + items > max) return lo + (max - count) - 1; // split a plain chunk
          count += items;
          end = hi;
          if (count >= max) return end;
          continue;
        }
        if (!h.holes) return lo + (max - count) - 1;
        return end;
      }
      from = heads[heads.length - 1].last_seq + 1;
    }
  }

  /** Splits an outbox range in two at `at` (the first half ends at `at`); for a range too large to send. */
  splitRange(lane: LaneName, firstSeq: number, at: number): void {
    const r = this.outbox(lane).find((o) => o.firstSeq === firstSeq);
    if (!r || at < firstSeq || at >= r.lastSeq) return;
    this.db.transaction(() => {
      this.stmt.deleteOutbox.run(lane, firstSeq);
      this.stmt.insertOutbox.run(lane, firstSeq, at);
      this.stmt.insertOutbox.run(lane, at + 1, r.lastSeq);
    })();
  }

  /** The readings and gap records of a telemetry range, readings in seq order with their seqs. */
  readings(firstSeq: number, lastSeq: number): TelemetryRange {
    const rows = this.stmt.chunksOverlapping.all(firstSeq, lastSeq) as ChunkRow[];
    const readings: Reading[] = [];
    const seqs: number[] = [];
    const gaps: GapRecord[] = [];
    for (const row of rows) {
      const c = unpackChunk(row);
      for (let i = 0; i < c.n; i++) {
        const seq = c.seqs ? c.seqs[i] : c.first + i;
        if (seq < firstSeq || seq > lastSeq) continue;
        const s = this.series.get(c.series[i])!;
        const reading: Reading = { device: s.device, point: s.point, ts: c.ts[i], value: c.value[i] };
        if (c.quality[i] !== Quality.Good) reading.quality = c.quality[i];
        readings.push(reading);
        seqs.push(seq);
      }
      // A chunk with gaps is never split, so its gaps belong to the range holding it.
      if (c.first >= firstSeq && c.last <= lastSeq) for (const g of c.gaps) gaps.push(this.gapRecord(g.meta, g.minutes));
    }
    return { readings, seqs, gaps };
  }

  private gapRecord(meta: GapMeta, m: Float64Array): GapRecord {
    const s = this.series.get(meta.series)!;
    const minutes = [];
    for (let k = 0; k < meta.minutes; k++) minutes.push({ ts: m[5 * k], count: m[5 * k + 1], min: m[5 * k + 2], max: m[5 * k + 3], mean: m[5 * k + 4] });
    return { device: s.device, point: s.point, from: meta.from, to: meta.to, minutes };
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
    this.db.transaction(() => {
      if (lane === 'telemetry') this.stmt.deleteChunksUpTo.run(capped);
      else this.stmt.deleteEventsUpTo.run(capped);
      this.stmt.deleteOutboxUpTo.run(lane, capped);
      this.stmt.saveAcked.run(capped, this.lastSeq[lane], lane);
    })();
    this.acked[lane] = capped;
    return true;
  }

  /**
   * The cloud committed this exact range ahead of its contiguous prefix: stop
   * resending it and reclaim the chunks wholly inside it. False if unknown.
   */
  committed(lane: LaneName, firstSeq: number, lastSeq: number): boolean {
    if (lastSeq <= this.acked[lane]) return false;
    let changed = false;
    this.db.transaction(() => {
      changed = this.stmt.markDone.run(lane, firstSeq, lastSeq).changes > 0;
      if (changed && lane === 'telemetry') {
        this.stmt.deleteChunksIn.run(firstSeq, lastSeq);
        // The newest chunks may be gone now: the cursor keeps the last seq so it is never reused.
        this.stmt.saveLast.run(this.lastSeq.telemetry, 'telemetry');
      }
    })();
    return changed;
  }

  /** Backlog depth (items not yet committed) and the time of its oldest item, per lane. */
  backlog(lane: LaneName): { depth: number; oldestTs: number | null } {
    if (lane === 'events') {
      const r = this.stmt.eventsBacklog.get(this.acked.events) as { n: number; t: number | null };
      return { depth: r.n, oldestTs: r.t };
    }
    const r = this.stmt.telemetryBacklog.get(this.acked.telemetry) as { n: number; t: number | null };
    return { depth: r.n, oldestTs: r.t };
  }

  /** Bytes the buffer takes on disk: the database file and its WAL. */
  diskBytes(): number {
    if (this.path === ':memory:') {
      return (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
    }
    let total = 0;
    for (const f of [this.path, `${this.path}-wal`]) {
      try {
        total += statSync(f).size;
      } catch {
        // absent WAL
      }
    }
    return total;
  }

  /** Bytes of the database in use: pages not on the free list. */
  private pageBytes(): number {
    const page = this.db.pragma('page_size', { simple: true }) as number;
    return ((this.db.pragma('page_count', { simple: true }) as number) - (this.db.pragma('freelist_count', { simple: true }) as number)) * page;
  }

  /** Bytes of the database in use (pages not on the free list) plus the WAL. */
  usedBytes(): number {
    const page = this.db.pragma('page_size', { simple: true }) as number;
    const used = ((this.db.pragma('page_count', { simple: true }) as number) - (this.db.pragma('freelist_count', { simple: true }) as number)) * page;
    let wal = 0;
    if (this.path !== ':memory:') {
      try {
        wal = statSync(`${this.path}-wal`).size;
      } catch {
        wal = 0;
      }
    }
    return used + wal;
  }

  /**
   * Keep the buffer inside its disk budget. Synced data is already gone (an
   * ack reclaims it at once); beyond that, the oldest unsent telemetry is
   * merged into per-minute min/max/mean gap records, oldest first, and if
   * even the aggregates do not fit, the oldest aggregates are dropped (the gap
   * record stays, with no minutes). Events and alarms are never touched.
   * Returns the readings thinned by this call.
   */
  enforceBudget(): number {
    this.sinceCheck = 0;
    if (!this.budget) return 0;
    // Database pages stay under 82 % of the budget, leaving room for the WAL (≤ 12.5 %) and one transaction.
    const walShare = Math.min(4 * 1024 * 1024, this.budget / 8);
    const high = this.budget * 0.95 - walShare;
    const low = high - this.budget * 0.12;
    if (this.pageBytes() <= high) return 0;
    this.thinning.runs++;
    let thinned = 0;
    // Outbox ranges already sent keep their content; thin only what no range covers yet.
    const ranges = this.outbox('telemetry');
    const floor = Math.max(this.acked.telemetry, ...ranges.map((r) => r.lastSeq));
    let progress = true;
    while (this.pageBytes() > low && progress) {
      progress = false;
      const heads = this.stmt.rawHeads.all(floor, 2048) as ChunkHead[];
      // Never thin the newest data (the live range the operator sees): keep the last chunk.
      if (heads.length && heads[heads.length - 1].last_seq === this.lastSeq.telemetry) heads.pop();
      // Consecutive chunks only (a thinned chunk covers one contiguous seq range), ~20,000 readings a round.
      let k = 1;
      let raw = heads[0]?.n ?? 0;
      while (k < heads.length && heads[k].first_seq === heads[k - 1].last_seq + 1 && raw < 20_000) raw += heads[k++].n;
      const take = heads.length ? (this.stmt.chunksBetween.all(heads[0].first_seq, heads[k - 1].first_seq) as ChunkRow[]) : [];
      if (take.some((r) => r.n > 0)) {
        thinned += this.thinChunks(take);
        progress = true;
        this.compact();
        continue;
      }
      // Nothing raw left to thin: drop the oldest aggregates.
      progress = this.dropOldestAggregates(floor);
      this.compact();
    }
    this.thinning.thinnedReadings += thinned;
    return thinned;
  }

  /** Gives free pages back to the file system and empties the WAL. */
  private compact(): void {
    this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /**
   * Replaces the first chunks of `all` by one chunk holding no readings and
   * per-series per-minute aggregates. Stops after ~2,000 aggregate minutes so
   * that the batch carrying the gap records stays small (≈ 60 KB).
   */
  private thinChunks(all: ChunkRow[]): number {
    const perSeries = new Map<number, { from: number; to: number; minutes: Map<number, number[]> }>();
    let thinned = 0;
    let minuteCount = 0;
    const carried: { meta: GapMeta; minutes: Float64Array }[] = [];
    const rows: ChunkRow[] = [];
    for (const row of all) {
      if (rows.length && minuteCount >= 2000) break;
      rows.push(row);
      const c = unpackChunk(row);
      for (const g of c.gaps) minuteCount += g.meta.minutes;
      carried.push(...c.gaps);
      for (let i = 0; i < c.n; i++) {
        const s = c.series[i];
        const t = c.ts[i];
        let e = perSeries.get(s);
        if (!e) perSeries.set(s, (e = { from: t, to: t, minutes: new Map() }));
        if (t < e.from) e.from = t;
        if (t > e.to) e.to = t;
        const minute = Math.floor(t / MINUTE) * MINUTE;
        let m = e.minutes.get(minute);
        if (!m) {
          e.minutes.set(minute, (m = [0, Infinity, -Infinity, 0, 0]));
          minuteCount++;
        }
        m[0]++;
        const v = c.value[i];
        if (Number.isFinite(v)) {
          if (v < m[1]) m[1] = v;
          if (v > m[2]) m[2] = v;
          m[3] += v;
          m[4]++;
        }
        thinned++;
      }
    }
    const metas: GapMeta[] = [];
    const parts: Float64Array[] = [];
    for (const g of carried) {
      metas.push(g.meta);
      parts.push(g.minutes);
    }
    for (const [series, e] of perSeries) {
      const keys = [...e.minutes.keys()].sort((a, b) => a - b);
      const arr = new Float64Array(keys.length * 5);
      keys.forEach((k, j) => {
        const m = e.minutes.get(k)!;
        arr[5 * j] = k;
        arr[5 * j + 1] = m[0];
        arr[5 * j + 2] = m[4] ? m[1] : NaN;
        arr[5 * j + 3] = m[4] ? m[2] : NaN;
        arr[5 * j + 4] = m[4] ? m[3] / m[4] : NaN;
      });
      metas.push({ series, from: e.from, to: e.to, minutes: keys.length });
      parts.push(arr);
    }
    // Aggregates of a point read about once a minute are no smaller than its readings: then
    // nothing is kept of the newly thinned minutes but the gap record (from, to, no minutes).
    const fresh = metas.length - carried.length;
    const freshMinutes = parts.slice(carried.length).reduce((a, p) => a + p.length / 5, 0);
    if (freshMinutes * 40 > thinned * CHUNK_BYTES_PER_READING * 0.6) {
      for (let k = carried.length; k < carried.length + fresh; k++) {
        this.thinning.droppedMinutes += metas[k].minutes;
        metas[k] = { ...metas[k], minutes: 0 };
        parts[k] = new Float64Array(0);
      }
    }
    const total = parts.reduce((a, p) => a + p.length, 0);
    const gapdata = new Float64Array(total);
    let off = 0;
    for (const p of parts) {
      gapdata.set(p, off);
      off += p.length;
    }
    const first = rows[0].first_seq;
    const last = rows[rows.length - 1].last_seq;
    this.db.transaction(() => {
      for (const r of rows) this.stmt.deleteChunk.run(r.first_seq);
      this.stmt.insertFullChunk.run(first, last, 0, null, null, Buffer.alloc(0), null, JSON.stringify(metas), Buffer.from(gapdata.buffer));
    })();
    return thinned;
  }

  /** Empties the minutes of the oldest thinned chunk with any left; false if none. */
  private dropOldestAggregates(floor: number): boolean {
    const rows = this.stmt.chunksOldest.all(floor, Number.MAX_SAFE_INTEGER, 64) as ChunkRow[];
    for (const row of rows) {
      const c = unpackChunk(row);
      if (!c.gaps.some((g) => g.meta.minutes > 0)) continue;
      const metas = c.gaps.map((g) => ({ ...g.meta, minutes: 0 }));
      this.thinning.droppedMinutes += c.gaps.reduce((a, g) => a + g.meta.minutes, 0);
      this.db.transaction(() => {
        this.stmt.deleteChunk.run(row.first_seq);
        this.stmt.insertFullChunk.run(row.first_seq, row.last_seq, c.n, row.ts_min, row.ts_max, row.data, row.seqs, JSON.stringify(metas), Buffer.alloc(0));
      })();
      return true;
    }
    return false;
  }

  /** The stored answer to a command already handled, if any (commands are idempotent by id). */
  commandAnswer(id: string): unknown {
    const r = this.db.prepare('SELECT answer FROM commands WHERE id = ?').get(id) as { answer: string } | undefined;
    return r ? (JSON.parse(r.answer) as unknown) : undefined;
  }

  /** Audit a handled command and its answer (synced to disk, like alarm transitions). */
  recordCommand(c: { id: string; ts: number; type: string; by: string; body: unknown; answer: unknown }): void {
    this.db.pragma('synchronous = FULL');
    try {
      this.db.prepare('INSERT OR REPLACE INTO commands(id, ts, type, by_, body, answer) VALUES (?, ?, ?, ?, ?, ?)').run(c.id, c.ts, c.type, c.by, JSON.stringify(c.body), JSON.stringify(c.answer));
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /** The command audit log, newest first. */
  commandLog(limit = 100): { id: string; ts: number; type: string; by: string; body: unknown; answer: unknown }[] {
    return (this.db.prepare('SELECT * FROM commands ORDER BY ts DESC, id DESC LIMIT ?').all(limit) as { id: string; ts: number; type: string; by_: string; body: string; answer: string }[]).map((r) => ({
      id: r.id,
      ts: r.ts,
      type: r.type,
      by: r.by_,
      body: JSON.parse(r.body) as unknown,
      answer: JSON.parse(r.answer) as unknown,
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
