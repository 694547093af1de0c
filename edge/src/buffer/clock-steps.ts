/**
 * Readings stamped before the wall clock was stepped (an RTC-less board counting from 1970
 * until NTP sets it, a clock set by hand) go to the cloud on the clock after the step: they
 * are real readings taken at a known monotonic time, and the cloud drops what is stamped
 * decades from its own clock (docs/decisions.md).
 *
 *   append ─▶ observe(lastSeq): wall − monotonic moved ≥ 1 s? ─▶ clock_steps row (this boot's seqs ≤ lastSeq, step)
 *   open   ─▶ same boot (boot_id) and its boot time moved on the wall clock? ─▶ a row too (a step while the agent was down)
 *   telemetryRange ─▶ correct(): each reading of this boot's seqs before a step gets the step added; exempt devices
 *                     (stations that stamp their own readings, SL 651) are left as stamped
 *
 * The chunks are never rewritten: a step is one row, applied when a range is read. Seqs of an
 * earlier boot are never moved (their clock was another boot's, its error unknown).
 */
import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';
import type { Reading } from '@lifeline/shared';
import type { Db } from './database.js';

/** A change of (wall − monotonic) smaller than this is jitter of the two clocks' reading, not a step. */
export const CLOCK_STEP_MIN_MS = 1000;

/** The clocks the buffer reads; a test gives its own. */
export interface BufferClock {
  /** The wall clock, ms since 1970. */
  wall(): number;
  /** A monotonic clock no step moves, ms. */
  monotonic(): number;
  /** Time since boot, ms (with suspend). */
  sinceBoot(): number;
  /** This boot's id (Linux: /proc/sys/kernel/random/boot_id); null where there is none. */
  bootId(): string | null;
}

/** This machine's clocks. */
export const systemClock: BufferClock = {
  wall: () => Date.now(),
  monotonic: () => performance.timeOrigin + performance.now(),
  sinceBoot: () => uptime() * 1000,
  bootId: () => {
    try {
      return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      return null;
    }
  },
};

/** One recorded step: readings with seqs in [fromSeq, upToSeq] were stamped `stepMs` off the later clock. */
interface Step {
  fromSeq: number;
  upToSeq: number;
  stepMs: number;
}

export class ClockSteps {
  private steps: Step[];
  /** Wall minus monotonic as last seen. */
  private offset: number;
  /** The first telemetry seq written in this boot (null: boots cannot be told apart here). */
  private readonly bootFirstSeq: number | null;
  private readonly stmt;

  constructor(
    private readonly db: Db,
    lastSeq: number,
    acked: number,
    private readonly exempt: ReadonlySet<string> = new Set(),
    private readonly clock: BufferClock = systemClock,
  ) {
    db.exec('CREATE TABLE IF NOT EXISTS clock_steps(from_seq INTEGER NOT NULL, up_to_seq INTEGER NOT NULL, step_ms REAL NOT NULL)');
    this.stmt = {
      insert: db.prepare('INSERT INTO clock_steps(from_seq, up_to_seq, step_ms) VALUES (?, ?, ?)'),
      meta: db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      oldestIn: db.prepare('SELECT MIN(ts_min) t FROM chunks WHERE last_seq > ? AND first_seq BETWEEN ? AND ?'),
    };
    // What the cloud has committed needs no correction any more.
    db.prepare('DELETE FROM clock_steps WHERE up_to_seq <= ?').run(acked);
    this.steps = (db.prepare('SELECT from_seq, up_to_seq, step_ms FROM clock_steps').all() as { from_seq: number; up_to_seq: number; step_ms: number }[]).map((r) => ({
      fromSeq: r.from_seq,
      upToSeq: r.up_to_seq,
      stepMs: r.step_ms,
    }));
    this.offset = clock.wall() - clock.monotonic();
    const boot = clock.bootId();
    const meta = (key: string) => (this.stmt.getMeta.get(key) as { value: string } | undefined)?.value;
    const bootWall = clock.wall() - clock.sinceBoot();
    if (boot === null) this.bootFirstSeq = null;
    else if (meta('boot_id') === boot) {
      this.bootFirstSeq = Number(meta('boot_first_seq'));
      // The same boot, and the boot's time on the wall clock moved: stepped while the agent was not running.
      const step = bootWall - Number(meta('boot_wall'));
      if (Math.abs(step) >= CLOCK_STEP_MIN_MS) this.record(lastSeq, step);
    } else {
      this.bootFirstSeq = lastSeq + 1;
      db.transaction(() => {
        this.stmt.meta.run('boot_id', boot);
        this.stmt.meta.run('boot_first_seq', String(this.bootFirstSeq));
        this.stmt.meta.run('boot_wall', String(bootWall));
      })();
    }
  }

  /** Before an append: a step since the last look applies to this boot's seqs up to `lastSeq`. Two clock reads. */
  observe(lastSeq: number): void {
    const offset = this.clock.wall() - this.clock.monotonic();
    const step = offset - this.offset;
    if (Math.abs(step) < CLOCK_STEP_MIN_MS) return;
    this.offset = offset;
    this.record(lastSeq, step);
  }

  /** Applies a step to this boot's seqs up to `lastSeq`: at once in memory, then on disk (which may throw a disk error). */
  private record(lastSeq: number, stepMs: number): void {
    if (this.bootFirstSeq === null) return;
    const step = { fromSeq: this.bootFirstSeq, upToSeq: lastSeq, stepMs: Math.round(stepMs) };
    if (step.upToSeq >= step.fromSeq) this.steps.push(step);
    this.db.transaction(() => {
      if (step.upToSeq >= step.fromSeq) this.stmt.insert.run(step.fromSeq, step.upToSeq, step.stepMs);
      // The boot's time as the stepped clock tells it, so a restart in this boot does not count the step again.
      const bootWall = Number((this.stmt.getMeta.get('boot_wall') as { value: string }).value);
      this.stmt.meta.run('boot_wall', String(bootWall + step.stepMs));
    })();
  }

  /**
   * The oldest unsent reading's time on the clock after the steps (the status's backlog age: a 1970 stamp
   * would read as 56 years); undefined when no step applies (the caller's plain MIN then holds).
   */
  oldestTs(acked: number): number | null | undefined {
    if (!this.steps.length) return undefined;
    // Seq segments between step edges each have one shift: the oldest chunk start of each, moved by it.
    const edges = [...new Set([acked + 1, ...this.steps.flatMap((s) => [s.fromSeq, s.upToSeq + 1])])].filter((e) => e > acked).sort((a, b) => a - b);
    let oldest: number | null = null;
    for (let i = 0; i < edges.length; i++) {
      const from = edges[i];
      const to = i + 1 < edges.length ? edges[i + 1] - 1 : Number.MAX_SAFE_INTEGER;
      const t = (this.stmt.oldestIn.get(acked, from, to) as { t: number | null }).t;
      if (t === null) continue;
      const shift = this.steps.reduce((sum, s) => (from >= s.fromSeq && from <= s.upToSeq ? sum + s.stepMs : sum), 0);
      if (oldest === null || t + shift < oldest) oldest = t + shift;
    }
    return oldest;
  }

  /** Moves the readings (in place) stamped before a step onto the clock after it. */
  correct(readings: Reading[], seqs: readonly number[]): void {
    if (!this.steps.length) return;
    for (let i = 0; i < readings.length; i++) {
      let shift = 0;
      for (const s of this.steps) if (seqs[i] >= s.fromSeq && seqs[i] <= s.upToSeq) shift += s.stepMs;
      if (shift && !this.exempt.has(readings[i].device)) readings[i].ts += shift;
    }
  }
}
