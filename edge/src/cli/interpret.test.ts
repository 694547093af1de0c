import { describe, expect, it } from 'vitest';
import { encodeRegisters } from '@lifeline/shared/protocols';
import { interpretations, matchExpected, tolerance } from './interpret.js';

describe('probe interpretations', () => {
  it('reads two registers in every type and order that fits', () => {
    const all = interpretations([0x42f6, 0xe979]);
    expect(all.find((i) => i.offset === 0 && i.type === 'float32' && i.order === 'ABCD')?.value).toBeCloseTo(123.456, 4);
    expect(all.find((i) => i.offset === 0 && i.type === 'uint16')?.value).toBe(0x42f6);
    expect(all.filter((i) => i.offset === 1).map((i) => i.type)).toEqual(['int16', 'uint16', 'bcd']);
    expect(all.some((i) => i.type === 'float64')).toBe(false);
  });

  it('tolerates half a unit of the last digit shown', () => {
    expect(tolerance('123.456')).toBeCloseTo(0.0005);
    expect(tolerance('12')).toBe(0.5);
    expect(tolerance('-40.5')).toBeCloseTo(0.05);
  });

  it.each(['ABCD', 'CDAB', 'BADC', 'DCBA'] as const)('names float32 %s first for a float written in that order', (order) => {
    const regs = [...encodeRegisters(123.456, 'float32', order), 0, 0];
    const [best] = matchExpected(regs, '123.456');
    expect(best).toMatchObject({ type: 'float32', order, scale: 1 });
  });

  it('finds the scale of a scaled integer, and the signed type for a negative value', () => {
    expect(matchExpected([3217, 0], '3.217')[0]).toMatchObject({ type: 'uint16', scale: 0.001 });
    expect(matchExpected([0xfe6b, 0], '-40.5')[0]).toMatchObject({ type: 'int16', scale: 0.1 });
  });

  it('finds nothing for a value the registers cannot hold, and refuses a non-number', () => {
    expect(matchExpected([1, 2, 3, 4], '987654.321')).toEqual([]);
    expect(() => matchExpected([1], 'twelve')).toThrow(/--expect must be a number/);
  });
});
