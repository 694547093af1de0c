/**
 * Table definitions shared by both engines. Types are spelled so that SQLite
 * and PostgreSQL read them alike (BIGINT, TEXT, INTEGER); only the id column
 * and the float type differ. Times are epoch milliseconds in BIGINT columns
 * everywhere (Grafana's $__from / $__to are epoch ms too).
 */
import type { Dialect } from './sql.js';
import { activityMigration } from './sql-activity.js';

/** Column type words per dialect. */
export function words(d: Dialect): { id: string; real: string } {
  return d === 'sqlite' ? { id: 'INTEGER PRIMARY KEY', real: 'REAL' } : { id: 'BIGSERIAL PRIMARY KEY', real: 'DOUBLE PRECISION' };
}

/** Tables added in the second SQLite version and present from the start in PostgreSQL. */
export function metaTables(d: Dialect): string {
  const { id, real } = words(d);
  return `
    CREATE TABLE readings_1m(series INTEGER NOT NULL, minute BIGINT NOT NULL, min ${real}, max ${real}, sum ${real}, count INTEGER NOT NULL,
      PRIMARY KEY(series, minute));
    CREATE TABLE alarms(id ${id}, gateway TEXT NOT NULL, alarm_id TEXT NOT NULL, device TEXT NOT NULL, point TEXT NOT NULL,
      detector TEXT NOT NULL, level INTEGER NOT NULL, state TEXT NOT NULL, since BIGINT NOT NULL, cause TEXT NOT NULL,
      value ${real}, raised_at BIGINT, last_seq BIGINT NOT NULL, UNIQUE(gateway, alarm_id));
    CREATE INDEX alarms_state ON alarms(state, level);
    CREATE TABLE alarm_comments(id ${id}, alarm BIGINT NOT NULL, ts BIGINT NOT NULL, user_name TEXT NOT NULL, body TEXT NOT NULL);
    CREATE INDEX alarm_comments_alarm ON alarm_comments(alarm, ts);
    CREATE TABLE commands(id ${id}, gateway TEXT NOT NULL, type TEXT NOT NULL, alarm BIGINT, body TEXT NOT NULL,
      requested_by TEXT NOT NULL, requested_at BIGINT NOT NULL, status TEXT NOT NULL, answer TEXT, answered_at BIGINT);
    CREATE INDEX commands_gateway ON commands(gateway, id);
    CREATE INDEX commands_alarm ON commands(alarm, id);
    CREATE TABLE gateway_config(gateway TEXT PRIMARY KEY, running TEXT, running_ts BIGINT, desired TEXT, desired_ts BIGINT,
      desired_by TEXT, desired_command BIGINT, answer TEXT, answer_ts BIGINT);
    CREATE TABLE api_tokens(id ${id}, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL, revoked_at BIGINT);
    CREATE TABLE enrolments(id ${id}, hash TEXT NOT NULL UNIQUE, note TEXT, created_by TEXT NOT NULL, created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL, used_at BIGINT, gateway TEXT);
    CREATE TABLE mqtt_credentials(username TEXT PRIMARY KEY, gateway TEXT NOT NULL, salt TEXT NOT NULL, hash TEXT NOT NULL,
      created_at BIGINT NOT NULL, revoked_at BIGINT);
    CREATE TABLE webhooks(id ${id}, url TEXT NOT NULL, secret TEXT NOT NULL, min_level INTEGER NOT NULL, created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL);
    CREATE INDEX events_alarm ON events(gateway, alarm_id, seq);
  `;
}

/** Registry columns of gateways and devices added to the first SQLite version. */
export const registryColumns = {
  gateways: ['name TEXT', 'lon REAL', 'lat REAL', 'district TEXT', 'grid_unit TEXT', 'kind TEXT', 'first_seen BIGINT', 'backlog_depth BIGINT', 'backlog_oldest BIGINT', 'clock_offset_ms REAL', 'revoked_at BIGINT'],
  devices: ['name TEXT', 'lon REAL', 'lat REAL', 'district TEXT', 'grid_unit TEXT'],
};

