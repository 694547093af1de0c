import { describe, expect, it } from 'vitest';
import { Quality, isLifelineError } from '@lifeline/shared';
import { buildCjt188ReadReply, buildDlt645ErrorReply, toHex } from '@lifeline/shared/protocols';
import { loadProfile, type MeterProfile } from '@lifeline/devices';
import { applyScale, planMeterReads } from './meter-plan.js';

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/), (x) => parseInt(x, 16));
const meter = (id: string) => loadProfile(id) as Readonly<MeterProfile>;
const byName = (vs: { point: { name: string }; value: number }[]) => Object.fromEntries(vs.map((v) => [v.point.name, v.value]));

describe('DL/T 645 meter plan', () => {
  it('asks each data identifier with the FE FE FE FE preamble, and scales kW to W from hand-worked reply bytes', () => {
    const reads = planMeterReads(meter('lamp-post-meter'), '000102030425');
    expect(reads).toHaveLength(6);
    const power = reads.find((r) => r.points[0].name === 'power')!;
    // 68, address reversed, 68, C=11, L=04, DI 02030000 low byte first + 0x33, CS, 16.
    expect(toHex(power.req.frame)).toBe('FE FE FE FE 68 25 04 03 02 01 00 68 11 04 33 33 36 35 E5 16');
    expect(power.req).toMatchObject({ what: 'read 02030000 (total active power)', replyBytes: 4 + 12 + 4 + 3, turnaroundMs: 40 });
    // Reply: 0.1483 kW as XX.XXXX = BCD 00 14 83, low byte first, +0x33 each: B6 47 33.
    const reply = hex('FE FE 68 25 04 03 02 01 00 68 91 07 33 33 36 35 B6 47 33 98 16');
    expect(power.decode(reply)).toEqual([{ point: power.points[0], value: 148.3, raw: '83 14 00' }]);
  });

  it('an error reply is DEVICE_EXCEPTION; a reply from another meter or for another DI is FRAME_INVALID', () => {
    const [energy, voltage] = planMeterReads(meter('lamp-post-meter'), '000102030425');
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (isLifelineError(e)) return e.message;
      }
      return 'no error';
    };
    expect(codeOf(() => energy.decode(buildDlt645ErrorReply('000102030425', 0x02)))).toMatch(/^DEVICE_EXCEPTION: .*no requested data/);
    const other = hex('FE FE 68 25 04 03 02 01 00 68 91 07 33 33 36 35 B6 47 33 98 16'); // power, not voltage
    expect(codeOf(() => voltage.decode(other))).toMatch(/^FRAME_INVALID: di: expected 02010100, found 02030000/);
    expect(codeOf(() => planMeterReads(meter('lamp-post-meter'), '000102030426')[3].decode(other))).toMatch(/^FRAME_INVALID: address: expected 000102030426, found 000102030425/);
  });
});

