/**
 * The read planner against plans worked out by hand. Each expected plan is
 * written out in full: table, function code, start, count and the points in
 * each request.
 */
import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { loadProfile, type ModbusProfile, type Point } from '@lifeline/devices';
import { planReads, rtuBreakEvenGap, type ReadBlock } from './plan.js';

/** A plan as [fc, start, count, 'point@offset ...'] rows: easy to write by hand. */
function rows(plan: ReadBlock[]): [number, number, number, string][] {
  return plan.map((b) => [b.functionCode, b.start, b.count, b.points.map((p) => `${p.point.name}@${p.offset}`).join(' ')]);
}
function modbus(name: string): ModbusProfile {
  const p = loadProfile(name);
  if (p.protocol !== 'modbus') throw new Error(`${name} is not a Modbus profile`);
  return p;
}
/** A synthetic profile: points given as [name, table, address, type]. */
function synthetic(points: [string, Point['table'], number, Point['type']][], extra: Partial<ModbusProfile> = {}): ModbusProfile {
  return {
    id: 'synthetic',
    vendor: 'T',
    model: 'T',
    kind: 'bridge',
    description: 'test',
    protocol: 'modbus',
    defaultPollMs: 1000,
    points: points.map(([name, table, address, type]) => ({ name, table, address, type, unit: '' })),
    ...extra,
  };
}

describe('read planner, shipped profiles', () => {
  it('flood gauge: six contiguous input registers are one FC4 read', () => {
    expect(rows(planReads(modbus('flood-gauge')))).toEqual([
      [4, 0, 6, 'water_level@0 rainfall@1 ponding_depth@2 battery_voltage@3 daily_rainfall@4 temperature@5'],
    ]);
  });

  it('lamp post controller: one request per table; the uint32s energy (5-6) and working_hours (10-11) ride along', () => {
    expect(rows(planReads(modbus('lamp-post-controller')))).toEqual([
      [1, 0, 1, 'lamp_on@0'],
      [2, 0, 4, 'door_open@0 lamp_fault@1 leakage_alarm@2 tilt_alarm@3'],
      [3, 0, 1, 'dimming@0'],
      [
        4,
        0,
        13,
        'voltage@0 current@1 power@2 leakage_current@3 tilt@4 energy@5 power_factor@7 frequency@8 driver_temperature@9 working_hours@10 illuminance@12',
      ],
    ]);
  });

  it('bridge monitor: floats at holding 0-17 and tilts at 20-22 (gap 2) are one read; accelerations another', () => {
    expect(rows(planReads(modbus('bridge-structural-monitor')))).toEqual([
      [3, 0, 23, 'strain_1@0 strain_2@2 strain_3@4 strain_4@6 deflection@8 strain_5@10 strain_6@12 strain_7@14 strain_8@16 tilt_x@20 tilt_y@21 temperature@22'],
      [4, 0, 6, 'acceleration_rms_x@0 acceleration_rms_y@2 acceleration_rms_z@4'],
    ]);
    // Where a transaction is cheap (maxGap 1), the 2 dead registers are not worth reading.
    expect(rows(planReads(modbus('bridge-structural-monitor'), { maxGap: 1 })).slice(0, 2)).toEqual([
      [3, 0, 18, 'strain_1@0 strain_2@2 strain_3@4 strain_4@6 deflection@8 strain_5@10 strain_6@12 strain_7@14 strain_8@16'],
      [3, 20, 3, 'tilt_x@0 tilt_y@1 temperature@2'],
    ]);
  });

  it('tunnel controller (gapReads: exception): never bridges a gap, whatever the instance asks', () => {
    const expected = [
      [1, 0, 2, 'fan_on@0 pump_on@1'],
      [4, 0, 4, 'oxygen@0 h2s@1 methane@2 co@3'],
      [4, 10, 3, 'temperature@0 humidity@1 cable_temperature@2'],
      [4, 20, 2, 'sump_level@0 sump_level_2@1'],
    ];
    expect(rows(planReads(modbus('utility-tunnel-environment')))).toEqual(expected);
    expect(rows(planReads(modbus('utility-tunnel-environment'), { maxGap: 50, maxBitGap: 50 }))).toEqual(expected);
  });
});

