/**
 * SL 651-2014 centre on the gateway: remote telemetry stations (rain gauges,
 * river-level stations) connect OUT to a port the gateway listens on and
 * report; the gateway acknowledges each report once its readings are in the
 * buffer. Nothing is polled: this is the push counterpart of the pollers.
 *
 *   station ─TCP─▶ [bus link sl651-listen, port] ─sl651FrameLength─▶ frame ─parse─▶ station address ─▶ device
 *      ▲                                                                               │
 *      │                                              element → point (profile) ─▶ emit('readings') ─▶ Detection, Recorder (buffer)
 *      └──────────── reply: same function, serial and send time, ESC ◀───────────────┘  (sent after the buffer has them)
 *
 * Bad input is counted and dropped, never a crash: a malformed frame (CRC,
 * length, body) counts against the station whose connection sent it; bytes
 * that start no frame are skipped to the next 7E/01; a station address no
 * device has is counted and logged once, not stored under a made-up device,
 * and not acknowledged. A station that stays silent for three report
 * intervals is reported comm-lost ('comm'), and back when it reports again.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Quality, isLifelineError, type Reading } from '@lifeline/shared';
import {
  SL651_KEEP_ALIVE,
  SL651_REPORT_FUNCTIONS,
  Sl651Ctl,
  buildSl651Reply,
  parseSl651Body,
  parseSl651Frame,
  sl651FrameLength,
  sl651Observations,
  type Sl651Frame,
} from '@lifeline/shared/protocols';
import type { Profile, Sl651Profile } from '@lifeline/devices';
import type { Bus, DeviceInstance } from '../config/schema.js';
import type { EventBus, Extension } from '../events/event-bus.js';
import type { Logger } from '../log.js';

/** Counters of one station. */
export interface Sl651StationStats {
  device: string;
  station: string;
  /** Valid frames received (reports, keep-alives). */
  frames: number;
  /** Reports acknowledged. */
  reports: number;
  /** Frames from this station's connection that failed to decode. */
  malformed: number;
  /** Readings dropped as repeats of one already stored (a resent report). */
  duplicates: number;
  /** Silent for three report intervals. */
  lost: boolean;
  lastError: string;
}

/** What the listener has seen. */
export interface Sl651ListenerStats {
  connections: number;
  /** Malformed frames no station could be blamed for (the connection had sent no valid frame yet). */
  malformed: number;
  /** Bytes skipped because they started no frame. */
  skippedBytes: number;
  /** Valid frames from station addresses no device has. */
  unknownFrames: number;
  stations: Sl651StationStats[];
}

interface StationState {
  instance: DeviceInstance;
  profile: Readonly<Sl651Profile>;
  /** element id → points reading it. */
  points: Map<number, Sl651Profile['points']>;
  stats: Sl651StationStats;
  /** Last stored observation time per point, to drop a resent report's readings. */
  lastTs: Map<string, number>;
  silentMs: number;
  timer?: NodeJS.Timeout;
}

interface Conn {
  socket: Socket;
  buf: Uint8Array;
  len: number;
  /** The station this connection has spoken for (its last valid frame's). */
  station?: StationState;
  warned: boolean;
  /** Gives up an incomplete candidate frame that stalls. */
  stall?: NodeJS.Timeout;
}

