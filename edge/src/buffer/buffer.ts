/**
 * The edge buffer's façade: what the agent, sync and tests call. Every
 * reading stays in SQLite until the cloud has committed it; database.ts opens
 * the file and draws the flow, and each concern lives in its own module:
 *
 *   append ─▶ telemetry.ts (chunk.ts)       appendEvent ─▶ events.ts
 *   cutBacklog / cutLive / ack / committed ─▶ outbox.ts ─▶ cursors.ts
 *   enforceBudget ─▶ budget.ts (thin.ts)    recordCommand ─▶ command-log.ts
 *   alarmTables() ─▶ alarm-tables.ts        tools, read-only ─▶ inspect.ts
 *   append / telemetryRange ─▶ clock-steps.ts (readings stamped before a clock step)
 *   every write ─▶ disk-writes.ts (a full or failing disk; disk-guard.ts)
 */
import type { Reading } from '@lifeline/shared';
import { alarmTables, type AlarmTables } from './alarm-tables.js';
import { DiskBudget } from './budget.js';
import { DiskGuard, isDiskError, type DiskState } from './disk-guard.js';
import { DiskWrites } from './disk-writes.js';
import { ClockSteps } from './clock-steps.js';
import { CommandLog } from './command-log.js';
import { Cursors } from './cursors.js';
import { isReadOnlyFs, openBufferDb, type Db, type ForeignBuffer } from './database.js';
import { EventLane } from './events.js';
import { Outbox } from './outbox.js';
import { TelemetryLane } from './telemetry.js';
import type { BufferOptions, BufferedEvent, CommandRecord, LaneName, OutboxRange, TelemetryRange, ThinningCounters } from './types.js';

export { CHUNK_BYTES_PER_READING } from './chunk.js';
export type { AlarmTables } from './alarm-tables.js';
export { inspectBuffer, type BufferInspection, type ChunkInfo, type LanePosition } from './inspect.js';
export type * from './types.js';
export { isDiskError, type DiskState } from './disk-guard.js';
export type { ForeignBuffer } from './database.js';

/** The most a buffer kept in memory (its card read-only) may hold: thinned beyond it. */
const MEMORY_BUDGET_BYTES = 16 * 1024 * 1024;

export class EdgeBuffer {
  /** This database's incarnation: made with the file, sent with every batch. */
  readonly epoch: number;
  /** What thinning has done since the buffer opened. */
  readonly thinning: ThinningCounters;
  /** The file found at the path was another gateway's: set aside, this buffer is new. */
  readonly foreign?: ForeignBuffer;
  private readonly path: string;
  /** The card refused the buffer's file at start (a file system the kernel made read-only): this run buffers in memory. */
  readonly inMemory: boolean;
  private readonly db: Db;
  private readonly cursors: Cursors;
  private readonly telemetry: TelemetryLane;
  private readonly eventLane: EventLane;
  private readonly box: Outbox;
  private readonly budget: DiskBudget;
  private readonly commands: CommandLog;
  private readonly clockSteps: ClockSteps;
  /** Every write goes through it: a full or failing disk (disk-writes.ts). */
  private readonly writes: DiskWrites;

