/**
 * Byte streams under the links, and the open / reopen state machine they share.
 *
 *   idle ──submit──▶ opening ──ok──▶ up ──port gone / socket closed──▶ down ──every reopenMs──▶ opening …
 *                        └──fail──▶ down                                  close() from any state ──▶ closed
 *
 * A serial adapter that is unplugged and plugged back, or a DTU whose 4G
 * connection drops, comes back without anyone restarting the agent.
 */
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import type { LifelineError } from '@lifeline/shared';
import { linkDownError, type LinkHooks } from './link.js';

/** A bidirectional byte pipe that can be opened again after it broke. */
export interface ByteStream {
  /** `serial /dev/ttyUSB0 9600 8E1`, `tcp 10.0.0.5:502`. */
  readonly where: string;
  /**
   * Open it; rejects with the reason. `onClose` is called once if it breaks later.
   * A chunk passed to `onData` may be a view of an array the stream reuses: it
   * is valid during the call only, copy what you keep.
   */
  open(onData: (chunk: Uint8Array) => void, onClose: (reason: string) => void): Promise<void>;
  /** Send bytes (the stream copies or keeps them; callers may not reuse the array). */
  write(bytes: Uint8Array): void;
  /** Close it (no onClose call). */
  close(): Promise<void>;
  /** True when the device behind the stream has certainly gone (a serial device node vanished). */
  isGone?(): boolean;
}

/** Serial line settings. */
export interface SerialSettings {
  /** Device path, e.g. /dev/ttyUSB0 or /dev/serial/by-id/…. */
  path: string;
  /** Baud rate (default 9600). */
  baud?: number;
  /** Parity (default even, the Modbus serial line default). */
  parity?: 'none' | 'even' | 'odd';
  /** Data bits (default 8). */
  dataBits?: 7 | 8;
  /** Stop bits (default 1). */
  stopBits?: 1 | 2;
}

/** `9600 8E1` */
export function serialFormat(s: SerialSettings): string {
  return `${s.baud ?? 9600} ${s.dataBits ?? 8}${(s.parity ?? 'even')[0].toUpperCase()}${s.stopBits ?? 1}`;
}

/** A serial port through serialport (RS-485 adapters, onboard UARTs, ptys). */
export class SerialStream implements ByteStream {
  readonly where: string;
  private port: SerialPort | null = null;

  constructor(readonly settings: SerialSettings) {
    this.where = `serial ${settings.path} ${serialFormat(settings)}`;
  }

  open(onData: (chunk: Uint8Array) => void, onClose: (reason: string) => void): Promise<void> {
    const s = this.settings;
    return new Promise((resolve, reject) => {
      const port = new SerialPort({
        path: s.path,
        baudRate: s.baud ?? 9600,
        parity: s.parity ?? 'even',
        dataBits: s.dataBits ?? 8,
        stopBits: s.stopBits ?? 1,
        autoOpen: false,
        // Never lock: a stale lock left by a crashed agent would keep the port shut.
        lock: false,
      });
      let closed = false;
      const gone = (reason: string) => {
        if (closed) return;
        closed = true;
        if (this.port === port) this.port = null;
        onClose(reason);
      };
      port.open((err) => {
        if (err) return reject(new Error(err.message.replace(/^Error: /, '')));
        this.port = port;
        port.on('data', onData);
        // An unplugged adapter shows up as an error on the next read or write, then close.
        port.on('error', (e: Error) => {
          gone(e.message);
          if (port.isOpen) port.close(() => {});
        });
        port.on('close', (e?: Error & { disconnected?: boolean }) => gone(e?.message ?? 'port closed'));
        resolve();
      });
    });
  }

  write(bytes: Uint8Array): void {
    this.port?.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (!port) return Promise.resolve();
    port.removeAllListeners('close');
    port.removeAllListeners('error');
    port.on('error', () => {});
    return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  }

  isGone(): boolean {
    return !existsSync(this.settings.path);
  }
}

/**
 * Where every socket's bytes land: data is handed on synchronously and copied by
 * whoever keeps it, so one array serves them all and a read allocates no Buffer.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** A TCP connection (Modbus TCP devices, serial servers, DTUs). */
