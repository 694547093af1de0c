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
import type { EdgeBuffer } from '../buffer/buffer.js';
import type { EventBus, Extension } from '../events/event-bus.js';

export class Recorder implements Extension {
  /** Devices that have answered a poll since start (the config-apply check watches it). */
  readonly answering = new Set<string>();
  private offs: (() => void)[] = [];

  constructor(
    private readonly events: EventBus,
    private readonly buffer: EdgeBuffer,
  ) {}

  start(): void {
    this.offs.push(
      this.events.on('readings', (batch) => {
        // A poller emits readings only for a device that answered at least one read.
        for (const r of batch) this.answering.add(r.device);
        this.buffer.append(batch);
      }),
    );
    this.offs.push(
      this.events.on('comm', (c) =>
        this.buffer.appendEvent(c.ts, 'comm', {
          kind: 'event',
          type: c.ok ? 'device_online' : 'device_offline',
          device: c.device,
          message: c.ok ? `${c.device} answering again` : `${c.device} not answering: ${c.error ?? 'no reply'}`,
        }),
      ),
    );
  }

  /** The agent stops the pollers first, so nothing is left to record. */
  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }
}
