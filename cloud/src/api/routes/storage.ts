/**
 * Storage route (operator): what the readings of each UTC day take, per
 * district, hot rows and compressed blocks apart (sql-cold.ts), so a city can
 * watch its disk and the compression ratio.
 *
 *   GET /storage ─▶ telemetry.storage(from, to) ─▶ one row per day and district, oldest first
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { DAY, TimeRange, badRequest, list, range, role } from './params.js';
import type { RouteDeps } from './deps.js';

/** Longest range a storage request may span (the default retention). */
export const MAX_STORAGE_DAYS = 400;

export const storageRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store }) => {
  const StorageQuery = Type.Object(
    {
      ...TimeRange,
      district: Type.Optional(Type.String({ maxLength: 1000, description: 'comma-separated districts (rows of other districts are left out)' })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof StorageQuery> }>(
    '/api/v1/storage',
    {
      config: role('operator'),
      schema: {
        summary: `Storage per UTC day and district over [from, to] (default: the last 30 days, at most ${MAX_STORAGE_DAYS}): readings and bytes in hot rows and in compressed blocks, and the ratio to all-hot rows`,
        tags: ['readings'],
        querystring: StorageQuery,
      },
    },
    async (req) => {
      const { from, to } = range(req.query, 30 * DAY);
      if (to - from > MAX_STORAGE_DAYS * DAY) badRequest(`from: ${from} is ${((to - from) / DAY).toFixed(1)} days before to (${to}); a storage range may span at most ${MAX_STORAGE_DAYS} days`);
      const districts = list('district', req.query.district);
      // Whole UTC days: the day holding `from` through the day holding `to`.
      const report = await store.telemetry.storage(Math.floor(from / DAY) * DAY, (Math.floor(to / DAY) + 1) * DAY);
      const days = districts ? report.days.filter((d) => d.district !== null && districts.includes(d.district)) : report.days;
      const total = days.reduce(
        (a, d) => ({ readings: a.readings + d.hot.readings + d.cold.readings, bytes: a.bytes + d.hot.bytes + d.cold.bytes }),
        { readings: 0, bytes: 0 },
      );
      return {
        from,
        to,
        hotBytesPerReading: report.hotBytesPerReading,
        total: { ...total, bytesPerReading: total.readings ? Math.round((total.bytes / total.readings) * 100) / 100 : 0 },
        days,
      };
    },
  );
};
