/**
 * Detection feature: runs the configured detectors on every reading, before
 * the reading is buffered, and hands their level changes to the alarm manager.
 * It lives with the alarms because it feeds their manager and owns the
 * comm-loss alarm; edge/src/detect stays the ground library of pure detectors.
 *
 *   'readings' ─▶ createDetectors(config.detectors).onReading ─▶ DetectorEvent ─▶ AlarmManager.onCondition
 *   'comm'     ─▶ <device>/comm/comm_loss ───────────────────────────────────────▶ AlarmManager.onCondition
 *
 * After a restart the detectors start fresh (normal) while the manager restores
 * its active alarms. An alarm the detector does not confirm within
 * `alarms.restoreGraceMs` of readings is cleared ("not confirmed after restart");
 * a comm-loss alarm clears at the device's first reading.
 *
 * The detectors measure time on the readings' `ts`, stamped with the box's wall
 * clock. When that clock is stepped (NTP correcting a board without RTC from 1970, or a
 * day-late clock put back), the detectors would see hours or decades pass, or time run
 * backwards: a flat value "stuck for 1.8e9 s", a rain gauge's rain filed in a bucket a
 * day old and never summed (no rainstorm warning for a day). So the detectors get the
 * readings on a timeline without the steps (wall clock minus the steps since start,
 * measured against the monotonic clock) and their alarms are stamped back on the wall
 * clock. Readings a device stamps itself (SL 651 stations) are not moved.
 */
import { AlarmLevel, type Reading } from '@lifeline/shared';
import type { DetectorsConfig } from '@lifeline/shared/config';
import { createDetectors, type DetectorSet } from '../detect/engine.js';
import { MultivariateDetector } from '../detect/multivariate.js';
import type { Detector, DetectorEvent } from '../detect/types.js';
import type { EventBus, Extension } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { AlarmManager } from './manager.js';
import type { ConditionInput } from './types.js';
import type { ResolvedAlarmsConfig } from './config.js';

/** Whether an alarm at `level` of detector `d` is a yellow watch (the multivariate detector's provisional raise). */
function isWatch(d: Detector, level: AlarmLevel): boolean {
  return d instanceof MultivariateDetector && d.watches && level === AlarmLevel.Yellow;
}

/** Point of the device-level communication-loss alarm: `<device>/comm/comm_loss`. */
export const COMM_POINT = 'comm';

/** Id of a device's communication-loss alarm. */
export const commLossId = (device: string) => `${device}/${COMM_POINT}/comm_loss`;

/** How far the wall clock has been stepped since this process started, ms (wall − monotonic). */
export interface WallClockSteps {
  offsetMs(): number;
}

/** This process's clocks: Date.now() against performance.now(), which no NTP step moves. */
export const processClockSteps: WallClockSteps = { offsetMs: () => Date.now() - (performance.timeOrigin + performance.now()) };

/** A change of the wall clock's offset smaller than this is jitter of the two clocks' reading, not a step. */
export const CLOCK_STEP_MIN_MS = 1000;

/** The part of the config detection runs on. */
export interface DetectionConfig extends Pick<ResolvedAlarmsConfig, 'restoreGraceMs' | 'commLoss'> {
  /** The detectors to run: the profiles' defaults merged with the config's own (`effectiveDetectors`). */
  detectors: DetectorsConfig;
}

interface Unconfirmed {
  detector: Detector;
  /** Reading time from which the detector's verdict counts. */
  afterTs: number;
}

export class Detection implements Extension {
  private set?: DetectorSet;
  /**
   * The detectors config until start() has built the detectors from it; dropped then: at 500 devices its
   * 12,000 per-point entries (each with a shape of its own) held ~3 MB of heap for nothing (issue #18).
   */
  private detectorsConfig?: DetectorsConfig;
  private offs: (() => void)[] = [];
  /** Restored active alarms waiting for their detector's verdict, by detector id. */
  private readonly unconfirmed = new Map<string, Unconfirmed>();
  /** Devices with an active communication-loss alarm. */
  private readonly commLost = new Set<string>();

  private readonly config: Pick<DetectionConfig, 'restoreGraceMs' | 'commLoss'>;
  /** The wall clock's steps since start that the detectors' timeline leaves out, ms. */
  private stepMs = 0;

  constructor(
    config: DetectionConfig,
    private readonly events: EventBus,
    private readonly alarms: AlarmManager,
    private readonly log?: Logger,
    private readonly clock: { steps: WallClockSteps; selfStamped: ReadonlySet<string> } = { steps: processClockSteps, selfStamped: new Set() },
  ) {
    this.config = { restoreGraceMs: config.restoreGraceMs, commLoss: config.commLoss };
    this.detectorsConfig = config.detectors;
  }

  /** The running detectors (after start). */
  get detectors(): DetectorSet | undefined {
    return this.set;
  }

