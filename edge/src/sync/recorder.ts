/**
 * Recorder feature: writes what the pollers tell the bus into the buffer, the
 * write side of store-and-forward (Sync is the read side). It owns the wording
 * of the `device_online` / `device_offline` events the cloud shows.
 *
 *   'readings' ─▶ answering (devices heard since start) ─▶ EdgeBuffer.append ─────┐
 *   'comm'     ─▶ device_online | device_offline ─▶ EdgeBuffer.appendEvent ('comm') ┴▶ Sync ─▶ cloud
 *
 * Registered after Detection, so a poll batch reaches the detectors before the disk.
 */
import type { Reading } from '@lifeline/shared';
import type { EdgeBuffer } from '../buffer/buffer.js';
import type { EventBus, Extension } from '../events/event-bus.js';

export class Recorder implements Extension {
  /** Devices that have answered a poll since start (the config-apply check watches it). */
  readonly answering = new Set<string>();
  /** Per device: the sample time of its last Good reading, and whether the poller last reported it answering (`lifeline status`). */
  readonly devices = new Map<string, { lastGoodTs: number | null; online: boolean | null }>();
  /**
   * Per device, per point: its latest reading (`lifeline watch`), a copy of its own overwritten in place. Keeping
   * the poller's reading instead held every reading for a poll interval, so each one outlived the young
   * generation and was collected from the old one (issue #18: 15,000 a second at 500 devices).
   */
  readonly latest = new Map<string, Map<string, Reading>>();
  private offs: (() => void)[] = [];

  constructor(
    private readonly events: EventBus,
    private readonly buffer: EdgeBuffer,
  ) {}

  start(): void {
    this.offs.push(
      this.events.on('readings', (batch) => {
        // A poller emits readings only for a device that answered at least one read.
        for (const r of batch) {
          this.answering.add(r.device);
          let points = this.latest.get(r.device);
          if (!points) this.latest.set(r.device, (points = new Map()));
          const last = points.get(r.point);
          if (last) {
            last.ts = r.ts;
            last.value = r.value;
            last.quality = r.quality;
          } else points.set(r.point, { device: r.device, point: r.point, ts: r.ts, value: r.value, quality: r.quality });
          // Quality absent means Good (0); Uncertain and Bad readings are not a good read.
          if (!r.quality) this.entry(r.device).lastGoodTs = Math.max(this.entry(r.device).lastGoodTs ?? 0, r.ts);
        }
        this.buffer.append(batch);
      }),
    );
    this.offs.push(
      this.events.on('comm', (c) => {
        this.entry(c.device).online = c.ok;
        this.buffer.appendEvent(c.ts, 'comm', {
          kind: 'event',
          type: c.ok ? 'device_online' : 'device_offline',
          device: c.device,
          message: c.ok ? `${c.device} answering again` : `${c.device} not answering: ${c.error ?? 'no reply'}`,
        });
      }),
    );
  }

  private entry(device: string): { lastGoodTs: number | null; online: boolean | null } {
    let e = this.devices.get(device);
    if (!e) this.devices.set(device, (e = { lastGoodTs: null, online: null }));
    return e;
  }

  /** The agent stops the pollers first, so nothing is left to record. */
  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }
}
