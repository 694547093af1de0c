/**
 * The MQTT transports behind sync, chosen by `sync.transport`:
 *
 *   mqtt     mqtt.js: any MQTT 3.1.1/5 broker (aedes, Mosquitto, EMQX), plain or TLS / mutual TLS
 *   aws-iot  aws-iot-device-sdk-v2's MQTT 5 client (aws-crt): AWS IoT Core with the device certificate
 *
 * Both reconnect by themselves, so sync just watches `connected` and resends
 * what the cloud has not acknowledged.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';

export interface TransportOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Mutual TLS: PEM files of the broker's CA, this gateway's certificate and key. */
  tls?: { ca?: string; cert: string; key: string };
  /** Published by the broker if the gateway vanishes (last will). */
  will?: { topic: string; payload: Uint8Array | string; retain: boolean };
  /** Reconnect delay, ms (default 1000). */
  reconnectMs?: number;
  /**
   * MQTT keepalive, s (default 30). mqtt.js pings after this long without a packet
   * from the broker and drops the connection when 1.5x passes with no answer: how a
   * half-open connection (packets vanishing, no reset) is noticed.
   */
  keepaliveS?: number;
}

export const DEFAULT_KEEPALIVE_S = 30;

/** What sync needs from a broker connection. */
export interface Transport {
  readonly connected: boolean;
  /** The last connection error (refused login, unreachable broker), for a person reading why sync is down. */
  readonly lastError?: string;
  connect(): void;
  publish(topic: string, payload: Uint8Array | string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  subscribe(topic: string): Promise<void>;
  onMessage(handler: (topic: string, payload: Uint8Array) => void): void;
  onConnect(handler: () => void): void;
  close(): Promise<void>;
}

const toBuffer = (p: Uint8Array | string): Buffer => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p.buffer, p.byteOffset, p.byteLength));

/**
 * Small Buffers get memory of their own instead of a slice of Node's shared 8 KB pool. mqtt-packet keeps the
 * 1–2-byte length header of every packet length it has written below 16,384 (a cache it never empties); each
 * is a slice of a pool slab, so each new length kept a whole 8 KB slab alive. Live batches vary in length, and
 * the 500-device agent's external memory crept 4.5 → 10.8 MB in 30 minutes (up to 16,384 × 8 KB if every
 * length turns up). Process-wide; small Buffers are rare on the agent's hot paths (the links reuse theirs).
 */
export function unpoolSmallBuffers(): void {
  Buffer.poolSize = 0;
}

/** mqtt.js: any MQTT 3.1.1/5 broker. */
export class MqttTransport implements Transport {
  private client?: MqttClient;
  private messageHandlers: ((topic: string, payload: Uint8Array) => void)[] = [];
  private connectHandlers: (() => void)[] = [];
  lastError?: string;

  constructor(private readonly opts: TransportOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  connect(): void {
    const { tls } = this.opts;
    unpoolSmallBuffers();
    this.client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      reconnectPeriod: this.opts.reconnectMs ?? 1000,
      connectTimeout: 5000,
      keepalive: this.opts.keepaliveS ?? DEFAULT_KEEPALIVE_S,
      // mqtt-packet's default pre-builds a 2-byte Buffer for every packet id (65,536 of them,
      // ~6 MB of heap held for the life of the process); one 2-byte Buffer per packet costs nothing
      // at the agent's rate (issue #18: memory).
      writeCache: false,
      ...(tls ? { ca: tls.ca ? readFileSync(tls.ca) : undefined, cert: readFileSync(tls.cert), key: readFileSync(tls.key), rejectUnauthorized: true } : {}),
      will: this.opts.will ? { topic: this.opts.will.topic, payload: toBuffer(this.opts.will.payload), qos: 1, retain: this.opts.will.retain } : undefined,
    });
    this.client.on('message', (topic, payload) => {
      for (const h of this.messageHandlers) h(topic, payload);
    });
    this.client.on('connect', () => {
      for (const h of this.connectHandlers) h();
    });
    // Errors (refused, unreachable) are retried by mqtt.js; sync reports state, not each failure.
    this.client.on('error', (err) => {
      this.lastError = err.message;
    });
  }

  publish(topic: string, payload: Uint8Array | string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('transport not connected'));
    return new Promise((resolve, reject) => client.publish(topic, toBuffer(payload), { qos: opts.qos, retain: opts.retain ?? false }, (err) => (err ? reject(err) : resolve())));
  }

  async subscribe(topic: string): Promise<void> {
    const granted = await this.client?.subscribeAsync(topic, { qos: 1 });
    // A broker ACL refusing the subscription answers 0x80 (MQTT 3.1.1) or ≥ 0x80 (MQTT 5).
    if (granted?.some((g) => g.qos >= 0x80)) throw new Error(`subscription to ${topic} refused by the broker`);
  }

  onMessage(handler: (topic: string, payload: Uint8Array) => void): void {
    this.messageHandlers.push(handler);
  }

  onConnect(handler: () => void): void {
    this.connectHandlers.push(handler);
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}

