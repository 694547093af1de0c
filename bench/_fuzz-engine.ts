/**
 * The fuzzing loop of `pnpm bench fuzz` and bench/fuzz.test.ts, with coverage feedback:
 *
 *   corpus ─▶ pick one ─▶ 1–4 mutations ─▶ target ─▶ a result, a refusal (LifelineError or the target's own), or a crash
 *     ▲                                                   │
 *     └── kept when it covered code not covered before, or was refused by a check not seen before
 *
 * Two sources of coverage. EdgeCoverage: edge counters put into the project's code as
 * it loads (bench/_fuzz-instrument.ts, bench/_fuzz-hooks.ts), one integer read per
 * input — the default of `--coverage`. Coverage: V8's own block counters (precise
 * coverage, node:inspector), which need no instrumenting and also see third-party
 * parsers, but cost ~2 ms a read, so inputs run in batches of 128 and only a batch
 * that reached a new block is run again input by input to find which inputs did.
 * Jazzer.js does not run on this machine (its prebuilt libFuzzer addon needs glibc
 * 2.38, Debian 12 has 2.36; docs/decisions.md). Targets are deterministic.
 */
import { Session } from 'node:inspector';
import { isLifelineError } from '../shared/src/errors.js';
import { prng } from '../shared/src/random.js';
import { COV_HITS, COV_MAP, COV_SIZE } from './_fuzz-instrument.js';

export interface FuzzTarget {
  name: string;
  /** Valid inputs to start from. */
  seeds: Uint8Array[];
  /** A result, or a refusal (throw a LifelineError, or one `refused` accepts); anything else is a crash. */
  run: (input: Uint8Array) => unknown | Promise<unknown>;
  /** Mutates an input its own way (a structured value) instead of the byte mutator; `corpus` to splice from. */
  mutate?: (input: Uint8Array, rand: () => number, corpus: readonly Uint8Array[]) => Uint8Array;
  /** Repairs a checksum after mutation, so the checks behind it run (applied to half the inputs). */
  repair?: (input: Uint8Array) => Uint8Array;
  /** Errors this target answers with by design besides LifelineError (e.g. an HTTP 4xx). */
  refused?: (err: unknown) => boolean;
  /** Called once before the first input (start a server), and after the last. */
  open?: () => Promise<void>;
  close?: () => Promise<void>;
}

export interface FuzzStats {
  inputs: number;
  per_s: number;
  /** Blocks (V8 coverage ranges) or edges (instrumented branch arms) covered, when coverage is on. */
  blocks?: number;
  edges?: number;
  /** Of those, covered by the seeds alone. */
  from_seeds?: number;
  outcomes: number;
  corpus: number;
  decoded: number;
  crashes: number;
}

export interface Crash {
  target: string;
  input: Uint8Array;
  error: unknown;
}

/** Coverage feedback: what ran since the last call that never ran before. */
export interface CoverageFeedback {
  /** Cheap enough to read after every input (else read per batch, and a new batch re-run input by input). */
  readonly perInput: boolean;
  /** What this counts: V8 blocks, or instrumented branch arms (edges). */
  readonly unit: 'blocks' | 'edges';
  takeNew(): boolean;
  reset(): void;
  readonly blocks: number;
  stop(): void;
}

/**
 * Edge counters put into the project's code as it loads (bench/_fuzz-instrument.ts,
 * bench/_fuzz-hooks.ts): reading them is one integer compare per input, so every
 * input is judged on its own, no batches, no inspector.
 * Construct it, then `await loadInstrumented()` before importing the code to fuzz.
 */
export class EdgeCoverage implements CoverageFeedback {
  readonly perInput = true;
  readonly unit = 'edges' as const;
  private readonly map: Uint8Array;
  private readonly hits: Int32Array;
  private last = 0;
  constructor() {
    const g = globalThis as unknown as Record<string, unknown>;
    g[COV_MAP] ??= new Uint8Array(COV_SIZE);
    g[COV_HITS] ??= new Int32Array(1);
    this.map = g[COV_MAP] as Uint8Array;
    this.hits = g[COV_HITS] as Int32Array;
  }

