/**
 * A full disk (or a failing SD card) must not stop the agent or cost an alarm.
 *
 *   buffer write ──SQLITE_FULL / SQLITE_IOERR──▶ DiskGuard.failed()
 *        ├─ first time: delete the reserve file (room for the next transactions), state `full`
 *        ├─ the buffer thins its oldest unsent telemetry (budget.ts) and retries the write once
 *        └─ still failing: telemetry is dropped and counted; an event write throws (the caller's
 *           problem, as before: the alarm log keeps the transition and replays it)
 *   every write while full ─▶ check() (at most every `checkMs`): free space back? recreate the reserve, state ok
 *
 * A file system the kernel remounted read-only (ext4 `errors=remount-ro`, what a failing
 * SD card gets) fails every write with SQLITE_IOERR and refuses even the reserve's deletion:
 * the state is `full` all the same, and it is not "back" while the directory is read-only.
 *
 * The reserve ("ballast") is a plain file beside the database, written when the
 * buffer opens: when the file system fills, deleting it gives SQLite room for the
 * WAL and the few transactions that thin telemetry and record the alarms and the
 * `disk_full` event. It is recreated when the space is back.
 */
import { closeSync, existsSync, fsyncSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** SQLite result codes that mean the disk, not the data: SQLITE_FULL, SQLITE_IOERR and its extended codes. */
export function isDiskError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR'));
}

/** `dev:ino` of a file, null when there is none. */
function fileIdOf(path: string): string | null {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** Removes a file if it can; false if it could not (a read-only file system: EROFS). */
function removeQuietly(path: string): boolean {
  try {
    rmSync(path, { force: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a file can be created at `path` (then removed): false on a file system the kernel
 * made read-only, even for root. access(W_OK) is not enough: ext4's emergency read-only
 * state (errors=remount-ro) leaves the mount flags "rw".
 */
function writable(path: string): boolean {
  try {
    closeSync(openSync(path, 'w', 0o600));
    rmSync(path, { force: true });
    return true;
  } catch {
    return false;
  }
}

/** What the buffer tells about its disk (status message, CLI, tests). */
export interface DiskState {
  /** True from the first full-disk or I/O error until the space is back. */
  full: boolean;
  /** When it became full (epoch ms), null when not full. */
  since: number | null;
  /** The SQLite code of the last disk error. */
  lastError: string | null;
  /** Disk errors seen since the buffer opened. */
  errors: number;
  /** Readings that could not be stored even after thinning (counted, never silently). */
  droppedReadings: number;
  /** Whether the reserve file is in place. */
  reserve: boolean;
  /**
   * The file at the buffer's path is gone or another one (deleted or replaced under the running
   * agent): the agent writes on into the deleted file, which is lost when it stops. Optional: older agents.
   */
  deleted?: boolean;
}

export class DiskGuard {
  readonly state: DiskState = { full: false, since: null, lastError: null, errors: 0, droppedReadings: 0, reserve: false, deleted: false };
  /** `dev:ino` of the database file as opened (null: in memory). */
  private readonly fileId: string | null;
  /** Two halves: the first is freed at the first disk error, the second only for a last resort (an alarm that must be written). */
  private readonly reservePaths: [string, string];
  private lastCheck = 0;

  constructor(
    private readonly dbPath: string,
    private readonly reserveBytes: number,
    private readonly checkMs = 5000,
  ) {
    this.reservePaths = [`${dbPath}.reserve`, `${dbPath}.reserve2`];
    this.fileId = dbPath === ':memory:' ? null : fileIdOf(dbPath);
  }

  /** Whether the file at the path is still the one opened (updates `state.deleted`). */
  checkFile(): boolean {
    if (this.fileId !== null) this.state.deleted = fileIdOf(this.dbPath) !== this.fileId;
    return !this.state.deleted;
  }

  private get enabled(): boolean {
    return this.dbPath !== ':memory:' && this.reserveBytes > 0;
  }

  /** Writes the reserve file if it is missing; false if there is no room for it. */
  ensureReserve(): boolean {
    if (!this.enabled) return false;
    const half = Math.ceil(this.reserveBytes / 2);
    for (const path of this.reservePaths) {
      try {
        if (statSync(path).size >= half) continue;
      } catch {
        // absent
      }
      let fd: number | undefined;
      try {
        fd = openSync(path, 'w', 0o600);
        const block = Buffer.alloc(Math.min(half, 64 * 1024));
        for (let done = 0; done < half; done += block.length) writeSync(fd, block, 0, Math.min(block.length, half - done));
        fsyncSync(fd);
        closeSync(fd);
      } catch {
        if (fd !== undefined) closeSync(fd);
        removeQuietly(path);
        return (this.state.reserve = false);
      }
    }
    return (this.state.reserve = true);
  }

  /** Frees the second half of the reserve (before a last-resort eviction); false if it was already gone. */
  lastResort(): boolean {
    if (!this.enabled || !existsSync(this.reservePaths[1])) return false;
    return removeQuietly(this.reservePaths[1]);
  }

  /** A write failed with a disk error: free the reserve; true the first time (the caller reports it). */
  failed(err: unknown): boolean {
    this.state.errors++;
    this.state.lastError = String((err as { code?: unknown }).code);
    if (this.state.reserve) {
      removeQuietly(this.reservePaths[0]);
      this.state.reserve = false;
    }
    // The next check of the space comes checkMs after the last failure, not at once.
    this.lastCheck = Date.now();
    if (this.state.full) return false;
    this.state.full = true;
    this.state.since = this.lastCheck;
    return true;
  }

  /** Free bytes of the file system beyond twice the reserve (0 for an in-memory buffer). */
  spare(): number {
    if (!this.enabled) return 0;
    try {
      const fs = statfsSync(dirname(this.dbPath));
      return Math.max(0, fs.bavail * fs.bsize - 2 * this.reserveBytes);
    } catch {
      return 0;
    }
  }

  /** While full, at most every checkMs: is the space back? Recreates the reserve; true when it recovered now. */
  check(now = Date.now(), force = false): boolean {
    if (!this.state.full || (!force && now - this.lastCheck < this.checkMs)) return false;
    this.lastCheck = now;
    if (this.enabled) {
      const fs = statfsSync(dirname(this.dbPath));
      // A file system the kernel remounted read-only (a failing SD card) shows room but takes nothing.
      if (!writable(`${this.dbPath}.probe`)) return false;
      // Room for the reserve and three times as much for the buffer (what thinning freed alone does not count as back).
      if (fs.bavail * fs.bsize < 4 * this.reserveBytes || !this.ensureReserve()) return false;
    }
    this.state.full = false;
    this.state.since = null;
    return true;
  }
}
