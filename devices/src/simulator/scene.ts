/**
 * A city scene: one clock and one weather shared by many simulated devices, so
 * the street lights of a road switch together at dusk, water pressure sags at
 * the same evening peak at every station, and the rain gauge, the underpass,
 * the sewers and the river all see the same storm.
 *
 *   CityScene (wall clock, day speed, storm) ─▶ attach(dev) / behaviours(profile) ─▶ one Behaviour per point it drives
 *        └─ city-signals.ts shapes                           └─ device.inject(b): the value the profile's plain
 *                                                               signal gave is replaced (or, for levels, raised)
 *
 * Each behaviour names its point, so a master writing that point (the lamp
 * switched on as a warning light) takes it over, as with any written point.
 * Profiles the scene does not know keep their plain signal.
 */
import { gaussian, prng } from '@lifeline/shared';
import type { AnyPoint, Profile } from '../profile.js';
import type { Behaviour } from './behaviours.js';
import type { SimulatedDevice } from './device.js';
import {
  basinFill,
  chinaDayOfYear,
  daylight,
  demand,
  heatingCurve,
  lampLevel,
  outdoorTemperature,
  rainIntensity,
  stormPhase,
  stormRainfall,
  type Storm,
} from './city-signals.js';

/**
 * The demo's storm: the first one starts a minute in, rain falls for 3 minutes
 * and the underpass has drained before the next one 10 minutes later. Each
 * 3-minute burst stands for a 1.5-hour rainstorm peaking at 60 mm/h.
 */
export const DEMO_STORM: Storm = { everyMs: 600_000, firstAfterMs: 60_000, durationMs: 180_000, peakMmPerH: 60, stormHours: 1.5 };

/** Options of a city scene. */
export interface SceneOptions {
  /** Wall clock, epoch ms (tests pass a fake one). */
  now?: () => number;
  /** City days per wall day: 1 follows China time as it is; 48 runs a day in 30 minutes. */
  daySpeed?: number;
  /** The recurring storm, in wall time; omitted: dry weather. */
  storm?: Storm;
}

/** How one device stands in the scene. */
export interface SceneRole {
  /** Seed of its noise (default 1). */
  seed?: number;
  /** A flood gauge whose ponding sensor sits in an underpass (default true); false: a river or lake gauge, its ponding sensor dry. */
  underpass?: boolean;
}

/** What a shape sees at a refresh. */
interface Moment {
  /** City time, epoch ms. */
  city: number;
  /** Wall ms since the scene started (the storm's clock). */
  since: number;
  /** The profile's plain signal for the point (noise, drift included). */
  plain: number;
  /** One gaussian sample, scaled by the point's own noise. */
  noise: number;
  /** This device's photocell offset, h. */
  offsetH: number;
  role: SceneRole;
  storm: Storm | undefined;
  /** Another point's value as the device serves it now (when the scene was attached to a device). */
  read?: (point: string) => number;
}

type Shape = (m: Moment) => number;

const fill = (m: Moment, tauMs: number) => (m.storm ? basinFill(m.storm, m.since, tauMs) : 0);
const rain = (m: Moment) => (m.storm ? rainIntensity(m.storm, stormPhase(m.storm, m.since)) : 0);
/** Rain of every storm since the scene started, mm (a tipping-bucket counter's view). */
const rainSoFar = (storm: Storm, since: number) => {
  if (since < storm.firstAfterMs) return 0;
  const done = Math.floor((since - storm.firstAfterMs) / storm.everyMs);
  return done * stormRainfall(storm, storm.durationMs) + stormRainfall(storm, stormPhase(storm, since));
};
/** Jining's district heating runs 15 November to 15 March; out of season the substations stand still. */
const heatingSeason = (ts: number) => chinaDayOfYear(ts) >= 318 || chinaDayOfYear(ts) < 74;
/** Rated LED lamp power, W (the controller's standby draw is 2 W). */
const LAMP_W = 148;
/**
 * The lamp's output, %: the schedule's, unless a master switched the relay
 * (a lamp turned on as a warning light by day burns at full power; one
 * switched off at night is dark), so the electrics always match `lamp_on`.
 */
