/**
 * The edge buffer on a small file system that fills up (a tmpfs with size=, mounted
 * by this test under a unique name, as root): writes never throw for telemetry,
 * every alarm is kept, telemetry is thinned, the condition is reported in the event
 * lane and the disk state, and the buffer recovers when space returns.
 *
 * Needs root (mount). Without it the test fails with a clear message; it never skips.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { EdgeBuffer } from '../../src/buffer/buffer.js';

const mnt = join(tmpdir(), `lifeline-diskfull-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
let mounted = false;

beforeAll(() => {
  mkdirSync(mnt, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (e) {
    rmSync(mnt, { recursive: true, force: true });
    throw new Error(
      `disk-full test: could not mount a 6 MiB tmpfs at ${mnt} (${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}); ` +
        'run the tests as root (CI does) or with CAP_SYS_ADMIN',
    );
  }
});

afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  rmSync(mnt, { recursive: true, force: true });
});

/** Fills the file system with a ballast file until it refuses more; returns its path. */
function fillDisk(): string {
  const path = join(mnt, 'filler');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 0xaa);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  // The last partial blocks too.
  for (let n = 4096; n >= 1; n >>= 1) {
    try {
      writeFileSync(path, Buffer.alloc(n), { flag: 'a' });
    } catch {
      // full
    }
  }
  return path;
}

let polls = 0;
const poll = (points = 40): Reading[] => {
  const ts = 1_764_000_000_000 + polls++ * 1000;
  return Array.from({ length: points }, (_, p) => ({ device: `dev-${p % 4}`, point: `p${p}`, ts, value: Math.sin(polls * 0.01 + p) * 1000 + Math.random() }));
};

describe('edge buffer on a full disk', () => {
  it('keeps running, keeps every alarm, thins telemetry, reports it, and recovers when space returns', () => {
    const buffer = new EdgeBuffer(join(mnt, 'buffer.db'), { diskBudgetBytes: 64 * 1024 * 1024, diskReserveBytes: 512 * 1024, diskCheckMs: 3_600_000 });
    try {
      expect(existsSync(join(mnt, "buffer.db.reserve")) && existsSync(join(mnt, "buffer.db.reserve2"))).toBe(true);
      // Some backlog first, then the disk fills up under it.
      for (let i = 0; i < 200; i++) buffer.append(poll());
      const filler = fillDisk();
      const alarms: number[] = [];
      const tables = buffer.alarmTables();
      // 1,000 polls (48,000 readings, ~20 times what the disk had left). Known limit, not fixed: each
      // thinning run leaves a gap record per point, and with no cloud to take them they grow until,
      // after ~2,000 polls here, even the last-resort eviction finds no room for an alarm.
      for (let i = 0; i < 1000; i++) {
        expect(() => buffer.append(poll())).not.toThrow();
        if (i % 50 === 0) {
          const body = { kind: 'alarm', alarmId: `a-${i}`, device: 'dev-1', point: 'p1', ts: Date.now(), from: 'normal', to: 'active_unacked', level: 4, detector: 'threshold', cause: `red line ${i}`, value: i };
          alarms.push(buffer.appendEvent(Date.now(), 'alarm', body));
          tables.insertLog({ ts: Date.now(), alarm_id: `a-${i}`, device: 'dev-1', point: 'p1', detector: 'threshold', from_state: 'normal', to_state: 'active_unacked', level: 4, value: i, cause: 'x', user: null, event_seq: null });
        }
      }
      const state = buffer.diskState();
      expect(state.full).toBe(true);
      expect(state.lastError).toMatch(/^SQLITE_(FULL|IOERR)/);
      expect(state.reserve).toBe(false);
      expect(buffer.thinning.thinnedReadings + state.droppedReadings).toBeGreaterThan(0);
      // Every alarm is in the event lane, in order, with its seq; and the disk_full event is there.
      const events = buffer.events(1, buffer.lastWritten('events'));
      const kept = events.filter((e) => e.kind === 'alarm').map((e) => e.seq);
      expect(kept).toEqual(alarms);
      expect(events.filter((e) => (e.body as { type?: string }).type === 'disk_full')).toHaveLength(1);
      expect(tables.recentLog(1000).length).toBe(alarms.length);

      // Space returns: the reserve comes back, the state clears, the recovery is reported.
      rmSync(filler);
      expect(buffer.checkDisk()).toBe(true);
      expect(buffer.diskState()).toMatchObject({ full: false, reserve: true });
      const after = buffer.events(1, buffer.lastWritten('events'));
      expect(after.filter((e) => (e.body as { type?: string }).type === 'disk_recovered')).toHaveLength(1);
      // And the buffer takes readings again.
      const last = buffer.lastWritten('telemetry');
      buffer.append(poll());
      expect(buffer.lastWritten('telemetry')).toBe(last + 40);
    } finally {
      buffer.close();
    }
  }, 120_000);
});
