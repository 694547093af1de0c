/**
 * Every write of the buffer goes through here, so a full or failing disk is handled in one
 * place (disk-guard.ts keeps the state and the reserve, budget.ts thins):
 *
 *   guarded(write) ──disk error──▶ free the reserve, thin, retry ──again──▶ last resort: evict telemetry (counted)
 *        │                           └─ first time: tell the agent (onDisk), owe a disk_full event
 *        └─ while full, every checkMs: space back? ─▶ tell, write the outbox kept in memory, disk_recovered event
 *   bookkeeping(op) (sync's ranges and acks) ──disk error──▶ the outbox goes on in memory (outbox.ts), never evicts
 *   state() ─▶ the file deleted under the agent? told once per deletion
 */
import type { BufferOptions } from './types.js';
import type { DiskBudget } from './budget.js';
import { isDiskError, type DiskGuard, type DiskState } from './disk-guard.js';
import type { EventLane } from './events.js';
import type { Outbox } from './outbox.js';

export class DiskWrites {
  /** A disk_full event is still to be written to the event lane. */
  private diskFullOwed = false;

  constructor(
    private readonly disk: DiskGuard,
    private readonly budget: DiskBudget,
    private readonly eventLane: EventLane,
    private readonly box: Outbox,
    private readonly onDisk: BufferOptions['onDisk'],
  ) {}

  /** The disk's condition; the file's deletion is told the first time it is seen. */
  state(): DiskState {
    const was = this.disk.state.deleted;
    this.disk.checkFile();
    if (this.disk.state.deleted && !was) {
      const { full, lastError, droppedReadings } = this.disk.state;
      this.onDisk?.({ full, lastError, droppedReadings, deleted: true });
    }
    return { ...this.disk.state };
  }

  /** The buffer's file could not be opened for writing (`code`): the buffer runs in memory; say so. */
  refusedAtOpen(path: string, code: string, memoryBytes: number): void {
    this.disk.failed({ code });
    this.tellDisk();
    this.eventLane.append(Date.now(), 'event', {
      kind: 'event',
      type: 'buffer_in_memory',
      message: `the buffer file ${path} cannot be opened for writing (${code}: the file system is read-only): this run buffers in memory (at most ${memoryBytes >> 20} MiB, lost at a restart); what the file holds is sent after fsck and a restart`,
      details: { path, code },
    });
  }

  /** Readings the disk did not take even after thinning: counted (status, disk_recovered). */
  dropped(readings: number): void {
    this.disk.state.droppedReadings += readings;
  }

  /**
   * Runs a write; on SQLITE_FULL / SQLITE_IOERR frees the reserve, thins the oldest
   * unsent telemetry and tries once more. A second failure throws (callers decide).
   */
  guarded<T>(write: () => T, lastResort = true): T {
    this.recoverIfRoom();
    try {
      return this.reportDiskFull(write());
    } catch (err) {
      if (!isDiskError(err)) throw err;
      this.diskFailed(err);
    }
    try {
      return this.reportDiskFull(write());
    } catch (err) {
      if (!isDiskError(err) || !lastResort) throw err;
      // An alarm, an event, a cursor: worth more than the oldest unsent telemetry. Delete some, counted.
      this.disk.state.errors++;
      this.disk.lastResort();
      this.disk.state.droppedReadings += this.budget.evict();
      return this.reportDiskFull(write());
    }
  }

  /**
   * Sync's bookkeeping (cutting ranges, acks): on a disk that refuses it, kept in memory rather
   * than thrown, so what the buffer holds still goes out (outbox.ts). Never evicts telemetry for it.
   */
  bookkeeping<T>(op: () => T): T {
    if (!this.box.volatile) {
      try {
        return this.guarded(op, false);
      } catch (err) {
        if (!isDiskError(err)) throw err;
        this.box.goVolatile();
      }
    }
    return op();
  }

  /** While full, check now whether the space is back. True if it is. */
  checkDisk(): boolean {
    this.recoverIfRoom(true);
    return !this.disk.state.full;
  }

  /** After a write that went through: the disk_full event, if it is still owed. */
  private reportDiskFull<T>(result: T): T {
    if (!this.diskFullOwed) return result;
    this.diskFullOwed = !this.appendQuietly({
      type: 'disk_full',
      message: `the buffer's disk is full or failing (${this.disk.state.lastError}); telemetry is thinned, alarms and events kept`,
      details: { code: this.disk.state.lastError ?? 'unknown', usedBytes: this.budget.usedBytes() },
    });
    return result;
  }

  private diskFailed(err: unknown): void {
    const first = this.disk.failed(err);
    try {
      this.budget.shrink(this.disk.spare());
    } catch (e) {
      if (!isDiskError(e)) throw e;
    }
    // The cloud hears of it in the event lane (after the next write that goes through) and the status.
    if (first) {
      this.diskFullOwed = true;
      this.tellDisk();
    }
  }

  private tellDisk(): void {
    const { full, lastError, droppedReadings } = this.disk.state;
    this.onDisk?.({ full, lastError, droppedReadings });
  }

  /** While full: is the space back? Then say so in the event lane. */
  private recoverIfRoom(force = false): void {
    if (!this.disk.state.full) return;
    const since = this.disk.state.since ?? Date.now();
    if (!this.disk.check(Date.now(), force)) return;
    this.tellDisk();
    this.persistOutbox();
    this.budget.uncap();
    this.appendQuietly({
      type: 'disk_recovered',
      message: `the buffer's disk has room again after ${Math.round((Date.now() - since) / 1000)} s; ${this.disk.state.droppedReadings} reading(s) could not be stored`,
      details: { droppedReadings: this.disk.state.droppedReadings, thinnedReadings: this.budget.thinning.thinnedReadings },
    });
  }

  /** The disk takes writes again: what the outbox kept in memory is written (tried again at the next recovery if not). */
  private persistOutbox(): void {
    try {
      this.box.persist();
    } catch (err) {
      if (!isDiskError(err)) throw err;
    }
  }

  /** An event about the disk itself: if even it cannot be written, the status still says so. */
  private appendQuietly(body: Record<string, unknown>): boolean {
    try {
      this.eventLane.append(Date.now(), 'event', { kind: 'event', ...body });
      return true;
    } catch (e) {
      if (!isDiskError(e)) throw e;
      return false;
    }
  }
}
