/**
 * Modbus RTU link over a serial port or a TCP connection to a serial server /
 * DTU (RTU-over-TCP). One request in flight per bus, always.
 *
 *   submit ─▶ queue of its unit ──round-robin over units──▶ wait for line silence
 *        (3.5 characters after the last byte seen, plus the gap the previous device needs;
 *      after a broadcast, the turnaround delay)
 *     ─▶ write frame ─▶ bytes arrive in any split ─▶ rtuResponseLength says when the frame is whole
 *     ─▶ CRC + unit + function + byte count ─▶ done(frame range)        (or timeout ─▶ DEVICE_TIMEOUT)
 *
 * A reply is delimited by its length, never by a gap between reads, so a
 * reply split over many reads (USB adapters deliver 1..64-byte chunks) never
 * turns into a CRC error. A complete, CRC-valid frame from another unit (a
 * late answer to a request that already timed out) is dropped and the wait
 * goes on. Bytes arriving while no request is in flight are discarded but
 * still count as line activity.
 */
import type { LifelineError } from '@lifeline/shared';
import {
  RTU_MAX_FRAME,
  crc16,
  encodeRtuRequest,
  expectedRtuResponseLength,
  parseRtuResponse,
  rtuResponseLength,
  rtuTiming,
  type ModbusRequest,
  type RtuTiming,
} from '@lifeline/shared/protocols';
import { atLink, isPlainReadReply, timeoutError, TxnPool, TxnQueue, type FrameDone, type LinkHooks, type LinkKind, type ModbusLink, type Txn } from './link.js';
import { StreamLink, type ByteStream } from './stream.js';

/** Options of an RTU link. */
export interface RtuLinkOptions {
  /** The port: a SerialStream, or a SocketStream to a serial server. */
  stream: ByteStream;
  /** rtu (serial port) or rtu-over-tcp. */
  kind?: Extract<LinkKind, 'rtu' | 'rtu-over-tcp'>;
  /** Line settings, for character and silence times (serial side of a serial server). */
  baud?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  /** Reply timeout after the request has left the wire, ms (default 1000). The reply's own transmission time is added. */
  timeoutMs?: number;
  /** Quiet time after a broadcast (unit 0) before the next request, ms (default 100, as the serial line spec suggests). */
  broadcastTurnaroundMs?: number;
  /** Extra quiet time some devices need after answering before the next request, by unit id, ms. */
  gapMs?: ReadonlyMap<number, number>;
  /** How often to try reopening a port that went away, ms (default 1000). */
  reopenMs?: number;
  hooks?: LinkHooks;
}

/** Work waiting for one unit, and its place in the round-robin. */
interface UnitQueue {
  unit: number;
  queue: TxnQueue;
}

/** A Modbus RTU master on one bus. */
export class RtuLink extends StreamLink implements ModbusLink {
  readonly kind: Extract<LinkKind, 'rtu' | 'rtu-over-tcp'>;
  readonly timing: RtuTiming;
  readonly timeoutMs: number;
  private readonly broadcastTurnaroundMs: number;
  private readonly gaps: ReadonlyMap<number, number>;
  private readonly pool = new TxnPool();
  private readonly units: (UnitQueue | null)[] = new Array<UnitQueue | null>(256).fill(null);
  /** Last unit served (round-robin position). */
  private rr = 0;
  private queued = 0;
  private active: Txn | null = null;
  private activeTimer: NodeJS.Timeout | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  /** performance.now() when the line last carried a byte (our estimate for our own frames). */
  private lastActivity = 0;
  /** Extra quiet owed before the next request (gap of the device that just answered, or broadcast turnaround). */
  private extraQuiet = 0;
  private readonly tx = new Uint8Array(RTU_MAX_FRAME);
  private readonly rx = new Uint8Array(RTU_MAX_FRAME);
  private rxLength = 0;
  private readonly onTimeoutBound = () => this.onTimeout();
  private readonly onWaitBound = () => {
    this.waitTimer = null;
    this.pump();
  };
  /** Bytes received while nothing was awaited (noise, late replies). */
  discarded = 0;
  /** Complete frames from another unit dropped while waiting. */
  stray = 0;
  /** Requests sent. */
  sent = 0;

  constructor(opts: RtuLinkOptions) {
    super(opts.stream, opts.hooks, opts.reopenMs ?? 1000);
    this.kind = opts.kind ?? 'rtu';
    this.timing = rtuTiming(opts.baud ?? 9600, opts.dataBits ?? 8, opts.parity ?? 'even', opts.stopBits ?? 1);
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.broadcastTurnaroundMs = opts.broadcastTurnaroundMs ?? 100;
    this.gaps = opts.gapMs ?? new Map();
  }

  submit(unit: number, req: ModbusRequest, done: FrameDone, timeoutMs = this.timeoutMs): void {
    const t = this.pool.get(unit, req, done, timeoutMs);
    if (this.state === 'closed' || this.state === 'down' || !(unit >= 0 && unit <= 255)) {
      process.nextTick(failLater, this.pool, t, this.state === 'closed' || this.state === 'down' ? this.downError() : atLink(new RangeError(`unit ${unit} is not 0..255`), this.where, unit, req));
      return;
    }
    let q = this.units[unit];
    if (!q) q = this.units[unit] = { unit, queue: new TxnQueue() };
    q.queue.push(t);
    this.queued++;
    if (this.state === 'up') this.pump();
    else this.ensureOpen();
  }

  drop(unit: number, err: LifelineError): void {
    const q = this.units[unit];
    if (!q) return;
    for (let t = q.queue.shift(); t; t = q.queue.shift()) {
      this.queued--;
      process.nextTick(failLater, this.pool, t, err);
    }
  }

