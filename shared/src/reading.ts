/**
 * The typed values that travel from the decoder to the cloud.
 * Browser-safe: no Node-only imports anywhere in shared/.
 */

/** Quality of one reading, after OPC UA's good / uncertain / bad split. */
export enum Quality {
  /** Decoded from a valid reply. */
  Good = 0,
  /** Decoded, but the device or decoder flagged it (e.g. out of the sensor's range). */
  Uncertain = 1,
  /** No usable value (comm failure, decode failure); `value` is NaN. */
  Bad = 2,
}

/** One decoded, unit-scaled sample of one point of one device. */
export interface Reading {
  /** Device instance id from the gateway config, e.g. `flood-1`. */
  device: string;
  /** Point name from the device profile, e.g. `water_level`. */
  point: string;
  /** Sample time, epoch milliseconds (gateway clock). */
  ts: number;
  /** Value in the profile's unit, after scale and offset. */
  value: number;
  /** Defaults to Good when absent. */
  quality?: Quality;
}

/** China's four warning colours (GB/T emergency warning levels), plus normal. */
export enum AlarmLevel {
  Normal = 0,
  /** Level IV, blue: general. */
  Blue = 1,
  /** Level III, yellow: serious. */
  Yellow = 2,
  /** Level II, orange: very serious. */
  Orange = 3,
  /** Level I, red: especially serious. */
  Red = 4,
}

export const alarmLevelNames: Record<AlarmLevel, string> = {
  [AlarmLevel.Normal]: 'normal',
  [AlarmLevel.Blue]: 'blue',
  [AlarmLevel.Yellow]: 'yellow',
  [AlarmLevel.Orange]: 'orange',
  [AlarmLevel.Red]: 'red',
};

/** Lifeline kinds the city monitors; used by profiles, the registry and the dashboard. */
export const lifelineKinds = [
  'lamp_post',
  'bridge',
  'gas',
  'water_supply',
  'drainage',
  'heat',
  'utility_tunnel',
  'flood',
] as const;
export type LifelineKind = (typeof lifelineKinds)[number];
