/**
 * The SQLite cloud store holds webhook secrets and pushed configs (with MQTT
 * passwords): its file, -wal and -shm are the owner's alone, whether created
 * now or found readable by others from before.
 */
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/index.js';
import { tempDir } from '../../../test/helpers.js';

const mode = (file: string) => statSync(file).mode & 0o777;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

async function open(path: string, log?: pino.Logger): Promise<SqliteStore> {
  const store = new SqliteStore(path, { log });
  cleanups.push(() => store.close());
  await store.migrate();
  // A write, so the WAL and its index exist.
  await store.telemetry.commitTelemetry({ gateway: 'gw-mode', firstSeq: 1, lastSeq: 1, readings: [{ device: 'd', point: 'p', ts: 1, value: 1 }] });
  return store;
}

describe('cloud store file permissions', () => {
  it('creates the database, its -wal and -shm 0600 (and a missing folder 0700)', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'var', 'cloud.db');
    await open(path);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) {
      expect(existsSync(f), f).toBe(true);
      expect(mode(f).toString(8), f).toBe('600');
    }
    expect(mode(join(tmp.dir, 'var')).toString(8)).toBe('700');
  });

  it('narrows an existing database readable by others, and says so', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'cloud.db');
    const first = await open(path);
    await first.close();
    cleanups.pop();
    chmodSync(path, 0o644);
    const lines: string[] = [];
    const log = pino(new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    await open(path, log);
    expect(mode(path).toString(8)).toBe('600');
    const said = lines.map((l) => JSON.parse(l) as { msg: string; file: string; was: string });
    expect(said).toContainEqual(expect.objectContaining({ file: path, was: '644', msg: expect.stringMatching(/readable by other users; narrowed/) }));
    for (const f of [`${path}-wal`, `${path}-shm`]) expect(mode(f).toString(8), f).toBe('600');
  });
});