  /** Requests waiting (not counting the one in flight). */
  get pending(): number {
    return this.queued;
  }

  /** Next unit with work after the last one served. */
  private nextQueue(): UnitQueue | null {
    for (let k = 1; k <= 256; k++) {
      const q = this.units[(this.rr + k) & 0xff];
      if (q && q.queue.length > 0) return q;
    }
    return null;
  }

  private pump(): void {
    if (this.active || this.waitTimer || this.state !== 'up' || this.queued === 0) return;
    const now = performance.now();
    const ready = this.lastActivity + this.timing.silenceMs + this.extraQuiet;
    if (now < ready) {
      this.waitTimer = setTimeout(this.onWaitBound, ready - now);
      return;
    }
    const q = this.nextQueue();
    if (!q) return;
    this.rr = q.unit;
    const t = q.queue.shift()!;
    this.queued--;
    this.send(t, now);
  }

  private send(t: Txn, now: number): void {
    let n: number;
    try {
      n = encodeRtuRequest(this.tx, 0, t.unit, t.req);
    } catch (err) {
      process.nextTick(failLater, this.pool, t, atLink(err, this.where, t.unit, t.req));
      this.pump();
      return;
    }
    this.stream.write(this.tx.slice(0, n));
    this.sent++;
    const charMs = this.timing.charMs;
    const txEnd = now + n * charMs;
    this.lastActivity = txEnd;
    this.extraQuiet = 0;
    this.rxLength = 0;
    if (t.unit === 0) {
      // Broadcast: nobody answers; give the slaves their turnaround before the next request.
      this.extraQuiet = this.broadcastTurnaroundMs;
      this.pool.finish(t, null);
      this.pump();
      return;
    }
    this.active = t;
    t.deadline = txEnd + t.timeoutMs + expectedRtuResponseLength(t.req) * charMs;
    this.activeTimer = setTimeout(this.onTimeoutBound, t.deadline - now);
  }

  protected onBytes(chunk: Uint8Array): void {
    const now = performance.now();
    if (now > this.lastActivity) this.lastActivity = now;
    const t = this.active;
    if (!t) {
      this.discarded += chunk.length;
      return;
    }
    const room = RTU_MAX_FRAME - this.rxLength;
    const take = chunk.length < room ? chunk.length : room;
    this.rx.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.rxLength);
    this.rxLength += take;
    this.discarded += chunk.length - take;
    this.tryComplete(t);
  }

  /** See whether the bytes received so far make the whole reply. */
  private tryComplete(t: Txn): void {
    const rx = this.rx;
    for (;;) {
      const want = rtuResponseLength(rx, this.rxLength);
      if (want === 0) return; // need more bytes to know the length
      if (want < 0 || want > RTU_MAX_FRAME) {
        // Unknown function code: no way to delimit; report what arrived.
        this.complete(t, this.frameError(t, this.rxLength), 0);
        return;
      }
      if (this.rxLength < want) return;
      if (crc16(rx, 0, want) === 0) {
        if (rx[0] !== t.unit) {
          // A whole, valid frame from another unit: a late reply. Drop it and keep waiting.
          this.stray++;
          this.shiftRx(want);
          continue;
        }
        if (isPlainReadReply(rx, 1, want - 2, t.req)) {
          this.complete(t, null, want);
          return;
        }
      }
      this.complete(t, this.frameError(t, want), want);
      return;
    }
  }

  private shiftRx(n: number): void {
    this.rx.copyWithin(0, n, this.rxLength);
    this.rxLength -= n;
  }

  /** The exact error for a frame that failed the fast checks (or null when it is a valid non-read reply). */
  private frameError(t: Txn, n: number): LifelineError | null {
    try {
      parseRtuResponse(this.rx.subarray(0, n), { unitId: t.unit, request: t.req });
      return null;
    } catch (e) {
      return atLink(e, this.where, t.unit, t.req);
    }
  }

  private complete(t: Txn, err: LifelineError | null, n: number): void {
    if (this.activeTimer) clearTimeout(this.activeTimer);
    this.activeTimer = null;
    this.active = null;
    this.extraQuiet = this.gaps.get(t.unit) ?? 0;
    this.rxLength = 0;
    this.pool.finish(t, err, this.rx, 1, n > 2 ? n - 2 : 1);
    this.pump();
  }

  private onTimeout(): void {
    this.activeTimer = null;
    const t = this.active;
    if (!t) return;
    this.active = null;
    const got = this.rxLength;
    this.rxLength = 0;
    const err = timeoutError(this.where, t.unit, t.req, t.timeoutMs);
    if (got > 0) (err as { message: string }).message += ` (partial reply: ${got} byte${got === 1 ? '' : 's'})`;
    this.pool.finish(t, err);
    // An unplugged USB adapter often shows up only as silence: check the device node.
    if (this.stream.isGone?.()) {
      this.dropStream('device node is gone (unplugged?)');
      return;
    }
    this.pump();
  }

  protected linkUp(): void {
    this.lastActivity = performance.now();
    this.extraQuiet = 0;
    this.pump();
  }

  protected linkDown(err: LifelineError): void {
    if (this.activeTimer) clearTimeout(this.activeTimer);
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.activeTimer = null;
    this.waitTimer = null;
    this.rxLength = 0;
    const t = this.active;
    this.active = null;
    if (t) this.pool.finish(t, err);
    for (const q of this.units) {
      if (!q) continue;
      for (let x = q.queue.shift(); x; x = q.queue.shift()) {
        this.queued--;
        this.pool.finish(x, err);
      }
    }
  }
}

function failLater(pool: TxnPool, t: Txn, err: LifelineError): void {
  pool.finish(t, err);
}
