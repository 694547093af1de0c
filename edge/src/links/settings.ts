/**
 * What a link is built from: the part of a gateway-config bus the links read.
 * Defined here, on the ground floor, so links import no feature; the config's
 * `Bus` (edge/src/config/schema.ts) is one of these, and builds its schema on
 * `busLinks`, so the two cannot drift.
 */

/** The links a bus can have. */
export const busLinks = ['tcp', 'rtu', 'rtu-over-tcp', 'meter', 'meter-over-tcp', 'sl651-listen'] as const;
/** A bus's link kind. */
export type BusLink = (typeof busLinks)[number];

/** The bus settings `createLink` / `createMeterLink` use. */
export interface LinkSettings {
  /** Bus name, for errors. */
  name: string;
  link: BusLink;
  host?: string;
  port?: number;
  /** Serial device. */
  path?: string;
  baud?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  /** Reply timeout per request, ms. */
  timeoutMs: number;
  /** tcp: requests in flight at once. */
  window?: number;
  /** Quiet time after a broadcast write, ms. */
  turnaroundMs?: number;
  /** Modbus units and the extra quiet time each needs after answering. */
  devices: readonly { unit?: number; gapMs?: number }[];
}
