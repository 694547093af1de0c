/**
 * The embedded MQTT broker (aedes) for the single-box default. The city runs
 * a real broker cluster instead; nothing else in the cloud knows the difference.
 *
 * With an `authority`, every CONNECT is checked (enrolled gateways by scrypt
 * hash, the cloud's service login, anonymous only if allowed) and every
 * PUBLISH / SUBSCRIBE goes through the per-gateway topic ACL of enrol.ts.
 */
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { mayPublish, maySubscribe, type BrokerAuthority, type BrokerIdentity } from '../enrol.js';

export interface EmbeddedBroker {
  readonly port: number;
  readonly url: string;
  /** Drop the connections of a gateway (after revocation); returns how many. */
  disconnectGateway(gateway: string): number;
  close(): Promise<void>;
}

/** Start aedes on `port` (0 = any free port) on `host`. */
export async function startEmbeddedBroker(opts: { port?: number; host?: string; log?: Logger; authority?: BrokerAuthority } = {}): Promise<EmbeddedBroker> {
  const { authority, log } = opts;
  const who = new Map<Client, BrokerIdentity>();
  const refuse = (message: string, code: number): AuthenticateError => Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
  const broker = await Aedes.createBroker(
    authority
      ? {
          authenticate: (client, username, password, done) => {
            authority.authenticate(username, password?.toString('utf8')).then(
              (id) => {
                if (!id) {
                  log?.warn({ client: client.id, username }, 'mqtt login refused');
                  return done(refuse('bad username or password', 4), false);
                }
                who.set(client, id);
                done(null, true);
              },
              (err: unknown) => {
                log?.error({ err }, 'mqtt login check failed');
                done(refuse('server unavailable', 3), false);
              },
            );
          },
          authorizePublish: (client, packet, done) => {
            // client is null for the broker's own publishes.
            const id = client ? who.get(client) : { kind: 'service' as const };
            if (id && mayPublish(id, packet.topic)) return done(null);
            log?.warn({ client: client?.id, topic: packet.topic }, 'mqtt publish refused by ACL');
            done(new Error(`not allowed to publish to ${packet.topic}`));
          },
          authorizeSubscribe: (client, sub, done) => {
            const id = who.get(client);
            if (id && maySubscribe(id, sub.topic)) return done(null, sub);
            log?.warn({ client: client.id, topic: sub.topic }, 'mqtt subscribe refused by ACL');
            done(null, null); // a failure code in the SUBACK, not a disconnect
          },
        }
      : {},
  );
  broker.on('clientDisconnect', (client) => who.delete(client));
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  broker.on('clientError', (client, err) => log?.debug({ client: client.id, err: err.message }, 'mqtt client error'));
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `mqtt://${host}:${port}`,
    disconnectGateway: (gateway) => {
      let n = 0;
      for (const [client, id] of who) {
        if (id.kind === 'gateway' && id.gateway === gateway) {
          client.close();
          who.delete(client);
          n++;
        }
      }
      return n;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
