import { describe, expect, it } from 'vitest';
import { bcdToNumber, byteOrders, decodeRegisters, encodeRegisters, numberToBcd } from './registers.js';

describe('register data types', () => {
  it('decodes a float32 in each of the four byte orders (worked by hand)', () => {
    // 123.456f = 0x42F6E979: A=42 B=F6 C=E9 D=79
    expect(decodeRegisters([0x42f6, 0xe979], 0, 'float32', 'ABCD')).toBeCloseTo(123.456, 3);
    expect(decodeRegisters([0x79e9, 0xf642], 0, 'float32', 'DCBA')).toBeCloseTo(123.456, 3);
    expect(decodeRegisters([0xf642, 0x79e9], 0, 'float32', 'BADC')).toBeCloseTo(123.456, 3);
    expect(decodeRegisters([0xe979, 0x42f6], 0, 'float32', 'CDAB')).toBeCloseTo(123.456, 3);
  });

  it('decodes signed and unsigned 16 and 32 bit values', () => {
    expect(decodeRegisters([0xffff], 0, 'int16')).toBe(-1);
    expect(decodeRegisters([0xffff], 0, 'uint16')).toBe(65535);
    expect(decodeRegisters([0xffff, 0xfffe], 0, 'int32')).toBe(-2);
    expect(decodeRegisters([0xfffe, 0xffff], 0, 'int32', 'CDAB')).toBe(-2);
    expect(decodeRegisters([0x0001, 0x0000], 0, 'uint32', 'CDAB')).toBe(1);
    expect(decodeRegisters([0, 0x1234, 0x5678], 1, 'uint32')).toBe(0x12345678);
  });

  it('round-trips every type and order', () => {
    for (const order of byteOrders) {
      expect(decodeRegisters(encodeRegisters(-123456, 'int32', order), 0, 'int32', order)).toBe(-123456);
      expect(decodeRegisters(encodeRegisters(4000000000, 'uint32', order), 0, 'uint32', order)).toBe(4000000000);
      expect(decodeRegisters(encodeRegisters(Math.PI, 'float64', order), 0, 'float64', order)).toBe(Math.PI);
      expect(decodeRegisters(encodeRegisters(-0.5, 'float32', order), 0, 'float32', order)).toBe(-0.5);
    }
    expect(decodeRegisters(encodeRegisters(-300, 'int16'), 0, 'int16')).toBe(-300);
  });

  it('float64 CDAB swaps the words, keeping bytes within a word', () => {
    const be = encodeRegisters(1.5, 'float64', 'ABCD');
    expect(encodeRegisters(1.5, 'float64', 'CDAB')).toEqual([...be].reverse());
  });

  it('reads BCD and rejects invalid nibbles', () => {
    expect(bcdToNumber(0x1234)).toBe(1234);
    expect(bcdToNumber(0x12a4)).toBeNaN();
    expect(numberToBcd(907)).toBe(0x0907);
  });
});
