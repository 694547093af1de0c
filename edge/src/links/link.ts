/**
 * The link contract: one interface over Modbus TCP, Modbus RTU on a serial
 * port and RTU-over-TCP (serial servers, 4G DTUs). A link frames requests,
 * moves bytes and checks replies; it knows nothing of profiles or schedules.
 *
 *   poller ──submit(unit, request, done)──▶ link ──bytes──▶ wire
 *                                            │ (TCP: pipelined by transaction id, bounded window;
 *                                            │  RTU: one request in flight per bus, 3.5-char silence,
 *                                            │  per-device gap, broadcast turnaround, round-robin across units)
 *   done(err, frame, pduStart, pduEnd) ◀─────┘  the reply's PDU, a view valid during the call only
 *
 * The hot path allocates nothing per request: callers pass a request object
 * they keep, the link takes a pooled transaction, and the reply is handed over
 * as a range of the link's receive buffer.
 */
import {
  ErrorCodes,
  LifelineError,
  isLifelineError,
} from '@lifeline/shared';
import { describeFunction, parseResponsePdu, type ModbusRequest, type ModbusResponse } from '@lifeline/shared/protocols';

/** The kinds of link a bus can have. */
export type LinkKind = 'tcp' | 'rtu' | 'rtu-over-tcp';

/**
 * Called exactly once per submitted request. On success `frame[pduStart, pduEnd)`
 * is the reply PDU (function code first), already checked to answer the
 * request (unit, function, byte count; CRC on RTU). The bytes belong to the
 * link and are only valid during the call: copy what you keep.
 */
export type FrameDone = (err: LifelineError | null, frame: Uint8Array, pduStart: number, pduEnd: number) => void;

/** A Modbus master's link to one bus. */
export interface ModbusLink {
  /** tcp, rtu or rtu-over-tcp. */
  readonly kind: LinkKind;
  /** Where it goes, for messages: `tcp 10.0.0.5:502`, `serial /dev/ttyUSB0 9600 8E1`. */
  readonly where: string;
  /** Whether the port or connection is open now. */
  readonly isUp: boolean;
  /**
   * Queue one request. `req` must stay unchanged until `done` is called (a
   * poller keeps one request object per read block). `timeoutMs` overrides the
   * link's reply timeout for this request. On RTU links unit 0 is a broadcast:
   * nothing is awaited, `done` gets an empty PDU once it is written, and the
   * bus stays quiet for the broadcast turnaround delay.
   */
  submit(unit: number, req: ModbusRequest, done: FrameDone, timeoutMs?: number): void;
  /**
   * Fail the requests queued (not yet sent) for `unit` with `err`: when a
   * device has stopped answering, its other reads of the same poll would only
   * hold the bus for another timeout each.
   */
  drop(unit: number, err: LifelineError): void;
  /** Fail everything queued with LINK_DOWN and close the port or socket; no reopening after this. */
  close(): Promise<void>;
}

/** What a link tells its owner about the port or connection. */
export interface LinkHooks {
  /** The port opened or the connection was made (also after a reopen). */
  onUp?: () => void;
  /** The port or connection went away; the link keeps trying to reopen it. */
  onDown?: (reason: string) => void;
}

/** One queued or in-flight request. Pooled: never kept by callers. */
export class Txn {
  unit = 0;
  req: ModbusRequest = NO_REQUEST;
  done: FrameDone = noop;
  timeoutMs = 0;
  /** performance.now() after which the request has timed out. */
  deadline = 0;
  /** MBAP transaction id (TCP). */
  txId = 0;
  /** Unit of a whole, valid reply that came from another unit while this one waited (-1: none): named by the timeout. */
  strayUnit = -1;
  /** Next in a queue. */
  next: Txn | null = null;
}

const NO_REQUEST: ModbusRequest = { functionCode: 3, address: 0, quantity: 1 };
const noop: FrameDone = () => {};
const EMPTY = new Uint8Array(0);

/** Free list of transactions: a steady poller allocates none after warm-up. */
export class TxnPool {
  private readonly free: Txn[] = [];
  get(unit: number, req: ModbusRequest, done: FrameDone, timeoutMs: number): Txn {
    const t = this.free.pop() ?? new Txn();
    t.unit = unit;
    t.req = req;
    t.done = done;
    t.timeoutMs = timeoutMs;
    t.strayUnit = -1;
    t.next = null;
    return t;
  }
  /** Return `t` to the pool and call its done (the pool gets it back first, so done may submit again). */
  finish(t: Txn, err: LifelineError | null, frame: Uint8Array = EMPTY, pduStart = 0, pduEnd = 0): void {
    const done = t.done;
    t.done = noop;
    t.req = NO_REQUEST;
    t.next = null;
    this.free.push(t);
    try {
      done(err, frame, pduStart, pduEnd);
    } catch {
      // A caller's callback must not break the link's receive loop; callers log their own failures.
    }
  }
}

