/**
 * The 30-point mixed Modbus profile of the fleet benches (`pnpm bench tcp`, `pnpm bench soak`):
 * floats in swapped word order, scaled integers, 32-bit counters, BCD, about the map of a
 * water-supply RTU. 500 devices polled once a second are 15,000 points/s.
 *
 * `detect: true` adds profile detector defaults (threshold on the pressures, stuck on every
 * float and level, range on the levels), so an agent running this profile does detection on
 * every point as it would on a real site; the limits sit outside the simulated signals, so
 * nothing alarms and the detectors only do their per-reading work.
 */
import { validateProfile, type ModbusProfile } from '@lifeline/devices';

const BASIS = 'no standard: bench profile, limits outside the simulated signal so the detectors run without alarming';

/** The profile as a YAML/JSON file would hold it. */
export function mixedProfileSource(opts: { detect?: boolean } = {}): Record<string, unknown> {
  const d = (detect: Record<string, unknown>) => (opts.detect ? { detect: { basis: BASIS, ...detect } } : {});
  const stuck = { stuck: { epsilon: 0, durationMs: 1_800_000 } };
  const points: Record<string, unknown>[] = [];
  for (let i = 0; i < 10; i++)
    points.push({ name: `probe${i}_pressure`, table: 'holding', address: 2 * i, type: 'float32', order: 'CDAB', unit: 'MPa', sim: { base: 0.3 + i / 100, noise: 0.002 }, ...d({ threshold: { high: { yellow: 0.8, red: 1.0 }, low: { yellow: 0.05 }, deadband: 0.01 }, ...stuck }) });
  for (let i = 0; i < 8; i++) points.push({ name: `probe${i}_temperature`, table: 'holding', address: 20 + i, type: 'int16', scale: 0.1, unit: '°C', sim: { base: 14 + i, noise: 0.1 }, ...d({ threshold: { high: { yellow: 60 } } }) });
  for (let i = 0; i < 4; i++) points.push({ name: `meter${i}_volume`, table: 'holding', address: 28 + 2 * i, type: 'uint32', unit: 'm3', sim: { base: 100000 * (i + 1), drift: 50 } });
  for (let i = 0; i < 6; i++) points.push({ name: `sensor${i}_level`, table: 'input', address: i, type: 'uint16', scale: 0.001, unit: 'm', sim: { base: 1.5 + i / 10, noise: 0.005 }, ...d({ range: { min: 0, max: 60 }, ...stuck }) });
  for (let i = 0; i < 2; i++) points.push({ name: `counter${i}_count`, table: 'input', address: 6 + i, type: 'bcd', unit: '', sim: { base: 1234 + i, drift: 10 } });
  return { id: 'bench-mixed-30', vendor: 'Bench', model: 'MIX-30', kind: 'water_supply', description: '30 mixed points', protocol: 'modbus', defaultPollMs: 1000, points };
}

/** The validated profile. */
export function mixedProfile(opts: { detect?: boolean } = {}): ModbusProfile {
  return validateProfile(mixedProfileSource(opts), 'bench-mixed-30') as ModbusProfile;
}
