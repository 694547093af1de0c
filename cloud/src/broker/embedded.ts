/**
 * The embedded MQTT broker (aedes) for the single-box default. The city runs
 * a real broker cluster instead; nothing else in the cloud knows the difference.
 *
 * Every CONNECT is checked by the `authority` (enrolled gateways by scrypt
 * hash, the cloud's service login; anonymous only where a test allows it) and
 * every PUBLISH / SUBSCRIBE goes through the per-gateway topic ACL of enrol.ts.
 *
 *   socket ─▶ PacketSizeGuard (fixed headers only: a packet over the limit drops the client unread)
 *          ─▶ aedes parser ─▶ authenticate ─▶ authorizePublish (payload size, then ACL) / authorizeSubscribe (ACL)
 */
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { mayPublish, maySubscribe, type BrokerAuthority, type BrokerIdentity } from '../enrol.js';
import { PacketSizeGuard } from './packet-guard.js';

/**
 * Default largest PUBLISH payload, bytes: twice ingest's 1 MiB, so a batch just over
 * ingest's limit still reaches ingest and its TooLarge answer (the gateway splits the
 * range); a client dropped here only reconnects and resends. Gateways send 120 kB by default.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 2 * 1_048_576;
/** Room a packet may take beyond its payload: topic (≤ 64 KiB), packet id, MQTT 5 properties. */
const HEADER_ROOM = 65_536 + 1024;

/** What the broker refused, for health checks and tests. */
export interface BrokerCounters {
  /** CONNECTs refused (no login, bad login, revoked gateway). */
  refusedLogins: number;
  /** PUBLISHes refused by the topic ACL (the client is dropped). */
  refusedPublishes: number;
  /** SUBSCRIBEs refused by the topic ACL (failure in the SUBACK). */
  refusedSubscribes: number;
  /** Clients dropped for a message over `maxMessageBytes`. */
  oversize: number;
}

export interface EmbeddedBrokerOptions {
  /** 0 = any free port. */
  port?: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  log?: Logger;
  /** Decides every login; there is no embedded broker without one. */
  authority: BrokerAuthority;
  /** Largest PUBLISH payload a client may send (default 2 MiB); a larger one drops the client. */
  maxMessageBytes?: number;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly url: string;
  readonly counters: BrokerCounters;
  /** Drop the connections of a gateway (after revocation); returns how many. */
  disconnectGateway(gateway: string): number;
  close(): Promise<void>;
}

/** Start aedes on `port` (0 = any free port) on `host`. */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { authority, log } = opts;
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024)
    throw new LifelineError(ErrorCodes.ConfigInvalid, `maxMessageBytes: expected an integer ≥ 1024, got ${JSON.stringify(opts.maxMessageBytes)}`);
  const counters: BrokerCounters = { refusedLogins: 0, refusedPublishes: 0, refusedSubscribes: 0, oversize: 0 };
  const who = new Map<Client, BrokerIdentity>();
  const refuse = (message: string, code: number): AuthenticateError => Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      authority.authenticate(username, password?.toString('utf8')).then(
        (id) => {
          if (!id) {
            counters.refusedLogins++;
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
      if (client && packet.payload.length > maxMessageBytes) {
        counters.oversize++;
        log?.warn({ client: client.id, topic: packet.topic, bytes: packet.payload.length, maxMessageBytes }, 'mqtt publish over the size limit; client dropped');
        return done(new Error(`message of ${packet.payload.length} bytes is over the limit of ${maxMessageBytes}`));
      }
      const id = client ? who.get(client) : { kind: 'service' as const };
      if (id && mayPublish(id, packet.topic)) return done(null);
      counters.refusedPublishes++;
      log?.warn({ client: client?.id, topic: packet.topic }, 'mqtt publish refused by ACL');
      done(new Error(`not allowed to publish to ${packet.topic}`));
    },
    authorizeSubscribe: (client, sub, done) => {
      const id = who.get(client);
      if (id && maySubscribe(id, sub.topic)) return done(null, sub);
      counters.refusedSubscribes++;
      log?.warn({ client: client.id, topic: sub.topic }, 'mqtt subscribe refused by ACL');
      done(null, null); // a failure code in the SUBACK, not a disconnect
    },
  });
  broker.on('clientDisconnect', (client) => who.delete(client));
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
    // aedes reads with 'readable', so this listener sees each chunk as aedes takes it, before its parser
    // buffers the rest of an oversized packet: the announced length is enough to drop the client.
    const guard = new PacketSizeGuard(maxMessageBytes + HEADER_ROOM);
    socket.on('data', (chunk: Buffer) => {
      const over = guard.feed(chunk);
      if (over === undefined) return;
      counters.oversize++;
      log?.warn({ remote: socket.remoteAddress, bytes: over, maxMessageBytes }, 'mqtt packet over the size limit; client dropped');
      socket.destroy();
    });
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
    counters,
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
