/**
 * The registry store in SQL both engines speak: gateways and devices as
 * reported and as edited, revocation, sync faults.
 *
 *   saveGatewayStatus ─▶ tx{ gateway upsert ─▶ device upserts (sorted) } ─▶ running config / rolled-back answer (command store)
 */
import type { Sql } from './sql.js';
import type { CommandStore } from './command-store.js';
import type { DeviceInfo, GatewayInfo, GatewayStatus, RegistryPatch, RegistryStore } from './registry-store.js';
import { ENSURE_GATEWAY, location } from './sql-common.js';

type GatewayRow = {
  id: string; name: string | null; lon: number | null; lat: number | null; district: string | null; grid_unit: string | null; kind: string | null;
  online: number; last_seen: number | null; first_seen: number | null; backlog_depth: number | null; backlog_oldest: number | null;
  clock_offset_ms: number | null; revoked_at: number | null; rejects: number; last_reject_at: number | null; last_reject_reason: string | null;
  reject_cleared_at: number | null;
};
type DeviceRow = {
  id: string; gateway: string; name: string | null; profile: string | null; kind: string | null; lon: number | null; lat: number | null;
  district: string | null; grid_unit: string | null; points: string | null; last_ts: number | null;
};

const gatewayCols =
  'id, name, lon, lat, district, grid_unit, kind, online, last_seen, first_seen, backlog_depth, backlog_oldest, clock_offset_ms, revoked_at, rejects, last_reject_at, last_reject_reason, reject_cleared_at';

function gatewayInfo(r: GatewayRow): GatewayInfo {
  return {
    id: r.id,
    name: r.name,
    location: location(r),
    kind: r.kind,
    online: !!r.online && r.revoked_at === null,
    lastSeen: r.last_seen,
    firstSeen: r.first_seen,
    backlog: r.backlog_depth === null ? null : { depth: r.backlog_depth, oldestTs: r.backlog_oldest, ageMs: r.backlog_oldest === null ? null : Math.max(0, Date.now() - r.backlog_oldest) },
    clockOffsetMs: r.clock_offset_ms,
    revokedAt: r.revoked_at,
    sync: {
      faulty: r.last_reject_at !== null && (r.reject_cleared_at === null || r.reject_cleared_at < r.last_reject_at),
      rejects: Number(r.rejects),
      lastRejectAt: r.last_reject_at,
      lastRejectReason: r.last_reject_reason,
    },
  };
}

/**
 * Fields an operator set by PATCH, as bits of the `pinned` column: the gateway's status no longer
 * overwrites them; a PATCH to null unpins, so the config's value returns with the next status.
 */
const PIN = { name: 1, kind: 2, location: 4 } as const;
const LOCATION = ['lon', 'lat', 'district', 'grid_unit'] as const;

/** The upsert's value of a column: the config's unless an operator pinned it. */
function fromConfig(table: 'gateways' | 'devices', col: string, bit: number): string {
  return `CASE WHEN (${table}.pinned & ${bit}) <> 0 THEN ${table}.${col} ELSE COALESCE(excluded.${col}, ${table}.${col}) END`;
}

/** `SET` clauses and their parameters for a technician's patch. */
function patchSql(p: RegistryPatch): { set: string[]; params: unknown[] } {
  const set: string[] = [];
  const params: unknown[] = [];
  let pin = 0;
  let unpin = 0;
  const mark = (bit: number, value: unknown) => (value === null ? (unpin |= bit) : (pin |= bit));
  if (p.name !== undefined) set.push('name = ?'), params.push(p.name), mark(PIN.name, p.name);
  if (p.kind !== undefined) set.push('kind = ?'), params.push(p.kind), mark(PIN.kind, p.kind);
  if (p.revokedAt === null) set.push('revoked_at = NULL');
  if (p.location !== undefined) {
    set.push('lon = ?', 'lat = ?', 'district = ?', 'grid_unit = ?');
    params.push(p.location?.lon ?? null, p.location?.lat ?? null, p.location?.district ?? null, p.location?.gridUnit ?? null);
    mark(PIN.location, p.location);
  }
  if (pin || unpin) set.push(`pinned = (pinned | ${pin}) & ~${unpin}`);
  return { set, params };
}

export class SqlRegistry implements RegistryStore {
  /** `configs` keeps what a status reports of the gateway's config. */
  constructor(private readonly sql: Sql, private readonly configs: CommandStore) {}

