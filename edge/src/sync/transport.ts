/**
 * The MQTT transport behind sync. mqtt.js speaks to any MQTT 3.1.1/5 broker
 * (aedes, Mosquitto, EMQX); it reconnects by itself, so sync just watches
 * `connected` and resends what the cloud has not acknowledged.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface TransportOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Published by the broker if the gateway vanishes (last will). */
  will?: { topic: string; payload: Uint8Array | string; retain: boolean };
}

/** What sync needs from a broker connection. */
export interface Transport {
  readonly connected: boolean;
  connect(): void;
  publish(topic: string, payload: Uint8Array | string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  subscribe(topic: string): Promise<void>;
  onMessage(handler: (topic: string, payload: Uint8Array) => void): void;
  onConnect(handler: () => void): void;
  close(): Promise<void>;
}

export class MqttTransport implements Transport {
  private client?: MqttClient;
  private messageHandlers: ((topic: string, payload: Uint8Array) => void)[] = [];
  private connectHandlers: (() => void)[] = [];

  constructor(private readonly opts: TransportOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  connect(): void {
    this.client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      will: this.opts.will ? { topic: this.opts.will.topic, payload: Buffer.from(this.opts.will.payload), qos: 1, retain: this.opts.will.retain } : undefined,
    });
    this.client.on('message', (topic, payload) => {
      for (const h of this.messageHandlers) h(topic, payload);
    });
    this.client.on('connect', () => {
      for (const h of this.connectHandlers) h();
    });
    // Errors (refused, unreachable) are retried by mqtt.js; sync reports state, not each failure.
    this.client.on('error', () => {});
  }

  publish(topic: string, payload: Uint8Array | string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('transport not connected'));
    return new Promise((resolve, reject) =>
      client.publish(topic, typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: opts.qos, retain: opts.retain ?? false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  async subscribe(topic: string): Promise<void> {
    await this.client?.subscribeAsync(topic, { qos: 1 });
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
