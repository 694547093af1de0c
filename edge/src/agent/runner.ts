/**
 * Runs an agent and restarts it, in this process, on a config pushed from the
 * cloud (what `lifeline run` and the demo share); then checks, within a
 * bounded time, that the new config still reaches the cloud and the buses,
 * and otherwise rolls back to the last good config by itself.
 *
 *   config command ─▶ saved, previous kept as <file>.last-good ─▶ restart on it ─▶ trial (≤ applyCheckMs):
 *     the cloud answered (an ack, or the broker took the status) and every bus that had an
 *     answering device under the last good config has one again?
 *       ├─ yes ─▶ confirmed (status configApply)
 *       └─ no, or the agent did not start ─▶ <file> ◀─ last-good, restart on it,
 *                 event `config_rolled_back` {command, reason} + status configApply
 *
 * The trial outlives the process: `<file>.apply` records it, so an agent that
 * crashes on the new config (systemd restarts `lifeline run`) still rolls back.
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import type { GatewayStatusMessage } from '@lifeline/shared';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { copySecretFile, writeSecretFile } from '../config/write.js';
import { dataDirOf, lastGoodFile, type ConfigCommandMeta } from '../sync/command-target.js';
import type { Logger } from '../log.js';
import { Agent } from './agent.js';

export interface RunningAgent {
  /** The agent running now (a new one after each restart). */
  readonly agent: Agent;
  /** How the last pushed config fared (undefined: none yet, or still on trial). */
  readonly configApply: GatewayStatusMessage['configApply'];
  /** Waits for a restart in progress, then stops the agent. */
  stop(): Promise<void>;
}

/** Options of runAgent. */
export interface RunOptions {
  /** How long a pushed config has to reach the cloud and the buses before it is rolled back, ms (default 60 000). */
  applyCheckMs?: number;
}

/** A pushed config on trial. */
interface Trial {
  command?: string;
  /** Deadline, epoch ms. */
  deadline: number;
  /** Devices that answered under the last good config: their buses must answer again. */
  answeringBefore: string[];
  /** Process starts on this config so far (a crash loop rolls back without waiting). */
  starts: number;
}

/** Where a trial is recorded while it runs. */
export const applyMarkerFile = (file: string) => `${file}.apply`;

/** A restart on the pushed config more than this many times means it crashes the agent. */
const MAX_TRIAL_STARTS = 3;

function readMarker(file: string): Trial | undefined {
  try {
    const t = JSON.parse(readFileSync(applyMarkerFile(file), 'utf8')) as Trial;
    return Array.isArray(t.answeringBefore) ? t : undefined;
  } catch {
    return undefined;
  }
}

function removeMarker(file: string | undefined): void {
  if (!file) return;
  try {
    unlinkSync(applyMarkerFile(file));
  } catch {
    /* none */
  }
}

/** What the trial still lacks, in words; empty when it passed. */
function missing(agent: Agent, trial: Trial, windowS: number): string[] {
  const out: string[] = [];
  const { config } = agent.loaded;
  if (agent.sync.reachedAt === null) {
    const err = agent.sync.transportError;
    out.push(`it did not reach the cloud within ${windowS} s (broker ${config.sync.url}: ${err ?? (agent.sync.connected ? 'connected, but nothing was accepted' : 'no connection')})`);
  }
  const before = new Set(trial.answeringBefore);
  for (const bus of config.buses) {
    const was = bus.devices.filter((d) => before.has(d.id)).map((d) => d.id);
    // A bus with no answering device under the last good config either is not a regression.
    if (was.length && !bus.devices.some((d) => agent.answering.has(d.id))) {
      out.push(`bus ${bus.name}: no device answered within ${windowS} s (under the last good config ${was.join(', ')} did)`);
    }
  }
  return out;
}

