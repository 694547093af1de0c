/** Helpers of the simulator tests: a bare Modbus TCP client over a socket, a pty client. */
import { openSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { ReadStream } from 'node:tty';
import { MbapFrameExtractor, buildTcpRequest, type ModbusRequest } from '@lifeline/shared/protocols';

/** A minimal pipelining Modbus TCP client: send frames, collect reply frames by transaction id. */
export class RawTcpClient {
  private readonly replies = new Map<number, Uint8Array>();
  private readonly waiters: (() => void)[] = [];
  private readonly extractor = new MbapFrameExtractor();
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.extractor.push(chunk, (buf, start, end, tx) => this.replies.set(tx, buf.slice(start, end)));
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawTcpClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new RawTcpClient(s)));
      s.once('error', reject);
    });
  }

  /** Send requests in one write; tx ids from `firstTx`. */
  send(unit: number, reqs: ModbusRequest[], firstTx = 1): void {
    this.socket.write(Buffer.concat(reqs.map((r, i) => buildTcpRequest((firstTx + i) & 0xffff, unit, r))));
  }

  /** The reply to tx id, waiting up to `ms`; undefined on timeout or close. */
  async reply(tx: number, ms = 1000): Promise<Uint8Array | undefined> {
    const deadline = Date.now() + ms;
    while (!this.replies.has(tx) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, Math.max(1, deadline - Date.now()));
      });
    }
    const r = this.replies.get(tx);
    this.replies.delete(tx);
    return r;
  }

  /** Replies received and not yet taken. */
  get count(): number {
    return this.replies.size;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A client on a pty: write bytes, collect what comes back with arrival times. */
export class PtyClient {
  readonly chunks: { at: number; bytes: Buffer }[] = [];
  private readonly fd: number;
  private readonly stream: ReadStream;
  constructor(path: string) {
    this.fd = openSync(path, 'r+');
    this.stream = new ReadStream(this.fd);
    this.stream.on('data', (d: Buffer | string) => this.chunks.push({ at: performance.now(), bytes: Buffer.from(d as Buffer) }));
    this.stream.on('error', () => {});
  }
  write(bytes: Uint8Array): number {
    this.chunks.length = 0;
    writeSync(this.fd, bytes);
    return performance.now();
  }
  /** All bytes received since the last write. */
  received(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.bytes));
  }
  /** Wait until `n` bytes arrived (or `ms` passed); returns them. */
  async read(n: number, ms = 2000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.received().length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    return this.received();
  }
  close(): void {
    // Destroying the stream closes the fd (libuv owns it now).
    this.stream.destroy();
  }
}
