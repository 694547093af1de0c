/**
 * The console's state: registry, alarms and latest values, kept current by
 * the live stream (no polling of alarms).
 *
 *   page load ─▶ main.tsx asks for the four below before the app's code is loaded (api.prefetch)
 *   sign-in ─▶ start(): /console, /alarms (everything not normal), /gateways and /devices?format=columns&fields=(what the map needs) in parallel, each shown as it arrives
 *   a device or alarm view ─▶ wantDetails(): the full /devices (points, completeness…), and from then on at every reload
 *   live `alarm`    ─▶ patch the row at once ─▶ refetch /alarms (debounced; new rows get their id)
 *   live `readings` ─▶ latest value per (gateway, device, point) ─▶ 'values' listeners, at most 4×/s
 *   live `event`    ─▶ refetch the registry (debounced)
 *   reconnect       ─▶ refetch everything (what happened meanwhile was not seen)
 *
 * Components subscribe to a topic with useTopic(); a topic fires only when its data changed.
 */
import { useLayoutEffect, useState } from 'preact/hooks';
import { api, dropEarly, type Alarm, type ConsoleInfo, type Device, type Gateway, type MapDevice } from './api.js';
import { connectLive, type LiveStatus } from './live.js';
import { levelTransition } from './alarm-order.js';

export type Topic = 'registry' | 'gateways' | 'alarms' | 'values' | 'live' | 'session';

/** Active states: what colours the map and counts in the header. */
export const ACTIVE: ReadonlySet<string> = new Set(['active_unacked', 'active_acked']);
/** States that need an operator: unacknowledged. */
export const UNACKED: ReadonlySet<string> = new Set(['active_unacked', 'cleared_unacked']);

export const deviceKey = (gateway: string, device: string) => `${gateway}\u0000${device}`;
const pointKey = (gateway: string, device: string, point: string) => `${gateway}\u0000${device}\u0000${point}`;

/** A map's device as a Device: what was not asked for is empty until the details arrive (`store.detailed`). */
const mapDevice = (d: MapDevice): Device => ({ profile: null, lastReadingTs: null, points: [], completeness24h: null, activeAlarms: 0, maxLevel: 0, sameIdOn: [], ...d });

class ConsoleStore {
  info: ConsoleInfo | null = null;
  devices: Device[] = [];
  /** Whether `devices` carry everything (points, status), not only what the map needs. */
  detailed = false;
  private details = false;
  private devicesSeq = 0;
  gateways: Gateway[] = [];
  /** Devices by deviceKey, gateways by id. */
  deviceIndex = new Map<string, Device>();
  gatewayIndex = new Map<string, Gateway>();
  alarms: Alarm[] = [];
  liveStatus: LiveStatus = 'connecting';
  /** Worst active alarm level per device (deviceKey) and per gateway. */
  deviceLevel = new Map<string, number>();
  gatewayLevel = new Map<string, number>();
  /** Latest value per point. */
  values = new Map<string, { ts: number; value: number | null }>();
  /** The cause an alarm was raised with, per `gateway/alarmId@raisedAt` (a transition's own cause may be "acknowledged by …"). */
  raisingCause = new Map<string, string>();
  private listeners = new Map<Topic, Set<() => void>>();
  private live: { stop(): void } | null = null;
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  private valuesDirty = false;

  on(topic: Topic, fn: () => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }
  emit(topic: Topic): void {
    for (const fn of this.listeners.get(topic) ?? []) fn();
  }

  /** After sign-in: the first load, then the stream. */
  async start(): Promise<void> {
    // Who we are, alarms, devices and gateways in parallel, each shown as it arrives: the page as soon as
    // /console answers, the alarm list with /alarms (small), the map with /devices, gateway diamonds and
    // names with /gateways. A refused token fails them all, and start() with the first refusal.
    const loads = [
      api.console().then((info) => {
        this.info = info;
        performance.mark('lifeline:session');
        this.emit('session');
      }),
      this.loadAlarms().then(() => performance.mark('lifeline:alarms')),
      this.loadDevices().then(() => performance.mark('lifeline:devices')),
      this.loadGateways().then(() => performance.mark('lifeline:gateways')),
    ];
    try {
      await Promise.all(loads);
    } finally {
      // What main.tsx asked for early and no load took (another token signed in meanwhile) is not kept for later.
      dropEarly();
    }
    this.live?.stop();
    this.live = connectLive({
      onStatus: (s) => {
        this.liveStatus = s;
        this.emit('live');
      },
      onReconnect: () => {
        void this.loadRegistry();
        void this.loadAlarms();
      },
      onEvent: (name, data) => this.onLive(name, data),
    });
    setInterval(() => {
      if (!this.valuesDirty) return;
      this.valuesDirty = false;
      this.emit('values');
    }, 250);
  }

  stop(): void {
    this.live?.stop();
    this.live = null;
    this.info = null;
    this.devices = [];
    this.gateways = [];
    this.alarms = [];
    this.emit('session');
  }

  async loadRegistry(): Promise<void> {
    await this.loadDevices();
    await this.loadGateways();
  }

  /** A view showing a device's points or status asks for them: the full list now, and at every reload after. */
  wantDetails(): void {
    if (this.details) return;
    this.details = true;
    this.loadDevices().catch(() => undefined);
  }

  async loadDevices(): Promise<void> {
    // The newest request wins: a map's list that answers after the full one must not replace it.
    const seq = ++this.devicesSeq;
    const full = this.details;
    const devices = full ? await api.devices() : (await api.mapDevices()).map(mapDevice);
    if (seq !== this.devicesSeq) return;
    this.devices = devices;
    this.detailed = full;
    this.deviceIndex = new Map(devices.map((d) => [deviceKey(d.gateway, d.id), d]));
    this.emit('registry');
  }

