/** The store contract against SQLite, plus an upgrade from the first schema version. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { deviceKey } from '../../src/store/store.js';
import { storeContract } from './contract/index.js';
import { tempDir } from '../../../test/helpers.js';

storeContract('sqlite', async () => {
  const tmp = tempDir('lifeline-store-');
  const store = new SqliteStore(join(tmp.dir, 'cloud.db'));
  await store.migrate();
  const reopen = async () => {
    const again = new SqliteStore(join(tmp.dir, 'cloud.db'));
    await again.migrate();
    return again;
  };
  return { store, cleanup: async () => (await store.close(), tmp.cleanup()), reopen };
});

describe('sqlite store upgrade', () => {
  it('moves a version-1 database to the current schema, keeping its data', async () => {
    const tmp = tempDir('lifeline-store-');
    const file = join(tmp.dir, 'old.db');
    const old = new Database(file);
    // The first schema exactly as released, with one reading, one device and one alarm event.
    old.exec(`CREATE TABLE schema_version(version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
      CREATE TABLE gateways(id TEXT PRIMARY KEY, online INTEGER NOT NULL DEFAULT 0, last_seen INTEGER, status TEXT);
      CREATE TABLE devices(id TEXT PRIMARY KEY, gateway TEXT NOT NULL, profile TEXT, kind TEXT, location TEXT, points TEXT, last_ts INTEGER);
      CREATE TABLE series(id INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, UNIQUE(device, point));
      CREATE TABLE readings(series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX readings_series_ts ON readings(series, ts);
      CREATE TABLE events(gateway TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL, device TEXT, body TEXT NOT NULL, PRIMARY KEY(gateway, seq));
      CREATE INDEX events_ts ON events(ts);
      CREATE TABLE batches(gateway TEXT NOT NULL, lane TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, committed_at INTEGER NOT NULL, PRIMARY KEY(gateway, lane, first_seq));
      CREATE TABLE committed(gateway TEXT NOT NULL, lane TEXT NOT NULL, up_to INTEGER NOT NULL, PRIMARY KEY(gateway, lane));
      INSERT INTO devices VALUES ('flood-1', 'gw-1', 'flood-gauge', 'flood', '{"lon":114.1,"lat":22.5,"district":"Futian"}', '[]', 120000);
      INSERT INTO series VALUES (1, 'flood-1', 'level');
      INSERT INTO readings VALUES (1, 120000, 2.5, 0), (1, 150000, 3.5, 0);
      INSERT INTO committed VALUES ('gw-1', 'telemetry', 2);
      INSERT INTO events VALUES ('gw-1', 1, 1000, 'alarm', 'flood-1', '{"kind":"alarm","seq":1,"alarmId":"flood-1/level/threshold"}');`);
    old.close();
    const store = new SqliteStore(file);
    await store.migrate();
    expect((await store.registry.listDevices())[0].location).toEqual({ lon: 114.1, lat: 22.5, district: 'Futian' });
    expect(await store.telemetry.downsample({ gateway: 'gw-1', device: 'flood-1', point: 'level', from: 0, to: 600_000, step: 600_000 })).toEqual([{ ts: 0, min: 2.5, max: 3.5, mean: 3, count: 2 }]);
    expect((await store.telemetry.commitTelemetry({ gateway: 'gw-1', firstSeq: 1, lastSeq: 2, readings: [] })).duplicate).toBe(true);
    expect((await store.telemetry.activeMinutes(0)).get(deviceKey('gw-1', 'flood-1'))).toBe(1);
    await store.close();
    tmp.cleanup();
  });
});