  /** Load the project's modules (shared, devices, edge, cloud src) with edge counters from now on. */
  static async register(): Promise<void> {
    const { register } = await import('node:module');
    register('./_fuzz-hooks.ts', import.meta.url, { data: { include: '/(shared|devices|edge|cloud)/src/[^?]*\\.ts(\\?|$)' } });
  }

  takeNew(): boolean {
    const n = this.hits[0];
    if (n === this.last) return false;
    this.last = n;
    return true;
  }

  reset(): void {
    this.map.fill(0);
    this.hits[0] = 0;
    this.last = 0;
  }

  get blocks(): number {
    return this.hits[0];
  }

  stop(): void {}
}

/** V8 block coverage of the code a target reaches, read and reset per call. */
export class Coverage implements CoverageFeedback {
  readonly perInput = false;
  readonly unit = 'blocks' as const;
  private readonly session = new Session();
  private readonly seen = new Set<string>();
  /** Each function's blocks, as learnt from the ranges V8 listed as not run. */
  private readonly blocksOf = new Map<string, Set<string>>();
  constructor(private readonly include: (url: string) => boolean = defaultInclude) {
    this.session.connect();
    this.post('Profiler.enable');
    // Binary block coverage: each read reports only what ran since the last one, which keeps it at ~2 ms.
    this.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
  }

  /**
   * Blocks run since the last call; true if any was never run before (and remembers them).
   * V8 reports a function's range and, nested in it, the ranges of its blocks that did
   * not run (count 0); a block that ran inherits the function's count and is not listed.
   * So each function's blocks are learnt from the zero ranges seen over time, and a
   * known block counts as run whenever its function ran and it is not listed as zero.
   */
  takeNew(): boolean {
    const r = this.post('Profiler.takePreciseCoverage') as { result: { url: string; functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[] }[] };
    let fresh = false;
    const mark = (key: string) => {
      if (!this.seen.has(key)) {
        this.seen.add(key);
        fresh = true;
      }
    };
    for (const script of r.result) {
      if (!this.include(script.url)) continue;
      for (const f of script.functions) {
        const [top, ...inner] = f.ranges;
        if (!top || top.count === 0) continue;
        const fn = `${script.url}:${top.startOffset}:${top.endOffset}`;
        mark(fn);
        let blocks = this.blocksOf.get(fn);
        if (!blocks) this.blocksOf.set(fn, (blocks = new Set()));
        const zero = new Set<string>();
        for (const b of inner) {
          const k = `${b.startOffset}:${b.endOffset}`;
          if (b.count === 0) {
            zero.add(k);
            blocks.add(k);
          } else mark(`${fn}/${k}`);
        }
        for (const k of blocks) if (!zero.has(k)) mark(`${fn}/${k}`);
      }
    }
    return fresh;
  }

  /** Forget what was covered (a new target starts from nothing). */
  reset(): void {
    this.takeNew();
    this.seen.clear();
    this.blocksOf.clear();
  }

  get blocks(): number {
    return this.seen.size;
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }

  /** Session.post on the same thread answers synchronously. */
  private post(method: string, params: object = {}): unknown {
    let out: unknown;
    let err: Error | null = null;
    this.session.post(method, params, (e, r) => ((err = e), (out = r)));
    if (err) throw err;
    return out;
  }
}

/** The project's code and its parsers (yaml, TypeBox, fastify), not the fuzzer or the test runner. */
function defaultInclude(url: string): boolean {
  return url.startsWith('file://') && !/\/(bench|vitest|@vitest|tsx|esbuild|tinypool|pino)\//.test(url);
}

