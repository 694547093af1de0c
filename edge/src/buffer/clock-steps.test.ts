/**
 * An RTC-less board: the clock counts from 1970 until NTP steps it. The readings taken before
 * the step are real and their monotonic time is known: they go to the cloud on the new clock.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Reading } from '@lifeline/shared';
import { tempDir } from '../../../test/helpers.js';
import { EdgeBuffer } from './buffer.js';
import type { BufferClock } from './clock-steps.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A board's clocks: `wall` is what the board believes; `step()` is NTP setting it. */
function board(boot = 'boot-1'): BufferClock & { step(ms: number): void; pass(ms: number): void; boot: string } {
  let mono = 5_000; // ms since boot
  let wallAtBoot = 0; // 1970
  return {
    boot,
    wall: () => wallAtBoot + mono,
    monotonic: () => mono + 1_000_000, // another origin, as performance.timeOrigin is
    sinceBoot: () => mono,
    bootId() {
      return this.boot;
    },
    step: (ms) => void (wallAtBoot += ms),
    pass: (ms) => void (mono += ms),
  };
}

const NTP = 1_796_000_000_000; // December 2026, ms
const poll = (clock: BufferClock, device = 'flood-1'): Reading[] => [{ device, point: 'water_level', ts: clock.wall(), value: 1.2 }];
const stamps = (b: EdgeBuffer) => b.telemetryRange(1, b.lastWritten('telemetry')).readings.map((r) => [r.device, r.ts]);

describe('readings stamped before a clock step', () => {
  it('go out on the clock after the step; readings after it, and self-stamped stations, as stamped', () => {
    const clock = board();
    const b = new EdgeBuffer(':memory:', { clock, clockExempt: new Set(['sl651-1']) });
    try {
      b.append(poll(clock)); // 1970-01-01T00:00:05
      clock.pass(1000);
      b.append([...poll(clock), { device: 'sl651-1', point: 'rain', ts: NTP - 60_000, value: 0.5 }]); // the station's own clock is right
      clock.pass(1000);
      clock.step(NTP - clock.wall()); // NTP: now it is NTP
      b.append(poll(clock));
      expect(stamps(b)).toEqual([
        ['flood-1', NTP - 2000],
        ['flood-1', NTP - 1000],
        ['sl651-1', NTP - 60_000],
        ['flood-1', NTP],
      ]);
      // The status's backlog age counts from the oldest reading on the new clock, not from 1970.
      // (By chunk: an append is one poll batch, and a station's reports never share one with polled readings.)
      expect(b.backlog('telemetry').oldestTs).toBe(NTP - 2000);
      b.ack('telemetry', 3);
      expect(b.backlog('telemetry').oldestTs).toBe(NTP);
      // A jitter of the two clocks' reading is not a step.
      clock.step(300);
      b.append(poll(clock));
      expect(b.telemetryRange(4, 4).readings[0].ts).toBe(NTP);
    } finally {
      b.close();
    }
  });

  it('keeps the correction across a restart, counts a step made while the agent was down once, and leaves an earlier boot alone', () => {
    const path = join(tmp.dir, 'steps.db');
    const clock = board();
    let b = new EdgeBuffer(path, { clock });
    b.append(poll(clock));
    clock.pass(1000);
    b.close();
    // NTP sets the clock while the agent is stopped (same boot): the new process sees the boot's time moved.
    clock.step(NTP - clock.wall());
    b = new EdgeBuffer(path, { clock });
    b.append(poll(clock));
    expect(stamps(b)).toEqual([['flood-1', NTP - 1000], ['flood-1', NTP]]);
    b.close();
    // A restart with no step: nothing counted twice.
    b = new EdgeBuffer(path, { clock });
    expect(stamps(b)).toEqual([['flood-1', NTP - 1000], ['flood-1', NTP]]);
    b.close();

    // A reboot, 1970 again, and readings not yet sent: a step in this boot moves only this boot's readings.
    const next = board('boot-2');
    b = new EdgeBuffer(path, { clock: next });
    try {
      b.append(poll(next));
      next.step(NTP + 3_600_000 - next.wall());
      b.append(poll(next));
      expect(stamps(b)).toEqual([['flood-1', NTP - 1000], ['flood-1', NTP], ['flood-1', NTP + 3_600_000], ['flood-1', NTP + 3_600_000]]);
    } finally {
      b.close();
    }
  });
});
