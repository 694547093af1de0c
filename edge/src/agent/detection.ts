/**
 * Detection feature: runs the configured detectors on every reading, before
 * the reading is buffered, and turns level changes into alarm events.
 */
import type { Reading } from '@lifeline/shared';
import type { ThresholdConfig } from '../config/schema.js';
import type { LoadedConfig } from '../config/load.js';
import { ThresholdDetector } from '../detect/threshold.js';
import type { Detector } from '../detect/types.js';
import type { EventBus, Extension } from './event-bus.js';

export class Detection implements Extension {
  /** Detectors by `device\0point`. */
  private readonly byPoint = new Map<string, Detector[]>();
  private off?: () => void;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly events: EventBus,
  ) {}

  start(): void {
    for (const t of this.loaded.config.thresholds ?? []) this.add(t);
    this.off = this.events.on('readings', (batch) => this.run(batch));
  }

  stop(): void {
    this.off?.();
  }

  private add(t: ThresholdConfig): void {
    const unit = this.loaded.profiles.get(t.device)?.points.find((p) => p.name === t.point)?.unit;
    const d = new ThresholdDetector(`${t.device}/${t.point}/threshold`, t.device, t.point, {
      high: t.high,
      low: t.low,
      deadband: t.deadband,
      onDelayMs: t.onDelayMs,
      offDelayMs: t.offDelayMs,
      unit,
    });
    const key = `${t.device}\0${t.point}`;
    this.byPoint.set(key, [...(this.byPoint.get(key) ?? []), d]);
  }

  private run(batch: Reading[]): void {
    for (const r of batch) {
      const list = this.byPoint.get(`${r.device}\0${r.point}`);
      if (!list) continue;
      for (const d of list) {
        const e = d.update(r);
        if (e)
          this.events.emit('alarm', {
            device: e.device,
            point: e.point,
            ts: e.ts,
            level: e.level,
            previous: e.previous,
            value: e.value,
            detector: e.detector,
            cause: e.cause,
          });
      }
    }
  }
}