const lampOutput = (m: Moment) => {
  const scheduled = lampLevel(m.city, m.offsetH);
  if (!m.read) return scheduled;
  return m.read('lamp_on') >= 0.5 ? scheduled || 100 : 0;
};
const lampPower = (m: Moment) => 2 + (LAMP_W * lampOutput(m)) / 100;
const lampPf = (m: Moment) => (lampOutput(m) > 0 ? 0.96 : 0.5);
/** Constant primary flow of a quality-regulated substation, m³/h. */
const HEAT_FLOW = 320;

/** Per profile, per point: the shape that drives it. */
const SHAPES: Record<string, Record<string, Shape>> = {
  'lamp-post-controller': {
    lamp_on: (m) => (lampLevel(m.city, m.offsetH) > 0 ? 1 : 0),
    dimming: (m) => lampOutput(m),
    power: (m) => lampPower(m) + m.noise,
    current: (m) => lampPower(m) / (228 * lampPf(m)) + m.noise,
    power_factor: (m) => lampPf(m) + m.noise,
    driver_temperature: (m) => outdoorTemperature(m.city) + 4 + 0.25 * lampOutput(m) + m.noise,
    illuminance: (m) => daylight(m.city) + m.noise,
  },
  'flood-gauge': {
    // The rain gauge reports the last 10 minutes: at the present intensity, a sixth of the hourly rate.
    rainfall: (m) => rain(m) / 6,
    // The compressed weather brings a storm a cycle: the day's total is this storm's.
    daily_rainfall: (m) => (m.storm ? stormRainfall(m.storm, stormPhase(m.storm, m.since)) : 0),
    // Pumps clear an underpass in minutes (τ 1 min); the worst of the storm stands 0.34 m deep: past the demo's red line (0.30 m).
    ponding_depth: (m) => (m.role.underpass === false ? 0 : 0.34 * fill(m, 60_000) + m.noise),
    // Rivers and lakes rise slower and less (τ 4 min).
    water_level: (m) => m.plain + 0.4 * fill(m, 240_000),
    temperature: (m) => outdoorTemperature(m.city) + 3 + daylight(m.city) / 10_000 + m.noise,
  },
  'drainage-manhole': {
    // Storm sewers surcharge during the burst and empty within minutes after it.
    water_level: (m) => m.plain + 1.3 * fill(m, 120_000),
  },
  'utility-tunnel-environment': {
    // Seepage after rain reaches the sumps late (τ 5 min).
    sump_level: (m) => m.plain + 0.25 * fill(m, 300_000),
  },
  'water-pressure-station': {
    // Head loss grows with the square of the flow: pressure sags at the morning and evening peaks.
    // 0.42 MPa at night, ≈ 0.30 MPa at the evening peak: above the 0.28 MPa service pressure (GB 50013-2018 §3.0.10) the profile warns at.
    pressure: (m) => 0.42 - 0.065 * demand(m.city) ** 2 + m.noise,
    flow_rate: (m) => 420 * demand(m.city) + m.noise,
    // Water in buried mains follows the season, not the hour: 8 °C in February, 22 °C in August.
    water_temperature: (m) => 15 - 7 * Math.cos((2 * Math.PI * (chinaDayOfYear(m.city) - 40)) / 365) + m.noise,
  },
  'gas-detector': {
    // The pressure-regulating station's outlet dips a little when the city cooks.
    pressure: (m) => 0.19 - 0.012 * demand(m.city) + m.noise,
    temperature: (m) => 6 + 0.5 * outdoorTemperature(m.city) + m.noise,
  },
  'heat-station': {
    outdoor_temperature: (m) => outdoorTemperature(m.city) + m.noise,
    supply_temperature: (m) => (heatingSeason(m.city) ? heatingCurve(outdoorTemperature(m.city)).supply : 40) + m.noise,
    return_temperature: (m) => (heatingSeason(m.city) ? heatingCurve(outdoorTemperature(m.city)).return : 38) + m.noise,
    secondary_supply_temperature: (m) => (heatingSeason(m.city) ? heatingCurve(outdoorTemperature(m.city)).secondarySupply : 30) + m.noise,
    secondary_return_temperature: (m) => (heatingSeason(m.city) ? heatingCurve(outdoorTemperature(m.city)).secondaryReturn : 29) + m.noise,
    flow_rate: (m) => (heatingSeason(m.city) ? HEAT_FLOW + m.noise : 0),
    // Thermal power = 1.163 kWh/(m³·K) × flow × ΔT.
    heat_power: (m) => {
      if (!heatingSeason(m.city)) return 0;
      const c = heatingCurve(outdoorTemperature(m.city));
      return 1.163 * HEAT_FLOW * (c.supply - c.return) + m.noise;
    },
    circulation_pump_on: (m) => (heatingSeason(m.city) ? 1 : 0),
  },
  'rain-gauge': {
    // A running tip count: every storm so far, wrapping at 65536 tips (6553.6 mm) as the module's counter does.
    total_rainfall: (m) => (m.plain + (m.storm ? rainSoFar(m.storm, m.since) : 0)) % 6553.6,
    rainfall: (m) => rain(m) / 6,
  },
  'river-level-gauge': {
    water_level: (m) => m.plain + 0.4 * fill(m, 240_000),
    gap_level: (m) => m.plain - 0.4 * fill(m, 240_000),
  },
  'manhole-cover-sensor': {
    water_level: (m) => m.plain + 1.3 * fill(m, 120_000),
  },
  'gas-regulator-station': {
    // The city cooks: the network draws more and both sides dip a little.
    inlet_pressure: (m) => 0.31 - 0.012 * demand(m.city) + m.noise,
    outlet_pressure: (m) => 0.102 - 0.003 * demand(m.city) + m.noise,
    temperature: (m) => outdoorTemperature(m.city) + 2 + m.noise,
  },
  'pole-environment-module': {
    // Traffic brings particles and noise at the rush hours; quiet at night.
    pm25: (m) => m.plain + 12 * demand(m.city) + m.noise,
    sound_level: (m) => 50 + 12 * demand(m.city) + m.noise,
    temperature: (m) => outdoorTemperature(m.city) + m.noise,
  },
  'bridge-structural-monitor': {
    // The sun warms the deck above the air.
    temperature: (m) => outdoorTemperature(m.city) + daylight(m.city) / 8_000 + m.noise,
  },
};

