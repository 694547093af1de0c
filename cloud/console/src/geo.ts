/**
 * Coordinates: devices are stored in WGS-84; Chinese base maps (and the offline
 * district outlines) are drawn in GCJ-02. gcoord converts; the map draws
 * everything in the base map's system.
 */
import gcoord from 'gcoord';

export type MapCoords = 'gcj02' | 'wgs84';

/** A WGS-84 [lat, lon] as drawn on a base map in `coords`. */
export function toMap(lat: number, lon: number, coords: MapCoords): [number, number] {
  if (coords === 'wgs84') return [lat, lon];
  const [x, y] = gcoord.transform([lon, lat], gcoord.WGS84, gcoord.GCJ02) as [number, number];
  return [y, x];
}

/**
 * Many WGS-84 [lat, lon] as drawn on a base map in `coords`, in one gcoord call (a MultiPoint):
 * gcoord checks and formats its arguments once per call, which for one call per point cost
 * several times the conversion itself (10,000 devices: ~105 ms of CPU against ~40 ms, cold).
 */
export function toMapAll(points: readonly (readonly [number, number])[], coords: MapCoords): [number, number][] {
  if (coords === 'wgs84') return points.map(([lat, lon]) => [lat, lon]);
  const multi = { type: 'MultiPoint' as const, coordinates: points.map(([lat, lon]): [number, number] => [lon, lat]) };
  gcoord.transform(multi, gcoord.WGS84, gcoord.GCJ02); // in place
  return multi.coordinates.map(([x, y]) => [y, x]);
}

/** A point on the map (in `coords`) back to WGS-84 [lat, lon]. */
export function fromMap(lat: number, lon: number, coords: MapCoords): [number, number] {
  if (coords === 'wgs84') return [lat, lon];
  const [x, y] = gcoord.transform([lon, lat], gcoord.GCJ02, gcoord.WGS84) as [number, number];
  return [y, x];
}

/** Jining's centre (任城区), WGS-84, and a zoom that shows the city's districts. */
export const JINING = { lat: 35.415, lon: 116.587, zoom: 10 };
