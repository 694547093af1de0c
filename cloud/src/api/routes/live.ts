/**
 * The live stream (viewer): Server-Sent Events of what the live hub
 * publishes, filtered per stream; a slow reader loses messages, never holds up ingest.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { redactSecrets } from '@lifeline/shared';
import type { LiveMessage } from '../../live.js';
import { Id, role } from './params.js';
import type { RouteDeps } from './deps.js';

export const liveRoutes: FastifyPluginAsync<RouteDeps> = async (app, d) => {
  // Open streams end when the server closes (else close would wait for them).
  const streams = new Set<import('node:http').ServerResponse>();
  app.addHook('onClose', async () => {
    for (const res of streams) res.end();
  });

  const LiveQuery = Type.Object(
    { gateway: Type.Optional(Id), device: Type.Optional(Id), readings: Type.Optional(Type.Boolean({ description: 'include readings (default true)' })) },
    { additionalProperties: false },
  );
  app.get<{ Querystring: Static<typeof LiveQuery> }>(
    '/api/v1/live',
    {
      config: { ...role('viewer'), produces: 'text/event-stream' },
      schema: { summary: 'Server-Sent Events: `readings` ({gateway, readings[]}) and `alarm` / `event` (event-lane items) as they are committed', tags: ['live'], querystring: LiveQuery },
    },
    async (req, reply) => {
      const q = req.query;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': lifeline live stream\n\n');
      let dropped = 0;
      const send = (event: string, data: unknown) => {
        // A slow reader loses messages; it never holds up ingest.
        if (res.writableLength > 1_000_000) return void dropped++;
        res.write(`event: ${event}\ndata: ${JSON.stringify(event === 'readings' ? data : redactSecrets(data))}\n\n`);
      };
      const unsubscribe = d.live.subscribe((msg: LiveMessage) => {
        if (q.gateway && msg.gateway !== q.gateway) return;
        if (msg.type === 'readings') {
          if (q.readings === false) return;
          const rs = q.device ? msg.readings.filter((r) => r.device === q.device) : msg.readings;
          if (rs.length) send('readings', { gateway: msg.gateway, readings: rs.map((r) => ({ ...r, value: Number.isFinite(r.value) ? r.value : null })) });
        } else {
          for (const e of msg.events) if (!q.device || e.device === q.device) send(e.kind === 'alarm' ? 'alarm' : 'event', { gateway: msg.gateway, ...e });
        }
      });
      const beat = setInterval(() => res.write(`: keep-alive${dropped ? ` (dropped ${dropped})` : ''}\n\n`), 15_000);
      streams.add(res);
      req.raw.on('close', () => {
        clearInterval(beat);
        unsubscribe();
        streams.delete(res);
      });
    },
  );
};