  start(): void {
    this.set ??= createDetectors(this.detectorsConfig);
    this.detectorsConfig = undefined;
    const now = Date.now();
    for (const a of this.alarms.records()) {
      if (a.level === AlarmLevel.Normal || a.detector === 'flood') continue;
      if (a.detector === 'comm_loss') {
        this.commLost.add(a.device);
        continue;
      }
      const d = this.set.get(a.id);
      if (d) this.unconfirmed.set(a.id, { detector: d, afterTs: now + this.config.restoreGraceMs });
      else this.condition({ alarmId: a.id, device: a.device, point: a.point, detector: a.detector, ts: now, level: AlarmLevel.Normal, value: null, cause: 'detector no longer configured' });
    }
    this.offs.push(this.events.on('readings', (batch) => this.run(batch)));
    this.offs.push(this.events.on('comm', (c) => this.comm(c.device, c.ok, c.ts, c.error)));
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }

  private run(batch: Reading[]): void {
    // One batch of the alarm manager per poll batch: every output switches before any disk write.
    const step = batch.length && !this.clock.selfStamped.has(batch[0].device) ? this.step() : 0;
    this.alarms.batch(() => {
      const set = this.set!;
      if (this.commLost.size && batch.length && this.commLost.has(batch[0].device)) this.comm(batch[0].device, true, batch[0].ts);
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i];
        // A copy only after a step: the usual path allocates nothing.
        const events = set.onReading(step === 0 ? r : { ...r, ts: r.ts - step });
        for (let k = 0; k < events.length; k++) this.raise(events[k], step);
        if (this.unconfirmed.size) this.confirm(r);
      }
    });
  }

  /** The wall clock's steps since start (0 until one of at least CLOCK_STEP_MIN_MS); logs each new one. */
  private step(): number {
    const offset = this.clock.steps.offsetMs();
    if (Math.abs(offset - this.stepMs) < CLOCK_STEP_MIN_MS) return this.stepMs;
    this.log?.warn(
      { stepMs: Math.round(offset - this.stepMs), sinceStartMs: Math.round(offset) },
      `the wall clock was stepped by ${Math.round((offset - this.stepMs) / 1000)} s (NTP, or set by hand): detectors keep measuring time across the step; readings and alarms carry the new clock`,
    );
    this.stepMs = offset;
    return offset;
  }

  private raise(e: DetectorEvent, step = 0): void {
    this.unconfirmed.delete(e.detector);
    // Back on the wall clock: the alarm's time is its reading's.
    this.condition({ alarmId: e.detector, device: e.device, point: e.point, detector: e.kind, ts: e.ts + step, level: e.level, value: e.value, cause: e.cause, ...(e.withdrawn ? { withdrawn: true } : {}) });
  }

  /** A restored alarm whose detector, after the grace time, still says normal is cleared. */
  private confirm(r: Reading): void {
    for (const [id, u] of this.unconfirmed) {
      if (u.detector.device !== r.device || !u.detector.points.includes(r.point) || r.ts < u.afterTs) continue;
      this.unconfirmed.delete(id);
      if (u.detector.level !== AlarmLevel.Normal) continue;
      const a = this.alarms.get(id);
      if (a && a.level !== AlarmLevel.Normal) {
        // A yellow watch outlives no restart: its detector learns afresh and its 30 s are long past.
        if (isWatch(u.detector, a.level)) {
          this.condition({ alarmId: id, device: a.device, point: a.point, detector: a.detector, ts: r.ts, level: AlarmLevel.Normal, value: r.value, cause: `${a.point} watch withdrawn: not confirmed after restart`, withdrawn: true });
        } else {
          this.condition({ alarmId: id, device: a.device, point: a.point, detector: a.detector, ts: r.ts, level: AlarmLevel.Normal, value: r.value, cause: `not confirmed after restart: ${r.point} ${r.value}` });
        }
      }
    }
  }

  private comm(device: string, ok: boolean, ts: number, error?: string): void {
    if (!ok) this.withdrawWatches(device, ts);
    const { commLoss } = this.config;
    if (!commLoss.enabled) return;
    if (ok) {
      if (!this.commLost.delete(device)) return;
      this.condition({ alarmId: commLossId(device), device, point: COMM_POINT, detector: 'comm_loss', ts, level: AlarmLevel.Normal, value: null, cause: `${device} answering again` });
    } else {
      this.commLost.add(device);
      this.condition({ alarmId: commLossId(device), device, point: COMM_POINT, detector: 'comm_loss', ts, level: commLoss.level, value: null, cause: `${device} not answering: ${error ?? 'no reply'}` });
    }
  }

  /**
   * A device stopped answering: its yellow watches are withdrawn now, not when readings resume
   * (the watch waits for frames to time out, and an unanswering device sends none). If the change
   * was real, the detector raises the alarm when the device answers again.
   */
  private withdrawWatches(device: string, ts: number): void {
    for (const d of this.set?.detectors ?? []) {
      if (d.device !== device) continue;
      const a = this.alarms.get(d.id);
      if (!a || !isWatch(d, a.level)) continue;
      this.condition({ alarmId: d.id, device, point: a.point, detector: a.detector, ts, level: AlarmLevel.Normal, value: null, cause: `${a.point} watch withdrawn: ${device} not answering`, withdrawn: true });
    }
  }

  /** A failing alarm path must not stall polling: log and go on. */
  private condition(c: ConditionInput): void {
    try {
      this.alarms.onCondition(c);
    } catch (err) {
      this.log?.error({ err, alarm: c.alarmId }, 'alarm manager failed on a condition; continuing');
    }
  }
}
