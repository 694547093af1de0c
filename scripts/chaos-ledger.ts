/**
 * The cloud side's record of `pnpm chaos` (chaos.ts): every commit the store makes, with its
 * time, newest reading time and alarms, and the check that no alarm was committed after
 * telemetry read more than 2 s after it (alarms travel ahead of telemetry).
 */
import { commitReadings, wrapTelemetry, type Store } from '@lifeline/cloud';
import { say } from './chaos-procs.js';

/** Alarms committed after telemetry read more than 2 s after them. */
export function lateAlarms(commits: Commit[]): { alarms: number; late: number } {
  let late = 0;
  let alarms = 0;
  const telemetryCommits = commits.filter((c) => c.lane === 'telemetry');
  for (const c of commits) {
    if (c.lane !== 'events') continue;
    for (const a of c.alarms) {
      alarms++;
      const overtaken = telemetryCommits.find((t) => t.at < c.at && t.maxTs > a.ts + 2000);
      if (!overtaken) continue;
      late++;
      if (process.env.CHAOS_DEBUG) {
        const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 23);
        say(`late alarm seq ${a.seq} ts ${hhmm(a.ts)} committed ${hhmm(c.wall)} (events ${c.seqs}); telemetry ${overtaken.seqs} up to ${hhmm(overtaken.maxTs)} committed ${hhmm(overtaken.wall)} before it`);
      }
    }
  }
  return { alarms, late };
}

/** One commit of the cloud's store, as chaos logs it. */
export type Commit = { lane: 'telemetry' | 'events'; at: number; wall: number; maxTs: number; seqs: string; alarms: { seq: number; ts: number }[] };

/** The store, with each commit's time, newest reading time and alarms written down. */
export function loggingStore(store: Store, commits: Commit[]): Store {
  return wrapTelemetry(store, (telemetry) => ({
    async commitTelemetry(batch) {
      const r = await telemetry.commitTelemetry(batch);
      let maxTs = -Infinity;
      for (const x of commitReadings(batch)) if (x.ts > maxTs) maxTs = x.ts;
      if (!r.duplicate) commits.push({ lane: 'telemetry', at: performance.now(), wall: Date.now(), maxTs, seqs: `${batch.firstSeq}..${batch.lastSeq}`, alarms: [] });
      return r;
    },
    async commitEvents(batch) {
      const r = await telemetry.commitEvents(batch);
      if (!r.duplicate) commits.push({ lane: 'events', at: performance.now(), wall: Date.now(), maxTs: -Infinity, seqs: `${batch.firstSeq}..${batch.lastSeq}`, alarms: batch.events.filter((x) => x.kind === 'alarm').map((x) => ({ seq: x.seq, ts: x.ts })) });
      return r;
    },
  }));
}
