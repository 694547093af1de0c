/**
 * Maintenance windows applied, in the cloud, to every alarm — a gateway's and
 * the cloud's own alike: while a window covers an alarm's gateway, device or
 * point, the alarm is shown `out_of_service` with its window, no webhook is
 * sent for it and the cloud watch raises nothing for it. The stored state stays
 * what was reported, so when the window ends (by itself, or ended early) the
 * alarm shows its real state again: nothing has to run at the end.
 *
 *   store.maintenance ─▶ open windows (upcoming + active), cached ttlMs, reloaded on create / end
 *        ├─▶ API alarms list / one alarm ─▶ covered? state out_of_service + maintenance {id, until, reason, reportedState}
 *        ├─▶ WebhookDispatcher           ─▶ covered? transition not sent
 *        └─▶ CloudWatch                  ─▶ covered? not raised
 */
import type { AlarmFilter, AlarmInfo, MaintenanceWindow, Store } from './store/store.js';
import { maintenanceStatus } from './store/store.js';

/** An alarm as the API shows it: under a window, out_of_service with that window. */
export type ShownAlarm = AlarmInfo & {
  maintenance?: { id: number; until: number; reason: string; reportedState: AlarmInfo['state'] };
};

/** Most open windows read into the cache (a city has a few dozen at once, not thousands). */
const MAX_OPEN = 10_000;

export interface MaintenanceOptions {
  /** How long the cached open windows are trusted, ms (another cloud instance's new window shows within this). Default 5000. */
  ttlMs?: number;
  /** Epoch ms now; tests inject theirs. */
  clock?: () => number;
}

/** Does window `w` cover something at this gateway, device and point (device and point '' for gateway-wide alarms)? */
export function covers(w: Pick<MaintenanceWindow, 'gateway' | 'device' | 'point'>, gateway: string, device: string, point: string): boolean {
  return w.gateway === gateway && (w.device === null || w.device === device) && (w.point === null || w.point === point);
}

const newestFirst = (a: AlarmInfo, b: AlarmInfo) => b.since - a.since || b.id - a.id;

export class Maintenance {
  private open: MaintenanceWindow[] = [];
  private loadedAt = -Infinity;
  private loading?: Promise<MaintenanceWindow[]>;
  private generation = 0;
  private readonly ttlMs: number;
  readonly clock: () => number;

  constructor(private readonly store: Pick<Store, 'maintenance' | 'alarms'>, opts: MaintenanceOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5000;
    this.clock = opts.clock ?? Date.now;
  }

  /** Forget the cache (a window was created or ended here). */
  invalidate(): void {
    // A load already under way may have read before the change: its answer is not kept.
    this.generation++;
    this.loadedAt = -Infinity;
    this.loading = undefined;
  }

  /** The window in force at `at` over this gateway / device / point, if any (the one lasting longest). */
  async covering(gateway: string, device: string, point: string, at = this.clock()): Promise<MaintenanceWindow | undefined> {
    return pick((await this.inForce(at)).filter((w) => covers(w, gateway, device, point)));
  }

  /** One alarm as shown at `at`. */
  async show(a: AlarmInfo, at = this.clock()): Promise<ShownAlarm> {
    const w = await this.covering(a.gateway, a.device, a.point, at);
    return w ? shown(a, w) : a;
  }

  /**
   * The alarm list as shown: `f.state` is matched against the shown state, so
   * `state=out_of_service` finds alarms under a window and `active=true` leaves them out.
   */
  async listAlarms(f: AlarmFilter, at = this.clock()): Promise<ShownAlarm[]> {
    const windows = await this.inForce(at);
    if (!windows.length) return this.store.alarms.listAlarms(f);
    // The covered alarms the filter selects, whatever their stored state: one query per window (windows are few).
    const covered = new Map<number, ShownAlarm>();
    for (const w of windows) {
      if (f.gateway !== undefined && f.gateway !== w.gateway) continue;
      if (f.device !== undefined && w.device !== null && f.device !== w.device) continue;
      const rows = await this.store.alarms.listAlarms({ ...f, state: undefined, gateway: w.gateway, device: w.device ?? f.device, limit: 1_000_000 });
      for (const a of rows) {
        if (covered.has(a.id) || (w.point !== null && a.point !== w.point)) continue;
        covered.set(a.id, shown(a, pick(windows.filter((x) => covers(x, a.gateway, a.device, a.point)))!));
      }
    }
    // The others by their stored state; asking for as many more as are covered keeps `limit` whole after they are taken out.
    const rest = (await this.store.alarms.listAlarms({ ...f, limit: f.limit + covered.size })).filter((a) => !covered.has(a.id));
    const wantCovered = !f.state?.length || f.state.includes('out_of_service');
    return [...rest, ...(wantCovered ? covered.values() : [])].sort(newestFirst).slice(0, f.limit);
  }

  /** Windows in force at `at`, from the cached open ones. */
  private async inForce(at: number): Promise<MaintenanceWindow[]> {
    return (await this.openWindows()).filter((w) => maintenanceStatus(w, at) === 'active');
  }

  /** Upcoming and active windows (cached): an upcoming one comes into force, and an active one ends, without a reload. */
  private async openWindows(): Promise<MaintenanceWindow[]> {
    const now = Date.now();
    if (now - this.loadedAt < this.ttlMs) return this.open;
    // One load at a time; callers meanwhile share it.
    if (this.loading) return this.loading;
    const gen = this.generation;
    const p = this.store.maintenance
      .listWindows({ at: this.clock(), status: ['upcoming', 'active'], limit: MAX_OPEN })
      .then((ws) => {
        if (gen === this.generation) (this.open = ws), (this.loadedAt = now);
        return ws;
      })
      .finally(() => {
        if (this.loading === p) this.loading = undefined;
      });
    this.loading = p;
    return p;
  }
}

/** Of several windows over one thing, the one lasting longest (its `until` is when the thing returns). */
function pick(ws: MaintenanceWindow[]): MaintenanceWindow | undefined {
  return ws.reduce<MaintenanceWindow | undefined>((best, w) => (!best || w.until > best.until ? w : best), undefined);
}

function shown(a: AlarmInfo, w: MaintenanceWindow): ShownAlarm {
  return { ...a, state: 'out_of_service', maintenance: { id: w.id, until: w.until, reason: w.reason, reportedState: a.state } };
}