  async loadGateways(): Promise<void> {
    const gateways = await api.gateways();
    this.gateways = gateways;
    this.gatewayIndex = new Map(gateways.map((g) => [g.id, g]));
    this.emit('gateways');
  }

  async loadAlarms(): Promise<void> {
    this.alarms = await api.openAlarms();
    for (const a of this.alarms) if (a.state === 'active_unacked' && a.raisedAt !== null && a.since === a.raisedAt) this.raisingCause.set(`${a.gateway}/${a.alarmId}@${a.raisedAt}`, a.cause);
    this.recomputeLevels();
    this.emit('alarms');
    void this.fillRaisingCauses();
  }

  private filling = false;
  /**
   * An alarm raised before the cloud kept `raisedCause` carries its last transition's cause
   * (acknowledged, shelved…); its raising cause is in its history. Looked up for the first 100
   * such alarms, four at a time, once each.
   */
  private async fillRaisingCauses(): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      const todo = this.alarms.filter((a) => a.raisedCause == null && a.raisedAt !== null && a.since !== a.raisedAt && !this.raisingCause.has(`${a.gateway}/${a.alarmId}@${a.raisedAt}`)).slice(0, 100);
      let changed = false;
      for (let i = 0; i < todo.length; i += 4) {
        await Promise.all(
          todo.slice(i, i + 4).map(async (a) => {
            const d = await api.alarm(a.id).catch(() => null);
            const raised = d && levelTransition(d.history);
            if (raised) {
              this.raisingCause.set(`${a.gateway}/${a.alarmId}@${a.raisedAt}`, raised.cause);
              changed = true;
            }
          }),
        );
      }
      if (changed) this.emit('alarms');
    } finally {
      this.filling = false;
    }
  }

  /** Why the alarm has its level (raised, or escalated since: the API's raisedCause), when known. */
  causeOf(a: Alarm): string {
    return a.raisedCause ?? ((a.raisedAt !== null && this.raisingCause.get(`${a.gateway}/${a.alarmId}@${a.raisedAt}`)) || a.cause);
  }

  private recomputeLevels(): void {
    this.deviceLevel.clear();
    this.gatewayLevel.clear();
    for (const a of this.alarms) {
      if (!ACTIVE.has(a.state)) continue;
      const k = deviceKey(a.gateway, a.device);
      if ((this.deviceLevel.get(k) ?? 0) < a.level) this.deviceLevel.set(k, a.level);
      if ((this.gatewayLevel.get(a.gateway) ?? 0) < a.level) this.gatewayLevel.set(a.gateway, a.level);
    }
  }

  private debounce(key: string, ms: number, fn: () => Promise<void>): void {
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        fn().catch(() => undefined);
      }, ms),
    );
  }

  private onLive(name: string, data: any): void {
    if (name === 'readings') {
      for (const r of data.readings as { device: string; point: string; ts: number; value: number | null }[]) {
        const k = pointKey(data.gateway, r.device, r.point);
        const prev = this.values.get(k);
        if (!prev || prev.ts <= r.ts) this.values.set(k, { ts: r.ts, value: r.value });
      }
      this.valuesDirty = true;
    } else if (name === 'alarm') {
      const raised = data.to === 'active_unacked' && (data.from === 'normal' || data.from === 'cleared_unacked' || data.from === 'active_acked');
      if (raised && data.from === 'normal') this.raisingCause.set(`${data.gateway}/${data.alarmId}@${data.ts}`, data.cause);
      const row = this.alarms.find((a) => a.gateway === data.gateway && a.alarmId === data.alarmId);
      if (row) {
        // The cause that took it to its level (raised, escalated) is the row's cause from now on; an ack's is not.
        const levelCause = data.from === 'normal' || data.level > row.level;
        Object.assign(row, { state: data.to, level: data.level, since: data.ts, value: data.value ?? row.value, ...(data.from === 'normal' ? { raisedAt: data.ts } : {}), ...(levelCause ? { raisedCause: data.cause, cause: data.cause } : {}) });
        this.alarms = [...this.alarms];
        this.recomputeLevels();
        this.emit('alarms');
      }
      this.debounce('alarms', 150, () => this.loadAlarms());
    } else if (name === 'event') {
      this.debounce('registry', 1000, () => this.loadRegistry());
    }
  }

  device(gateway: string, device: string): Device | undefined {
    return this.deviceIndex.get(deviceKey(gateway, device));
  }

  /** A device's name (where people look), its id when it has none. */
  deviceName(gateway: string, device: string): string {
    // A gateway's own alarm (the cloud's "gateway silent") names no device: the gateway's name then.
    if (!device) return this.gatewayIndex.get(gateway)?.name || gateway;
    return this.device(gateway, device)?.name || device;
  }

  latest(gateway: string, device: string, point: string) {
    return this.values.get(pointKey(gateway, device, point));
  }
}

export const store = new ConsoleStore();
// For the browser tests and the benchmark: read-only access to the state.
(globalThis as any).__lifeline = store;

/**
 * Re-render the calling component when any of `topics` fires. Subscribed in a layout effect (run as the
 * render commits): a plain effect runs after the next paint, and a topic fired in between was missed
 * (the alarm rows waited for the map's device list, the next topic to fire).
 */
export function useTopic(...topics: Topic[]): void {
  const [, bump] = useState(0);
  useLayoutEffect(() => {
    const offs = topics.map((t) => store.on(t, () => bump((n) => n + 1)));
    return () => offs.forEach((o) => o());
  }, [topics.join()]);
}
