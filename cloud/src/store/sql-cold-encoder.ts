/**
 * Block encoding off the event loop: a series-day's hot columns merged into its old block and encoded
 * (the same functions as ColdWriter, so the bytes are the same) on one worker thread, while the main
 * thread reads and deletes the next series-day in SQLite (issue #19: encoding was 40 % of SQLite's
 * compaction CPU, all on the thread that also serves ingest and the API).
 *
 *   ColdEncoder.encode(hot, old block) ─▶ worker (sql-cold-encode-worker.ts): decode old ─▶ merge ─▶ encode ─▶ block
 *                                      └▶ inline (same function) when no worker can be started
 *
 * Jobs are copied to the worker (not transferred): the caller keeps its columns, and a job the worker
 * never answered (it died) is encoded inline instead.
 */
import { Worker } from 'node:worker_threads';
import type { BlockColumns } from '@lifeline/shared';
import { decodeAll, encode, toBytes } from './sql-cold-block.js';
import { mergeColumns } from './sql-cold-write.js';

/** One series-day's block to make: its hot rows and the block already stored, if any. */
export interface EncodeJob {
  hot: BlockColumns;
  old?: Uint8Array;
}

/** A made block and what its row in readings_cold records. */
export interface EncodedBlock {
  data: Uint8Array;
  firstTs: number;
  lastTs: number;
  readings: number;
}

/** Merge and encode one job (what the worker runs; ColdWriter's steps, so the bytes are identical). */
export function encodeJob(job: EncodeJob): EncodedBlock {
  const merged = mergeColumns(job.old ? decodeAll(toBytes(job.old)) : undefined, job.hot);
  const n = merged.ts.length;
  return { data: encode(merged), firstTs: merged.ts[0], lastTs: merged.ts[n - 1], readings: n };
}

/** An encoder thread idle this long ends (the next compaction starts another). */
const IDLE_MS = 30_000;
/** An encoder thread not loaded after this long is given up (jobs encoded inline from then on). */
const READY_MS = 30_000;

type Pending = { job: EncodeJob; resolve: (b: EncodedBlock) => void; reject: (e: Error) => void };

export class ColdEncoder {
  private worker: Worker | undefined;
  private failed = false;
  private ready = false;
  private readyWait: Promise<boolean> = Promise.resolve(false);
  private settle: (ok: boolean) => void = () => undefined;
  private next = 0;
  private idle: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, Pending>();

  /** Encode one job on the worker thread (started on first use), or inline when it cannot run. */
  encode(job: EncodeJob): Promise<EncodedBlock> {
    const w = this.start();
    // Queued while the thread loads (half a second from TypeScript): encoding inline meanwhile would compile the
    // encoder twice, once on each thread, for a few series-days (measured: more CPU in all, under load slower).
    if (!w) return new Promise((resolve) => resolve(encodeJob(job)));
    const id = this.next++;
    clearTimeout(this.idle);
    return new Promise((resolve, reject) => {
      if (!this.pending.size) w.ref(); // a job waits for the thread: the process must not end meanwhile
      this.pending.set(id, { job, resolve, reject });
      w.postMessage({ id, job });
    });
  }

  /** Start the thread now (compaction is about to begin): true once it takes jobs, false when jobs will be encoded inline. */
  warm(): Promise<boolean> {
    if (!this.start()) return Promise.resolve(false);
    return this.readyWait;
  }

  /** Stop the worker (the store closes); jobs still waiting are encoded inline. */
  async close(): Promise<void> {
    const w = this.worker;
    clearTimeout(this.idle);
    this.worker = undefined;
    this.ready = false;
    this.settle(false);
    this.failed = true;
    this.drainInline();
    await w?.terminate();
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    try {
      const url = new URL(`./sql-cold-encode-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
      // From TypeScript sources (tsx, vitest) the worker loads through tsx's API (a worker does not inherit its hooks).
      const w = url.pathname.endsWith('.ts')
        ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`, { eval: true })
        : new Worker(url);
      w.unref();
      w.on('message', (m: { id: number; block?: EncodedBlock; error?: string } | 'ready') => {
        if (m === 'ready') {
          this.ready = true;
          if (!this.pending.size) this.idleStop(w);
          return this.settle(true);
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (!this.pending.size) this.idleStop(w);
        if (m.block) p.resolve(m.block);
        else p.reject(new Error(m.error ?? 'encoder: no block'));
      });
      const dead = () => {
        if (this.worker !== w) return;
        this.worker = undefined;
        this.ready = false;
        this.settle(false);
        this.failed = true; // not restarted: what failed once would fail again; inline from now on
        this.drainInline();
      };
      w.on('error', dead);
      w.on('exit', dead);
      this.readyWait = new Promise((resolve) => (this.settle = resolve));
      this.worker = w;
      // A thread that never loads must not hold compaction up: its jobs are then encoded here.
      setTimeout(() => void (this.worker === w && !this.ready && (dead(), w.terminate())), READY_MS).unref();
    } catch {
      this.failed = true;
    }
    return this.worker;
  }

  /** Idle: the thread never keeps the process alive, and ends after IDLE_MS (compaction runs hourly; its memory is not kept). */
  private idleStop(w: Worker): void {
    w.unref();
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.worker !== w || this.pending.size) return;
      this.worker = undefined; // before terminate: its exit is not a failure
      this.ready = false;
      void w.terminate();
    }, IDLE_MS);
    this.idle.unref();
  }

  private drainInline(): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      try {
        p.resolve(encodeJob(p.job));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }
}