/** Error text with numbers and quoted values stripped: which check refused an input. */
export const outcomeOf = (e: unknown) => {
  const msg = String((e as Error)?.message ?? e);
  let o = outcomes.get(msg);
  if (o === undefined) {
    if (outcomes.size > 100_000) outcomes.clear();
    outcomes.set(msg, (o = outcomeText(msg)));
  }
  return o;
};
const outcomes = new Map<string, string>();
const outcomeText = (msg: string) =>
  msg
    .replace(/"(?:[^"\\]|\\.)*"?/g, 's')
    .replace(/'(?:[^'\\]|\\.)*'?/g, 's')
    .replace(/0x[0-9a-f]+/gi, 'h')
    // Bytes written as hex pairs ("bytes 4B A1"), then any number.
    .replace(/\b[0-9A-F]{2}\b/g, 'h')
    .replace(/\d+/g, '#')
    .slice(0, 100);

/** Bytes that mean something to YAML, JSON or a URL (text targets). */
const SPECIAL = Uint8Array.from(Buffer.from('{}[]:,"\'-#&*!|>%@`\n 0'));
const INTERESTING = [0, 0xff, 0x80, 0x7f];

/**
 * 1–4 byte-level mutations (flip a bit, set an interesting byte, insert, delete,
 * truncate, duplicate a run, insert 0xff…7f, insert a text special) on a scratch
 * buffer, without arrays: the mutator is a large share of an input's time.
 * Inputs never grow past `cap` bytes.
 */
export function mutator(seed: number, cap = 4096): { rand: () => number; mutate: (b: Uint8Array) => Uint8Array } {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const buf = new Uint8Array(cap + 16);
  const mutate = (b: Uint8Array): Uint8Array => {
    let len = Math.min(b.length, cap);
    buf.set(b.length > cap ? b.subarray(0, cap) : b);
    for (let m = 1 + int(4); m > 0; m--) {
      const at = int(Math.max(1, len));
      const op = int(8);
      if (op === 0) {
        if (len) buf[at] ^= 1 << int(8);
      } else if (op === 1) {
        if (len) {
          const k = int(5);
          buf[at] = k < 4 ? INTERESTING[k] : int(256);
        }
      } else if (op === 3) {
        const n = Math.min(1 + int(3), len - at);
        buf.copyWithin(at, at + n, len);
        len -= n;
      } else if (op === 4) {
        len = int(len + 1);
      } else {
        // Replace `del` bytes at `at` with `ins` bytes.
        const del = op === 2 || op === 5 ? 0 : Math.min(int(2), len - at);
        const ins = op === 2 ? 1 : op === 5 ? Math.min(1 + int(8), len - at) : op === 6 ? 8 : 1;
        if (len - del + ins > cap) continue;
        buf.copyWithin(at + ins, at + del, len);
        len += ins - del;
        if (op === 2) buf[at] = int(256);
        else if (op === 6) buf.fill(0xff, at, at + 7), (buf[at + 7] = 0x7f);
        else if (op === 7) buf[at] = SPECIAL[int(SPECIAL.length)];
        // op 5: the bytes at `at` stayed and were copied after themselves, a duplicated run.
      }
    }
    return buf.slice(0, len);
  };
  return { rand, mutate };
}

