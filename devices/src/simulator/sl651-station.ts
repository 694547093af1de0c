/**
 * A simulated SL 651-2014 telemetry station (RTU): it connects OUT to a
 * centre (the gateway's sl651-listen port), as a field station over 4G does,
 * and sends timed reports built from its profile's simulated signals; it
 * counts the centre's replies. Reconnects when the centre drops it.
 *
 *   Sl651Station ──connect──▶ centre:port
 *        │  32H report (F1F1 station, F0F0 time, one element per point) every intervalMs
 *        ◀── reply (same serial), counted in `replies`
 */
import { connect, type Socket } from 'node:net';
import { prng } from '@lifeline/shared';
import { buildSl651Report, parseSl651Frame, sl651FrameLength, type Sl651Encoding } from '@lifeline/shared/protocols';
import type { Sl651Point, Sl651Profile } from '../profile.js';
import { signalValue } from './signal.js';

/** How a simulated station is set up. */
export interface Sl651StationOptions {
  profile: Readonly<Sl651Profile>;
  /** Remote station address, 10 hex digits. */
  station: string;
  /** Centre to report to. */
  host: string;
  port: number;
  /** Centre address in the frames (default 1). */
  centre?: number;
  /** Password (default 0000). */
  password?: string;
  /** Report interval (default the profile's defaultPollMs); 0: only `report()` sends. */
  intervalMs?: number;
  /** HEX/BCD (default) or ASCII frames. */
  encoding?: Sl651Encoding;
  /** Function code of the periodic reports (default 0x32 timed report). */
  functionCode?: number;
  seed?: number;
  /** A point's value instead of its simulated signal (tests; null sends "no data"). */
  pointValue?: (point: Sl651Point, ts: number) => number | null;
  now?: () => number;
}

/** Station clocks in China run on UTC+8 (no DST). */
const CST_MS = 8 * 3_600_000;

function cst(ts: number): { send: string; observed: string } {
  const iso = new Date(ts + CST_MS).toISOString(); // 2024-06-01T08:05:03.000Z, shifted to China time
  return { send: `${iso.slice(0, 10)} ${iso.slice(11, 19)}`, observed: `${iso.slice(0, 10)} ${iso.slice(11, 16)}` };
}

export class Sl651Station {
  /** Reports sent. */
  sent = 0;
  /** Replies from the centre (frames that parsed). */
  replies = 0;
  /** Serial number of the next report (1..65535, wraps). */
  private serial = 1;
  private socket?: Socket;
  private timer?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;
  private stopped = false;
  private rx = Buffer.alloc(0);
  private readonly rand: () => number;
  private readonly now: () => number;
  private readonly startTs: number;
  private readonly waiters: Array<(replied: boolean) => void> = [];

  constructor(readonly opts: Sl651StationOptions) {
    this.rand = prng(opts.seed ?? 1);
    this.now = opts.now ?? Date.now;
    this.startTs = this.now();
  }

  /** Connect and start reporting (the first report goes out once connected). */
  start(): Promise<void> {
    this.stopped = false;
    return new Promise<void>((resolve) => this.open(resolve));
  }

  private open(onConnect?: () => void): void {
    const s = connect({ host: this.opts.host, port: this.opts.port });
    this.socket = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      onConnect?.();
      const every = this.opts.intervalMs ?? this.opts.profile.defaultPollMs;
      if (every > 0) {
        this.report();
        clearInterval(this.timer);
        this.timer = setInterval(() => this.report(), every);
      }
    });
    s.on('data', (chunk: Buffer) => this.receive(chunk));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(this.timer);
      if (!this.stopped) this.reconnect = setTimeout(() => this.open(), 1000);
    });
  }

  private receive(chunk: Buffer): void {
    this.rx = Buffer.concat([this.rx, chunk]);
    for (;;) {
      const n = sl651FrameLength(this.rx);
      if (n === -1) {
        this.rx = this.rx.subarray(1);
        continue;
      }
      if (n === 0 || n > this.rx.length) return;
      const frame = this.rx.subarray(0, n);
      this.rx = this.rx.subarray(n);
      try {
        const f = parseSl651Frame(frame);
        if (f.direction === 'down') {
          this.replies++;
          for (const w of this.waiters.splice(0)) w(true);
        }
      } catch {
        // A centre that answers garbage: ignore, as a field RTU does.
      }
    }
  }

  /** The report frame for time `ts` (values from the profile's signals). */
  frame(ts = this.now()): Uint8Array {
    const { send, observed } = cst(ts);
    const p = this.opts.profile;
    const serial = this.serial;
    this.serial = (this.serial % 0xffff) + 1;
    return buildSl651Report({
      encoding: this.opts.encoding ?? 'hex',
      centre: this.opts.centre ?? 1,
      station: this.opts.station,
      password: this.opts.password ?? '0000',
      functionCode: this.opts.functionCode ?? 0x32,
      serial,
      sendTime: send,
      stationType: (p.stationType ?? 'H').charCodeAt(0),
      observedAt: observed,
      elements: p.points.map((pt) => {
        const v = this.opts.pointValue ? this.opts.pointValue(pt, ts) : signalValue(pt, ts, this.startTs, this.rand);
        return { id: parseInt(pt.element, 16), value: v === null ? null : v / (pt.scale ?? 1) };
      }),
    });
  }

  /** Send one report now; resolves when the centre's next reply arrives (or after `timeoutMs`, false). */
  report(timeoutMs = 5000): Promise<boolean> {
    return this.send(this.frame(), timeoutMs);
  }

  /** Send raw bytes (tests: garbage, a bad CRC, another station's frame); resolves on the next reply or false after `timeoutMs`. */
  send(bytes: Uint8Array, timeoutMs = 5000): Promise<boolean> {
    const s = this.socket;
    if (!s || s.destroyed) return Promise.resolve(false);
    this.sent++;
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const done = (replied: boolean) => {
        clearTimeout(t);
        resolve(replied);
      };
      this.waiters.push(done);
      s.write(bytes);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnect);
    for (const w of this.waiters.splice(0)) w(false);
    const s = this.socket;
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(resolve));
    s?.destroy();
  }
}