  constructor(path: string, opts: BufferOptions = {}) {
    this.path = path;
    let refused: string | undefined;
    let opened: ReturnType<typeof openBufferDb>;
    try {
      opened = openBufferDb(path, opts.gateway);
    } catch (err) {
      // A restart on a card gone read-only: polling, local alarms and live data go on from memory (a new epoch);
      // the card's file waits, untouched, for fsck and the next start.
      if (!isReadOnlyFs(err)) throw err;
      refused = String((err as { code?: unknown }).code);
      opened = openBufferDb(':memory:', opts.gateway);
    }
    ({ db: this.db, epoch: this.epoch, foreign: this.foreign } = opened);
    this.inMemory = refused !== undefined;
    this.cursors = new Cursors(this.db);
    this.telemetry = new TelemetryLane(this.db, this.cursors);
    this.eventLane = new EventLane(this.db, this.cursors);
    this.box = new Outbox(this.db, this.cursors, { telemetry: this.telemetry, events: this.eventLane });
    this.budget = new DiskBudget(this.db, this.inMemory ? ':memory:' : path, this.cursors, this.box);
    this.budget.set(this.inMemory ? Math.min(opts.diskBudgetBytes || MEMORY_BUDGET_BYTES, MEMORY_BUDGET_BYTES) : (opts.diskBudgetBytes ?? 0));
    this.thinning = this.budget.thinning;
    this.commands = new CommandLog(this.db);
    this.clockSteps = new ClockSteps(this.db, this.cursors.last.telemetry, this.cursors.acked.telemetry, opts.clockExempt, opts.clock);
    const disk = new DiskGuard(path, opts.diskReserveBytes ?? 1024 * 1024, opts.diskCheckMs ?? 5000);
    disk.ensureReserve();
    this.writes = new DiskWrites(disk, this.budget, this.eventLane, this.box, opts.onDisk);
    if (refused !== undefined) this.writes.refusedAtOpen(path, refused, MEMORY_BUDGET_BYTES);
    if (this.foreign) {
      const f = this.foreign;
      this.appendEvent(Date.now(), 'event', {
        kind: 'event',
        type: 'foreign_buffer',
        message: `the buffer file was written by gateway ${f.gateway}: set aside as ${f.movedTo} with ${f.unsentReadings} unsent reading(s) and ${f.unsentEvents} event(s); this gateway starts a new buffer`,
        details: { ...f },
      });
    }
  }

  /** The disk's condition: full (since when, why), readings dropped, reserve in place, file deleted (told once per deletion). */
  diskState(): DiskState {
    return this.writes.state();
  }

  /** While full, check now whether the space is back (writes check by themselves every diskCheckMs). True if it is. */
  checkDisk(): boolean {
    return this.writes.checkDisk();
  }

  /** Changes the disk budget (bytes; 0 = none) and sizes the WAL to it. */
  setBudget(bytes: number): void {
    this.budget.set(bytes);
  }

  /** The alarm feature's tables in this file (the only way alarms reach the buffer's database). */
  alarmTables(): AlarmTables {
    const t = this.writes.guarded(() => alarmTables(this.db));
    // Every write of the alarm feature gets the same full-disk handling as the lanes.
    const wrap = <K extends keyof AlarmTables>(k: K) => ((...args: unknown[]) => this.writes.guarded(() => (t[k] as (...a: unknown[]) => unknown)(...args))) as AlarmTables[K];
    return {
      ...t,
      upsertAlarm: wrap('upsertAlarm'),
      insertLog: wrap('insertLog'),
      setLogSeq: wrap('setLogSeq'),
      pruneLog: wrap('pruneLog'),
      upsertOutput: wrap('upsertOutput'),
      insertOutputLog: wrap('insertOutputLog'),
      pruneOutputLog: wrap('pruneOutputLog'),
      setMeta: wrap('setMeta'),
      transaction: wrap('transaction'),
    };
  }

  /** Store readings durably in one transaction (one chunk); returns the last seq assigned. */
  append(readings: readonly Reading[]): number {
    if (!readings.length) return this.cursors.last.telemetry;
    try {
      // A clock step since the last append: what is stored so far was stamped on the clock before it.
      this.clockSteps.observe(this.cursors.last.telemetry);
    } catch (err) {
      if (!isDiskError(err)) throw err; // kept in memory: corrected while this process runs
    }
    try {
      this.budget.wrote(this.writes.guarded(() => this.telemetry.append(readings), false));
    } catch (err) {
      if (!isDiskError(err)) throw err;
      // Even thinned, the disk takes nothing: these readings are lost, and counted (status, disk_recovered).
      this.writes.dropped(readings.length);
    }
    return this.cursors.last.telemetry;
  }

  /** Store one event; synced to disk (FULL) before returning, since an action may depend on it. */
  appendEvent(ts: number, kind: string, body: unknown): number {
    return this.writes.guarded(() => this.eventLane.append(ts, kind, body));
  }