/** The profiles a scene drives, and which of their points. */
export function scenePoints(profileId: string): string[] {
  return Object.keys(SHAPES[profileId] ?? {});
}

/** One clock and one weather for the devices of a site. */
export class CityScene {
  /** Wall time the scene started, epoch ms. */
  readonly startTs: number;
  private readonly now: () => number;
  private readonly daySpeed: number;

  constructor(readonly opts: SceneOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.daySpeed = opts.daySpeed ?? 1;
    if (!(this.daySpeed > 0)) throw new Error(`daySpeed must be a positive number, got ${opts.daySpeed}`);
    this.startTs = this.now();
  }

  /** City time (epoch ms) at wall time `wall`: the start, then `daySpeed` times as fast. */
  cityTime(wall = this.now()): number {
    return this.startTs + (wall - this.startTs) * this.daySpeed;
  }

  /**
   * The behaviours that make a device of this profile live in the scene, one per
   * point the scene drives (none for a profile it does not know). Inject them
   * all: `for (const b of scene.behaviours(p)) dev.inject(b)`.
   */
  behaviours(profile: Readonly<Profile>, role: SceneRole = {}, read?: (point: string) => number): Behaviour[] {
    const shapes = SHAPES[profile.id];
    if (!shapes) return [];
    const rand = prng(role.seed ?? 1);
    // Photocells differ by a few minutes, so a row of lamps does not switch as one.
    const offsetH = (rand() - 0.5) * 0.2;
    const out: Behaviour[] = [];
    for (const point of profile.points) {
      const shape = shapes[point.name];
      if (!shape) continue;
      out.push({
        kind: 'scene',
        point: point.name,
        transformValue: (p: AnyPoint, plain: number) => {
          if (p.name !== point.name) return plain;
          const wall = this.now();
          const noise = p.sim?.noise ? gaussian(rand) * p.sim.noise : 0;
          const v = shape({ city: this.cityTime(wall), since: wall - this.startTs, plain, noise, offsetH, role, storm: this.opts.storm, read });
          return p.range ? Math.min(p.range[1], Math.max(p.range[0], v)) : v;
        },
      });
    }
    return out;
  }

  /**
   * Put a device in the scene: inject its behaviours, letting the shapes read
   * the device's other points (a lamp's electrics follow its relay, whoever
   * switched it). The relay comes first in the profile, so within a refresh
   * the electrics read this refresh's value.
   */
  attach(dev: SimulatedDevice, role: SceneRole = {}): SimulatedDevice {
    for (const b of this.behaviours(dev.profile, role, (name) => dev.valueOf(name))) dev.inject(b);
    return dev;
  }
}