/** A FIFO of transactions linked through `next` (no array shifting). */
export class TxnQueue {
  head: Txn | null = null;
  tail: Txn | null = null;
  length = 0;
  push(t: Txn): void {
    t.next = null;
    if (this.tail) this.tail.next = t;
    else this.head = t;
    this.tail = t;
    this.length++;
  }
  shift(): Txn | null {
    const t = this.head;
    if (!t) return null;
    this.head = t.next;
    if (!this.head) this.tail = null;
    t.next = null;
    this.length--;
    return t;
  }
}

/** `read holding registers 100..109` / `write single coil 5`, for messages. */
export function describeRequest(req: ModbusRequest): string {
  const name = describeFunction(req.functionCode).replace(/^0x.. \(|\)$/g, '');
  if (req.functionCode === 43) return `${name} from object ${req.objectId}`;
  if ('quantity' in req) return `${name} ${req.address}..${req.address + req.quantity - 1}`;
  if ('values' in req) return `${name} ${req.address}..${req.address + req.values.length - 1}`;
  return `${name} ${req.address}`;
}

/** DEVICE_TIMEOUT: the unit did not answer in time. */
export function timeoutError(where: string, unit: number, req: ModbusRequest, ms: number, strayUnit = -1): LifelineError {
  // A device set to another unit id answers, just not as the unit asked: say which one it was.
  const stray = strayUnit >= 0 ? `; a valid reply from unit ${strayUnit} came instead (is the device set to unit ${strayUnit}? or it was that unit's late reply)` : '';
  return new LifelineError(ErrorCodes.DeviceTimeout, `unit ${unit} ${describeRequest(req)}: no reply within ${Math.round(ms)} ms on ${where}${stray}`, {
    details: { unitId: unit, where, timeoutMs: ms, ...(strayUnit >= 0 ? { strayUnit } : {}) },
  });
}

/** LINK_DOWN: the port or connection is not there. */
export function linkDownError(where: string, reason: string, cause?: unknown): LifelineError {
  return new LifelineError(ErrorCodes.LinkDown, `${where}: ${reason}`, { cause, details: { where } });
}

/** Prefix a codec error with where it happened, keeping its code and details. */
export function atLink(err: unknown, where: string, unit: number, req: ModbusRequest): LifelineError {
  if (isLifelineError(err)) {
    const msg = err.message.replace(/^[A-Z_]+: /, '');
    return new LifelineError(err.code, `unit ${unit} ${describeRequest(req)} on ${where}: ${msg}`, { cause: err, details: err.details });
  }
  return linkDownError(where, (err as Error)?.message ?? String(err), err);
}

/**
 * Whether the reply PDU in buf[start, end) answers a read request with the
 * right byte count (the hot-path check; anything else goes through the full
 * parser for an exact error).
 */
export function isPlainReadReply(buf: Uint8Array, start: number, end: number, req: ModbusRequest): boolean {
  const fc = req.functionCode;
  if (fc > 4 || buf[start] !== fc) return false;
  const q = (req as { quantity: number }).quantity;
  const want = fc <= 2 ? (q + 7) >> 3 : 2 * q;
  return buf[start + 1] === want && end - start === 2 + want;
}

/**
 * Check a reply PDU against its request: plain reads pass at once; anything
 * else (writes, exceptions, mismatches) goes through the codec, which throws
 * DEVICE_EXCEPTION or FRAME_INVALID saying exactly what is wrong.
 */
export function checkReplyPdu(buf: Uint8Array, start: number, end: number, unit: number, txId: number | undefined, req: ModbusRequest): void {
  if (isPlainReadReply(buf, start, end, req)) return;
  parseResponsePdu(buf, start, end, unit, txId, req);
}

/**
 * Send one request and wait for its parsed reply (commands, writes, tests);
 * null for an RTU broadcast. Rejects with DEVICE_TIMEOUT, DEVICE_EXCEPTION, FRAME_INVALID or LINK_DOWN.
 */
export function request(link: ModbusLink, unit: number, req: ModbusRequest, timeoutMs?: number): Promise<ModbusResponse | null> {
  return new Promise((resolve, reject) => {
    link.submit(
      unit,
      req,
      (err, frame, s, e) => {
        if (err) return reject(err);
        if (e <= s) return resolve(null); // an RTU broadcast: no reply
        // The frame is the link's buffer: parse into a copy.
        const copy = frame.slice(s, e);
        resolve(parseResponsePdu(copy, 0, copy.length, unit, undefined, req));
      },
      timeoutMs,
    );
  });
}

/** Registers of a read reply PDU (FC3/FC4) as numbers, written into `out` from `at`. */
export function copyRegisters(frame: Uint8Array, pduStart: number, count: number, out: Uint16Array | number[], at = 0): void {
  let p = pduStart + 2;
  for (let i = 0; i < count; i++, p += 2) out[at + i] = (frame[p] << 8) | frame[p + 1];
}

/** Bits of a read reply PDU (FC1/FC2) as 0/1, written into `out` from `at`. */
export function copyBits(frame: Uint8Array, pduStart: number, count: number, out: Uint16Array | number[], at = 0): void {
  const d = pduStart + 2;
  for (let i = 0; i < count; i++) out[at + i] = (frame[d + (i >> 3)] >> (i & 7)) & 1;
}
