/**
 * The edge buffer on a file system the kernel makes read-only under it: what a
 * failing SD card gets on a roadside box (ext4 `errors=remount-ro`). The test makes
 * a small ext4 image, loop-mounts it with that option and, once the buffer holds
 * readings, trips ext4's own error path (/sys/fs/ext4/<dev>/trigger_fs_error).
 *
 * What a technician needs then: polling goes on, no write throws into the poller,
 * the buffer's state says "full or failing" with SQLite's code, the readings that
 * could not be stored are counted, and the agent is told once (it logs it); and what
 * the buffer already holds still goes out, its acks kept in memory (outbox.ts).
 *
 * Needs root (test/sd-card.ts). Without it the test fails with a clear message; it never skips.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { EdgeBuffer } from '../../src/buffer/buffer.js';
import { mountCard, unmountCards } from '../../../test/sd-card.js';

afterAll(unmountCards);

let polls = 0;
const poll = (points = 20): Reading[] => {
  const ts = 1_764_000_000_000 + polls++ * 1000;
  return Array.from({ length: points }, (_, p) => ({ device: `dev-${p % 4}`, point: `p${p}`, ts, value: p + polls }));
};

describe('edge buffer on a file system remounted read-only', () => {
  it('keeps taking readings without throwing, says the disk is failing, counts what it lost, and is not "back" while read-only', () => {
    const told: { full: boolean; lastError: string | null }[] = [];
    const card = mountCard();
    const buffer = new EdgeBuffer(join(card.dir, 'buffer.db'), { diskReserveBytes: 256 * 1024, diskCheckMs: 0, onDisk: (d) => told.push({ full: d.full, lastError: d.lastError }) });
    try {
      for (let i = 0; i < 50; i++) buffer.append(poll());
      const stored = buffer.lastWritten('telemetry');
      expect(stored).toBe(1000);

      card.trip();

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

  it('still hands sync what it holds, keeps acks in memory, and a reboot resends the same ranges from the saved cursor', () => {
    const card = mountCard();
    const path = join(card.dir, 'buffer.db');
    let buffer = new EdgeBuffer(path, { diskReserveBytes: 256 * 1024, diskCheckMs: 0 });
    try {
      for (let i = 0; i < 50; i++) buffer.append(poll());
      // Before the card fails: one range sent and committed, one sent and not yet answered.
      const first = buffer.cutBacklog('telemetry', 200)!;
      buffer.ack('telemetry', first.lastSeq);
      const pending = buffer.cutBacklog('telemetry', 200)!;
      expect([first.lastSeq, pending.firstSeq, pending.lastSeq]).toEqual([200, 201, 400]);

      // The kernel's writeback has put it on the card (what is younger than dirty_expire, ~30 s, dies with the card's error).
      execFileSync('sync', ['-f', path]);
      card.trip();
      buffer.append(poll()); // the write that finds the file system read-only
      expect(buffer.diskState().full).toBe(true);

      // Sync cuts the rest of what the buffer holds, oldest first, without throwing; no live range.
      expect(buffer.cutLive(200)).toBeUndefined();
      const cut: [number, number][] = [];
      for (let r; (r = buffer.cutBacklog('telemetry', 200)); ) cut.push([r.firstSeq, r.lastSeq]);
      expect(cut).toEqual([[401, 600], [601, 800], [801, 1000]]);
      expect(buffer.outbox('telemetry').map((r) => [r.firstSeq, r.lastSeq])).toEqual([[201, 400], ...cut]);
      expect(buffer.telemetryRange(801, 1000).readings).toHaveLength(200);

      // The cloud's acks: applied in memory (nothing is cut twice, the backlog shrinks), not on the card.
      expect(buffer.committed('telemetry', 601, 800)).toBe(true);
      expect(buffer.ack('telemetry', 600)).toBe(true);
      expect(buffer.ackedUpTo('telemetry')).toBe(600);
      expect(buffer.outbox('telemetry').map((r) => [r.firstSeq, r.lastSeq, r.done])).toEqual([[601, 800, true], [801, 1000, false]]);
      expect(buffer.backlog('telemetry').depth).toBe(400);
      expect(buffer.cutBacklog('telemetry', 200)).toBeUndefined();
    } finally {
      buffer.close();
    }

    // fsck and a reboot: the card says what it said when it failed; the same ranges go out again (the cloud dedupes them).
    card.reboot();
    buffer = new EdgeBuffer(path, { diskReserveBytes: 256 * 1024, diskCheckMs: 0 });
    try {
      expect(buffer.ackedUpTo('telemetry')).toBe(200);
      expect(buffer.lastWritten('telemetry')).toBe(1000);
      const again: [number, number][] = [];
      for (let r; (r = buffer.cutBacklog('telemetry', 200)); ) again.push([r.firstSeq, r.lastSeq]);
      expect(again).toEqual([[401, 600], [601, 800], [801, 1000]]);
    } finally {
      buffer.close();
    }
  }, 60_000);

  it('writes the acks it kept in memory once the disk takes writes again', () => {
    const buffer = new EdgeBuffer(':memory:');
    try {
      for (let i = 0; i < 10; i++) buffer.append(poll());
      const range = buffer.cutBacklog('telemetry', 100)!;
      // What the outbox does when the disk refuses its writes (the test above has the real read-only card).
      (buffer as unknown as { box: { goVolatile(): void; volatile: boolean } }).box.goVolatile();
      expect(buffer.cutBacklog('telemetry', 100)).toMatchObject({ firstSeq: 101, lastSeq: 200 });
      buffer.ack('telemetry', range.lastSeq);
      (buffer as unknown as { writes: { persistOutbox(): void } }).writes.persistOutbox();
      expect((buffer as unknown as { box: { volatile: boolean } }).box.volatile).toBe(false);
      expect(buffer.outbox('telemetry').map((r) => [r.firstSeq, r.lastSeq])).toEqual([[101, 200]]);
      expect(buffer.backlog('telemetry').depth).toBe(100);
      expect(buffer.telemetryRange(1, 100).readings).toHaveLength(0);
    } finally {
      buffer.close();
    }
  });

  it('starts in memory on a restart while the card is still read-only, and leaves the card\'s file for after fsck', () => {
    const card = mountCard();
    const path = join(card.dir, 'buffer.db');
    let buffer = new EdgeBuffer(path, { diskReserveBytes: 256 * 1024 });
    const epoch = buffer.epoch;
    for (let i = 0; i < 10; i++) buffer.append(poll());
    execFileSync('sync', ['-f', path]);
    card.trip();
    buffer.append(poll());
    buffer.close();

    // systemd restarts the agent (a watchdog, a technician): the card takes no writes, not even the open.
    const told: { full: boolean; lastError: string | null }[] = [];
    buffer = new EdgeBuffer(path, { diskReserveBytes: 256 * 1024, diskCheckMs: 0, onDisk: (d) => told.push({ full: d.full, lastError: d.lastError }) });
    try {
      expect(buffer.inMemory).toBe(true);
      expect(buffer.epoch).not.toBe(epoch);
      expect(buffer.diskState()).toMatchObject({ full: true, lastError: 'EROFS' });
      expect(told).toEqual([{ full: true, lastError: 'EROFS' }]);
      // Polling goes on: readings are stored (in memory) and cut for the cloud; the cloud hears why.
      buffer.append(poll());
      expect(buffer.lastWritten('telemetry')).toBe(20);
      expect(buffer.cutBacklog('telemetry', 100)).toMatchObject({ firstSeq: 1, lastSeq: 20 });
      expect(buffer.events(1, buffer.lastWritten('events')).map((e) => (e.body as { type: string }).type)).toEqual(['buffer_in_memory']);
      expect(buffer.checkDisk()).toBe(false);
    } finally {
      buffer.close();
    }

    card.reboot();
    buffer = new EdgeBuffer(path, { diskReserveBytes: 256 * 1024 });
    try {
      expect([buffer.inMemory, buffer.epoch, buffer.lastWritten('telemetry')]).toEqual([false, epoch, 200]);
    } finally {
      buffer.close();
    }
  }, 60_000);
});