  async saveGatewayStatus(s: GatewayStatus): Promise<void> {
    await this.sql.tx(async (db) => {
      const loc = s.location;
      await db.run(
        `INSERT INTO gateways(id, online, last_seen, first_seen, status, name, lon, lat, district, grid_unit, backlog_depth, backlog_oldest, clock_offset_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET online = excluded.online, last_seen = excluded.last_seen, status = excluded.status,
           first_seen = COALESCE(gateways.first_seen, excluded.first_seen),
           name = ${fromConfig('gateways', 'name', PIN.name)},
           ${LOCATION.map((c) => `${c} = ${fromConfig('gateways', c, PIN.location)}`).join(', ')},
           backlog_depth = COALESCE(excluded.backlog_depth, gateways.backlog_depth),
           backlog_oldest = CASE WHEN excluded.backlog_depth IS NULL THEN gateways.backlog_oldest ELSE excluded.backlog_oldest END,
           clock_offset_ms = COALESCE(excluded.clock_offset_ms, gateways.clock_offset_ms)`,
        [
          s.gateway, s.online ? 1 : 0, s.ts, s.ts, JSON.stringify(s), s.name ?? null, loc?.lon ?? null, loc?.lat ?? null, loc?.district ?? null,
          loc?.gridUnit ?? null, s.backlog?.depth ?? null, s.backlog?.oldestTs ?? null, s.clockOffsetMs ?? null,
        ],
      );
      // Sorted by id, as telemetry commits lock device rows: a status and a commit of one gateway on two workers cannot deadlock.
      for (const d of [...(s.devices ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
        const l = d.location;
        await db.run(
          // The config's name, kind and location, except where an operator set one (PATCH), which stays until cleared.
          `INSERT INTO devices(id, gateway, profile, kind, points, lon, lat, district, grid_unit, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(gateway, id) DO UPDATE SET profile = excluded.profile, points = excluded.points,
             kind = ${fromConfig('devices', 'kind', PIN.kind)}, name = ${fromConfig('devices', 'name', PIN.name)},
             ${LOCATION.map((c) => `${c} = ${fromConfig('devices', c, PIN.location)}`).join(', ')}`,
          [d.id, s.gateway, d.profile, d.kind ?? null, JSON.stringify(d.points ?? []), l?.lon ?? null, l?.lat ?? null, l?.district ?? null, l?.gridUnit ?? null, d.name ?? null],
        );
      }
    });
    // The config it reports is what it runs: operators start from it, never from null.
    if (s.config) await this.configs.setRunningConfig(s.gateway, s.config, s.ts);
    // A rolled-back apply replaces the "applied" answer the command got before the gateway checked it.
    const a = s.configApply;
    if (a?.result === 'rolled_back') {
      const prev = (await this.configs.getConfig(s.gateway)).answer;
      if (prev?.status !== 'rolled_back' || prev.ts !== a.ts) {
        await this.configs.setConfigAnswer(s.gateway, { ...(a.command ? { command: Number(a.command) } : {}), ok: false, status: 'rolled_back', message: `rolled back to the last good config: ${a.reason ?? 'no reason given'}`, ts: a.ts }, a.ts);
      }
    }
  }

  async listDevices(): Promise<DeviceInfo[]> {
    const rows = await this.sql.all<DeviceRow>('SELECT id, gateway, name, profile, kind, lon, lat, district, grid_unit, points, last_ts FROM devices ORDER BY id, gateway');
    return rows.map((r) => ({
      id: r.id,
      gateway: r.gateway,
      name: r.name,
      profile: r.profile,
      kind: r.kind,
      lastReadingTs: r.last_ts,
      location: location(r),
      points: r.points ? (JSON.parse(r.points) as DeviceInfo['points']) : [],
    }));
  }

  async listDevicesWithoutPoints(): Promise<Omit<DeviceInfo, 'points'>[]> {
    const rows = await this.sql.all<Omit<DeviceRow, 'points'>>('SELECT id, gateway, name, profile, kind, lon, lat, district, grid_unit, last_ts FROM devices ORDER BY id, gateway');
    return rows.map((r) => ({ id: r.id, gateway: r.gateway, name: r.name, profile: r.profile, kind: r.kind, lastReadingTs: r.last_ts, location: location(r) }));
  }

  listDeviceKeys(): Promise<{ gateway: string; id: string }[]> {
    return this.sql.all<{ gateway: string; id: string }>('SELECT gateway, id FROM devices ORDER BY id, gateway');
  }

  async listGateways(): Promise<GatewayInfo[]> {
    return (await this.sql.all<GatewayRow>(`SELECT ${gatewayCols} FROM gateways ORDER BY id`)).map(gatewayInfo);
  }

  async getGateway(id: string): Promise<GatewayInfo | undefined> {
    const r = await this.sql.get<GatewayRow>(`SELECT ${gatewayCols} FROM gateways WHERE id = ?`, [id]);
    return r && gatewayInfo(r);
  }

  async updateGateway(id: string, patch: RegistryPatch): Promise<void> {
    await this.sql.run(ENSURE_GATEWAY, [id, Date.now()]);
    const { set, params } = patchSql(patch);
    if (set.length) await this.sql.run(`UPDATE gateways SET ${set.join(', ')} WHERE id = ?`, [...params, id]);
  }

  async updateDevice(gateway: string, id: string, patch: RegistryPatch): Promise<boolean> {
    const { set, params } = patchSql(patch);
    if (!set.length) return !!(await this.sql.get('SELECT 1 AS x FROM devices WHERE gateway = ? AND id = ?', [gateway, id]));
    return (await this.sql.run(`UPDATE devices SET ${set.join(', ')} WHERE gateway = ? AND id = ?`, [...params, gateway, id])) > 0;
  }

  async revokeGateway(id: string, at: number): Promise<boolean> {
    return this.sql.tx(async (db) => {
      const g = await db.run('UPDATE gateways SET revoked_at = ?, online = 0 WHERE id = ? AND revoked_at IS NULL', [at, id]);
      // In the same transaction: a revoked gateway never keeps a live MQTT login.
      const c = await db.run('UPDATE mqtt_credentials SET revoked_at = ? WHERE gateway = ? AND revoked_at IS NULL', [at, id]);
      return g + c > 0;
    });
  }

  async recordReject(gateway: string, reason: string, at: number): Promise<void> {
    await this.sql.run(ENSURE_GATEWAY, [gateway, at]);
    await this.sql.run('UPDATE gateways SET rejects = rejects + 1, last_reject_at = ?, last_reject_reason = ? WHERE id = ?', [at, reason.slice(0, 500), gateway]);
  }

  async clearRejects(gateway: string, at: number): Promise<boolean> {
    return (
      (await this.sql.run('UPDATE gateways SET reject_cleared_at = ? WHERE id = ? AND last_reject_at IS NOT NULL AND (reject_cleared_at IS NULL OR reject_cleared_at < last_reject_at)', [
        Math.max(at, 0), gateway,
      ])) > 0
    );
  }
}
