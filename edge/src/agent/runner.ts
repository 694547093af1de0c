/**
 * Runs an agent and restarts it, in this process, when a config command from
 * the cloud was validated and saved: what `lifeline run` and the demo share.
 */
import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { Agent } from './agent.js';

export interface RunningAgent {
  /** The agent running now (a new one after each restart). */
  readonly agent: Agent;
  /** Waits for a restart in progress, then stops the agent. */
  stop(): Promise<void>;
}

export async function runAgent(loaded: LoadedConfig, log: Logger): Promise<RunningAgent> {
  let agent!: Agent;
  let restarting = Promise.resolve();
  const startOn = async (cfg: LoadedConfig): Promise<void> => {
    agent = new Agent(cfg, log, {
      onConfig: (next) => {
        restarting = restarting.then(async () => {
          log.info('restarting on the config from the cloud');
          await agent.stop();
          await startOn(next);
        });
      },
    });
    await agent.start();
  };
  await startOn(loaded);
  return {
    get agent() {
      return agent;
    },
    stop: () => restarting.then(() => agent.stop()),
  };
}
