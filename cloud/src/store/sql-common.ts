/**
 * Small pieces the concern stores share: row conversions, the dialect's
 * spelling of a few functions, and the one statement that makes a gateway
 * known (ingest, status, registry edits and enrolment all may be first).
 */
import type { Dialect } from './sql.js';
import type { Location } from './registry-store.js';

/** Rollup grain: one row per series and minute. */
export const MINUTE = 60_000;

/** A series' key in maps and in createSeries. */
export const seriesKey = (gateway: string, device: string, point: string): string => `${gateway}\0${device}\0${point}`;

/** Make a gateway known (params: id, first seen); a known one is left alone. */
export const ENSURE_GATEWAY = 'INSERT INTO gateways(id, online, first_seen) VALUES (?, 0, ?) ON CONFLICT(id) DO NOTHING';

/** A location from its columns; null when it has no coordinates. */
export function location(r: { lon: number | null; lat: number | null; district: string | null; grid_unit: string | null }): Location | null {
  if (r.lon === null || r.lat === null) return null;
  return { lon: r.lon, lat: r.lat, ...(r.district ? { district: r.district } : {}), ...(r.grid_unit ? { gridUnit: r.grid_unit } : {}) };
}

/** A JSON text column, parsed (null stays null). */
export const json = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

/** A number as stored: NaN and ±Infinity become NULL. */
export const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** `GREATEST`/`MAX` of two values, by dialect. */
export function greatest(dialect: Dialect, a: string, b: string): string {
  return dialect === 'sqlite' ? `MAX(${a}, ${b})` : `GREATEST(${a}, ${b})`;
}

export function least(dialect: Dialect, a: string, b: string): string {
  return dialect === 'sqlite' ? `MIN(${a}, ${b})` : `LEAST(${a}, ${b})`;
}

/** A subquery yielding one column `v` from a JSON array parameter (SQLite) or a bigint[] parameter (PostgreSQL). */
export function listOf(dialect: Dialect): string {
  return dialect === 'sqlite' ? '(SELECT value AS v FROM json_each(?))' : '(SELECT unnest(CAST(? AS BIGINT[])) AS v)';
}

/** The parameter for listOf. */
export function listParam(dialect: Dialect, values: number[]): unknown {
  return dialect === 'sqlite' ? JSON.stringify(values) : values;
}

/** `WHERE a = ? AND b = ?` from the conditions given, with their parameters; '' when none. */
export function whereOf(conds: [string, unknown][]): { where: string; params: unknown[] } {
  return { where: conds.length ? `WHERE ${conds.map(([c]) => c).join(' AND ')}` : '', params: conds.map(([, v]) => v) };
}
