/**
 * Lamp schedules on the gateway: at start and at every transition, each lamp
 * is set to the state its schedule says it should be in now, so a restart or a
 * config push at 22:00 switches the lamps on (and dimmed, after midnight) at once.
 * Nothing comes from the cloud: the sun's times are computed here.
 *
 *     timer ─▶ lampState(plan, site, now) per schedule ─▶ changed? ─▶ PointWriter
 *                                                            switchPoint = 1/0, dimPoint = %
 *                                            failed ─▶ retry 1 s, 2 s, … 5 min (while still wanted)
 *     next transition ─▶ log "lamp schedule: next transition" ─▶ timer
 */
import type { PointWriter } from '../actions/point-writer.js';
import type { Extension } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import { lampState, type NightPlan, type Site } from '../schedule/nights.js';
import { wallClock } from '../schedule/zone.js';
import { nightPlan, schedulePoints, type LightingConfig } from './config.js';
import type { Profile } from '@lifeline/devices';

/** What one lamp should be doing, and how far the gateway got in telling it. */
export interface LampStatus {
  schedule: string;
  device: string;
  on: boolean;
  /** Dimming while on, when the lamp has a dimming point. */
  percent?: number;
  /** Whether the device confirmed the state (read back). */
  applied: boolean;
  /** The next transition, ISO 8601 in UTC. */
  next?: string;
}

interface Lamp {
  device: string;
  schedule: string;
  plan: NightPlan;
  switchPoint: string;
  dimPoint?: string;
  /** The state wanted now. */
  want?: { on: boolean; percent?: number };
  /** The state last confirmed by the device. */
  done?: { on: boolean; percent?: number };
  writing: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
  next?: number;
}

/** Options of Lighting. */
export interface LightingOptions {
  /** The clock (ms since the epoch); tests inject one. */
  now?: () => number;
  /** First retry delay after a failed write; doubles up to `retryMaxMs`. Default 1000. */
  retryMs?: number;
  /** Longest retry delay. Default 300000 (5 min). */
  retryMaxMs?: number;
}

/** Re-evaluate at least this often, so a clock set forward or back is caught within the hour. */
const maxSleepMs = 3_600_000;
/** Wake this long after a transition, so the state computed is past it. */
const afterMs = 1_000;

/** The lighting feature: schedules of the gateway config written to the lamps through a PointWriter. */
export class Lighting implements Extension {
  private readonly lamps: Lamp[] = [];
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    config: LightingConfig,
    private readonly site: Site,
    profiles: ReadonlyMap<string, Readonly<Profile>>,
    private readonly writer: PointWriter,
    private readonly log: Logger,
    private readonly opts: LightingOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    config.schedules.forEach((s, i) => {
      const plan = nightPlan(s);
      for (const device of s.devices) {
        const points = schedulePoints(s, profiles.get(device));
        this.lamps.push({ device, schedule: s.name ?? `schedules[${i}]`, plan, ...points, writing: false, failures: 0 });
      }
    });
  }

  start(): void {
    this.running = true;
    this.evaluate();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    for (const l of this.lamps) clearTimeout(l.retry);
  }

  /** Each lamp's wanted state, whether the device confirmed it, and its next transition. */
  status(): LampStatus[] {
    return this.lamps.map((l) => ({
      schedule: l.schedule,
      device: l.device,
      on: l.want?.on ?? false,
      ...(l.want?.percent !== undefined ? { percent: l.want.percent } : {}),
      applied: same(l.want, l.done),
      ...(l.next !== undefined ? { next: new Date(l.next).toISOString() } : {}),
    }));
  }

  /** Compute every lamp's state now, write the changed ones, sleep until the next transition. */
  private evaluate(): void {
    if (!this.running) return;
    const now = this.now();
    let wake = now + maxSleepMs;
    const next = new Map<string, { at: string; on: boolean; percent?: number }[]>();
    for (const l of this.lamps) {
      const s = lampState(l.plan, this.site, now);
      const want = { on: s.on, ...(s.on && l.dimPoint ? { percent: s.percent } : {}) };
      l.next = s.next;
      if (s.next !== undefined) wake = Math.min(wake, s.next + afterMs);
      if (!same(want, l.want)) {
        l.want = want;
        l.failures = 0;
        clearTimeout(l.retry);
        l.retry = undefined;
        void this.apply(l);
      }
      if (s.next !== undefined && !next.has(l.schedule)) {
        const after = lampState(l.plan, this.site, s.next + afterMs);
        next.set(l.schedule, [{ at: this.local(s.next), on: after.on, ...(after.on ? { percent: after.percent } : {}) }]);
      }
    }
    // The log is where a technician sees the clock at work: what comes next, in the site's time.
    this.log.info({ lamps: this.lamps.map((l) => ({ device: l.device, ...l.want })), next: Object.fromEntries(next) }, 'lamp schedule: state now and next transition');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.evaluate(), Math.max(0, wake - now));
  }

  /** Write a lamp's wanted state; on failure retry with backoff while that state is still wanted. */
  private async apply(l: Lamp): Promise<void> {
    if (l.writing || !this.running) return; // the running write re-checks `want` when it ends
    l.writing = true;
    const want = l.want!;
    try {
      // Dim before switching on, so the lamp does not flash at full power first.
      if (want.on && l.dimPoint !== undefined && want.percent !== undefined) await this.writer.writePoint(l.device, l.dimPoint, want.percent);
      await this.writer.writePoint(l.device, l.switchPoint, want.on ? 1 : 0);
      l.done = want;
      l.failures = 0;
      this.log.info({ device: l.device, schedule: l.schedule, ...want }, 'lamp schedule: lamp set');
    } catch (e) {
      l.failures++;
      const delay = Math.min((this.opts.retryMs ?? 1_000) * 2 ** (l.failures - 1), this.opts.retryMaxMs ?? 300_000);
      this.log.warn({ device: l.device, schedule: l.schedule, ...want, attempt: l.failures, retryInMs: delay, err: (e as Error).message }, 'lamp schedule: write failed; retrying');
      clearTimeout(l.retry);
      // A newer wanted state is written below instead.
      if (this.running && l.want === want) l.retry = setTimeout(() => void this.apply(l), delay);
    } finally {
      l.writing = false;
    }
    // The wanted state moved on while writing: write the new one.
    if (this.running && !same(l.want, l.done) && l.want !== want) void this.apply(l);
  }

  private local(ms: number): string {
    const w = wallClock(ms, this.site.zone);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${w.year}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)} ${this.site.zone}`;
  }
}

function same(a?: { on: boolean; percent?: number }, b?: { on: boolean; percent?: number }): boolean {
  return !!a && !!b && a.on === b.on && a.percent === b.percent;
}
