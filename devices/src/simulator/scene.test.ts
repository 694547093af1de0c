import { describe, expect, it } from 'vitest';
import { loadProfile } from '../profiles.js';
import { CityScene, DEMO_STORM, scenePoints } from './scene.js';
import { SimulatedDevice, applyWrite } from './device.js';

const HOUR = 3_600_000;
const cst = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h, mi) - 8 * HOUR;

/** A device living in a scene on a fake clock. */
function inScene(profileId: string, start: number, opts: { daySpeed?: number; underpass?: boolean } = {}) {
  let now = start;
  const scene = new CityScene({ now: () => now, storm: DEMO_STORM, daySpeed: opts.daySpeed });
  const dev = new SimulatedDevice(loadProfile(profileId), 1, { seed: 1, now: () => now });
  scene.attach(dev, { seed: 1, underpass: opts.underpass });
  const at = (ms: number) => {
    now = start + ms;
    dev.refresh(true);
    return dev;
  };
  return { dev, at };
}

describe('city scene', () => {
  it('serves a lamp post on at night (full, then dimmed) and off at noon, over Modbus registers', () => {
    const { dev, at } = inScene('lamp-post-controller', cst(2026, 12, 7, 12));
    at(0);
    expect(dev.valueOf('lamp_on')).toBe(0);
    expect(dev.valueOf('power')).toBeLessThan(5);
    at(9 * HOUR); // 21:00
    expect(dev.valueOf('lamp_on')).toBe(1);
    expect(dev.valueOf('dimming')).toBe(100);
    expect(dev.valueOf('power')).toBeGreaterThan(140);
    expect(dev.valueOf('illuminance')).toBe(0);
    at(14 * HOUR); // 02:00
    expect(dev.valueOf('dimming')).toBe(50);
    expect(dev.valueOf('power')).toBeGreaterThan(70);
    expect(dev.valueOf('power')).toBeLessThan(80);
  });

  it('lets a master that writes the lamp take it over (the warning light stays on at noon)', () => {
    const { dev, at } = inScene('lamp-post-controller', cst(2026, 12, 7, 12));
    applyWrite(dev, 'coil', 0, [1]);
    expect(at(1000).valueOf('lamp_on')).toBe(1);
    expect(dev.valueOf('power')).toBeGreaterThan(140); // burning at full power, as a warning light does
    // Switched off at night (the warning released), it stays dark though the schedule says on.
    applyWrite(dev, 'coil', 0, [0]);
    expect(at(9 * HOUR).valueOf('lamp_on')).toBe(0);
    expect(dev.valueOf('power')).toBeLessThan(5);
    expect(dev.valueOf('dimming')).toBe(0);
  });

  it('fills the underpass in a storm and drains it; the rain gauge counts the rain', () => {
    const { dev, at } = inScene('flood-gauge', cst(2026, 7, 15, 15));
    expect(at(30_000).valueOf('ponding_depth')).toBeLessThan(0.03);
    expect(dev.valueOf('rainfall')).toBe(0);
    at(150_000);
    expect(dev.valueOf('rainfall')).toBeCloseTo(10, 1); // 60 mm/h: 10 mm in 10 minutes
    expect(at(185_000).valueOf('ponding_depth')).toBeGreaterThan(0.3); // past the demo's red line
    expect(at(240_000).valueOf('daily_rainfall')).toBeCloseTo(45, 0);
    expect(dev.valueOf('ponding_depth')).toBeLessThan(0.25); // rain over: the pumps are winning
    expect(at(480_000).valueOf('ponding_depth')).toBeLessThan(0.03);
  });

  it('keeps a lake gauge’s ponding sensor dry but raises its level', () => {
    const { dev, at } = inScene('flood-gauge', cst(2026, 7, 15, 15), { underpass: false });
    const before = at(30_000).valueOf('water_level');
    at(240_000);
    expect(dev.valueOf('ponding_depth')).toBe(0);
    expect(dev.valueOf('water_level') - before).toBeGreaterThan(0.2);
  });

  it('sags water pressure at the evening peak and follows a compressed day', () => {
    // 48 city days per wall day: 19:30 is 15 wall minutes after 07:30.
    const { dev, at } = inScene('water-pressure-station', cst(2026, 12, 7, 3), { daySpeed: 48 });
    const night = at(0).valueOf('pressure');
    const evening = at((16.5 * HOUR) / 48).valueOf('pressure');
    expect(night - evening).toBeGreaterThan(0.08);
    expect(evening).toBeGreaterThan(0.25); // a peak is no alarm
  });

  it('drives a heat exchange station by the weather, idle out of season', () => {
    const winter = inScene('heat-station', cst(2026, 12, 7, 5, 30));
    expect(winter.at(0).valueOf('outdoor_temperature')).toBeLessThan(0);
    expect(winter.dev.valueOf('supply_temperature')).toBeGreaterThan(80);
    expect(winter.dev.valueOf('heat_power')).toBeGreaterThan(10_000);
    const summer = inScene('heat-station', cst(2026, 7, 15, 14));
    expect(summer.at(0).valueOf('heat_power')).toBe(0);
    expect(summer.dev.valueOf('circulation_pump_on')).toBe(0);
  });

  it('names only points its profiles have', () => {
    for (const id of ['lamp-post-controller', 'flood-gauge', 'drainage-manhole', 'utility-tunnel-environment', 'water-pressure-station', 'gas-detector', 'heat-station', 'bridge-structural-monitor']) {
      const names = new Set(loadProfile(id).points.map((p) => p.name));
      for (const p of scenePoints(id)) expect(names, `${id}.${p}`).toContain(p);
    }
  });
});
