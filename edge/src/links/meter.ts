/**
 * Meter link: DL/T 645-2007 or CJ/T 188-2004 frames on an RS-485 bus, through
 * a serial port or a transparent serial server (TCP). The port handling (open,
 * reopen after an unplugged USB adapter or a dropped DTU) is StreamLink's, the
 * same as the Modbus RTU link's. One request in flight per bus, always.
 *
 *   submit ─▶ queue of its meter ──round-robin over meters──▶ wait for line silence
 *        (3.5 characters after the last byte seen, plus the gap the previous meter needs)
 *     ─▶ write frame (FE FE FE FE wake-up preamble first) ─▶ bytes arrive in any split
 *     ─▶ frame length from L ─▶ checksum + terminator ─▶ from a meter? this meter? ─▶ done(frame)
 *                                                                   (or timeout ─▶ DEVICE_TIMEOUT)
 *
 * A reply is delimited by its L byte, never by a gap. Noise before the 0x68 is
 * skipped; our own request echoed by a half-duplex adapter (direction bit 0)
 * and a whole frame from another meter (a late reply) are dropped and the wait
 * goes on. The link checks framing only: the poller parses the payload. The
 * line discipline (silence, one in flight, timeout, the port coming and
 * going) is HalfDuplexLink's (half-duplex.ts), the same as the RTU link's.
 */
import { ErrorCodes, LifelineError, isLifelineError } from '@lifeline/shared';
import { cjt188FrameLength, dlt645FrameLength, parseCjt188Frame, parseDlt645Frame } from '@lifeline/shared/protocols';
import type { LinkHooks } from './link.js';
import { linkDownError } from './link.js';
import { HalfDuplexLink } from './half-duplex.js';
import type { ByteStream } from './stream.js';

/** The meter protocols a meter bus speaks (one per bus). */
export type MeterProtocol = 'dlt645' | 'cjt188';

/** One meter transaction: a request frame and what its reply should look like. */
export interface MeterRequest {
  /** Meter address as printed (12 digits DL/T 645, 14 CJ/T 188; AA wildcard pairs allowed). Queues are per address. */
  readonly address: string;
  /** The request frame, wake-up preamble included. */
  readonly frame: Uint8Array;
  /** What it asks, for messages: `read 02010100 (phase A voltage)`. */
  readonly what: string;
  /** Reply length expected, bytes: the reply's transmission time is added to the timeout. */
  readonly replyBytes: number;
  /** Time the meter takes to start answering, ms (the profile's turnaroundMs): added to the timeout. */
  readonly turnaroundMs?: number;
  /** Extra quiet time the bus needs after this meter answered, ms (the instance's gapMs). */
  readonly gapMs?: number;
}

/** Called exactly once per request: the reply frame (a copy, the caller may keep it), or why there is none. */
export type MeterDone = (err: LifelineError | null, reply: Uint8Array) => void;

/** Options of a meter link. */
export interface MeterLinkOptions {
  /** The port: a SerialStream, or a SocketStream to a serial server. */
  stream: ByteStream;
  protocol: MeterProtocol;
  /** meter (serial port) or meter-over-tcp (serial server). */
  kind?: 'meter' | 'meter-over-tcp';
  /** Line settings, for character and silence times (meters default to 2400 8E1). */
  baud?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
  /** Reply timeout once the reply is due (after the request, the turnaround), ms (default 1000). */
  timeoutMs?: number;
  /** How often to try reopening a port that went away, ms (default 1000). */
  reopenMs?: number;
  hooks?: LinkHooks;
}

interface Txn {
  req: MeterRequest;
  done: MeterDone;
  timeoutMs: number;
}

/** Largest frame: 16 FE + 13 fixed bytes + 255 data bytes. */
const MAX_FRAME = 16 + 13 + 255;
const EMPTY = new Uint8Array(0);

/** A DL/T 645 or CJ/T 188 master on one bus. */
export class MeterLink extends HalfDuplexLink<Txn> {
  readonly kind: 'meter' | 'meter-over-tcp';
  readonly protocol: MeterProtocol;
  /** Per-meter queues in round-robin order. */
  private readonly queues = new Map<string, Txn[]>();
  private rr: string[] = [];
  private rrAt = 0;

  constructor(opts: MeterLinkOptions) {
    super(opts.stream, opts.hooks, opts.reopenMs ?? 1000, { ...opts, baud: opts.baud ?? 2400 }, opts.timeoutMs ?? 1000, 2 * MAX_FRAME);
    this.kind = opts.kind ?? 'meter';
    this.protocol = opts.protocol;
  }

  /** Queue one request; `done` is called once with the reply frame or the error. */
  submit(req: MeterRequest, done: MeterDone, timeoutMs = this.timeoutMs): void {
    this.accept({ req, done, timeoutMs });
  }

