/**
 * The edge buffer on a file system the kernel makes read-only under it: what a
 * failing SD card gets on a roadside box (ext4 `errors=remount-ro`). The test makes
 * a small ext4 image, loop-mounts it with that option and, once the buffer holds
 * readings, trips ext4's own error path (/sys/fs/ext4/<dev>/trigger_fs_error).
 *
 * What a technician needs then: polling goes on, no write throws into the poller,
 * the buffer's state says "full or failing" with SQLite's code, the readings that
 * could not be stored are counted, and the agent is told once (it logs it).
 *
 * Needs root (mount, losetup through mount -o loop). Without it the test fails with
 * a clear message; it never skips.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { EdgeBuffer } from '../../src/buffer/buffer.js';

const base = join(tmpdir(), `lifeline-readonly-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
const image = `${base}.img`;
const mnt = base;
let mounted = false;
let device = '';

beforeAll(() => {
  mkdirSync(mnt, { recursive: true });
  try {
    execFileSync('truncate', ['-s', '16M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'loop,errors=remount-ro', image, mnt], { stdio: 'pipe' });
    mounted = true;
    device = basename(execFileSync('findmnt', ['-no', 'SOURCE', mnt], { encoding: 'utf8' }).trim());
  } catch (e) {
    throw new Error(
      `read-only test: could not loop-mount an ext4 image at ${mnt} (${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}); ` +
        'run the tests as root (CI does) with mkfs.ext4 (e2fsprogs)',
    );
  }
});

afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  rmSync(mnt, { recursive: true, force: true });
  rmSync(image, { force: true });
});

let polls = 0;
const poll = (points = 20): Reading[] => {
  const ts = 1_764_000_000_000 + polls++ * 1000;
  return Array.from({ length: points }, (_, p) => ({ device: `dev-${p % 4}`, point: `p${p}`, ts, value: p + polls }));
};

describe('edge buffer on a file system remounted read-only', () => {
  it('keeps taking readings without throwing, says the disk is failing, counts what it lost, and is not "back" while read-only', () => {
    const told: { full: boolean; lastError: string | null }[] = [];
    const buffer = new EdgeBuffer(join(mnt, 'buffer.db'), { diskReserveBytes: 256 * 1024, diskCheckMs: 0, onDisk: (d) => told.push({ full: d.full, lastError: d.lastError }) });
    try {
      for (let i = 0; i < 50; i++) buffer.append(poll());
      const stored = buffer.lastWritten('telemetry');
      expect(stored).toBe(1000);

      writeFileSync(`/sys/fs/ext4/${device}/trigger_fs_error`, '1');

      for (let i = 0; i < 30; i++) expect(() => buffer.append(poll())).not.toThrow();
      const state = buffer.diskState();
      expect(state).toMatchObject({ full: true, droppedReadings: 600 });
      expect(state.lastError).toMatch(/^SQLITE_IOERR/);
      expect(buffer.lastWritten('telemetry')).toBe(stored);
      // Told once, with SQLite's code (a disk error, not the reserve's EROFS).
      expect(told).toEqual([{ full: true, lastError: state.lastError }]);
      // The reserve files could not be deleted, but a read-only disk is not "space back".
      expect(buffer.checkDisk()).toBe(false);
      expect(buffer.diskState().full).toBe(true);
      // What was stored before is still readable (for a technician's copy, or a reboot's fsck).
      expect(buffer.telemetryRange(1, stored).readings).toHaveLength(1000);
    } finally {
      buffer.close();
    }
  }, 60_000);
});
