/**
 * A blackholed uplink (packets vanish, no reset): the TCP connection stays open
 * and mqtt.js would think it connected until a keepalive ping goes unanswered.
 * Here a "broker" answers CONNECT with CONNACK and then swallows everything, as a
 * 4G link that died does; the transport must notice by itself, within 1.5 keepalives
 * of the last packet (`sync.keepaliveS`), and try again.
 */
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttTransport } from '../../src/sync/transport.js';

describe('MqttTransport on a half-open connection', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('drops it after the keepalive goes unanswered, and reconnects', async () => {
    let connects = 0;
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('data', () => {
        connects++;
        s.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNACK, accepted; then silence
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const port = (server.address() as { port: number }).port;
    const t = new MqttTransport({ url: `mqtt://127.0.0.1:${port}`, clientId: 'ka-test', keepaliveS: 5, reconnectMs: 200 });
    cleanups.push(() => t.close());
    t.connect();
    const until = async (ok: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
      return true;
    };
    expect(await until(() => t.connected, 5000)).toBe(true);
    // 5 s keepalive: a ping at 5 s, dropped at 7.5 s (the default 30 s would take 45 s).
    expect(await until(() => !t.connected, 20_000)).toBe(true);
    expect(t.lastError).toMatch(/keepalive/i);
    expect(await until(() => connects >= 2, 5000)).toBe(true);
  }, 40_000);
});