/** Run `inputs` mutated inputs through a target; crashes go to `onCrash` (the loop goes on). */
export async function fuzz(
  t: FuzzTarget,
  opts: { inputs: number; seed: number; coverage?: CoverageFeedback; onCrash?: (c: Crash) => void; progress?: (msg: string) => void; /** Stop after this long (ms), inputs reached reported. */ maxMs?: number },
): Promise<FuzzStats> {
  const cov = opts.coverage;
  const seen = new Set<string>();
  const maxCorpus = 8192;
  let decoded = 0;
  let crashes = 0;
  // A target may make its seeds when it opens (the API's routes).
  await t.open?.();
  const corpus = t.seeds.slice();
  if (!corpus.length) throw new Error(`fuzz target ${t.name} has no seeds`);
  const { rand, mutate } = mutator(opts.seed, Math.max(4096, 2 * Math.max(...corpus.map((c) => c.length))));
  // Most inputs are refused with an error, and an error's stack trace costs more than
  // decoding: none while fuzzing; a crash is run again with stacks to report where it was.
  const stackTraceLimit = Error.stackTraceLimit;
  const refusal = (input: Uint8Array, e: unknown): string => {
    if (isLifelineError(e) || t.refused?.(e)) return outcomeOf(e);
    crashes++;
    if (opts.onCrash) {
      Error.stackTraceLimit = stackTraceLimit;
      let error = e;
      try {
        const r = t.run(input);
        if (r instanceof Promise) r.catch(() => {});
      } catch (again) {
        error = again;
      }
      Error.stackTraceLimit = 0;
      opts.onCrash({ target: t.name, input, error });
    }
    return 'crash';
  };
  // Synchronous targets (the byte decoders) are run without an await per input.
  const classify = async (input: Uint8Array): Promise<string> => {
    try {
      await t.run(input);
      return 'ok';
    } catch (e) {
      return refusal(input, e);
    }
  };
  try {
    Error.stackTraceLimit = 0;
    cov?.reset();
    for (const s of t.seeds) await classify(s);
    cov?.takeNew();
    const fromSeeds = cov?.blocks;
    const batch: Uint8Array[] = [];
    const start = performance.now();
    const report = (i: number) => {
      const s = (performance.now() - start) / 1000;
      opts.progress?.(`${t.name} ${i} inputs, ${Math.round(i / s)}/s, ${cov ? `${cov.blocks} ${cov.unit}, ` : ''}${seen.size} outcomes, corpus ${corpus.length}, ${crashes} crashes`);
    };
    const keep = (input: Uint8Array) => {
      if (corpus.length < maxCorpus) corpus.push(input);
      else corpus[Math.floor(rand() * maxCorpus)] = input;
    };
    // Progress every million inputs, and at least once a minute (the loaders run a few hundred a second).
    let lastReport = start;
    let ran = opts.inputs;
    for (let i = 0; i < opts.inputs; i++) {
      if ((i & 1023) === 0 && i > 0) {
        const now = performance.now();
        if (opts.maxMs !== undefined && now - start >= opts.maxMs) {
          ran = i;
          break;
        }
        if (now - lastReport >= 60_000 && i % 1_000_000 !== 0) {
          lastReport = now;
          report(i);
        }
      }
      const parent = corpus[Math.floor(rand() * corpus.length)];
      const mutated = t.mutate ? t.mutate(parent, rand, corpus) : mutate(parent);
      const input = t.repair && rand() < 0.5 ? t.repair(mutated) : mutated;
      let outcome: string;
      try {
        const r = t.run(input);
        if (r instanceof Promise) await r;
        outcome = 'ok';
      } catch (e) {
        outcome = refusal(input, e);
      }
      if (outcome === 'ok') decoded++;
      let kept = false;
      if (outcome !== 'crash' && !seen.has(outcome)) {
        seen.add(outcome);
        // Past a few thousand, new outcomes are variations of text, not new checks: stop filling the corpus with them.
        if (seen.size <= 4096) {
          keep(input);
          kept = true;
        }
      }
      if (cov?.perInput) {
        if (cov.takeNew() && !kept) keep(input);
      } else if (cov) {
        batch.push(input);
        if (batch.length === 128 || i === opts.inputs - 1) {
          // New blocks in this batch: find the inputs that reached them.
          if (cov.takeNew()) {
            for (const b of batch) {
              try {
                await t.run(b);
              } catch {
                /* classified above */
              }
              if (cov.takeNew()) keep(b);
            }
          }
          batch.length = 0;
        }
      }
      if (i > 0 && i % 1_000_000 === 0) {
        lastReport = performance.now();
        report(i);
      }
    }
    const s = (performance.now() - start) / 1000;
    return {
      inputs: ran,
      per_s: Math.round(ran / s),
      ...(cov ? { [cov.unit]: cov.blocks, from_seeds: fromSeeds } : {}),
      outcomes: seen.size,
      corpus: corpus.length,
      decoded,
      crashes,
    };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    await t.close?.();
  }
}