/** Options (tests shorten the silence). */
export interface Sl651ListenerOptions {
  /** Report intervals of silence before a station is comm-lost (default 3). */
  silentIntervals?: number;
  /** IANA zone of the stations' clocks (default Asia/Shanghai: China Standard Time, no DST). */
  timeZone?: string;
  /** How long an incomplete frame may wait for its remaining bytes before it is taken for garbage, ms (default 5000). */
  stallMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export class Sl651Listener implements Extension {
  private server?: Server;
  private readonly stations = new Map<string, StationState>();
  private readonly conns = new Set<Conn>();
  private readonly unknownLogged = new Set<string>();
  private readonly counters = { connections: 0, malformed: 0, skippedBytes: 0, unknownFrames: 0 };
  private readonly now: () => number;
  private readonly offsetMin: number;

  constructor(
    private readonly bus: Readonly<Bus>,
    profiles: ReadonlyMap<string, Readonly<Profile>>,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: Sl651ListenerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.offsetMin = utcOffsetMin(opts.timeZone ?? 'Asia/Shanghai');
    for (const instance of bus.devices) {
      const profile = profiles.get(instance.id);
      // The config loader refuses these; a listener built by hand gets a warning instead of a crash.
      if (!profile || profile.protocol !== 'sl651' || instance.station === undefined) {
        log.warn({ device: instance.id, protocol: profile?.protocol }, 'not an SL 651 station with a station address; device skipped');
        continue;
      }
      const points = new Map<number, Sl651Profile['points']>();
      for (const p of profile.points) {
        const id = parseInt(p.element, 16);
        points.set(id, [...(points.get(id) ?? []), p]);
      }
      const interval = instance.pollMs ?? profile.defaultPollMs;
      this.stations.set(instance.station, {
        instance,
        profile,
        points,
        stats: { device: instance.id, station: instance.station, frames: 0, reports: 0, malformed: 0, duplicates: 0, lost: false, lastError: '' },
        lastTs: new Map(),
        silentMs: interval * (opts.silentIntervals ?? 3),
      });
    }
  }

  /** The port it listens on (after start). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.bus.port, host: this.bus.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'SL 651 listener error'));
    for (const s of this.stations.values()) this.arm(s);
    this.log.info({ port: this.port, stations: this.stations.size }, 'SL 651 listener up');
  }

  async stop(): Promise<void> {
    for (const s of this.stations.values()) clearTimeout(s.timer);
    for (const c of this.conns) {
      clearTimeout(c.stall);
      c.socket.destroy();
    }
    this.conns.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  stats(): Sl651ListenerStats {
    return { ...this.counters, stations: [...this.stations.values()].map((s) => ({ ...s.stats })) };
  }

  private accept(socket: Socket): void {
    this.counters.connections++;
    const conn: Conn = { socket, buf: new Uint8Array(1024), len: 0, warned: false };
    this.conns.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(conn, chunk));
    socket.on('error', (err) => this.log.debug({ err, remote: socket.remoteAddress }, 'SL 651 connection error'));
    socket.on('close', () => {
      clearTimeout(conn.stall);
      this.conns.delete(conn);
    });
  }

  private receive(conn: Conn, chunk: Buffer): void {
    if (conn.len + chunk.length > conn.buf.length) {
      const next = new Uint8Array(Math.max(conn.buf.length * 2, conn.len + chunk.length));
      next.set(conn.buf.subarray(0, conn.len));
      conn.buf = next;
    }
    conn.buf.set(chunk, conn.len);
    conn.len += chunk.length;
    this.scan(conn);
  }

  /**
   * Take every complete frame out of the connection's bytes. A candidate that
   * fails to parse is stepped over by one byte, not its claimed length, so a
   * real frame inside or just after garbage is still found; a candidate still
   * incomplete after `stallMs` (garbage whose length field promises bytes that
   * never come) is given up the same way, so it cannot hold back the reports behind it.
   * What stays buffered is one incomplete candidate, so at most one frame's length (4124 bytes).
   */
  private scan(conn: Conn): void {
    clearTimeout(conn.stall);
    let at = 0;
    while (at < conn.len) {
      const view = conn.buf.subarray(at, conn.len);
      const n = sl651FrameLength(view);
      if (n === -1) {
        // Not a frame start: skip to the next byte that could start one.
        let k = 1;
        while (k < view.length && view[k] !== Sl651Ctl.SOH_HEX && view[k] !== Sl651Ctl.SOH_ASCII) k++;
        this.counters.skippedBytes += k;
        at += k;
        continue;
      }
      if (n === 0 || n > view.length) break;
      at += this.frame(conn, view.slice(0, n)) ? n : 1;
    }
    conn.buf.copyWithin(0, at, conn.len);
    conn.len -= at;
    if (conn.len > 0) {
      conn.stall = setTimeout(() => {
        if (conn.len === 0) return;
        this.counters.skippedBytes++;
        conn.buf.copyWithin(0, 1, conn.len);
        conn.len--;
        this.scan(conn);
      }, this.opts.stallMs ?? 5000);
      conn.stall.unref();
    }
  }

  /** Handle one candidate frame; false when its envelope did not parse (the caller steps one byte on). */
  private frame(conn: Conn, bytes: Uint8Array): boolean {
    let f;
    try {
      f = parseSl651Frame(bytes);
    } catch (e) {
      this.malformed(conn, message(e));
      return false;
    }
    this.handle(conn, f);
    return true;
  }

  private handle(conn: Conn, f: Sl651Frame): void {
    if (f.direction !== 'up') {
      this.malformed(conn, 'a down frame (centre → station) sent to the centre');
      return;
    }
    const s = this.stations.get(f.station);
    if (!s) {
      this.counters.unknownFrames++;
      if (!this.unknownLogged.has(f.station)) {
        this.unknownLogged.add(f.station);
        this.log.warn({ station: f.station, remote: conn.socket.remoteAddress, bus: this.bus.name }, 'SL 651 report from a station address no device has; not stored, not acknowledged (logged once per address)');
      }
      return;
    }
    conn.station = s;
    if (f.packet) {
      // Multi-packet reports (pictures, history) are not read into points. The first packet
      // (serial and send time lead its body) is acknowledged, ACK or ESC after the last;
      // later packets carry no serial to echo and are taken without an answer.
      s.stats.frames++;
      this.alive(s);
      this.log.debug({ device: s.instance.id, fn: f.functionCode, packet: f.packet }, 'SL 651 multi-packet frame acknowledged, not read');
      this.reply(conn, f, f.end === Sl651Ctl.ETB ? Sl651Ctl.ACK : Sl651Ctl.ESC, s);
      return;
    }
    let body;
    try {
      body = parseSl651Body(f);
    } catch (e) {
      this.malformed(conn, message(e));
      return;
    }
    s.stats.frames++;
    this.alive(s);
    // Keep-alive (2FH) keeps a 4G link with a dynamic address open after the centre's ESC;
    // stations send it on their own every 1..255 s and expect no answer.
    if (f.functionCode === SL651_KEEP_ALIVE) return;
    if (!SL651_REPORT_FUNCTIONS.has(f.functionCode)) {
      this.log.debug({ device: s.instance.id, fn: f.functionCode }, 'SL 651 frame of a function the gateway does not ask for; ignored');
      return;
    }
    const readings = this.readingsOf(s, sl651Observations(body).observations);
    // Listeners run synchronously (Detection, then Recorder into the buffer): the reply below
    // tells the station its report is stored.
    if (readings.length) this.events.emit('readings', readings);
    s.stats.reports++;
    this.reply(conn, f, Sl651Ctl.ESC, s);
  }

  private reply(conn: Conn, f: Sl651Frame, end: number, s: StationState): void {
    try {
      conn.socket.write(buildSl651Reply(f, end));
    } catch (e) {
      // A body that does not parse (a later packet of several): nothing to echo.
      this.log.debug({ err: e, device: s.instance.id }, 'SL 651 reply not sent');
    }
  }

  private readingsOf(s: StationState, observations: ReturnType<typeof sl651Observations>['observations']): Reading[] {
    const out: Reading[] = [];
    const now = this.now();
    for (const o of observations) {
      const points = s.points.get(o.id);
      if (!points) continue;
      let ts = this.tsOf(o.time);
      // A station clock ahead of ours (or unset) would put readings in the future: use the arrival time.
      if (!Number.isFinite(ts) || ts > now + 10 * 60_000) ts = now;
      for (const p of points) {
        if (s.lastTs.get(p.name) === ts) {
          s.stats.duplicates++;
          continue;
        }
        s.lastTs.set(p.name, ts);
        const value = o.value === null ? NaN : o.value * (p.scale ?? 1);
        const quality = !Number.isFinite(value) ? Quality.Bad : p.range && (value < p.range[0] || value > p.range[1]) ? Quality.Uncertain : Quality.Good;
        out.push(quality === Quality.Good ? { device: s.instance.id, point: p.name, ts, value } : { device: s.instance.id, point: p.name, ts, value, quality });
      }
    }
    return out;
  }

  /** `YYYY-MM-DD hh:mm` in the stations' time zone → epoch ms. */
  private tsOf(t: string): number {
    const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)/.exec(t);
    if (!m) return NaN;
    const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
    return utc - this.offsetMin * 60_000;
  }