/**
 * Sync ledger tables (migration 3 in SQLite, 2 in PostgreSQL): the seq base of
 * each gateway buffer epoch, and the gap records (thinned ranges) gateways report.
 */
export function syncLedgerTables(d: Dialect): string {
  const { id } = words(d);
  return `
    CREATE TABLE sync_epochs(gateway TEXT NOT NULL, lane TEXT NOT NULL, epoch BIGINT NOT NULL, base BIGINT NOT NULL, opened_at BIGINT NOT NULL,
      PRIMARY KEY(gateway, lane, epoch));
    CREATE TABLE gaps(id ${id}, gateway TEXT NOT NULL, device TEXT NOT NULL, point TEXT NOT NULL, from_ts BIGINT NOT NULL, to_ts BIGINT NOT NULL,
      first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, kept_minutes INTEGER NOT NULL, kept_readings BIGINT NOT NULL, minutes TEXT NOT NULL,
      committed_at BIGINT NOT NULL);
    CREATE INDEX gaps_point ON gaps(device, point, from_ts);
    CREATE INDEX gaps_gateway ON gaps(gateway, committed_at);
  `;
}

/**
 * Identity and epochs (migration 4 in SQLite, 3 in PostgreSQL), as plain
 * statements both engines run after their own table rebuilds:
 *   - a device is known by (gateway, id); a series by (gateway, device, point);
 *   - each buffer epoch is its own seq space: `committed`, `batches` and
 *     `events` are keyed by epoch, and gateway seqs are stored as the gateway
 *     sent them. Old rows move from the shared "base + seq" space to their
 *     epoch's own seqs: a seq s belongs to the epoch with the largest base < s.
 *   - a gateway whose batches are refused is marked faulty until one commits.
 */
export const identityColumns = {
  gateways: ['rejects BIGINT NOT NULL DEFAULT 0', 'last_reject_at BIGINT', 'last_reject_reason TEXT', 'reject_cleared_at BIGINT'],
};

/** The epoch (`what` 'epoch') or base (`what` 'base') a cloud seq `col` belonged to in the old shared seq space; arguments are SQL expressions. */
export function oldEpoch(what: 'epoch' | 'base', gateway: string, lane: string, col: string): string {
  return `COALESCE((SELECT e.${what} FROM sync_epochs e WHERE e.gateway = ${gateway} AND e.lane = ${lane} AND e.base < ${col} ORDER BY e.base DESC LIMIT 1), 0)`;
}

/**
 * Each epoch's committed prefix in its own seqs: an older epoch ended where
 * the next one's base began (what it never sent was given up then); the
 * newest one holds the lane's prefix. A lane with no epoch row was epoch 0.
 */
export const committedPerEpoch = `
  SELECT c.gateway, c.lane, e.epoch,
    COALESCE((SELECT MIN(n.base) FROM sync_epochs n WHERE n.gateway = e.gateway AND n.lane = e.lane AND n.base > e.base), c.up_to) - e.base AS up_to
  FROM committed c JOIN sync_epochs e ON e.gateway = c.gateway AND e.lane = c.lane
  UNION ALL
  SELECT c.gateway, c.lane, 0, c.up_to FROM committed c
  WHERE NOT EXISTS (SELECT 1 FROM sync_epochs e WHERE e.gateway = c.gateway AND e.lane = c.lane)`;

/**
 * Migrations after the identity one, alike in both engines but for the id
 * column (SQLite versions 5…, PostgreSQL 4…, in this order; append, never edit).
 */
