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
 * goes on. The line discipline (silence, one in flight, timeout, the port
 * coming and going) is HalfDuplexLink's (half-duplex.ts), the same as the
 * meter link's; this file queues by unit and frames Modbus.
 */
import type { LifelineError } from '@lifeline/shared';
import { RTU_MAX_FRAME, crc16, encodeRtuRequest, expectedRtuResponseLength, parseRtuResponse, rtuResponseLength, type ModbusRequest } from '@lifeline/shared/protocols';
import { atLink, isPlainReadReply, timeoutError, TxnPool, TxnQueue, type FrameDone, type LinkHooks, type LinkKind, type ModbusLink, type Txn } from './link.js';
import { HalfDuplexLink } from './half-duplex.js';
import type { ByteStream } from './stream.js';

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
export class RtuLink extends HalfDuplexLink<Txn> implements ModbusLink {
  readonly kind: Extract<LinkKind, 'rtu' | 'rtu-over-tcp'>;
  private readonly broadcastTurnaroundMs: number;
  private readonly gaps: ReadonlyMap<number, number>;
  private readonly pool = new TxnPool();
  private readonly units: (UnitQueue | null)[] = new Array<UnitQueue | null>(256).fill(null);
  /** Last unit served (round-robin position). */
  private rr = 0;
  private readonly tx = new Uint8Array(RTU_MAX_FRAME);

  constructor(opts: RtuLinkOptions) {
    super(opts.stream, opts.hooks, opts.reopenMs ?? 1000, { ...opts, baud: opts.baud ?? 9600 }, opts.timeoutMs ?? 1000, RTU_MAX_FRAME);
    this.kind = opts.kind ?? 'rtu';
    this.broadcastTurnaroundMs = opts.broadcastTurnaroundMs ?? 100;
    this.gaps = opts.gapMs ?? new Map();
  }

  submit(unit: number, req: ModbusRequest, done: FrameDone, timeoutMs = this.timeoutMs): void {
    const t = this.pool.get(unit, req, done, timeoutMs);
    if (!(unit >= 0 && unit <= 255)) {
      this.failLater(t, atLink(new RangeError(`unit ${unit} is not 0..255`), this.where, unit, req));
      return;
    }
    this.accept(t);
  }

  drop(unit: number, err: LifelineError): void {
    const q = this.units[unit];
    if (!q) return;
    for (let t = q.queue.shift(); t; t = q.queue.shift()) {
      this.queued--;
      this.failLater(t, err);
    }
  }

  protected push(t: Txn): void {
    let q = this.units[t.unit];
    if (!q) q = this.units[t.unit] = { unit: t.unit, queue: new TxnQueue() };
    q.queue.push(t);
  }

  /** Next unit's request after the last one served. */
  protected next(): Txn | null {
    for (let k = 1; k <= 256; k++) {
      const q = this.units[(this.rr + k) & 0xff];
      if (q && q.queue.length > 0) {
        this.rr = q.unit;
        return q.queue.shift();
      }
    }
    return null;
  }

  protected transmit(t: Txn, now: number): number {
    let n: number;
    try {
      n = encodeRtuRequest(this.tx, 0, t.unit, t.req);
    } catch (err) {
      this.failLater(t, atLink(err, this.where, t.unit, t.req));
      return -1;
    }
    const txEnd = this.write(this.tx, n, now);
    if (t.unit === 0) {
      // Broadcast: nobody answers; give the slaves their turnaround before the next request.
      this.extraQuiet = this.broadcastTurnaroundMs;
      this.pool.finish(t, null);
      return -1;
    }
    t.deadline = txEnd + t.timeoutMs + expectedRtuResponseLength(t.req) * this.timing.charMs;
    return t.deadline;
  }

  /** See whether the bytes received so far make the whole reply. */
  protected tryComplete(t: Txn): void {
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
          // A whole, valid frame from another unit: a late reply, or a device set to another id. Drop it and keep waiting.
          this.stray++;
          t.strayUnit = rx[0]!;
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
    this.endActive(this.gaps.get(t.unit) ?? 0);
    this.pool.finish(t, err, this.rx, 1, n > 2 ? n - 2 : 1);
    this.pump();
  }

  protected finish(t: Txn, err: LifelineError): void {
    this.pool.finish(t, err);
  }

  protected timeoutError(t: Txn): LifelineError {
    return timeoutError(this.where, t.unit, t.req, t.timeoutMs, t.strayUnit);
  }

  protected drainQueues(err: LifelineError): void {
    for (const q of this.units) {
      if (!q) continue;
      for (let x = q.queue.shift(); x; x = q.queue.shift()) {
        this.queued--;
        this.pool.finish(x, err);
      }
    }
  }
}
