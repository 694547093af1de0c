/**
 * The ingest's time window: readings stamped further than `pastMs` before or
 * `futureMs` after their gateway's clock (its status's offset) are dropped,
 * counted and logged; the rest of the batch is committed.
 */
import type { Reading, SeriesColumns } from '@lifeline/shared';
import type { Logger } from 'pino';
import { splitByWindow, splitSeriesByWindow } from './batch-checks.js';
import type { IngestCounters } from './options.js';
import type { StatusHandler } from './status.js';

export class TimeWindow {
  constructor(
    private readonly statuses: Pick<StatusHandler, 'clockOffset'>,
    private readonly pastMs: number,
    private readonly futureMs: number,
    private readonly counters: Pick<IngestCounters, 'readingsOutOfWindow'>,
    private readonly log: Logger,
  ) {}

  /** Readings inside the window around the gateway's clock; the others are counted and logged. */
  readings(gateway: string, readings: Reading[]): Reading[] {
    const window = this.window(gateway);
    const { kept, dropped, first } = splitByWindow(readings, ...window);
    this.outOfWindow(gateway, window, dropped, first);
    return kept;
  }

  /** readings() for a batch as columns per series. */
  series(gateway: string, series: SeriesColumns[]): SeriesColumns[] {
    const window = this.window(gateway);
    const { kept, dropped, first } = splitSeriesByWindow(series, ...window);
    this.outOfWindow(gateway, window, dropped, first);
    return kept;
  }

  private window(gateway: string): readonly [number, number] {
    const centre = Date.now() - this.statuses.clockOffset(gateway);
    return [centre - this.pastMs, centre + this.futureMs];
  }

  private outOfWindow(gateway: string, window: readonly [number, number], dropped: number, first?: { device: string; point: string; ts: number }): void {
    if (first) {
      this.counters.readingsOutOfWindow += dropped;
      this.log.warn(
        { gateway, dropped, device: first.device, point: first.point, ts: first.ts, window },
        `dropped ${dropped} reading(s) stamped outside the window around the gateway's clock (e.g. ${first.device}/${first.point} ts ${first.ts})`,
      );
    }
  }
}
