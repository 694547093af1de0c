/**
 * Serial bus simulator: the slaves of one RS-485 bus behind a pty, with byte
 * timing faithful to the baud rate.
 *
 *   gateway ──opens──▶ <path> (pty slave) ═ socat ═ stdio pipes ═▶ SerialLine
 *                                                                    │ frames by length (RTU, DL/T 645, CJ/T 188)
 *                                                                    ▼
 *                            reply paced byte by byte ◀── turnaround ◀── device (+ behaviours)
 *
 * A pty has no baud rate: the gateway's bytes arrive at once. The line keeps
 * the wire's time itself: a request of n bytes ends n × charTime after its
 * first byte arrived; the reply starts a turnaround later and its bytes are
 * released one character time apart (11 bits per byte at 8E1), so a master
 * sees the timing of a real bus. A request that arrives while a reply is due
 * or on the line collides and is lost, as on RS-485; one that starts sooner
 * than 3.5 characters after the last reply is counted as a silence violation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { cjt188FrameLength, crc16, dlt645FrameLength, rtuRequestLength, rtuTiming, writeCrc } from '@lifeline/shared/protocols';
import type { SimulatedDevice } from './device.js';
import { serveCjt188Frame, serveDlt645Frame, type MeterAnswer } from './meter-slave.js';
import { DISCONNECT, newSimRequest, serveModbusPdu } from './modbus-slave.js';

/** Serial settings of a simulated bus. */
export interface SerialLineOptions {
  /** The slaves on the bus: all Modbus, all DL/T 645 or all CJ/T 188. */
  devices: SimulatedDevice[];
  /** Baud rate (default: the first device profile's, else 9600). */
  baud?: number;
  /** Parity (default: the profile's, else even: 8E1 is the Modbus RTU default). */
  parity?: 'none' | 'even' | 'odd';
  /** Data bits (default 8). */
  dataBits?: 7 | 8;
  /** Stop bits (default 1). */
  stopBits?: 1 | 2;
  /** Time from the end of a request to the first reply byte, ms (default: the profile's turnaroundMs, else 5). */
  turnaroundMs?: number;
}

/** What the line counted. */
export interface SerialLineStats {
  /** Complete, well-formed requests received. */
  requests: number;
  /** Replies sent. */
  replies: number;
  /** Requests lost because the line was busy with a reply. */
  collisions: number;
  /** Frames dropped: bad CRC / checksum, or a partial frame that stalled. */
  badFrames: number;
  /** Requests that started sooner than 3.5 characters after the previous reply ended. */
  silenceViolations: number;
  /** Bytes the master sent and the slaves sent. */
  bytesIn: number;
  bytesOut: number;
  /** Time the slaves' replies occupied the line, ms. */
  replyLineMs: number;
}

/** Which framing a bus speaks, from its devices. */
export type SerialProtocol = 'modbus' | 'dlt645' | 'cjt188';

/** The byte-timed slave side of one bus, independent of the transport that carries its bytes. */
export class SerialLine {
  readonly protocol: SerialProtocol;
  readonly baud: number;
  /** Parity of the line. */
  readonly parity: 'none' | 'even' | 'odd';
  /** Time of one character on the wire, ms. */
  readonly charMs: number;
  /** Inter-frame silence, ms. */
  readonly silenceMs: number;
  readonly stats: SerialLineStats = {
    requests: 0,
    replies: 0,
    collisions: 0,
    badFrames: 0,
    silenceViolations: 0,
    bytesIn: 0,
    bytesOut: 0,
    replyLineMs: 0,
  };
  /** Called when a device's disconnect fault fires. */
  onDisconnect?: () => void;

  private readonly units: (SimulatedDevice | undefined)[] = new Array(256);
  private readonly turnaroundMs: number;
  private rx = Buffer.alloc(1024);
  private rxLen = 0;
  /** When the first byte of the frame being received arrived (performance.now). */
  private rxStart = 0;
  private rxTimer?: NodeJS.Timeout;
  /** A reply waiting for its turn or on the line. */
  private tx?: { bytes: Uint8Array; start: number; sent: number };
  private txTimer?: NodeJS.Timeout;
  /** When the line last fell silent after a reply (performance.now). */
  private lineFreeAt = -Infinity;
  private readonly req = newSimRequest();
  private closed = false;

