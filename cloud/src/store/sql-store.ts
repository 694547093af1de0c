/**
 * The store both engines build: one SQL implementation per concern, sharing
 * the engine's Sql runner. An engine (sqlite-store.ts, pg-store.ts) supplies
 * only migrations, the bulk paths and close.
 *
 *   SqliteStore / PgStore ─▶ SqlStore ─┬─▶ telemetry  SqlTelemetry (ledger, rollup, downsample) ◀─ engine bulk paths
 *                                      │    └─▶ cold SqlCold (compressed days) ◀─ engine candidates, vacuum, row size
 *                                      ├─▶ registry   SqlRegistry ─▶ commands (config a status reports)
 *                                      ├─▶ alarms     SqlAlarms
 *                                      ├─▶ commands   SqlCommands
 *                                      ├─▶ access     SqlAccess
 *                                      ├─▶ webhooks   SqlWebhooks
 *                                      ├─▶ maintenance SqlMaintenance
 *                                      ├─▶ notifications SqlNotifications (the outbox)
 *                                      └─▶ routing    SqlRouting (rules, digests, queued marks)
 */
import type { BlockColumns } from '@lifeline/shared';
import type { Sql } from './sql.js';
import type { Store } from './store.js';
import { SqlTelemetry, type Minute, type ReadingColumns } from './sql-telemetry.js';
import { SqlCold, type ColdOptions, type DayCompacted } from './sql-cold.js';
import { SqlRegistry } from './sql-registry.js';
import { SqlAlarms } from './sql-alarms.js';
import { SqlCommands } from './sql-commands.js';
import { SqlAccess } from './sql-access.js';
import { SqlWebhooks } from './sql-webhooks.js';
import { SqlMaintenance } from './sql-maintenance.js';
import { SqlNotifications } from './sql-notifications.js';
import { SqlRouting } from './sql-routing.js';

export abstract class SqlStore implements Store {
  readonly telemetry: SqlTelemetry;
  readonly registry: SqlRegistry;
  readonly alarms: SqlAlarms;
  readonly commands: SqlCommands;
  readonly access: SqlAccess;
  readonly webhooks: SqlWebhooks;
  readonly maintenance: SqlMaintenance;
  readonly notifications: SqlNotifications;
  readonly routing: SqlRouting;

  constructor(protected readonly sql: Sql, cold: ColdOptions = {}) {
    // The hooks call the engine's methods late: an engine's fields are set after this constructor.
    const coldTier = new SqlCold(
      sql,
      {
        coldCandidates: (before) => this.coldCandidates(before),
        afterColdDay: (day) => this.afterColdDay(day),
        hotBytesPerReading: () => this.hotBytesPerReading(),
        ...(this.compactDay ? { compactDay: (day: number, series: number[], signal?: AbortSignal) => this.compactDay!(day, series, signal), daysInFlight: () => this.daysInFlight() } : {}),
        ...(this.takeHot ? { takeHot: (db: Sql, series: number, from: number, to: number) => this.takeHot!(db, series, from, to) } : {}),
      },
      cold,
    );
    this.telemetry = new SqlTelemetry(
      sql,
      {
        insertReadings: (db, rows) => this.insertReadings(db, rows),
        createSeries: (keys) => this.createSeries(keys),
        beforeTelemetry: (rows) => this.beforeTelemetry(rows),
        dropReadings: (before) => this.dropReadings(before),
        ...(this.upsertRollups ? { upsertRollups: (db: Sql, rows: Minute[]) => this.upsertRollups!(db, rows) } : {}),
      },
      coldTier,
    );
    this.commands = new SqlCommands(sql);
    this.registry = new SqlRegistry(sql, this.commands);
    this.alarms = new SqlAlarms(sql);
    this.access = new SqlAccess(sql);
    this.webhooks = new SqlWebhooks(sql);
    this.maintenance = new SqlMaintenance(sql);
    this.notifications = new SqlNotifications(sql);
    this.routing = new SqlRouting(sql);
  }

  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;
  /** Bulk-insert readings inside the commit transaction. */
  protected abstract insertReadings(db: Sql, rows: ReadingColumns): Promise<void>;
  /** Make sure `series` rows exist for these keys (seriesKey); returns their ids by key. */
  protected abstract createSeries(keys: string[]): Promise<Map<string, number>>;
  /** Engine hook before a telemetry commit (partitions for the rows' days); runs outside the transaction. */
  protected async beforeTelemetry(_rows: ReadingColumns): Promise<void> {}
  /** Engine part of retention (raw readings). */
  protected abstract dropReadings(before: number): Promise<void>;
  /** The engine's one-statement rollup upsert, if it has one (sql-telemetry.ts). */
  protected upsertRollups?(db: Sql, rows: Minute[]): Promise<void>;
  /** (series, day) pairs holding hot readings older than `before` (a day boundary), for compaction. */
  protected abstract coldCandidates(before: number): Promise<{ series: number; day: number }[]>;
  /** After one day's hot rows were compacted. */
  protected async afterColdDay(_day: number): Promise<void> {}
  /** The engine's way to compact a whole day at once, or undefined for that day (see ColdEngine.compactDay). */
  protected compactDay?(day: number, series: number[], signal?: AbortSignal): Promise<DayCompacted> | undefined;
  /** Days compactDay runs at once (ColdEngine.daysInFlight). */
  protected daysInFlight(): number {
    return 2;
  }
  /** The engine's way to take (delete and return) one series' hot rows of [from, to) for compaction, if it has a faster one. */
  protected takeHot?(db: Sql, series: number, from: number, to: number): Promise<BlockColumns>;
  /** Bytes one hot reading takes (heap + index), measured; undefined when nothing to measure. */
  protected abstract hotBytesPerReading(): Promise<number | undefined>;
}