  /** Fail the requests queued (not yet sent) for `address`: a silent meter's other reads would only hold the bus. */
  drop(address: string, err: LifelineError): void {
    const q = this.queues.get(address);
    if (!q) return;
    for (const t of q.splice(0)) {
      this.queued--;
      this.failLater(t, err);
    }
  }

  /** Send one request and wait for its reply frame. Rejects with DEVICE_TIMEOUT, FRAME_INVALID or LINK_DOWN. */
  request(req: MeterRequest, timeoutMs?: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => this.submit(req, (err, reply) => (err ? reject(err) : resolve(reply)), timeoutMs));
  }

  protected push(t: Txn): void {
    let q = this.queues.get(t.req.address);
    if (!q) {
      q = [];
      this.queues.set(t.req.address, q);
      this.rr.push(t.req.address);
    }
    q.push(t);
  }

  protected next(): Txn | null {
    const n = this.rr.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rrAt + k) % n;
      const q = this.queues.get(this.rr[i])!;
      if (q.length > 0) {
        this.rrAt = (i + 1) % n;
        return q.shift()!;
      }
    }
    return null;
  }

  protected transmit(t: Txn, now: number): number {
    const frame = t.req.frame;
    const txEnd = this.write(frame, frame.length, now);
    return txEnd + (t.req.turnaroundMs ?? 0) + t.timeoutMs + t.req.replyBytes * this.timing.charMs;
  }

  /** Cut whole frames off the receive buffer until one answers the request in flight. */
  protected tryComplete(t: Txn): void {
    const rx = this.rx;
    const lengthOf = this.protocol === 'dlt645' ? dlt645FrameLength : cjt188FrameLength;
    while (this.rxLength > 0) {
      // Noise before a frame start (neither wake-up byte nor 0x68): skip it.
      if (rx[0] !== 0xfe && rx[0] !== 0x68) {
        this.shiftRx(1);
        this.discarded++;
        continue;
      }
      const want = lengthOf(rx, this.rxLength);
      if (want < 0) {
        // FE wake-up bytes followed by something else: skip the preamble.
        let p = 0;
        while (rx[p] === 0xfe) p++;
        this.shiftRx(p);
        this.discarded += p;
        continue;
      }
      if (want === 0 || this.rxLength < want) return;
      const frame = rx.slice(0, want);
      this.shiftRx(want);
      let f: { fromMeter: boolean; address: string };
      try {
        f = this.protocol === 'dlt645' ? parseDlt645Frame(frame) : parseCjt188Frame(frame);
      } catch (e) {
        this.complete(t, this.atMeter(t, e), EMPTY);
        return;
      }
      if (!f.fromMeter || !addressMatches(t.req.address, f.address)) {
        // Our own request echoed back, or a late reply from another meter: keep waiting.
        this.stray++;
        continue;
      }
      this.complete(t, null, frame);
      return;
    }
  }

  /** Prefix a codec error with the meter and the link, keeping its code. */
  private atMeter(t: Txn, e: unknown): LifelineError {
    if (!isLifelineError(e)) return linkDownError(this.where, (e as Error)?.message ?? String(e), e);
    return new LifelineError(e.code, `meter ${t.req.address} ${t.req.what} on ${this.where}: ${e.message.replace(/^[A-Z_]+: /, '')}`, { cause: e, details: e.details });
  }

  private complete(t: Txn, err: LifelineError | null, frame: Uint8Array): void {
    this.endActive(t.req.gapMs ?? 0);
    finish(t, err, frame);
    this.pump();
  }

  protected finish(t: Txn, err: LifelineError): void {
    finish(t, err, EMPTY);
  }

  protected timeoutError(t: Txn): LifelineError {
    return new LifelineError(ErrorCodes.DeviceTimeout, `meter ${t.req.address} ${t.req.what}: no reply within ${Math.round(t.timeoutMs)} ms on ${this.where}`, {
      details: { address: t.req.address, where: this.where, timeoutMs: t.timeoutMs },
    });
  }

  protected drainQueues(err: LifelineError): void {
    for (const q of this.queues.values()) {
      for (const x of q.splice(0)) {
        this.queued--;
        finish(x, err, EMPTY);
      }
    }
  }
}

function finish(t: Txn, err: LifelineError | null, reply: Uint8Array): void {
  try {
    t.done(err, reply);
  } catch {
    // A caller's callback must not break the link's receive loop; callers log their own failures.
  }
}

/** Whether a reply from `actual` answers a request to `pattern` (AA pairs are wildcards). */
export function addressMatches(pattern: string, actual: string): boolean {
  if (pattern.length !== actual.length) return false;
  for (let i = 0; i < pattern.length; i += 2) {
    const pair = pattern.slice(i, i + 2);
    if (pair !== 'AA' && pair !== actual.slice(i, i + 2)) return false;
  }
  return true;
}