export class SocketStream implements ByteStream {
  readonly where: string;
  private socket: Socket | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly connectTimeoutMs = 3000,
    label = 'tcp',
  ) {
    this.where = `${label} ${host}:${port}`;
  }

  open(onData: (chunk: Uint8Array) => void, onClose: (reason: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      // onread: reads go into READ_BUFFER, past the stream machinery ('data' is not emitted).
      const socket = connect({
        host: this.host,
        port: this.port,
        noDelay: true,
        keepAlive: true,
        keepAliveInitialDelay: 10_000,
        onread: {
          buffer: READ_BUFFER,
          callback: (n: number, buf: Uint8Array) => {
            onData(buf.subarray(0, n));
            return true;
          },
        },
      });
      let connected = false;
      let lastError = 'connection closed';
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        connected = true;
        this.socket = socket;
        resolve();
      });
      socket.on('error', (e: Error) => (lastError = e.message));
      socket.once('close', () => {
        clearTimeout(timer);
        if (this.socket === socket) this.socket = null;
        if (connected) onClose(lastError);
        else reject(new Error(lastError));
      });
    });
  }

  write(bytes: Uint8Array): void {
    this.socket?.write(bytes);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return Promise.resolve();
    socket.removeAllListeners('close');
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}

/**
 * The open/reopen state machine shared by every link. Subclasses frame bytes;
 * this owns when the stream is opened, and tells them when it went up or down.
 */
export abstract class StreamLink {
  /** Where it goes, for messages. */
  readonly where: string;
  protected state: 'idle' | 'opening' | 'up' | 'down' | 'closed' = 'idle';
  /** Why the stream is down, for LINK_DOWN messages. */
  protected downReason = '';
  private reopenTimer: NodeJS.Timeout | null = null;
  private readonly onDataBound = (chunk: Uint8Array) => this.onBytes(chunk);
  private readonly onCloseBound = (reason: string) => this.streamLost(reason);

  constructor(
    protected readonly stream: ByteStream,
    protected readonly hooks: LinkHooks = {},
    /** How often to try reopening a stream that went away. */
    protected readonly reopenMs = 1000,
  ) {
    this.where = stream.where;
  }

  /** Whether the stream is open now. */
  get isUp(): boolean {
    return this.state === 'up';
  }

  /** Bytes arrived. */
  protected abstract onBytes(chunk: Uint8Array): void;
  /** The stream is open: start sending what is queued. */
  protected abstract linkUp(): void;
  /** The stream broke or would not open: fail what is in flight and queued with `err`. */
  protected abstract linkDown(err: LifelineError): void;

  /** Open the stream if nobody has yet (the first request opens it). */
  protected ensureOpen(): void {
    if (this.state === 'idle') this.open();
  }

  private open(): void {
    this.state = 'opening';
    this.stream.open(this.onDataBound, this.onCloseBound).then(
      () => {
        if (this.state !== 'opening') {
          void this.stream.close();
          return;
        }
        this.state = 'up';
        this.downReason = '';
        this.hooks.onUp?.();
        this.linkUp();
      },
      (err: Error) => {
        if (this.state !== 'opening') return;
        this.goDown(`cannot open: ${err.message}`);
      },
    );
  }

  /** The stream reported it broke. */
  private streamLost(reason: string): void {
    if (this.state !== 'up') return;
    this.goDown(`lost: ${reason}`);
  }

  /** Declare the stream gone (e.g. a serial device node vanished) and start reopening. */
  protected dropStream(reason: string): void {
    if (this.state !== 'up') return;
    void this.stream.close();
    this.goDown(`lost: ${reason}`);
  }

  private goDown(reason: string): void {
    const wasUp = this.state === 'up';
    this.state = 'down';
    this.downReason = reason;
    if (wasUp) this.hooks.onDown?.(reason);
    this.linkDown(linkDownError(this.where, reason));
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      if (this.state === 'down') this.open();
    }, this.reopenMs);
  }

  /** A LINK_DOWN error for a request made while the stream is down. */
  protected downError(): LifelineError {
    return linkDownError(this.where, `${this.downReason || 'not open'} (reopening every ${this.reopenMs} ms)`);
  }

  /** Close for good: fail everything, stop reopening. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    this.linkDown(linkDownError(this.where, 'link closed'));
    await this.stream.close();
  }
}