export function laterMigrations(d: Dialect): string[] {
  const { id } = words(d);
  return [
    // enrolment target gateway: a token issued to replace one gateway (NULL: a new gateway only).
    'ALTER TABLE enrolments ADD COLUMN for_gateway TEXT;',
    // maintenance windows (maintenance-store.ts): a gateway, device or point out of service for a while, audited.
    `CREATE TABLE maintenance(id ${id}, gateway TEXT NOT NULL, device TEXT, point TEXT, from_ts BIGINT NOT NULL, until_ts BIGINT NOT NULL,
       reason TEXT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL, ended_at BIGINT, ended_by TEXT);
     CREATE INDEX maintenance_until ON maintenance(until_ts);`,
    // receiver kinds (webhook-store.ts): existing rows are generic webhooks; sms holds an SMS gateway's template (JSON).
    `ALTER TABLE webhooks ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';
     ALTER TABLE webhooks ADD COLUMN sms TEXT;`,
    // the notification outbox (notification-store.ts): one row per transition and receiver, kept through restarts.
    `CREATE TABLE notifications(id ${id}, idem_key TEXT NOT NULL UNIQUE, receiver BIGINT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,
       attempts INTEGER NOT NULL, next_at BIGINT NOT NULL, created_at BIGINT NOT NULL, last_error TEXT, delivered_at BIGINT, dead_at BIGINT);
     CREATE INDEX notifications_due ON notifications(status, next_at);`,
    // alarm routing (routing-store.ts): rules (spec as JSON), daily digests per receiver, and the mark of each gateway
    // epoch's events whose notifications are queued (what committed before this migration counts as queued: no replay of history).
    `CREATE TABLE alarm_rules(id ${id}, name TEXT NOT NULL, body TEXT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL,
       updated_by TEXT NOT NULL, updated_at BIGINT NOT NULL);
     CREATE TABLE receiver_digests(receiver BIGINT PRIMARY KEY, at_local TEXT NOT NULL, time_zone TEXT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL);
     CREATE TABLE notify_marks(gateway TEXT NOT NULL, epoch BIGINT NOT NULL, up_to BIGINT NOT NULL, PRIMARY KEY(gateway, epoch));
     INSERT INTO notify_marks(gateway, epoch, up_to) SELECT gateway, epoch, up_to FROM committed WHERE lane = 'events';`,
    // cold storage (sql-cold.ts): one compressed block per series and UTC day once the day is old (issue #19).
    `CREATE TABLE readings_cold(series INTEGER NOT NULL, day BIGINT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL,
       readings INTEGER NOT NULL, bytes INTEGER NOT NULL, version INTEGER NOT NULL, data ${d === 'sqlite' ? 'BLOB' : 'BYTEA'} NOT NULL,
       PRIMARY KEY(series, day));
     CREATE INDEX readings_cold_day ON readings_cold(day);${d === 'postgres' ? '\n     ALTER TABLE readings_cold ALTER COLUMN data SET STORAGE EXTERNAL; -- deflated already: TOAST need not try' : ''}`,
    // the last day's minutes per device (24 h completeness of GET /devices, /gateways, /summary) read by minute:
    // without it every status list scans the whole rollup (up to the retention, 400 days).
    'CREATE INDEX readings_1m_minute ON readings_1m(minute, series);',
    // minutes with data per device and hour, kept by the commit (sql-activity.ts): the 24 h completeness reads
    // ~25 rows per device instead of counting its rollup minutes (1,440 a day per point); filled from the rollup.
    activityMigration(d),
    // fields an operator set by PATCH (bits: 1 name, 2 kind, 4 location), which a gateway's status no longer
    // overwrites (sql-registry.ts). Before, a renamed device in a pushed config kept its first name for ever.
    `ALTER TABLE gateways ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE devices ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;`,
    // the cause an alarm left normal with (sql-telemetry.ts), kept like raised_at: an acknowledgement's transition
    // replaced `cause` with "acknowledged by …", and API clients had to read the history for what happened.
    'ALTER TABLE alarms ADD COLUMN raised_cause TEXT;',
    // the thread of a notification (sql-notifications.ts): one alarm at one receiver (one phone), whose rows are sent in
    // order. Before, a raise waiting for its retry (a robot's rate limit) let the clear queued meanwhile overtake it.
    `ALTER TABLE notifications ADD COLUMN thread TEXT;
     CREATE INDEX notifications_thread ON notifications(thread, id) WHERE status = 'pending';`,
  ];
}
