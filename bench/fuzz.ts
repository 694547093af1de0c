/**
 * `pnpm bench fuzz [--coverage [v8]] [--inputs N] [--seconds S] [--seed N] [--only NAME,…] [--save DIR]` —
 * long fuzzing of every decoder a stranger's bytes reach (bench/_fuzz-targets.ts);
 * not in CI (bench/_fuzz.test.ts runs a few thousand inputs per target with coverage,
 * and replays the crashes kept in test/fixtures/fuzz/).
 *
 *   --coverage   keep inputs that reach a branch arm of the project's code not reached
 *                before (edge counters put in as the code loads, bench/_fuzz-instrument.ts),
 *                besides those refused by a new check
 *   --coverage v8  the same from V8's block coverage read per batch (slower; also sees
 *                third-party parsers: yaml, TypeBox, fastify)
 *   --inputs N   per target (default 10,000,000; --runs is the same)
 *   --seconds S  stop each target after S seconds, whatever --inputs says (the inputs reached are reported)
 *   --save DIR   write each crashing input to DIR/<target>/<n>.hex (default: print it)
 *
 * Ends with one JSON line: per target, inputs, inputs/s, blocks covered, outcomes
 * seen, corpus size, inputs decoded, crashes, and the process's CPU seconds and inputs per CPU-second. Exit code 1 if anything crashed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Coverage, EdgeCoverage, fuzz, type CoverageFeedback, type FuzzStats } from './_fuzz-engine.js';

function arg(names: string[], fallback: number): number {
  const i = process.argv.findIndex((a) => names.includes(a));
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench fuzz: ${process.argv[i]} needs a positive integer, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return v;
}
const inputs = arg(['--inputs', '--runs'], 10_000_000);
const seed = arg(['--seed'], 1);
// Stop each target after this many seconds (the inputs reached are reported): a time-boxed run of a slow target.
const seconds = process.argv.includes('--seconds') ? arg(['--seconds'], 1) : undefined;
const after = (flag: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const withCoverage = process.argv.includes('--coverage');
const feedback = withCoverage && after('--coverage') === 'v8' ? 'v8' : withCoverage ? 'edges' : 'none';
// Edge counters go into the project's code as it loads: register before the targets are imported.
const edges = feedback === 'edges' ? new EdgeCoverage() : undefined;
if (edges) await EdgeCoverage.register();
const { fuzzTargets } = await import('./_fuzz-targets.js');
const only = after('--only');
const saveDir = after('--save');
const targets = fuzzTargets().filter((t) => !only || only.split(',').includes(t.name));
if (!targets.length) {
  console.error(`bench fuzz: no target ${only}; targets: ${fuzzTargets().map((t) => t.name).join(', ')}`);
  process.exit(2);
}

// The YAML parser warns (process.emitWarning) on odd tags and aliases: millions of lines, not findings.
process.removeAllListeners('warning');
const coverage: CoverageFeedback | undefined = edges ?? (feedback === 'v8' ? new Coverage() : undefined);
const results: Record<string, FuzzStats & { cpu_s: number; per_cpu_s: number }> = {};
let crashes = 0;
for (const t of targets) {
  const start = performance.now();
  // CPU time of the process (all its threads): under a shared machine's load, inputs per CPU-second say more than per wall-second.
  const cpu0 = process.cpuUsage();
  let shown = 0;
  const stats = await fuzz(t, {
    inputs,
    seed,
    coverage,
    maxMs: seconds === undefined ? undefined : seconds * 1000,
    progress: (m) => console.error(`bench fuzz: ${m}`),
    onCrash: (c) => {
      const hex = Buffer.from(c.input).toString('hex');
      if (saveDir) {
        mkdirSync(join(saveDir, t.name), { recursive: true });
        writeFileSync(join(saveDir, t.name, `${shown}.hex`), hex + '\n');
      }
      if (shown++ < 3) console.error(`bench fuzz: ${t.name} crashed on ${hex}: ${(c.error as Error)?.stack ?? String(c.error)}`);
    },
  });
  crashes += stats.crashes;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  results[t.name] = { ...stats, cpu_s: Math.round(cpuS * 10) / 10, per_cpu_s: Math.round(stats.inputs / cpuS) };
  console.error(
    `bench fuzz: ${t.name}: ${stats.inputs} inputs in ${((performance.now() - start) / 1000).toFixed(1)} s, ${stats.edges !== undefined ? `${stats.edges} edges, ` : ''}${stats.blocks !== undefined ? `${stats.blocks} blocks, ` : ''}${stats.outcomes} outcomes, ${stats.decoded} decoded, ${stats.crashes} crashes`,
  );
}
coverage?.stop();
if (crashes) process.exitCode = 1;
console.log(JSON.stringify({ inputs_per_target: inputs, ...(seconds ? { seconds } : {}), seed, coverage: feedback, crashes, targets: results }));
