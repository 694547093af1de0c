/**
 * The gateway's retained status message (lifeline/<gw>/status): what the box runs and how
 * its buffer stands, built from the config and the buffer. Sync publishes it on connect and
 * every statusIntervalMs; the last will carries the offline version.
 *
 *   config (redacted) + devices ─┐
 *   buffer: backlog, epoch, disk ─┼─▶ statusMessage() ─▶ JSON ─▶ Sync.publishStatus ─▶ broker (retained)
 *   sync: clock offset, config  ─┘
 */
import { redactSecrets, type GatewayStatusMessage } from '@lifeline/shared';
import type { LoadedConfig } from '../config/load.js';
import type { EdgeBuffer } from '../buffer/buffer.js';

/** What sync adds to the status message of its own. */
export interface SyncStatusPart {
  /** Cloud clock minus gateway clock, ms, from the latest ack. */
  clockOffsetMs: number | null;
  configHash?: string;
  configApply?: GatewayStatusMessage['configApply'];
}

/** The status message as JSON; `online: false` leaves out what only a running buffer can say. */
export function statusMessage(loaded: LoadedConfig, buffer: EdgeBuffer, online: boolean, sync: SyncStatusPart): string {
  const { config, profiles } = loaded;
  const telemetry = online ? buffer.backlog('telemetry') : undefined;
  const events = online ? buffer.backlog('events') : undefined;
  return JSON.stringify({
    gateway: config.gateway.id,
    online,
    ts: Date.now(),
    name: config.gateway.name,
    location: config.gateway.location,
    devices: config.buses.flatMap((b) =>
      b.devices.map((d) => {
        const p = profiles.get(d.id)!;
        return { id: d.id, name: d.name, profile: p.id, kind: p.kind, location: d.location, points: p.points.map((pt) => ({ name: pt.name, unit: pt.unit, ...(pt.label ? { label: pt.label } : {}) })) };
      }),
    ),
    backlog: telemetry,
    backlogAgeMs: telemetry?.oldestTs != null ? Math.max(0, Date.now() - telemetry.oldestTs) : telemetry ? 0 : undefined,
    eventsBacklog: events,
    clockOffsetMs: sync.clockOffsetMs,
    epoch: buffer.epoch,
    thinnedReadings: buffer.thinning.thinnedReadings,
    // A full or failing disk: since when, why, readings that could not be stored (disk-guard.ts).
    disk: online ? buffer.diskState() : undefined,
    configHash: sync.configHash,
    // The config as written, secrets redacted: the cloud can always show what the box runs.
    config: redactSecrets(loaded.written ?? loaded.config),
    configApply: sync.configApply,
  });
}
