/**
 * The fuzzing loop of `pnpm bench fuzz` and bench/fuzz.test.ts, with coverage
 * feedback from V8's own block coverage (node:inspector, Profiler.takePreciseCoverage):
 *
 *   corpus ─▶ pick one ─▶ 1–4 mutations ─▶ target ─▶ a result, a refusal (LifelineError or the target's own), or a crash
 *     ▲                                                   │
 *     └── kept when it covered a block not covered before, or was refused by a check not seen before
 *
 * Jazzer.js does not run on this machine (its prebuilt libFuzzer addon needs glibc
 * 2.38, Debian 12 has 2.36, and the package ships no sources to build; see
 * docs/decisions.md), so coverage comes from V8: the block counters it keeps for
 * precise coverage, read in-process. Reading them costs ~2 ms, so inputs run in
 * batches of 128 and the counters are read once per batch; only a batch that
 * reached a new block is run again input by input to find which inputs did.
 * Targets are deterministic, so the re-run covers the same blocks.
 */
import { Session } from 'node:inspector';
import { isLifelineError } from '../shared/src/errors.js';
import { prng } from '../shared/src/random.js';

export interface FuzzTarget {
  name: string;
  /** Valid inputs to start from. */
  seeds: Uint8Array[];
  /** A result, or a refusal (throw a LifelineError, or one `refused` accepts); anything else is a crash. */
  run: (input: Uint8Array) => unknown | Promise<unknown>;
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
  /** Blocks (V8 coverage ranges) covered, when coverage is on. */
  blocks?: number;
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

/** V8 block coverage of the code a target reaches, read and reset per call. */
export class Coverage {
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
export const outcomeOf = (e: unknown) =>
  String((e as Error)?.message ?? e)
    .replace(/0x[0-9a-f]+/gi, 'h')
    .replace(/\d+/g, '#')
    .replace(/"[^"]*"/g, 's')
    .replace(/'[^']*'/g, 's')
    .slice(0, 100);

export function mutator(seed: number): { rand: () => number; mutate: (b: Uint8Array) => Uint8Array } {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const mutate = (b: Uint8Array): Uint8Array => {
    const out = Array.from(b);
    for (let m = 1 + int(4); m > 0; m--) {
      const at = int(Math.max(1, out.length));
      switch (int(8)) {
        case 0:
          if (out.length) out[at] ^= 1 << int(8);
          break;
        case 1:
          if (out.length) out[at] = [0, 0xff, 0x80, 0x7f, int(256)][int(5)];
          break;
        case 2:
          out.splice(at, 0, int(256));
          break;
        case 3:
          out.splice(at, 1 + int(3));
          break;
        case 4:
          out.length = int(out.length + 1);
          break;
        case 5:
          out.splice(at, 0, ...out.slice(at, at + 1 + int(8)));
          break;
        case 6:
          out.splice(at, int(2), ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
          break;
        case 7:
          // Text targets: an ASCII character that means something to YAML, JSON or a URL.
          out.splice(at, int(2), '{}[]:,"\'-#&*!|>%@`\n 0'.charCodeAt(int(21)));
          break;
      }
    }
    return Uint8Array.from(out);
  };
  return { rand, mutate };
}

/** Run `inputs` mutated inputs through a target; crashes go to `onCrash` (the loop goes on). */
export async function fuzz(
  t: FuzzTarget,
  opts: { inputs: number; seed: number; coverage?: Coverage; onCrash?: (c: Crash) => void; progress?: (msg: string) => void },
): Promise<FuzzStats> {
  const { rand, mutate } = mutator(opts.seed);
  const cov = opts.coverage;
  const seen = new Set<string>();
  const maxCorpus = 8192;
  let decoded = 0;
  let crashes = 0;
  // A target may make its seeds when it opens (the API's routes).
  await t.open?.();
  const corpus = t.seeds.slice();
  if (!corpus.length) throw new Error(`fuzz target ${t.name} has no seeds`);
  const classify = async (input: Uint8Array): Promise<string> => {
    try {
      await t.run(input);
      return 'ok';
    } catch (e) {
      if (isLifelineError(e) || t.refused?.(e)) return outcomeOf(e);
      crashes++;
      opts.onCrash?.({ target: t.name, input, error: e });
      return 'crash';
    }
  };
  try {
    cov?.reset();
    for (const s of t.seeds) await classify(s);
    cov?.takeNew();
    const batch: Uint8Array[] = [];
    const start = performance.now();
    const keep = (input: Uint8Array) => {
      if (corpus.length < maxCorpus) corpus.push(input);
      else corpus[Math.floor(rand() * maxCorpus)] = input;
    };
    for (let i = 0; i < opts.inputs; i++) {
      const mutated = mutate(corpus[Math.floor(rand() * corpus.length)]);
      const input = t.repair && rand() < 0.5 ? t.repair(mutated) : mutated;
      const outcome = await classify(input);
      if (outcome === 'ok') decoded++;
      if (outcome !== 'crash' && !seen.has(outcome)) {
        seen.add(outcome);
        keep(input);
      }
      if (cov) {
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
      if (i > 0 && i % 1_000_000 === 0) opts.progress?.(`${t.name} ${i} inputs, ${cov ? `${cov.blocks} blocks, ` : ''}${seen.size} outcomes, corpus ${corpus.length}`);
    }
    const s = (performance.now() - start) / 1000;
    return { inputs: opts.inputs, per_s: Math.round(opts.inputs / s), ...(cov ? { blocks: cov.blocks } : {}), outcomes: seen.size, corpus: corpus.length, decoded, crashes };
  } finally {
    await t.close?.();
  }
}