  constructor(
    readonly options: SerialLineOptions,
    private readonly send: (bytes: Buffer) => void,
  ) {
    const devices = options.devices;
    if (devices.length === 0) throw new Error('a serial bus needs at least one device');
    const protocols = new Set(devices.map((d) => d.profile.protocol));
    if (protocols.size > 1) throw new Error(`one bus speaks one protocol, got ${[...protocols].join(' and ')}`);
    const protocol = devices[0].profile.protocol;
    // SL 651 stations are not polled on a serial line: they report over TCP (Sl651Station).
    if (protocol === 'sl651') throw new Error('SL 651 stations report over TCP (simulator Sl651Station), not on a polled serial line');
    this.protocol = protocol;
    for (const d of devices) {
      if (this.protocol === 'modbus') {
        if (d.unit < 1 || d.unit > 247) throw new Error(`Modbus unit ${d.unit} is outside 1..247`);
        if (this.units[d.unit]) throw new Error(`two devices with unit ${d.unit} on one bus`);
        this.units[d.unit] = d;
      }
    }
    const serial = devices[0].profile.serial;
    this.baud = options.baud ?? serial?.baud ?? 9600;
    const parity = (this.parity = options.parity ?? serial?.parity ?? 'even');
    const timing = rtuTiming(this.baud, options.dataBits ?? ((serial?.dataBits ?? 8) as 7 | 8), parity, options.stopBits ?? ((serial?.stopBits ?? 1) as 1 | 2));
    this.charMs = timing.charMs;
    this.silenceMs = timing.silenceMs;
    this.turnaroundMs = options.turnaroundMs ?? devices[0].profile.turnaroundMs ?? 5;
  }

