/**
 * The quantity vocabulary: one spelling and one unit per quantity across all
 * profiles (zwave-js: "consistency, consistency, consistency").
 *
 * A point's name ends with the quantity it measures, optionally after a
 * qualifier and before an index:
 *
 *   supply_temperature   → temperature  (°C)
 *   strain_3             → strain       (µε)      trailing index: _1.._n, _x _y _z, _a _b _c (phases)
 *   leakage_current      → leakage_current (mA)   the longest matching quantity wins over `current`
 *
 * Units are spelled in ASCII where ASCII has a usual spelling (m3, m3/h, m/s2),
 * and with their own symbol where it has none (°C, µε). docs/profiles.md prints
 * this table; change both together.
 */

/** One quantity of the vocabulary. */
export interface Quantity {
  /** The one unit every profile uses for it; '' for states (0/1). */
  unit: string;
  /** What it is, for docs and error messages. */
  description: string;
  /** A 0/1 state (relay on, door open, alarm): no range needed, sim values 0 or 1. */
  state?: boolean;
}

/** Quantity (the trailing words of a point name) → its unit. */
export const quantities: Readonly<Record<string, Quantity>> = {
  // Water, heat and gas networks
  pressure: { unit: 'MPa', description: 'gauge pressure; low-pressure gas 2.5 kPa is 0.0025 MPa' },
  flow_rate: { unit: 'm3/h', description: 'volume flow rate' },
  volume: { unit: 'm3', description: 'totalised volume (a meter register)' },
  temperature: { unit: '°C', description: 'temperature' },
  level: { unit: 'm', description: 'water level above the gauge datum or the sump floor' },
  depth: { unit: 'm', description: 'standing water depth (underpass ponding)' },
  rainfall: { unit: 'mm', description: 'rainfall accumulated over the device interval' },
  heat_power: { unit: 'kW', description: 'thermal power of a heat meter or station' },
  energy: { unit: 'kWh', description: 'electrical or heat energy register' },
  working_hours: { unit: 'h', description: 'hours in operation (a meter register)' },
  // Gases and climate
  methane: { unit: '%LEL', description: 'methane concentration, percent of the lower explosive limit' },
  oxygen: { unit: '%vol', description: 'oxygen concentration by volume' },
  h2s: { unit: 'ppm', description: 'hydrogen sulphide concentration' },
  co: { unit: 'ppm', description: 'carbon monoxide concentration' },
  humidity: { unit: '%RH', description: 'relative humidity' },
  pm25: { unit: 'µg/m3', description: 'fine particulate matter PM2.5 mass concentration' },
  sound_level: { unit: 'dB(A)', description: 'A-weighted equivalent sound level' },
  // Electrics
  voltage: { unit: 'V', description: 'RMS voltage' },
  current: { unit: 'A', description: 'RMS current' },
  leakage_current: { unit: 'mA', description: 'residual (leakage) current to earth' },
  power: { unit: 'W', description: 'electrical active power' },
  power_factor: { unit: '', description: 'power factor, -1..1' },
  frequency: { unit: 'Hz', description: 'grid frequency' },
  dimming: { unit: '%', description: 'lamp dimming level, 0 off .. 100 full' },
  illuminance: { unit: 'lx', description: 'ambient light (lamp photocell)' },
  // Structures
  tilt: { unit: 'deg', description: 'inclination from vertical (poles) or horizontal (decks)' },
  strain: { unit: 'µε', description: 'strain, micro-strain' },
  deflection: { unit: 'mm', description: 'vertical deflection (positive down)' },
  acceleration_rms: { unit: 'm/s2', description: 'RMS vibration acceleration' },
  acceleration_peak: { unit: 'm/s2', description: 'largest |acceleration| of a burst' },
  // States
  on: { unit: '', description: 'relay or actuator on (1) / off (0)', state: true },
  open: { unit: '', description: 'door, cover or valve open (1) / closed (0)', state: true },
  closed: { unit: '', description: 'valve closed (1) / open (0)', state: true },
  alarm: { unit: '', description: 'device-side alarm active (1)', state: true },
  fault: { unit: '', description: 'device reports a fault (1)', state: true },
  low: { unit: '', description: 'below a device-side limit, e.g. battery low (1)', state: true },
  online: { unit: '', description: 'a connected device (camera) answers (1) / is offline (0)', state: true },
};

/** Spellings that are not ours → the vocabulary word to use instead. */
export const synonyms: Readonly<Record<string, string>> = {
  temp: 'temperature',
  tmp: 'temperature',
  hum: 'humidity',
  humi: 'humidity',
  rh: 'humidity',
  moisture: 'humidity',
  press: 'pressure',
  pres: 'pressure',
  ch4: 'methane',
  lel: 'methane',
  o2: 'oxygen',
  hydrogen: 'h2s',
  sulphide: 'h2s',
  sulfide: 'h2s',
  monoxide: 'co',
  volt: 'voltage',
  volts: 'voltage',
  amp: 'current',
  amps: 'current',
  freq: 'frequency',
  pf: 'power_factor',
  dim: 'dimming',
  brightness: 'dimming',
  incline: 'tilt',
  inclination: 'tilt',
  angle: 'tilt',
  flow: 'flow_rate or volume',
  flowrate: 'flow_rate',
  kwh: 'energy',
  rain: 'rainfall',
  accel: 'acceleration_rms',
  vibration: 'acceleration_rms',
  noise: 'sound_level',
  pm2: 'pm25',
  height: 'level',
  lvl: 'level',
};

/** Trailing index words a name may carry after its quantity. */
const INDEX = /_(?:[0-9]+|[xyz]|[abc])$/;

/** How a point name splits into qualifier words, quantity and index. */
export interface NameParts {
  /** Words before the quantity, e.g. ['supply'] in supply_temperature. */
  qualifiers: string[];
  /** The vocabulary quantity, undefined when none matches. */
  quantity: string | undefined;
  /** Trailing index, e.g. '_3' or '_x', '' when none. */
  index: string;
}

/** Split a point name into qualifiers, quantity (longest vocabulary suffix) and index. */
export function splitName(name: string): NameParts {
  const index = INDEX.exec(name)?.[0] ?? '';
  const words = name.slice(0, name.length - index.length).split('_');
  // Longest suffix first: leakage_current before current, heat_power before power.
  for (let k = 0; k < words.length; k++) {
    const q = words.slice(k).join('_');
    if (quantities[q]) return { qualifiers: words.slice(0, k), quantity: q, index };
  }
  return { qualifiers: words, quantity: undefined, index };
}

/** The quantity a point name measures, or undefined when the vocabulary has none. */
export function quantityOf(name: string): string | undefined {
  return splitName(name).quantity;
}
