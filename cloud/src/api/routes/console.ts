/**
 * What the operator console (cloud/console/) asks the API first: who the
 * token is (so the console offers only what the role may do) and the console's
 * settings from the cloud's config (the city's own map tile service).
 *
 *   console sign-in ─▶ GET /api/v1/console ─▶ {user: {name, role}, map: {tileUrl, attribution, coords}}
 */
import type { FastifyPluginAsync } from 'fastify';
import { role } from './params.js';
import type { RouteDeps } from './deps.js';

/** The console's map settings (cloud config: LIFELINE_TILE_URL, LIFELINE_TILE_COORDS, LIFELINE_TILE_ATTRIBUTION). */
export interface ConsoleSettings {
  /** XYZ raster tile URL template of the city's tile service (`{z}/{x}/{y}`); absent: district outlines only, nothing fetched. */
  tileUrl?: string;
  /** Attribution shown on the map for those tiles. */
  tileAttribution?: string;
  /** Coordinates the tiles are drawn in: `gcj02` (most Chinese base maps) or `wgs84` (e.g. CGCS2000, which differs from WGS-84 by centimetres). */
  tileCoords?: 'gcj02' | 'wgs84';
}

/** The origin of a tile URL template, for the CSP's img-src; throws naming the value when it is no http(s) URL. */
export function tileOrigin(tileUrl: string): string {
  let u: URL;
  try {
    u = new URL(tileUrl.replace(/\{[a-z]\}/g, '0'));
  } catch {
    throw new Error(`console tile URL: not a URL, got ${JSON.stringify(tileUrl)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`console tile URL: must be http or https, got ${JSON.stringify(tileUrl)}`);
  return u.origin;
}

export const consoleRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  app.get(
    '/api/v1/console',
    { config: role('viewer'), schema: { summary: "The caller's name and role, and the console's map settings (tile URL, its coordinates, attribution)", tags: ['system'] } },
    async (req) => ({
      user: { name: req.identity!.name, role: req.identity!.role },
      map: { tileUrl: d.console?.tileUrl ?? null, attribution: d.console?.tileAttribution ?? null, coords: d.console?.tileCoords ?? 'gcj02' },
    }),
  );
};
