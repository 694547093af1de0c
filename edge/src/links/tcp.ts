/**
 * Modbus TCP link: requests pipelined by transaction id, at most `window` in
 * flight, replies matched by transaction id in any order.
 *
 *   submit ─▶ queue ─(window free)─▶ slot[txId & mask] ─encode─▶ staging ─(one write per tick)─▶ socket
 *   socket chunks ─▶ MbapFrameExtractor ─(ranges, no copy)─▶ slot[txId & mask] ─check─▶ done(frame range)
 *
 * Timeouts: one entry per link on the process's coarse clock (clock.ts), due at
 * the earliest deadline in flight and only while something is in flight, so
 * the timeout checks of many links share the pollers' timer ticks. A timeout
 * is reported up to one tick (50 ms) after its deadline; timeouts shorter than
 * ten ticks are checked at their deadline. A reply that arrives
 * after its request timed out finds its slot reused under another transaction
 * id and is dropped.
 */
import type { LifelineError } from '@lifeline/shared';
import { MbapFrameExtractor, encodeTcpRequest, MBAP_LENGTH, TCP_MAX_FRAME, parseTcpResponse, type ModbusRequest } from '@lifeline/shared/protocols';
import { atLink, isPlainReadReply, timeoutError, TxnPool, TxnQueue, type FrameDone, type LinkHooks, type ModbusLink, type Txn } from './link.js';
import { SocketStream, StreamLink, type ByteStream } from './stream.js';
import { ClockEntry, sharedClock, type TickClock } from './clock.js';

/** Options of a Modbus TCP link. */
export interface TcpLinkOptions {
  host: string;
  port: number;
  /** Reply timeout per request, ms (default 1000). */
  timeoutMs?: number;
  /** Requests in flight at once (default 8; 1 for gateways that cannot queue). */
  window?: number;
  /** How often to try reconnecting after the connection went away, ms (default 1000). */
  reopenMs?: number;
  hooks?: LinkHooks;
  /** Replace the socket (tests). */
  stream?: ByteStream;
  /** The clock timeouts are checked on (default: the process's shared clock). */
  clock?: TickClock;
}

/** A Modbus TCP master on one connection. */
export class ModbusTcpLink extends StreamLink implements ModbusLink {
  readonly kind = 'tcp' as const;
  readonly timeoutMs: number;
  readonly window: number;
  private readonly pool = new TxnPool();
  private readonly queue = new TxnQueue();
  private readonly slots: (Txn | null)[];
  private readonly mask: number;
  private inFlight = 0;
  private seq = 0;
  private readonly extractor = new MbapFrameExtractor();
  private readonly staging: Uint8Array;
  private stagedLength = 0;
  private flushQueued = false;
  private readonly clock: TickClock;
  /** The timeout check, due at the earliest deadline in flight. */
  private readonly timeoutEntry = new ClockEntry(() => this.onTimer());
  private readonly flushBound = () => this.flush();
  private readonly onFrameBound = (buf: Uint8Array, start: number, end: number, txId: number) => this.onFrame(buf, start, end, txId);
  /** Replies dropped because their request had timed out (or never existed). */
  stray = 0;

  constructor(opts: TcpLinkOptions) {
    const timeoutMs = opts.timeoutMs ?? 1000;
    super(opts.stream ?? new SocketStream(opts.host, opts.port, Math.max(1000, timeoutMs)), opts.hooks, opts.reopenMs ?? 1000);
    this.timeoutMs = timeoutMs;
    this.clock = opts.clock ?? sharedClock;
    this.window = Math.max(1, Math.min(opts.window ?? 8, 256));
    let size = 1;
    while (size < this.window) size <<= 1;
    this.slots = new Array<Txn | null>(size).fill(null);
    this.mask = size - 1;
    this.staging = new Uint8Array(size * TCP_MAX_FRAME);
  }

  submit(unit: number, req: ModbusRequest, done: FrameDone, timeoutMs = this.timeoutMs): void {
    const t = this.pool.get(unit, req, done, timeoutMs);
    if (this.state === 'closed' || this.state === 'down') {
      process.nextTick(failLater, this.pool, t, this.downError());
      return;
    }
    if (this.state !== 'up' || this.inFlight >= this.window || this.queue.length > 0) {
      this.queue.push(t);
      this.ensureOpen();
      return;
    }
    this.send(t);
  }

