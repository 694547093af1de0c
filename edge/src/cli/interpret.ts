/**
 * What raw registers can mean, for `lifeline probe`: every data type and byte order
 * the profiles can name, side by side, and, given the value the device's display
 * shows, the (type, order, scale) that produce it, best first.
 *
 *   registers[0..n) ─decodeRegisters (the agent's own decoder)─▶ type × order × offset ─▶ table
 *                   └─ with expected V: raw × scale ≈ V within half a unit of V's last digit ─▶ matches
 *
 * Pure: no I/O, so the ranking is tested without a device.
 */
import { byteOrders, dataTypes, decodeRegisters, registerCount, type ByteOrder, type DataType } from '@lifeline/shared/protocols';

/** One reading of the registers at an offset. */
export interface Interpretation {
  /** Register offset from --register. */
  offset: number;
  type: DataType;
  /** The profile's `order` (32/64-bit types only). */
  order?: ByteOrder;
  /** Raw value (before scale); null when not a finite number (NaN float, invalid BCD). */
  value: number | null;
}

/** A (type, order, scale) that turns the registers at --register into the expected value. */
export interface Match {
  type: DataType;
  order?: ByteOrder;
  /** The profile's `scale`: value = raw × scale. */
  scale: number;
  raw: number;
  value: number;
  /** |value − expected| in units of the expected value's last digit (0 is exact). */
  error: number;
}

/** The types probe tries (bit is a coil's, not a register's). */
export const registerTypes = dataTypes.filter((t) => t !== 'bit');

/** Scales tried with --expect, most usual first (manuals give ×0.1, ×0.01 ... and ×10). */
export const scales = [1, 0.1, 0.01, 0.001, 0.0001, 10, 100, 1000] as const;

/** Every type and order that fits in `registers`, at every offset. */
export function interpretations(registers: readonly number[]): Interpretation[] {
  const out: Interpretation[] = [];
  for (let offset = 0; offset < registers.length; offset++) {
    for (const type of registerTypes) {
      const n = registerCount(type);
      if (offset + n > registers.length) continue;
      for (const order of n > 1 ? byteOrders : [undefined]) {
        const v = decodeRegisters(registers, offset, type, order ?? 'ABCD');
        out.push({ offset, type, ...(order ? { order } : {}), value: Number.isFinite(v) ? v : null });
      }
    }
  }
  return out;
}

/** Half a unit of the last digit written: "123.456" → 0.0005, "12" → 0.5, "1.2e3" → 50. */
export function tolerance(expected: string): number {
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(expected.trim());
  if (!m) return 0.5;
  const decimals = (m[2] ?? '').length - Number(m[3] ?? 0);
  return 0.5 * 10 ** -decimals;
}

/** Rank of a type when errors tie: the simplest reading a manual would give first. */
const typeRank: Record<DataType, number> = { uint16: 0, int16: 1, float32: 2, int32: 3, uint32: 4, bcd: 5, float64: 6, bit: 7 };

/**
 * The (type, order, scale) readings of the registers starting at offset 0 that show `expected`
 * (the text read off the display: its decimals set the tolerance), best first: smallest
 * error, then scale 1, then the usual scales, then the simpler type, then ABCD before other orders.
 */
export function matchExpected(registers: readonly number[], expected: string): Match[] {
  const want = Number(expected);
  if (!Number.isFinite(want)) throw new RangeError(`--expect must be a number, got ${JSON.stringify(expected)}`);
  const tol = tolerance(expected);
  const matches: Match[] = [];
  for (const i of interpretations(registers)) {
    if (i.offset !== 0 || i.value === null) continue;
    for (const scale of scales) {
      const value = i.value * scale;
      const diff = Math.abs(value - want);
      // Within half a unit of the shown digit; a tiny absolute slack for float rounding of exact values.
      if (diff <= tol * (1 + 1e-9) + Math.abs(want) * 1e-7) {
        matches.push({ type: i.type, ...(i.order ? { order: i.order } : {}), scale, raw: i.value, value: Number(value.toPrecision(12)), error: Number((diff / (2 * tol)).toFixed(3)) });
      }
    }
  }
  const orderRank = (o?: ByteOrder) => (o ? byteOrders.indexOf(o) : 0);
  return matches.sort(
    (a, b) => a.error - b.error || scales.indexOf(a.scale as (typeof scales)[number]) - scales.indexOf(b.scale as (typeof scales)[number]) || typeRank[a.type] - typeRank[b.type] || orderRank(a.order) - orderRank(b.order),
  );
}