describe('read planner, hand-worked cases', () => {
  it('bridges a gap of exactly maxGap, splits at maxGap + 1', () => {
    const p = (second: number) => synthetic([['a', 'holding', 0, 'uint16'], ['b', 'holding', second, 'uint16']]);
    // a at 0, b at 9: registers 1..8 unused = 8 = maxGap → one read of 10.
    expect(rows(planReads(p(9)))).toEqual([[3, 0, 10, 'a@0 b@9']]);
    // b at 10: 9 unused → two reads.
    expect(rows(planReads(p(10)))).toEqual([
      [3, 0, 1, 'a@0'],
      [3, 10, 1, 'b@0'],
    ]);
    expect(rows(planReads(p(10), { maxGap: 0 }))).toHaveLength(2);
    expect(rows(planReads(synthetic([['a', 'holding', 0, 'uint16'], ['b', 'holding', 1, 'uint16']]), { maxGap: 0 }))).toEqual([[3, 0, 2, 'a@0 b@1']]);
  });

  it('fewest requests first, then fewest registers (a greedy scan reads 12 registers here, the plan 4)', () => {
    // Limit 12: a@0, b@10, c@12 (all three span 13). Greedy: [a..b] (11) + [c] (1) = 12 registers.
    // Both plans take 2 requests; [a] (1) + [b..c] (3) = 4 registers wins.
    const p = synthetic([['a', 'input', 0, 'uint16'], ['b', 'input', 10, 'uint16'], ['c', 'input', 12, 'uint16']]);
    expect(rows(planReads(p, { maxRegisters: 12, maxGap: 20 }))).toEqual([
      [4, 0, 1, 'a@0'],
      [4, 10, 3, 'b@0 c@2'],
    ]);
  });

  it('respects the register limit without splitting a point: float64 at 124 cannot join a read from 60', () => {
    // maxRegisters 64: [a@0 float32, b@60, c@62 float32] spans 0..63 = 64 → one read;
    // d@120 and e@124 float64 (124..127) span 8 → a second read. No 2-read split reads fewer.
    const p = synthetic(
      [
        ['a', 'holding', 0, 'float32'],
        ['b', 'holding', 60, 'uint16'],
        ['c', 'holding', 62, 'float32'],
        ['d', 'holding', 120, 'uint16'],
        ['e', 'holding', 124, 'float64'],
      ],
      { maxRegistersPerRequest: 64 },
    );
    expect(rows(planReads(p, { maxGap: 100 }))).toEqual([
      [3, 0, 64, 'a@0 b@60 c@62'],
      [3, 120, 8, 'd@0 e@4'],
    ]);
    // The instance may lower the device's limit, never raise it.
    expect(rows(planReads(p, { maxGap: 100, maxRegisters: 125 }))).toEqual(rows(planReads(p, { maxGap: 100 })));
    expect(rows(planReads(p, { maxGap: 100, maxRegisters: 8 }))).toEqual([
      [3, 0, 2, 'a@0'],
      [3, 60, 4, 'b@0 c@2'],
      [3, 120, 8, 'd@0 e@4'],
    ]);
  });

  it('coils bridge up to maxBitGap bits; each table is read on its own', () => {
    const p = (far: number) =>
      synthetic([
        ['a_on', 'coil', 0, 'bit'],
        ['b_on', 'coil', far, 'bit'],
        ['c_open', 'discrete', 0, 'bit'],
        ['d', 'holding', 0, 'uint16'],
      ]);
    expect(rows(planReads(p(200)))).toEqual([
      [1, 0, 201, 'a_on@0 b_on@200'],
      [2, 0, 1, 'c_open@0'],
      [3, 0, 1, 'd@0'],
    ]);
    expect(rows(planReads(p(300))).slice(0, 2)).toEqual([
      [1, 0, 1, 'a_on@0'],
      [1, 300, 1, 'b_on@0'],
    ]);
  });

  it('refuses a point that cannot fit in one request', () => {
    const p = synthetic([['x', 'holding', 0, 'float64']]);
    let err: unknown;
    try {
      planReads(p, { maxRegisters: 2 });
    } catch (e) {
      err = e;
    }
    expect(isLifelineError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/point x: a float64 needs 4 registers but the device reads at most 2 per request/);
  });

  it('gap worth bridging on a serial line, by baud (hand-computed)', () => {
    // 9600 8E1: char 1.1458 ms, silence 4.0104 ms; (8 + 5 chars) + (2 × 4.0104 + 5) / 1.1458 = 24.36 chars → 12 registers.
    expect(rtuBreakEvenGap(9600)).toBe(12);
    // 19200: 13 + (2 × 2.0052 + 5) / 0.5729 = 28.73 → 14.
    expect(rtuBreakEvenGap(19200)).toBe(14);
    // 115200: silence fixed at 1.75 ms; 13 + 8.5 / 0.09549 = 102.0 → 51.
    expect(rtuBreakEvenGap(115200)).toBe(51);
  });
});