  drop(unit: number, err: LifelineError): void {
    // Requests of one unit are in flight together on TCP (their timeouts overlap); drop only those still queued.
    const keep = new TxnQueue();
    for (let t = this.queue.shift(); t; t = this.queue.shift()) {
      if (t.unit === unit) process.nextTick(failLater, this.pool, t, err);
      else keep.push(t);
    }
    for (let t = keep.shift(); t; t = keep.shift()) this.queue.push(t);
  }

  private send(t: Txn): void {
    let txId = this.seq & 0xffff;
    while (this.slots[txId & this.mask] !== null) txId = ++this.seq & 0xffff;
    this.seq++;
    let end: number;
    try {
      end = encodeTcpRequest(this.staging, this.stagedLength, txId, t.unit, t.req);
    } catch (err) {
      // A request the codec refuses (bad address, quantity) never reaches the wire.
      process.nextTick(failLater, this.pool, t, atLink(err, this.where, t.unit, t.req));
      return;
    }
    this.stagedLength = end;
    t.txId = txId;
    t.deadline = performance.now() + t.timeoutMs;
    this.slots[txId & this.mask] = t;
    this.inFlight++;
    const e = this.timeoutEntry;
    if (!e.scheduled || t.deadline < e.due) this.clock.schedule(e, t.deadline, this.clock.wantsExact(t.timeoutMs));
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushBound);
    }
  }

  /** One socket write for every request framed in this tick. */
  private flush(): void {
    this.flushQueued = false;
    const n = this.stagedLength;
    if (n === 0) return;
    this.stagedLength = 0;
    const out = Buffer.allocUnsafe(n);
    out.set(this.staging.subarray(0, n));
    this.stream.write(out);
  }

  private pump(): void {
    while (this.state === 'up' && this.inFlight < this.window && this.queue.length > 0) this.send(this.queue.shift()!);
  }

  protected onBytes(chunk: Uint8Array): void {
    try {
      this.extractor.push(chunk, this.onFrameBound);
    } catch (err) {
      // Not Modbus: the stream is out of step. Reset the connection.
      this.dropStream((err as Error).message);
    }
  }

  private onFrame(buf: Uint8Array, start: number, end: number, txId: number): void {
    const slot = txId & this.mask;
    const t = this.slots[slot];
    if (t === null || t.txId !== txId) {
      this.stray++;
      return;
    }
    this.slots[slot] = null;
    this.inFlight--;
    const pduStart = start + MBAP_LENGTH;
    if (buf[start + 6] === t.unit && isPlainReadReply(buf, pduStart, end, t.req)) {
      this.pump();
      this.pool.finish(t, null, buf, pduStart, end);
      return;
    }
    let err: LifelineError | null = null;
    try {
      parseTcpResponse(buf, { transactionId: txId, unitId: t.unit, request: t.req }, start, end);
    } catch (e) {
      err = atLink(e, this.where, t.unit, t.req);
    }
    this.pump();
    this.pool.finish(t, err, buf, pduStart, end);
  }

  private onTimer(): void {
    const now = performance.now();
    let next = Infinity;
    for (let i = 0; i < this.slots.length; i++) {
      const t = this.slots[i];
      if (t === null) continue;
      if (t.deadline <= now) {
        this.slots[i] = null;
        this.inFlight--;
        this.pool.finish(t, timeoutError(this.where, t.unit, t.req, t.timeoutMs));
      } else if (t.deadline < next) next = t.deadline;
    }
    if (next !== Infinity && !this.timeoutEntry.scheduled) this.clock.schedule(this.timeoutEntry, next, this.clock.wantsExact(this.timeoutMs));
    this.pump();
  }

  protected linkUp(): void {
    this.extractor.reset();
    this.pump();
  }

  protected linkDown(err: LifelineError): void {
    this.extractor.reset();
    this.stagedLength = 0;
    this.clock.cancel(this.timeoutEntry);
    for (let i = 0; i < this.slots.length; i++) {
      const t = this.slots[i];
      if (t === null) continue;
      this.slots[i] = null;
      this.pool.finish(t, err);
    }
    this.inFlight = 0;
    for (let t = this.queue.shift(); t; t = this.queue.shift()) this.pool.finish(t, err);
  }
}

function failLater(pool: TxnPool, t: Txn, err: LifelineError): void {
  pool.finish(t, err);
}