  /** Bytes from the master. */
  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    const now = performance.now();
    this.stats.bytesIn += chunk.length;
    if (this.tx) {
      // The slave is talking (or about to): on RS-485 both transmissions garble.
      if (this.rxLen === 0) this.stats.collisions++;
      return;
    }
    if (this.rxLen === 0) {
      this.rxStart = now;
      if (now - this.lineFreeAt < this.silenceMs) this.stats.silenceViolations++;
    }
    if (this.rxLen + chunk.length > this.rx.length) {
      // Longer than any frame: garbage. Keep the tail only.
      this.stats.badFrames++;
      this.rxLen = 0;
      if (chunk.length > this.rx.length) return;
    }
    this.rx.set(chunk, this.rxLen);
    this.rxLen += chunk.length;
    this.extract();
  }

  /** Cut complete frames off the receive buffer and answer them. */
  private extract(): void {
    clearTimeout(this.rxTimer);
    while (this.rxLen > 0 && !this.tx) {
      const want = this.frameLength();
      if (want < 0) {
        this.shift(1); // not a frame start: resynchronise
        continue;
      }
      if (want === 0 || this.rxLen < want) break;
      const frame = Uint8Array.from(this.rx.subarray(0, want));
      const started = this.rxStart;
      this.shift(want);
      this.answer(frame, started);
    }
    if (this.rxLen > 0 && !this.tx) {
      // A partial frame: wait for the rest, but not forever (a slave's UART resets after a silence).
      const ms = Math.max(20, 8 * this.silenceMs);
      this.rxTimer = setTimeout(() => {
        if (this.protocol === 'modbus' && rtuRequestLength(this.rx, this.rxLen) === -1) {
          // Unknown function code: the silence delimits the frame.
          const frame = Uint8Array.from(this.rx.subarray(0, this.rxLen));
          this.rxLen = 0;
          this.answer(frame, this.rxStart);
        } else {
          this.stats.badFrames++;
          this.rxLen = 0;
        }
      }, ms);
    }
  }

  /** Length of the frame at the head of rx: >0 complete size, 0 need more, -1 not a frame start. */
  private frameLength(): number {
    const rx = this.rx;
    if (this.protocol === 'modbus') {
      const n = rtuRequestLength(rx, this.rxLen);
      return n === -1 ? 0 : n; // unknown function codes are cut by silence (rxTimer)
    }
    if (rx[0] !== 0xfe && rx[0] !== 0x68) return -1;
    return this.protocol === 'dlt645' ? dlt645FrameLength(rx, this.rxLen) : cjt188FrameLength(rx, this.rxLen);
  }

  private shift(n: number): void {
    this.rx.copy(this.rx, 0, n, this.rxLen);
    this.rxLen -= n;
    if (this.rxLen > 0) this.rxStart = performance.now();
  }

  /** Answer one complete request that started arriving at `started`. */
  private answer(frame: Uint8Array, started: number): void {
    const requestEnd = started + frame.length * this.charMs;
    if (this.protocol === 'modbus') {
      if (frame.length < 4 || crc16(frame, 0, frame.length - 2) !== (frame[frame.length - 2] | (frame[frame.length - 1] << 8))) {
        this.stats.badFrames++;
        return;
      }
      this.stats.requests++;
      const unit = frame[0];
      if (unit === 0) {
        // Broadcast: every slave acts, none answers.
        for (const d of this.options.devices) serveModbusPdu(d, frame, 1, frame.length - 2, Buffer.allocUnsafe(256), 0, newSimRequest());
        return;
      }
      const dev = this.units[unit];
      if (!dev) return;
      const out = Buffer.allocUnsafe(256);
      out[0] = unit;
      const pduEnd = serveModbusPdu(dev, frame, 1, frame.length - 2, out, 1, this.req);
      if (pduEnd === DISCONNECT) return this.onDisconnect?.();
      if (pduEnd < 0) return;
      const end = writeCrc(out, 0, pduEnd);
      dev.transformReply(out, 0, end, 'rtu');
      const extra = dev.behaviours.length ? dev.delayFor(this.req) : 0;
      this.transmit(out.subarray(0, end), requestEnd + this.turnaroundMs + extra);
      return;
    }
    this.stats.requests++;
    const a: MeterAnswer = this.protocol === 'dlt645' ? serveDlt645Frame(this.options.devices, frame) : serveCjt188Frame(this.options.devices, frame);
    if (a.kind === 'disconnect') return this.onDisconnect?.();
    if (a.kind === 'silent') return;
    const extra = a.dev.behaviours.length ? a.dev.delayFor({ protocol: this.protocol, functionCode: 0, table: undefined, address: 0, quantity: 0 }) : 0;
    this.transmit(a.bytes, requestEnd + this.turnaroundMs + extra);
  }

  /** Put a reply on the line from `start` (performance.now), one character time per byte. */
  private transmit(bytes: Uint8Array, start: number): void {
    this.tx = { bytes, start: Math.max(start, performance.now()), sent: 0 };
    this.pump();
  }

  private pump(): void {
    const tx = this.tx;
    if (!tx || this.closed) return;
    const now = performance.now();
    // A byte is at the receiver when its last bit is: byte i at start + (i + 1) × charTime.
    const due = Math.min(tx.bytes.length, Math.floor((now - tx.start) / this.charMs + 1e-9));
    if (due > tx.sent) {
      this.send(Buffer.from(tx.bytes.subarray(tx.sent, due)));
      this.stats.bytesOut += due - tx.sent;
      tx.sent = due;
    }
    if (tx.sent < tx.bytes.length) {
      const next = tx.start + (tx.sent + 1) * this.charMs;
      this.txTimer = setTimeout(() => this.pump(), Math.max(0, next - now));
      return;
    }
    this.lineFreeAt = tx.start + tx.bytes.length * this.charMs;
    this.stats.replies++;
    this.stats.replyLineMs += tx.bytes.length * this.charMs;
    this.tx = undefined;
    // Bytes that came in while we talked were lost to the collision; start clean.
    this.rxLen = 0;
  }

  /** Forget any frame in progress and any reply not yet sent (the port went away). */
  reset(): void {
    clearTimeout(this.rxTimer);
    clearTimeout(this.txTimer);
    this.rxLen = 0;
    this.tx = undefined;
  }

  /** Stop all timers. */
  close(): void {
    this.closed = true;
    this.reset();
  }
}

/**
 * Remove a pty link left at `path` (by us, or a killed run). Anything else
 * there (a real /dev/ttyUSB0, a file) is refused, never deleted.
 */
function removeOwnLink(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there
  }
  const target = st.isSymbolicLink() ? readlinkSync(path) : '';
  if (!target.startsWith('/dev/pts/')) {
    throw new Error(`${path} exists and is not a pty link (it points to ${target || 'no pty'}); choose another --pty path`);
  }
  unlinkSync(path);
}

