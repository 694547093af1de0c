/**
 * What downlink commands act on in a running agent: the alarm manager
 * (acknowledge, shelve), the Modbus point writer, and the config (validated
 * with the same checks as `lifeline check`, written to the config file, then
 * handed to `onConfig` so the agent restarts on it).
 */
import { writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { isLifelineError, type ValidationIssue } from '@lifeline/shared';
import { validateConfig, type LoadedConfig } from '../config/load.js';
import type { AlarmSystem } from '../alarms/system.js';
import { ModbusPointWriter, type PointWriter } from '../actions/point-writer.js';
import type { Logger } from '../log.js';
import type { CommandTarget } from './commands.js';

/** Collaborators of the agent's command target. */
export interface AgentCommandDeps {
  loaded: LoadedConfig;
  alarms: () => AlarmSystem;
  log: Logger;
  /** Called with a valid new config once it is saved; the agent restarts on it. */
  onConfig?: (next: LoadedConfig) => void;
  /** Point writer (default: Modbus over the config's buses). */
  pointWriter?: PointWriter;
}

export function agentCommandTarget(deps: AgentCommandDeps): CommandTarget {
  let writer = deps.pointWriter;
  return {
    ackAlarm: (alarmId, user) => {
      const m = deps.alarms().manager;
      return m.ack(m.resolveId(alarmId), user);
    },
    shelveAlarm: (alarmId, untilTs, user) => {
      const m = deps.alarms().manager;
      return m.shelve(m.resolveId(alarmId), untilTs, user);
    },
    writePoint: async (device, point, value) => {
      writer ??= new ModbusPointWriter(deps.loaded, deps.log);
      await writer.writePoint(device, point, value);
    },
    applyConfig: async (raw) => {
      const file = deps.loaded.file;
      const baseDir = file ? dirname(file) : process.cwd();
      let next: LoadedConfig;
      try {
        next = validateConfig(raw, 'config from the cloud', baseDir);
      } catch (err) {
        if (!isLifelineError(err)) throw err;
        const errors = Array.isArray(err.details) ? (err.details as ValidationIssue[]) : [{ path: '', message: err.message }];
        return { ok: false, errors };
      }
      if (next.config.gateway.id !== deps.loaded.config.gateway.id) {
        return { ok: false, errors: [{ path: 'gateway.id', message: `a gateway cannot rename itself: it is ${JSON.stringify(deps.loaded.config.gateway.id)}, the config says ${JSON.stringify(next.config.gateway.id)}` }] };
      }
      if (file) {
        // Write beside, then rename: a crash never leaves half a config.
        writeFileSync(`${file}.new`, `# written by a config command from the cloud at ${new Date().toISOString()}\n${stringify(raw)}`);
        renameSync(`${file}.new`, file);
      }
      return { ok: true, running: next.config, restart: () => deps.onConfig?.({ ...next, file }) };
    },
    runningConfig: () => deps.loaded.config,
  };
}
