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
 * goes on. The link checks framing only: the poller parses the payload.
 */
import { ErrorCodes, LifelineError, isLifelineError } from '@lifeline/shared';
import { cjt188FrameLength, dlt645FrameLength, parseCjt188Frame, parseDlt645Frame, rtuTiming, type RtuTiming } from '@lifeline/shared/protocols';
import type { LinkHooks } from './link.js';
import { linkDownError } from './link.js';
import { StreamLink, type ByteStream } from './stream.js';

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
export class MeterLink extends StreamLink {
  readonly kind: 'meter' | 'meter-over-tcp';
  readonly protocol: MeterProtocol;
  readonly timing: RtuTiming;
  readonly timeoutMs: number;
  /** Per-meter queues in round-robin order. */
  private readonly queues = new Map<string, Txn[]>();
  private rr: string[] = [];
  private rrAt = 0;
  private queued = 0;
  private active: Txn | null = null;
  private activeTimer: NodeJS.Timeout | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private lastActivity = 0;
  private extraQuiet = 0;
  private readonly rx = new Uint8Array(2 * MAX_FRAME);
  private rxLength = 0;
  /** Bytes received while nothing was awaited, or skipped as noise. */
  discarded = 0;
  /** Whole frames dropped while waiting: echoes of our request, late replies of other meters. */
  stray = 0;
  /** Requests sent. */
  sent = 0;

  constructor(opts: MeterLinkOptions) {
    super(opts.stream, opts.hooks, opts.reopenMs ?? 1000);
    this.kind = opts.kind ?? 'meter';
    this.protocol = opts.protocol;
    this.timing = rtuTiming(opts.baud ?? 2400, opts.dataBits ?? 8, opts.parity ?? 'even', opts.stopBits ?? 1);
    this.timeoutMs = opts.timeoutMs ?? 1000;
  }

  /** Requests waiting (not counting the one in flight). */
  get pending(): number {
    return this.queued;
  }

  /** Queue one request; `done` is called once with the reply frame or the error. */
  submit(req: MeterRequest, done: MeterDone, timeoutMs = this.timeoutMs): void {
    const t: Txn = { req, done, timeoutMs };
    if (this.state === 'closed' || this.state === 'down') {
      process.nextTick(finish, t, this.downError(), EMPTY);
      return;
    }
    let q = this.queues.get(req.address);
    if (!q) {
      q = [];
      this.queues.set(req.address, q);
      this.rr.push(req.address);
    }
    q.push(t);
    this.queued++;
    if (this.state === 'up') this.pump();
    else this.ensureOpen();
  }

  /** Fail the requests queued (not yet sent) for `address`: a silent meter's other reads would only hold the bus. */
  drop(address: string, err: LifelineError): void {
    const q = this.queues.get(address);
    if (!q) return;
    for (const t of q.splice(0)) {
      this.queued--;
      process.nextTick(finish, t, err, EMPTY);
    }
  }

  /** Send one request and wait for its reply frame. Rejects with DEVICE_TIMEOUT, FRAME_INVALID or LINK_DOWN. */
  request(req: MeterRequest, timeoutMs?: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => this.submit(req, (err, reply) => (err ? reject(err) : resolve(reply)), timeoutMs));
  }

  private nextTxn(): Txn | null {
    const n = this.rr.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rrAt + k) % n;
      const q = this.queues.get(this.rr[i])!;
      if (q.length > 0) {
        this.rrAt = (i + 1) % n;
        this.queued--;
        return q.shift()!;
      }
    }
    return null;
  }

  private pump(): void {
    if (this.active || this.waitTimer || this.state !== 'up' || this.queued === 0) return;
    const now = performance.now();
    const ready = this.lastActivity + this.timing.silenceMs + this.extraQuiet;
    if (now < ready) {
      this.waitTimer = setTimeout(() => {
        this.waitTimer = null;
        this.pump();
      }, ready - now);
      return;
    }
    const t = this.nextTxn();
    if (!t) return;
    const frame = t.req.frame;
    this.stream.write(frame.slice());
    this.sent++;
    const charMs = this.timing.charMs;
    const txEnd = now + frame.length * charMs;
    this.lastActivity = txEnd;
    this.extraQuiet = 0;
    this.rxLength = 0;
    this.active = t;
    const deadline = txEnd + (t.req.turnaroundMs ?? 0) + t.timeoutMs + t.req.replyBytes * charMs;
    this.activeTimer = setTimeout(() => this.onTimeout(), deadline - now);
  }

  protected onBytes(chunk: Uint8Array): void {
    const now = performance.now();
    if (now > this.lastActivity) this.lastActivity = now;
    const t = this.active;
    if (!t) {
      this.discarded += chunk.length;
      return;
    }
    const room = this.rx.length - this.rxLength;
    const take = Math.min(chunk.length, room);
    this.rx.set(chunk.subarray(0, take), this.rxLength);
    this.rxLength += take;
    this.discarded += chunk.length - take;
    this.tryComplete(t);
  }

  /** Cut whole frames off the receive buffer until one answers the request in flight. */
  private tryComplete(t: Txn): void {
    const rx = this.rx;
    const lengthOf = this.protocol === 'dlt645' ? dlt645FrameLength : cjt188FrameLength;
    while (this.rxLength > 0) {
      // Noise before a frame start (neither wake-up byte nor 0x68): skip it.
      if (rx[0] !== 0xfe && rx[0] !== 0x68) {
        this.shift(1);
        this.discarded++;
        continue;
      }
      const want = lengthOf(rx, this.rxLength);
      if (want < 0) {
        // FE wake-up bytes followed by something else: skip the preamble.
        let p = 0;
        while (rx[p] === 0xfe) p++;
        this.shift(p);
        this.discarded += p;
        continue;
      }
      if (want === 0 || this.rxLength < want) return;
      const frame = rx.slice(0, want);
      this.shift(want);
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

  private shift(n: number): void {
    this.rx.copyWithin(0, n, this.rxLength);
    this.rxLength -= n;
  }

  /** Prefix a codec error with the meter and the link, keeping its code. */
  private atMeter(t: Txn, e: unknown): LifelineError {
    if (!isLifelineError(e)) return linkDownError(this.where, (e as Error)?.message ?? String(e), e);
    return new LifelineError(e.code, `meter ${t.req.address} ${t.req.what} on ${this.where}: ${e.message.replace(/^[A-Z_]+: /, '')}`, { cause: e, details: e.details });
  }

  private complete(t: Txn, err: LifelineError | null, frame: Uint8Array): void {
    if (this.activeTimer) clearTimeout(this.activeTimer);
    this.activeTimer = null;
    this.active = null;
    this.extraQuiet = t.req.gapMs ?? 0;
    this.rxLength = 0;
    finish(t, err, frame);
    this.pump();
  }

  private onTimeout(): void {
    this.activeTimer = null;
    const t = this.active;
    if (!t) return;
    this.active = null;
    const got = this.rxLength;
    this.rxLength = 0;
    const partial = got > 0 ? ` (partial reply: ${got} byte${got === 1 ? '' : 's'})` : '';
    const err = new LifelineError(ErrorCodes.DeviceTimeout, `meter ${t.req.address} ${t.req.what}: no reply within ${Math.round(t.timeoutMs)} ms on ${this.where}${partial}`, {
      details: { address: t.req.address, where: this.where, timeoutMs: t.timeoutMs },
    });
    finish(t, err, EMPTY);
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
    if (t) finish(t, err, EMPTY);
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
