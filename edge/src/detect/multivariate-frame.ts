/**
 * Frames of the multivariate detector (multivariate.ts): one value per point, same ts.
 * A frame closes when every point has reported, or when a reading of a newer ts
 * arrives first; a point that missed it, or sent a bad value, carries its last good one.
 *
 *   reading ─▶ add (a newer ts? close the open frame first) ─▶ all points in ─▶ close ─▶ detector
 */
import type { Reading } from '@lifeline/shared';
import { isUnusable } from './types.js';

/** The frame being assembled over `d` points. No allocation per reading. */
export class FrameAssembler {
  /** ts of the frame being assembled (NaN before the first reading). */
  ts = Number.NaN;
  /** The frame's value per point (complete after `close` returned true). */
  readonly values: Float64Array;
  private readonly have: Uint8Array;
  private filled = 0;
  /** Last good value per point, carried into a frame a point missed. */
  private readonly last: Float64Array;

  constructor(private readonly d: number) {
    this.values = new Float64Array(d);
    this.have = new Uint8Array(d);
    this.last = new Float64Array(d).fill(Number.NaN);
  }

  /** Whether a reading at `ts` starts a newer frame while this one is open: close this one first. */
  newerThanOpen(ts: number): boolean {
    return ts !== this.ts && this.filled > 0;
  }

  /** Adds point `j`'s reading (starting its frame); true when every point of the frame has reported. */
  add(j: number, r: Reading): boolean {
    this.ts = r.ts;
    if (!isUnusable(r)) {
      this.values[j] = r.value;
      this.last[j] = r.value;
    } else {
      this.values[j] = this.last[j];
    }
    if (!this.have[j]) {
      this.have[j] = 1;
      this.filled++;
    }
    return this.filled === this.d;
  }

  /** Closes the frame: points that missed it carry their last good value. False while a point has none yet. */
  close(): boolean {
    const d = this.d;
    for (let j = 0; j < d; j++) {
      if (!this.have[j]) this.values[j] = this.last[j];
      this.have[j] = 0;
    }
    this.filled = 0;
    for (let j = 0; j < d; j++) if (Number.isNaN(this.values[j])) return false; // nothing known yet for a point
    return true;
  }
}
