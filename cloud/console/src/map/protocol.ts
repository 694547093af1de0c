/** Messages between the map (MapView) and its clustering worker (cluster-worker.ts). */
import type { MapCoords } from '../geo.js';

export type ToWorker =
  /** The located devices (WGS-84) and their levels, by index; `gen` names this list. */
  | { type: 'load'; gen: number; lat: Float64Array; lon: Float64Array; levels: Uint8Array; coords: MapCoords }
  | { type: 'levels'; levels: Uint8Array }
  | { type: 'view'; id: number; bbox: [number, number, number, number]; zoom: number };

export type FromWorker =
  /** Each device's position on the map: [lat, lon] pairs by index. */
  | { type: 'loaded'; gen: number; ll: Float64Array }
  /**
   * What is in view, five numbers an item: lat, lon, count (0: one device), level, then a cluster's
   * expansion zoom or a device's index; `gen` names the device list the index was built from.
   */
  | { type: 'view'; id: number; gen: number; items: Float64Array };

/** Items of a 'view' answer are this many numbers each. */
export const ITEM = 5;