/** A running pty simulator. */
export interface PtySimulator {
  /** The path the gateway opens (a symlink to the pty). */
  readonly path: string;
  /** The bus. */
  readonly line: SerialLine;
  /** Its devices. */
  readonly devices: readonly SimulatedDevice[];
  /** Whether the pty exists now (false during a disconnect fault). */
  readonly connected: () => boolean;
  /** Remove the pty and stop. */
  close(): Promise<void>;
}

/**
 * Serve the devices of one bus on a pty at `path` (socat creates it and
 * removes it when stopped). A `disconnect` fault removes the pty, as when a
 * USB adapter is unplugged, and brings it back under the same path when the
 * fault ends.
 */
export async function startPtySimulator(opts: SerialLineOptions & { path: string }): Promise<PtySimulator> {
  let proc: ChildProcess | undefined;
  let closed = false;
  const line = new SerialLine(opts, (bytes) => proc?.stdin?.write(bytes));

  const open = async (): Promise<void> => {
    removeOwnLink(opts.path);
    const p = spawn('socat', [`pty,raw,echo=0,link=${opts.path}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc = p;
    let stderr = '';
    let exited: string | undefined;
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout!.on('data', (d: Buffer) => line.receive(d));
    p.stdin!.on('error', () => {}); // the pipe breaks when socat is stopped; the line goes quiet
    p.on('error', (e) => (exited = e.message));
    p.on('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
    const deadline = Date.now() + 5000;
    while (!existsSync(opts.path)) {
      if (exited !== undefined) throw new Error(`socat could not create the pty ${opts.path}: ${exited}${stderr ? `: ${stderr.trim()}` : ''} (is socat installed? apt-get install socat)`);
      if (Date.now() > deadline) {
        p.kill();
        throw new Error(`socat did not create ${opts.path} within 5 s${stderr ? `: ${stderr.trim()}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    line.reset();
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    }
    removeOwnLink(opts.path);
  };

  let reopening = false;
  const disconnect = (): void => {
    if (reopening || closed) return;
    reopening = true;
    void (async () => {
      await stop();
      // The fault ends when the device drops it (after its forMs) or a test clears it.
      while (!closed && opts.devices.some((d) => d.behaviour('disconnect'))) await new Promise((r) => setTimeout(r, 20));
      if (!closed) await open();
      reopening = false;
    })();
  };
  line.onDisconnect = disconnect;
  const unwatch = opts.devices.map((d) =>
    d.watch((b) => {
      if (b.kind === 'disconnect') disconnect();
    }),
  );

  await open();
  return {
    path: opts.path,
    line,
    devices: opts.devices,
    connected: () => proc !== undefined && existsSync(opts.path),
    close: async () => {
      closed = true;
      for (const u of unwatch) u();
      line.close();
      await stop();
    },
  };
}

/** A running transparent serial server: the bus's bytes over TCP. */
export interface SerialServerSimulator {
  readonly host: string;
  readonly port: number;
  /** The bus of the current connection (a serial server has one master at a time); undefined before the first. */
  readonly line: () => SerialLine | undefined;
  /** Replies sent over all connections so far. */
  readonly replies: () => number;
  /** Stop listening and cut the connections. */
  close(): Promise<void>;
}

/**
 * Serve the devices of one serial bus through a transparent serial server (a
 * 4G DTU, a serial device server): TCP bytes in and out of the byte-timed bus,
 * no framing added. Meters and RTU devices alike; each connection gets a fresh
 * line, the devices keep their state.
 */
export async function startSerialServerSimulator(opts: SerialLineOptions & { port?: number; host?: string }): Promise<SerialServerSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  let line: SerialLine | undefined;
  let earlier = 0;
  const server = createServer((socket) => {
    if (line) earlier += line.stats.replies;
    line?.close();
    for (const s of sockets) s.destroy(); // one master at a time, as a real serial server
    sockets.add(socket);
    const own = new SerialLine(opts, (bytes) => socket.write(bytes));
    line = own;
    socket.on('data', (d) => own.receive(d));
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    line: () => line,
    replies: () => earlier + (line?.stats.replies ?? 0),
    close: () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      line?.close();
      return closed;
    },
  };
}
