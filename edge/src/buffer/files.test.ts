/** The buffer's files: private to the gateway's user, and a bad path is an error, never a spin or a crash loop. */
import { chmodSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { EdgeBuffer } from './buffer.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const mode = (f: string) => statSync(f).mode & 0o777;

describe('buffer files', () => {
  it('creates the database, its WAL and shared memory 0600, and makes an older 0644 file 0600', () => {
    const path = join(tmp.dir, 'sub', 'dir', 'edge.db');
    const b = new EdgeBuffer(path);
    b.appendEvent(Date.now(), 'event', { kind: 'event', type: 'test', message: 'x' });
    for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(mode(f)).toBe(0o600);
    expect(mode(join(tmp.dir, 'sub'))).toBe(0o700);
    b.close();
    chmodSync(path, 0o644);
    new EdgeBuffer(path).close();
    expect(mode(path)).toBe(0o600);
  });

  it('refuses a path under a file or in /proc with a CONFIG_INVALID naming it', () => {
    writeFileSync(join(tmp.dir, 'hostname'), 'box');
    expect(() => new EdgeBuffer(join(tmp.dir, 'hostname', 'buffer.db'))).toThrow(`CONFIG_INVALID: buffer.path: ${join(tmp.dir, 'hostname')} is not a directory`);
    // mkdirSync(…, {recursive: true}) never returns here; one level at a time fails at once.
    expect(() => new EdgeBuffer('/proc/nope/buffer.db')).toThrow(/CONFIG_INVALID: buffer\.path: cannot create \/proc\/nope \(E[A-Z]+\)/);
  });

  it('says when its file is deleted or replaced under it (the agent writes on into a file that is gone)', () => {
    const path = join(tmp.dir, 'gone', 'edge.db');
    const b = new EdgeBuffer(path);
    try {
      expect(b.diskState().deleted).toBe(false);
      for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
      expect(b.diskState().deleted).toBe(true);
      // It still works (into the deleted file), which is why it must be said.
      b.append([{ device: 'd', point: 'p', ts: 1, value: 1 }]);
      // Another file at the path is not the one open either.
      writeFileSync(path, '');
      expect(b.diskState().deleted).toBe(true);
    } finally {
      b.close();
    }
    expect(new EdgeBuffer(':memory:').diskState().deleted).toBe(false);
  });

  it('tells the agent once per deletion (it logs it), not at every status', () => {
    const path = join(tmp.dir, 'told', 'edge.db');
    const told: unknown[] = [];
    const b = new EdgeBuffer(path, { onDisk: (d) => told.push(d) });
    try {
      b.diskState();
      renameSync(path, `${path}.moved`);
      for (let i = 0; i < 3; i++) expect(b.diskState().deleted).toBe(true);
      expect(told).toEqual([{ full: false, lastError: null, droppedReadings: 0, deleted: true }]);
      // Put back, then deleted again: a second deletion is told again.
      renameSync(`${path}.moved`, path);
      expect(b.diskState().deleted).toBe(false);
      rmSync(path);
      b.diskState();
      b.diskState();
      expect(told).toHaveLength(2);
    } finally {
      b.close();
    }
  });

  it("sets aside a file another gateway wrote (a card moved between boxes) instead of sending its readings as this gateway's", () => {
    const path = join(tmp.dir, 'moved', 'edge.db');
    const reading = { device: 'flood-1', point: 'water_level', ts: 1_796_000_000_000, value: 2.5 };
    let b = new EdgeBuffer(path, { gateway: 'gw-old' });
    const oldEpoch = b.epoch;
    b.append([reading, { ...reading, ts: reading.ts + 1000 }]);
    b.appendEvent(reading.ts, 'event', { kind: 'event', type: 'test', message: 'x' });
    b.close();

    b = new EdgeBuffer(path, { gateway: 'gw-new' });
    try {
      expect(b.foreign).toEqual({ gateway: 'gw-old', movedTo: `${path}.gateway-gw-old-${oldEpoch}`, unsentReadings: 2, unsentEvents: 1 });
      expect(b.epoch).not.toBe(oldEpoch);
      expect(b.lastWritten('telemetry')).toBe(0);
      // The cloud hears of it from this gateway's event lane.
      expect(b.events(1, b.lastWritten('events')).map((e) => (e.body as { type: string }).type)).toEqual(['foreign_buffer']);
    } finally {
      b.close();
    }
    expect(new EdgeBuffer(path, { gateway: 'gw-new' }).foreign).toBeUndefined();
    // The old gateway's file is whole: its own config can deliver it.
    const old = new EdgeBuffer(`${path}.gateway-gw-old-${oldEpoch}`, { gateway: 'gw-old' });
    try {
      expect([old.epoch, old.foreign, old.telemetryRange(1, 2).readings.length]).toEqual([oldEpoch, undefined, 2]);
    } finally {
      old.close();
    }
  });

  it("makes an older release's file, which names no gateway, this gateway's", () => {
    const path = join(tmp.dir, 'older', 'edge.db');
    let b = new EdgeBuffer(path);
    const epoch = b.epoch;
    b.append([{ device: 'd', point: 'p', ts: 1, value: 1 }]);
    b.close();
    b = new EdgeBuffer(path, { gateway: 'gw-a' });
    expect([b.foreign, b.epoch, b.lastWritten('telemetry')]).toEqual([undefined, epoch, 1]);
    b.close();
    b = new EdgeBuffer(path, { gateway: 'gw-b' });
    expect(b.foreign?.gateway).toBe('gw-a');
    b.close();
  });
});