export async function runAgent(loaded: LoadedConfig, log: Logger, opts: RunOptions = {}): Promise<RunningAgent> {
  const windowMs = opts.applyCheckMs ?? 60_000;
  const windowS = Math.round(windowMs / 100) / 10;
  // Unset only when a trial that keeps crashing the agent is rolled back before any start.
  let agent: Agent | undefined;
  let lastGood = loaded;
  let trial: Trial | undefined;
  let report: GatewayStatusMessage['configApply'];
  let timer: NodeJS.Timeout | undefined;
  let queue = Promise.resolve();
  let stopped = false;
  const enqueue = (fn: () => Promise<void>) => {
    queue = queue.then(fn).catch((err: unknown) => log.error({ err }, 'config restart failed'));
  };

  const startOn = async (cfg: LoadedConfig): Promise<void> => {
    const a = new Agent(cfg, log, {
      onConfig: (next, meta) => enqueue(() => apply(next, meta)),
      configApply: () => report,
      onTrial: () => trial !== undefined,
    });
    agent = a;
    try {
      await a.start();
    } catch (err) {
      await a.stop().catch(() => {});
      throw err;
    }
  };

  const rollback = async (reason: string): Promise<void> => {
    clearInterval(timer);
    const t = trial;
    trial = undefined;
    if (!t || stopped) return;
    log.error({ command: t.command, reason }, 'the pushed config failed its check: rolling back to the last good config');
    await agent?.stop().catch((err: unknown) => log.error({ err }, 'stopping the agent on the pushed config failed'));
    const file = agent?.loaded.file ?? lastGood.file;
    let good = lastGood;
    if (file && existsSync(lastGoodFile(file))) {
      copySecretFile(lastGoodFile(file), file);
      try {
        good = loadConfig(file, { dataDir: dataDirOf(agent?.loaded ?? lastGood) });
      } catch (err) {
        log.error({ err }, 'the last good config no longer loads; running the one in memory');
      }
    }
    removeMarker(file);
    report = { ...(t.command ? { command: t.command } : {}), result: 'rolled_back', reason: reason.slice(0, 4000), ts: Date.now() };
    await startOn(good);
    agent!.buffer.appendEvent(Date.now(), 'event', {
      kind: 'event',
      type: 'config_rolled_back',
      message: `config ${t.command ?? '(local)'} rolled back to the last good config: ${reason}`.slice(0, 4000),
      details: { command: t.command ?? '', reason: reason.slice(0, 4000) },
    });
  };

  const confirm = (a: Agent): void => {
    clearInterval(timer);
    const t = trial!;
    trial = undefined;
    removeMarker(a.loaded.file);
    lastGood = a.loaded;
    report = { ...(t.command ? { command: t.command } : {}), result: 'confirmed', ts: Date.now() };
    log.info({ command: t.command }, 'the pushed config reaches the cloud and its buses: kept');
    a.sync.publishStatus();
  };

  const watch = (): void => {
    clearInterval(timer);
    timer = setInterval(() => {
      const t = trial;
      const a = agent;
      if (!t || !a) return clearInterval(timer);
      const lacking = missing(a, t, windowS);
      if (!lacking.length) return confirm(a);
      if (Date.now() >= t.deadline) {
        clearInterval(timer);
        enqueue(() => rollback(lacking.join('; ')));
      }
    }, Math.min(250, Math.max(20, windowMs / 20)));
  };

  const apply = async (next: LoadedConfig, meta: ConfigCommandMeta): Promise<void> => {
    if (stopped) return;
    // A second push inside the window is judged against the same proven config.
    const current = agent!;
    const answeringBefore = trial ? trial.answeringBefore : [...current.answering];
    if (!trial) lastGood = current.loaded;
    trial = { command: meta.command, deadline: Date.now() + windowMs, answeringBefore, starts: 1 };
    if (next.file) writeSecretFile(applyMarkerFile(next.file), JSON.stringify(trial));
    log.info({ command: meta.command }, 'restarting on the config from the cloud');
    await current.stop();
    try {
      await startOn(next);
    } catch (err) {
      return rollback(`the agent did not start on it: ${(err as Error).message}`);
    }
    watch();
  };

  // A trial cut short by a crash or a stop goes on (or, if it keeps crashing, ends) now.
  const marker = loaded.file ? readMarker(loaded.file) : undefined;
  if (marker) {
    trial = { ...marker, deadline: Date.now() + windowMs, starts: marker.starts + 1 };
    writeSecretFile(applyMarkerFile(loaded.file!), JSON.stringify(trial));
  }
  if (trial && trial.starts > MAX_TRIAL_STARTS) {
    await rollback(`the agent stopped ${trial.starts - 1} times on it before its check ended`);
  } else {
    try {
      await startOn(loaded);
      if (trial) watch();
    } catch (err) {
      if (!trial) throw err;
      await rollback(`the agent did not start on it: ${(err as Error).message}`);
    }
  }
  return {
    get agent() {
      return agent!;
    },
    get configApply() {
      return report;
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await queue;
      await agent?.stop();
    },
  };
}
