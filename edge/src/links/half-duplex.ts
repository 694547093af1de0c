/**
 * The half-duplex master shared by the serial links: one request in flight
 * per bus, always. The Modbus RTU link (rtu.ts) and the meter link (meter.ts)
 * say how requests are queued, framed and recognised; when the line may be
 * used, the reply buffer, the timeout and the port coming and going are here.
 *
 *   submit ─▶ accept: queue it (subclass) ─▶ pump: wait for line silence
 *        (3.5 characters after the last byte seen, plus the quiet the previous device needs)
 *     ─▶ transmit (subclass: frame and write) ─▶ bytes appended to rx as they arrive
 *     ─▶ tryComplete (subclass: is the reply whole and ours?) ─▶ endActive + finish
 *                                                   (or the deadline passes ─▶ DEVICE_TIMEOUT)
 *
 * Bytes arriving while no request is in flight are discarded but still count
 * as line activity. Nothing here allocates per request.
 */
import type { LifelineError } from '@lifeline/shared';
import { rtuTiming, type RtuTiming } from '@lifeline/shared/protocols';
import type { LinkHooks } from './link.js';
import { StreamLink, type ByteStream } from './stream.js';

/** Line settings of a serial bus (the serial side of a serial server). */
export interface LineSettings {
  baud: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
}

/** A master that keeps one request of type T in flight on a serial line. */
export abstract class HalfDuplexLink<T> extends StreamLink {
  readonly timing: RtuTiming;
  /** Reply timeout, ms, unless a request says otherwise. */
  readonly timeoutMs: number;
  /** Requests queued, not counting the one in flight. */
  protected queued = 0;
  protected active: T | null = null;
  /** Reply bytes received so far: rx[0, rxLength). */
  protected readonly rx: Uint8Array;
  protected rxLength = 0;
  /** performance.now() when the line last carried a byte (our estimate for our own frames). */
  private lastActivity = 0;
  /** Extra quiet owed before the next request (gap of the device that just answered, broadcast turnaround). */
  protected extraQuiet = 0;
  private activeTimer: NodeJS.Timeout | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private readonly onTimeoutBound = () => this.onTimeout();
  private readonly onWaitBound = () => {
    this.waitTimer = null;
    this.pump();
  };
  private readonly failBound = (t: T, err: LifelineError) => this.finish(t, err);
  /** Bytes received while nothing was awaited, or skipped as noise. */
  discarded = 0;
  /** Whole frames dropped while waiting (late replies of other devices, echoes of our request). */
  stray = 0;
  /** Requests sent. */
  sent = 0;

  constructor(stream: ByteStream, hooks: LinkHooks | undefined, reopenMs: number, line: LineSettings, timeoutMs: number, rxBytes: number) {
    super(stream, hooks, reopenMs);
    this.timing = rtuTiming(line.baud, line.dataBits ?? 8, line.parity ?? 'even', line.stopBits ?? 1);
    this.timeoutMs = timeoutMs;
    this.rx = new Uint8Array(rxBytes);
  }

  /** Requests waiting (not counting the one in flight). */
  get pending(): number {
    return this.queued;
  }

  /** Put `t` on its queue. */
  protected abstract push(t: T): void;
  /** Take the next request to send (round-robin across devices), or null. */
  protected abstract next(): T | null;
  /**
   * Frame and send `t` (through {@link write}). Returns the performance.now()
   * deadline of its reply, or -1 when nothing is awaited (a broadcast, or a
   * request that could not be framed: then `t` is finished already).
   */
  protected abstract transmit(t: T, now: number): number;
  /** See whether rx[0, rxLength) holds the reply to `t`; if so {@link endActive}, finish `t`, {@link pump}. */
  protected abstract tryComplete(t: T): void;
  /** Call `t`'s callback with `err`. */
  protected abstract finish(t: T, err: LifelineError): void;
  /** DEVICE_TIMEOUT for `t` (the partial-reply note is added here). */
  protected abstract timeoutError(t: T): LifelineError;
  /** Finish every queued request with `err` (the link went down or closed). */
  protected abstract drainQueues(err: LifelineError): void;

  /** Queue `t`, or fail it on the next tick if the link is down or closed. */
  protected accept(t: T): void {
    if (this.state === 'closed' || this.state === 'down') {
      this.failLater(t, this.downError());
      return;
    }
    this.push(t);
    this.queued++;
    if (this.state === 'up') this.pump();
    else this.ensureOpen();
  }

  /** Finish `t` with `err` on the next tick (never inside the caller's submit). */
  protected failLater(t: T, err: LifelineError): void {
    process.nextTick(this.failBound, t, err);
  }

  /** Send the next request if the line is free and has been quiet long enough. */
  protected pump(): void {
    if (this.active !== null || this.waitTimer !== null || this.state !== 'up' || this.queued === 0) return;
    const now = performance.now();
    const ready = this.lastActivity + this.timing.silenceMs + this.extraQuiet;
    if (now < ready) {
      this.waitTimer = setTimeout(this.onWaitBound, ready - now);
      return;
    }
    const t = this.next();
    if (t === null) return;
    this.queued--;
    const deadline = this.transmit(t, now);
    if (deadline < 0) {
      this.pump();
      return;
    }
    this.active = t;
    this.activeTimer = setTimeout(this.onTimeoutBound, deadline - now);
  }

  /** Write `n` bytes of `frame` (copied: the stream may keep it); returns when the last one has left the wire. */
  protected write(frame: Uint8Array, n: number, now: number): number {
    this.stream.write(frame.slice(0, n));
    this.sent++;
    const txEnd = now + n * this.timing.charMs;
    this.lastActivity = txEnd;
    this.extraQuiet = 0;
    this.rxLength = 0;
    return txEnd;
  }

  protected onBytes(chunk: Uint8Array): void {
    const now = performance.now();
    if (now > this.lastActivity) this.lastActivity = now;
    const t = this.active;
    if (t === null) {
      this.discarded += chunk.length;
      return;
    }
    const room = this.rx.length - this.rxLength;
    const take = chunk.length < room ? chunk.length : room;
    this.rx.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.rxLength);
    this.rxLength += take;
    this.discarded += chunk.length - take;
    this.tryComplete(t);
  }

  /** Drop the first `n` bytes of rx. */
  protected shiftRx(n: number): void {
    this.rx.copyWithin(0, n, this.rxLength);
    this.rxLength -= n;
  }

  /** The request in flight is over (answered or refused): the line is owed `gapMs` of extra quiet. */
  protected endActive(gapMs: number): void {
    if (this.activeTimer) clearTimeout(this.activeTimer);
    this.activeTimer = null;
    this.active = null;
    this.extraQuiet = gapMs;
    this.rxLength = 0;
  }

  private onTimeout(): void {
    this.activeTimer = null;
    const t = this.active;
    if (t === null) return;
    this.active = null;
    const got = this.rxLength;
    this.rxLength = 0;
    const err = this.timeoutError(t);
    if (got > 0) (err as { message: string }).message += ` (partial reply: ${got} byte${got === 1 ? '' : 's'})`;
    this.finish(t, err);
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
    if (t !== null) this.finish(t, err);
    this.drainQueues(err);
  }
}
