/** Profile-driven decoding: registers of one read block → unit-scaled readings. */
import { Quality, type Reading } from '@lifeline/shared';
import { decodeRegisters } from '@lifeline/shared/protocols';
import type { Point } from '@lifeline/devices';
import type { ReadBlock } from './plan.js';

/**
 * The point's value in its unit from raw registers at `offset`.
 * A decimal scale (0.1, 0.01, ...) divides by its inverse, because
 * 3217 / 1000 is exactly 3.217 while 3217 * 0.001 is not.
 */
export function decodePoint(point: Point, words: ArrayLike<number>, offset: number): number {
  const raw = decodeRegisters(words, offset, point.type, point.order);
  const scale = point.scale ?? 1;
  const inverse = Math.round(1 / scale);
  const scaled = scale < 1 && Math.abs(1 / scale - inverse) < 1e-9 ? raw / inverse : raw * scale;
  return point.offset ? scaled + point.offset : scaled;
}

/** Quality of a decoded value: NaN is Bad, outside the sensor's range Uncertain. */
export function qualityOf(point: Point, value: number): Quality {
  if (!Number.isFinite(value)) return Quality.Bad;
  if (point.range && (value < point.range[0] || value > point.range[1])) return Quality.Uncertain;
  return Quality.Good;
}

/** Push one reading per point of the block into `out`. */
export function decodeBlock(device: string, block: ReadBlock, words: ArrayLike<number>, ts: number, out: Reading[]): void {
  for (const { point, offset } of block.points) {
    const value = decodePoint(point, words, offset);
    const quality = qualityOf(point, value);
    out.push(quality === Quality.Good ? { device, point: point.name, ts, value } : { device, point: point.name, ts, value, quality });
  }
}