/** The parts of aws-crt's mqtt5 client we use (loaded on demand: it is a native module). */
type Mqtt5Client = {
  on(event: string, listener: (e: never) => void): unknown;
  start(): void;
  stop(): void;
  close(): void;
  publish(p: { topicName: string; payload: Buffer; qos: number; retain?: boolean }): Promise<{ type: number; packet?: { reasonCode?: number } }>;
  subscribe(p: { subscriptions: { topicFilter: string; qos: number }[] }): Promise<{ reasonCodes: number[] }>;
};

/**
 * aws-iot-device-sdk-v2's MQTT 5 client (aws-crt). Authenticates with the
 * device certificate (mutual TLS on 8883), as AWS IoT Core requires; works
 * with any MQTT 5 broker that does mutual TLS (the tests use Mosquitto).
 */
export class AwsIotTransport implements Transport {
  private client?: Mqtt5Client;
  private isConnected = false;
  private messageHandlers: ((topic: string, payload: Uint8Array) => void)[] = [];
  private connectHandlers: (() => void)[] = [];
  private stoppedWaiters: (() => void)[] = [];

  constructor(private readonly opts: TransportOptions) {}

  get connected(): boolean {
    return this.isConnected;
  }

  connect(): void {
    void this.open().catch((err) => {
      // A missing native module or unreadable certificate: nothing will ever connect; say so loudly.
      console.error(`aws-iot transport: ${(err as Error).message}`);
    });
  }

  private async open(): Promise<void> {
    const { tls } = this.opts;
    if (!tls) throw new Error('sync.tls is required for transport aws-iot');
    const { mqtt5, iot } = await import('aws-iot-device-sdk-v2');
    const url = new URL(this.opts.url);
    const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(url.hostname, tls.cert, tls.key);
    if (tls.ca) builder.withCertificateAuthorityFromPath(undefined, tls.ca);
    builder.withPort(Number(url.port || 8883));
    builder.withSessionBehavior(mqtt5.ClientSessionBehavior.Clean);
    builder.withMinReconnectDelayMs(this.opts.reconnectMs ?? 1000);
    builder.withMaxReconnectDelayMs(Math.max(this.opts.reconnectMs ?? 1000, 5000));
    builder.withConnectProperties({
      clientId: this.opts.clientId,
      keepAliveIntervalSeconds: this.opts.keepaliveS ?? DEFAULT_KEEPALIVE_S,
      ...(this.opts.will
        ? { will: { topicName: this.opts.will.topic, payload: toBuffer(this.opts.will.payload), qos: mqtt5.QoS.AtLeastOnce, retain: this.opts.will.retain } }
        : {}),
    });
    const client = new mqtt5.Mqtt5Client(builder.build()) as unknown as Mqtt5Client;
    client.on('connectionSuccess', () => {
      this.isConnected = true;
      for (const h of this.connectHandlers) h();
    });
    client.on('disconnection', () => {
      this.isConnected = false;
    });
    client.on('stopped', () => {
      this.isConnected = false;
      for (const w of this.stoppedWaiters.splice(0)) w();
    });
    client.on('error', () => {});
    client.on('messageReceived', ((e: { message: { topicName: string; payload?: ArrayBuffer } }) => {
      const payload = e.message.payload ? new Uint8Array(e.message.payload) : new Uint8Array(0);
      for (const h of this.messageHandlers) h(e.message.topicName, payload);
    }) as (e: never) => void);
    this.client = client;
    client.start();
  }

  async publish(topic: string, payload: Uint8Array | string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    if (!this.client || !this.isConnected) throw new Error('transport not connected');
    const result = await this.client.publish({ topicName: topic, payload: toBuffer(payload), qos: opts.qos, retain: opts.retain ?? false });
    const code = result?.packet?.reasonCode ?? 0;
    // PUBACK reason codes ≥ 0x80 are refusals (e.g. 0x87 not authorized by the broker's policy).
    if (code >= 0x80) throw new Error(`publish to ${topic} refused by the broker (reason 0x${code.toString(16)})`);
  }

  async subscribe(topic: string): Promise<void> {
    if (!this.client) throw new Error('transport not connected');
    const suback = await this.client.subscribe({ subscriptions: [{ topicFilter: topic, qos: 1 }] });
    if (suback.reasonCodes.some((c) => c >= 0x80)) throw new Error(`subscription to ${topic} refused by the broker`);
  }

  onMessage(handler: (topic: string, payload: Uint8Array) => void): void {
    this.messageHandlers.push(handler);
  }

  onConnect(handler: () => void): void {
    this.connectHandlers.push(handler);
  }

  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      this.stoppedWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
      client.stop();
    });
    client.close();
  }
}

/** The transport named by the gateway config. */
export function createTransport(kind: 'mqtt' | 'aws-iot', opts: TransportOptions): Transport {
  return kind === 'aws-iot' ? new AwsIotTransport(opts) : new MqttTransport(opts);
}