  /** Highest seq the cloud has committed (contiguously), per lane. */
  ackedUpTo(lane: LaneName): number {
    return this.cursors.acked[lane];
  }

  /** Highest seq written, per lane. */
  lastWritten(lane: LaneName): number {
    return this.cursors.last[lane];
  }

  /** Ranges cut and not yet reclaimed, in seq order (done ones included). */
  outbox(lane: LaneName): OutboxRange[] {
    return this.box.list(lane);
  }

  /**
   * The oldest seqs not yet in any outbox range, cut into a new range of at
   * most `max` items (whole chunks; a chunk is split only when it has no
   * holes). Undefined when everything written is already cut.
   */
  cutBacklog(lane: LaneName, max: number): OutboxRange | undefined {
    return this.writes.bookkeeping(() => this.box.cutBacklog(lane, max));
  }

  /**
   * The newest uncut telemetry (at most `max` readings) as its own range, so
   * the operator's view stays current while an older backlog drains.
   * Undefined when the newest seq is already cut.
   */
  cutLive(max: number): OutboxRange | undefined {
    return this.writes.bookkeeping(() => this.box.cutLive(max));
  }

  /** Splits an outbox range in two at `at` (the first half ends at `at`); for a range too large to send. */
  splitRange(lane: LaneName, firstSeq: number, at: number): void {
    this.writes.bookkeeping(() => this.box.split(lane, firstSeq, at));
  }

  /** The readings and gap records of a telemetry seq range, readings in seq order with their seqs; stamps before a clock step moved past it. */
  telemetryRange(firstSeq: number, lastSeq: number): TelemetryRange {
    const range = this.telemetry.range(firstSeq, lastSeq);
    this.clockSteps.correct(range.readings, range.seqs);
    return range;
  }

  /** The events of an events range. */
  events(firstSeq: number, lastSeq: number): BufferedEvent[] {
    return this.eventLane.range(firstSeq, lastSeq);
  }

  /** The cloud committed everything up to `upTo`: reclaim it. Returns false if it was old news. */
  ack(lane: LaneName, upTo: number): boolean {
    return this.writes.bookkeeping(() => this.box.ack(lane, upTo));
  }

  /**
   * The cloud committed this exact range ahead of its contiguous prefix: stop
   * resending it and reclaim the chunks wholly inside it. False if unknown.
   */
  committed(lane: LaneName, firstSeq: number, lastSeq: number): boolean {
    return this.writes.bookkeeping(() => this.box.committed(lane, firstSeq, lastSeq));
  }

  /** Backlog depth (items not yet committed) and the time of its oldest item, per lane. */
  backlog(lane: LaneName): { depth: number; oldestTs: number | null } {
    if (lane === 'events') return this.eventLane.backlog(this.cursors.acked.events);
    const b = this.telemetry.backlog(this.cursors.acked.telemetry);
    const stepped = this.clockSteps.oldestTs(this.cursors.acked.telemetry);
    return stepped === undefined ? b : { ...b, oldestTs: stepped };
  }

  /** Bytes the buffer takes on disk: the database file and its WAL. */
  diskBytes(): number {
    return this.budget.diskBytes();
  }

  /** Bytes of the database in use (pages not on the free list) plus the WAL. */
  usedBytes(): number {
    return this.budget.usedBytes();
  }

  /**
   * Keep the buffer inside its disk budget: the oldest unsent telemetry is
   * thinned into per-minute gap records (budget.ts). Returns the readings thinned by this call.
   */
  enforceBudget(): number {
    return this.writes.guarded(() => this.budget.enforce());
  }

  /** The stored answer to a command already handled, if any (commands are idempotent by id). */
  commandAnswer(id: string): unknown {
    return this.commands.answer(id);
  }

  /** Audit a handled command and its answer (synced to disk, like alarm transitions). */
  recordCommand(c: CommandRecord): void {
    this.writes.guarded(() => this.commands.record(c));
  }

  /** The command audit log, newest first. */
  commandLog(limit = 100): CommandRecord[] {
    return this.commands.latest(limit);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
