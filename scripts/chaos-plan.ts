/**
 * The fault plan of `pnpm chaos --netem` (chaos.ts): the shaped link's periods (lossy, flapping,
 * rate-capped, blackholed; it ends with a blackhole, so drain_s is the catch-up after a long
 * outage) and the process faults, shuffled and spread over the same time.
 */
import { say, sleep } from './chaos-procs.js';
import type { LinkShape, NetLab } from './chaos-net.js';

/** A process fault: kill -9 the agent, restart the broker, the ingest worker or PostgreSQL. */
export type Fault = 'kill' | 'broker' | 'ingest' | 'pg';
/** How many of each fault ran, by the name in the final line. */
export type Counts = Record<string, number>;

/** What the plan drives. */
export interface NetemRun {
  lab: NetLab;
  short: boolean;
  /** Length of each blackhole. */
  partitionMs: number;
  /** The run's seeded random generator. */
  rnd: () => number;
  counts: Counts;
  /** Runs one process fault (and counts it). */
  fault: (kind: Fault) => Promise<void>;
  /** Seconds until the cloud has what the gateway had written when called (undefined: not within `ms`). */
  caughtUp: (ms: number) => Promise<number | undefined>;
  /** Where the recovery after each blackhole goes. */
  recoveries: Promise<number | undefined>[];
  /** Broker, devices and database addresses, for the opening line. */
  where: string;
}

/** Runs the link's plan and the process faults side by side until both are done. */
export async function runNetemPlan({ lab, short, partitionMs, rnd, counts, fault, caughtUp, recoveries, where }: NetemRun): Promise<void> {
  // The link's plan (shape, seconds) and the process faults spread over the same time. It ends
  // with a blackhole, so drain_s is the catch-up after a long outage.
  const plan: [LinkShape | 'flap', number][] = short
    ? [['lossy', 8], ['flap', 6], ['cap', 6], ['blackhole', partitionMs / 1000]]
    : [['lossy', 60], ['flap', 30], ['cap', 60], ['blackhole', partitionMs / 1000], ['lossy', 60], ['cap', 60], ['flap', 30], ['blackhole', partitionMs / 1000]];
  const gapMs = short ? 3000 : 15_000;
  const totalMs = plan.reduce((t, [, s]) => t + s * 1000 + gapMs, 0);
  const faults: Fault[] = short
    ? ['kill', 'kill', 'kill', 'ingest', 'pg', 'broker']
    : [...Array<Fault>(12).fill('kill'), ...Array<Fault>(4).fill('ingest'), ...Array<Fault>(3).fill('pg'), ...Array<Fault>(2).fill('broker')];
  for (let i = faults.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [faults[i], faults[j]] = [faults[j], faults[i]];
  }
  say(`running ${(totalMs / 1000).toFixed(0)} s in namespace ${lab.ns}: ${where}`);
  const linkLoop = async () => {
    for (const [shape, seconds] of plan) {
      await sleep(gapMs);
      if (shape === 'flap') {
        say(`flap the link for ${seconds} s`);
        counts.flaps++;
        const end = Date.now() + seconds * 1000;
        while (Date.now() < end) {
          lab.setLink(false);
          counts.link_downs++;
          await sleep(1000 + rnd() * 2000);
          lab.setLink(true);
          await sleep(1500 + rnd() * 2000);
        }
        continue;
      }
      say(`link ${shape} for ${seconds} s`);
      counts[{ lossy: 'lossy_periods', cap: 'rate_caps', blackhole: 'blackholes', clean: 'clean' }[shape]]++;
      lab.setShape(shape);
      await sleep(seconds * 1000);
      lab.setShape('clean');
      // How long the gateway takes to be heard again: a half-open connection must be noticed first.
      if (shape === 'blackhole') recoveries.push(caughtUp(300_000));
      if (!lab.linkAlive) throw new Error('the link process ended');
    }
  };
  const faultLoop = async () => {
    const every = (totalMs * 0.95) / faults.length;
    for (const f of faults) {
      await sleep(every * (0.6 + 0.4 * rnd()));
      await fault(f);
    }
  };
  await Promise.all([linkLoop(), faultLoop()]);
}