describe('CJ/T 188 meter plan', () => {
  // A heat meter at 20250001000003 answering 901F, worked out by hand:
  //   settlement heat 12000.00 kWh  00 00 20 01 05     current heat 12500.57 kWh  57 00 25 01 05
  //   heat power 4.25 kW            25 04 00 00 17     flow rate 0.1234 m3/h (XXXX.XXXX) 34 12 00 00 35
  //   cumulative flow 456.78 m3     78 56 04 00 2C     supply 55.37 °C  37 55 00   return 40.05 °C  05 40 00
  //   working hours 18000 h         00 80 01           clock 2024-11-05 08:30:15  15 30 08 05 11 24 20
  //   status ST1 = 04 (battery low), ST2 = 00; L = 3 + 5×5 + 3×3 + 7 + 2 = 46 = 0x2E; CS = 0x8D.
  const HEAT =
    'FE FE FE FE 68 20 03 00 00 01 00 25 20 81 2E 90 1F 00 00 00 20 01 05 57 00 25 01 05 25 04 00 00 17 34 12 00 00 35 ' +
    '78 56 04 00 2C 37 55 00 05 40 00 00 80 01 15 30 08 05 11 24 20 04 00 8D 16';

  it('decodes every heat field with its decimals from hand-worked bytes', () => {
    const [read] = planMeterReads(meter('heat-meter'), '20250001000003');
    expect(toHex(read.req.frame)).toBe('FE FE FE FE 68 20 03 00 00 01 00 25 20 01 03 90 1F 00 84 16');
    expect(read.req.replyBytes).toBe(4 + 13 + 0x2e);
    const values = read.decode(hex(HEAT));
    expect(byName(values)).toEqual({
      heat_energy: 12500.57,
      settlement_heat_energy: 12000,
      heat_power: 4.25,
      flow_rate: 0.1234,
      total_volume: 456.78,
      supply_temperature: 55.37,
      return_temperature: 40.05,
      working_hours: 18000,
      valve_closed: 0,
      battery_low: 1,
    });
    expect(values.every((v) => v.quality === undefined)).toBe(true);
    expect(values.find((v) => v.point.name === 'flow_rate')!.raw).toBe('34 12 00 00 35');
    expect(values.find((v) => v.point.name === 'supply_temperature')!.raw).toBe('37 55 00');
  });

  it('the codec encodes the same values to the same bytes (what the simulator sends)', () => {
    const built = buildCjt188ReadReply(0x20, '20250001000003', {
      values: { settlementHeat: 12000, currentHeat: 12500.57, heatPower: 4.25, flowRate: 0.1234, cumulativeFlow: 456.78, supplyTemperature: 55.37, returnTemperature: 40.05, workingHours: 18000 },
      time: '2024-11-05 08:30:15',
      status: [0x04, 0],
    });
    expect(toHex(built)).toBe(HEAT);
  });

  it('converts MWh, W and L/h to the profile units; a unit of another quantity or FF is Bad with the reason', () => {
    const [read] = planMeterReads(meter('heat-meter'), '20250001000003');
    const reply = buildCjt188ReadReply(0x20, '20250001000003', {
      values: { currentHeat: 12.5, heatPower: 4250, flowRate: 123.4, cumulativeFlow: 456.78, supplyTemperature: 55.37, returnTemperature: 40.05, workingHours: 1 },
      unitCodes: { currentHeat: 0x08, heatPower: 0x14, flowRate: 0x32, settlementHeat: 0x2c },
    });
    const v = read.decode(reply);
    const at = (n: string) => v.find((x) => x.point.name === n)!;
    expect(at('heat_energy')).toMatchObject({ value: 12500 });
    expect(at('heat_power')).toMatchObject({ value: 4.25 });
    expect(at('flow_rate')).toMatchObject({ value: 0.1234 });
    expect(at('settlement_heat_energy')).toMatchObject({ quality: Quality.Bad, note: 'not available (FF)' });
    const wrongUnit = buildCjt188ReadReply(0x20, '20250001000003', { values: { settlementHeat: 5 }, unitCodes: { settlementHeat: 0x2c } });
    expect(read.decode(wrongUnit).find((x) => x.point.name === 'settlement_heat_energy')).toMatchObject({
      quality: Quality.Bad,
      note: 'meter reports m3, not convertible to kWh',
    });
  });

  it('a water meter: volume and valve state; an abnormal valve is Bad', () => {
    const [read] = planMeterReads(meter('water-meter'), '12345678000001');
    const reply = buildCjt188ReadReply(0x10, '12345678000001', { values: { currentFlow: 1234.56, settlementFlow: 1201.3 }, status: [0x01, 0] });
    expect(byName(read.decode(reply))).toEqual({ total_volume: 1234.56, settlement_volume: 1201.3, valve_closed: 1, battery_low: 0 });
    const abnormal = buildCjt188ReadReply(0x10, '12345678000001', { values: { currentFlow: 1 }, status: [0x03, 0] });
    expect(read.decode(abnormal).find((x) => x.point.name === 'valve_closed')).toMatchObject({ quality: Quality.Bad, note: 'valve abnormal' });
  });

  it('applyScale keeps decimal results exact', () => {
    expect(applyScale(0.1483, 1000)).toBe(148.3);
    expect(applyScale(12.34, 1000)).toBe(12340);
    expect(applyScale(3217, 0.001)).toBe(3.217);
    expect(applyScale(7, 1)).toBe(7);
  });
});
