import { describe, expect, it } from 'vitest';
import { loadProfile } from '../profiles.js';
import { parseBehaviourSpec, type Behaviour } from './behaviours.js';
import { SimulatedDevice } from './device.js';

describe('behaviours', () => {
  it('parse the technician’s --fault syntax, naming what is wrong', () => {
    expect(parseBehaviourSpec('silent')).toEqual({ kind: 'silent', probability: undefined });
    expect(parseBehaviourSpec('exception:code=4')).toMatchObject({ kind: 'exception', code: 4 });
    expect(parseBehaviourSpec('spike:point=water_level,value=9.5,count=3')).toEqual({ kind: 'spike', point: 'water_level', value: 9.5, count: 3 });
    expect(parseBehaviourSpec('disconnect:forMs=5000')).toEqual({ kind: 'disconnect', forMs: 5000 });
    expect(() => parseBehaviourSpec('slow')).toThrow('slow needs delayMs=<number>');
    expect(() => parseBehaviourSpec('slow:delayMs=soon')).toThrow('delayMs must be a number, got "soon"');
    expect(() => parseBehaviourSpec('frozen')).toThrow('frozen needs point=<name>');
    expect(() => parseBehaviourSpec('spike:point')).toThrow('expected key=value, got "point"');
  });

  it('a test may inject its own handler (MockNodeBehavior style), e.g. an offset sensor that answers only FC4', () => {
    const dev = new SimulatedDevice(loadProfile('flood-gauge'), 1, { seed: 1, now: () => 0 });
    const drift: Behaviour = {
      kind: 'offset',
      transformValue: (p, v) => (p.name === 'water_level' ? v + 1 : v),
      onRequest: (req) => (req.functionCode === 4 ? undefined : { kind: 'exception', code: 1 }),
    };
    const before = dev.valueOf('water_level');
    dev.inject(drift);
    dev.refresh(true);
    expect(dev.valueOf('water_level')).toBeCloseTo(before + 1, 2);
    expect(dev.actionFor({ protocol: 'modbus', functionCode: 3, table: 'holding', address: 0, quantity: 1 })).toEqual({ kind: 'exception', code: 1 });
    expect(dev.actionFor({ protocol: 'modbus', functionCode: 4, table: 'input', address: 0, quantity: 1 })).toBeUndefined();
    dev.clear('offset');
    dev.refresh(true);
    expect(dev.valueOf('water_level')).toBeCloseTo(before, 2);
  });

  it('probability makes a flaky slave: about that share of requests go unanswered', () => {
    const dev = new SimulatedDevice(loadProfile('flood-gauge'), 1, { seed: 42 });
    dev.inject({ kind: 'silent', probability: 0.2 });
    const req = { protocol: 'modbus' as const, functionCode: 4, table: 'input' as const, address: 0, quantity: 1 };
    let silent = 0;
    for (let i = 0; i < 5000; i++) if (dev.actionFor(req)) silent++;
    expect(silent / 5000).toBeGreaterThan(0.17);
    expect(silent / 5000).toBeLessThan(0.23);
  });

  it('a timed behaviour removes itself', async () => {
    const dev = new SimulatedDevice(loadProfile('flood-gauge'), 1);
    dev.inject({ kind: 'slow', delayMs: 50 });
    dev.inject({ kind: 'disconnect', forMs: 30 });
    expect(dev.behaviour('disconnect')).toBeDefined();
    await new Promise((r) => setTimeout(r, 60));
    expect(dev.behaviour('disconnect')).toBeUndefined();
    expect(dev.behaviour('slow')).toBeDefined();
  });

  it('signals: the lamp is on at night only, values stay in range, counters grow', () => {
    const night = new Date(2026, 0, 15, 23, 0).getTime();
    const day = new Date(2026, 0, 15, 12, 0).getTime();
    let t = day;
    const lamp = new SimulatedDevice(loadProfile('lamp-post-controller'), 1, { now: () => t });
    expect(lamp.valueOf('lamp_on')).toBe(0);
    t = night;
    lamp.refresh(true);
    expect(lamp.valueOf('lamp_on')).toBe(1);
    expect(lamp.valueOf('dimming')).toBe(80);
    const water = new SimulatedDevice(loadProfile('water-pressure-station'), 1, { now: () => t });
    const v0 = water.valueOf('total_volume');
    t += 3_600_000;
    water.refresh(true);
    expect(water.valueOf('total_volume') - v0).toBeCloseTo(420, -1);
    for (let h = 0; h < 48; h++) {
      t += 1_800_000;
      water.refresh(true);
      const p = water.valueOf('pressure');
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1.6);
    }
  });
});
