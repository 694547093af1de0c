/**
 * Readings routes (viewer): one point's raw readings or buckets, and a CSV
 * export streamed page by page.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { MAX_EPOCH_MS } from '../input.js';
import { attachment } from '../attachment.js';
import { DAY, Id, TimeRange, badRequest, range, resolvePoint, role } from './params.js';
import type { RouteDeps } from './deps.js';

/** ISO 8601 of an epoch ms, or '' past the range a Date holds (a stored far-off stamp must not end an export in a RangeError). */
function isoTime(ts: number): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export const readingsRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  const { store } = d;
  const DeviceId = { gateway: Type.Optional({ ...Id, description: 'the device’s gateway; needed only when two gateways use the device id' }), device: Type.String({ minLength: 1, maxLength: 128 }) };
  const ReadingsQuery = Type.Object(
    {
      ...DeviceId,
      point: Type.String({ minLength: 1, maxLength: 128 }),
      ...TimeRange,
      step: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EPOCH_MS, description: 'bucket width in ms: answer per-bucket {ts, min, max, mean, count} instead of raw rows' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'raw rows at most (default 10,000)' })),
    },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof ReadingsQuery> }>(
    '/api/v1/readings',
    {
      config: role('viewer'),
      schema: { summary: 'Readings of one point: raw [{ts, value}] time-ordered, or with step per-bucket [{ts, min, max, mean, count}]', tags: ['readings'], querystring: ReadingsQuery },
    },
    async (req) => {
      const { from, to } = range(req.query);
      const { point, step } = req.query;
      const { gateway, id: device } = await resolvePoint(store, req.query);
      if (step === undefined) return store.telemetry.readings({ gateway, device, point, from, to, limit: req.query.limit ?? 10_000 });
      if (req.query.limit !== undefined) badRequest('limit: applies to raw readings only; with step the bucket count is (to − from) / step');
      const buckets = Math.floor((to - from) / step) + 1;
      if (buckets > d.maxBuckets)
        badRequest(`step: ${step} ms over ${to - from} ms would make ${buckets} buckets; the most is ${d.maxBuckets}, so step must be at least ${Math.ceil((to - from + 1) / d.maxBuckets)} ms`);
      return store.telemetry.downsample({ gateway, device, point, from, to, step });
    },
  );

  const CsvQuery = Type.Object({ ...DeviceId, point: Type.String({ minLength: 1, maxLength: 128 }), ...TimeRange }, { additionalProperties: false });
  app.get<{ Querystring: Static<typeof CsvQuery> }>(
    '/api/v1/readings.csv',
    {
      config: { ...role('viewer'), produces: 'text/csv' },
      schema: { summary: 'CSV export of one point over a time range (default: the last 24 h; at most 31 days): ts,time,value', tags: ['readings'], querystring: CsvQuery },
    },
    async (req, reply) => {
      const { from, to } = range(req.query, DAY);
      if (to - from > 31 * DAY) badRequest(`to − from: at most 31 days per export, got ${((to - from) / DAY).toFixed(1)} days`);
      const { point } = req.query;
      const { gateway, id: device } = await resolvePoint(store, req.query);
      const chunk = 50_000;
      async function* rows(): AsyncGenerator<string> {
        yield 'ts,time,value\n';
        let cursor = from;
        let skip = 0; // rows at `cursor` already sent
        for (;;) {
          const page = await store.telemetry.readings({ gateway, device, point, from: cursor, to, limit: chunk + skip });
          const fresh = page.slice(skip);
          if (!fresh.length) return;
          yield fresh.map((r) => `${r.ts},${isoTime(r.ts)},${Number.isNaN(r.value) ? '' : r.value}\n`).join('');
          if (page.length < chunk + skip) return;
          const last = page[page.length - 1].ts;
          skip = last === cursor ? skip + fresh.length : page.filter((r) => r.ts === last).length;
          cursor = last;
        }
      }
      reply.type('text/csv; charset=utf-8').header('content-disposition', attachment(`${gateway}-${device}-${point}-${from}-${to}.csv`));
      return reply.send(Readable.from(rows()));
    },
  );
};