  private malformed(conn: Conn, error: string): void {
    const s = conn.station;
    if (s) {
      s.stats.malformed++;
      s.stats.lastError = error;
    } else this.counters.malformed++;
    // One warning per connection; the rest are counted (a station sending garbage must not flood the log).
    if (!conn.warned) {
      conn.warned = true;
      this.log.warn({ device: s?.instance.id, remote: conn.socket.remoteAddress, error }, 'SL 651 frame rejected (further ones on this connection are only counted)');
    }
  }

  /** A valid frame from the station: comm is ok; re-arm its silence timer. */
  private alive(s: StationState): void {
    if (s.stats.lost) {
      s.stats.lost = false;
      this.events.emit('comm', { device: s.instance.id, ok: true, ts: this.now() });
    }
    this.arm(s);
  }

  private arm(s: StationState): void {
    clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      if (s.stats.lost) return;
      s.stats.lost = true;
      s.stats.lastError = `no report for ${Math.round(s.silentMs / 1000)} s`;
      this.events.emit('comm', { device: s.instance.id, ok: false, error: s.stats.lastError, ts: this.now() });
    }, s.silentMs);
    s.timer.unref();
  }
}

function message(e: unknown): string {
  return isLifelineError(e) ? e.message : String(e);
}

/** The zone's offset from UTC now, minutes (SL 651 stations send local clock times; China has no DST, so one offset serves). */
function utcOffsetMin(timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(new Date());
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(parts.find((p) => p.type === 'timeZoneName')?.value ?? '');
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}
