/**
 * What downlink commands act on in a running agent: the alarm manager
 * (acknowledge, shelve), the Modbus point writer, and the config.
 *
 *   config command ─▶ pushedConfigIssues (may not move the buffer, leave the data dir, change the login)
 *                  ─▶ mergePushedConfig (keep the buffer path and the login)
 *                  ─▶ validateConfig in the data directory (the checks of `lifeline check`)
 *                  ─▶ <file>.last-good ◀─ current file; <file> ◀─ new one (0600, atomic)
 *                  ─▶ onConfig: the runner restarts on it, watches, rolls back (runner.ts)
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { stringify } from 'yaml';
import { isLifelineError, mergePushedConfig, pushedConfigIssues, type ValidationIssue } from '@lifeline/shared';
import { validateConfig, type LoadedConfig } from '../config/load.js';
import { copySecretFile, writeSecretFile } from '../config/write.js';
import type { GatewayConfig } from '../config/schema.js';
import type { AlarmSystem } from '../alarms/system.js';
import { ModbusPointWriter, type PointWriter } from '../actions/point-writer.js';
import type { Logger } from '../log.js';
import type { CommandTarget } from './command-handler.js';

/** Which command a config restart comes from. */
export interface ConfigCommandMeta {
  /** The config command's id, when it came from the cloud. */
  command?: string;
}

/** Collaborators of the agent's command target. */
export interface AgentCommandDeps {
  loaded: LoadedConfig;
  alarms: () => AlarmSystem;
  log: Logger;
  /** Called with a valid new config once it is saved; the agent restarts on it. */
  onConfig?: (next: LoadedConfig, meta: ConfigCommandMeta) => void;
  /** Point writer (default: Modbus over the config's buses). */
  pointWriter?: PointWriter;
  /** Whether the running config is a pushed one still being checked (the runner knows). */
  onTrial?: () => boolean;
}

/** Where the previous config is kept while a pushed one proves itself. */
export const lastGoodFile = (file: string) => `${file}.last-good`;

/** The data directory of a running config: `--data-dir`, else its file's directory. */
export function dataDirOf(loaded: LoadedConfig): string {
  if (loaded.dataDir) return loaded.dataDir;
  if (loaded.file) return dirname(loaded.file);
  // Built in code (the demo): the buffer's directory is where its files are.
  return loaded.config.buffer.path === ':memory:' ? process.cwd() : dirname(loaded.config.buffer.path);
}

/**
 * A pushed config opens serial ports only: a bus `path` must be a character
 * device (a config on the box may name an adapter not plugged in yet).
 */
function serialPathIssues(config: GatewayConfig): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  config.buses.forEach((bus, b) => {
    if (bus.path === undefined) return;
    let device = false;
    try {
      device = statSync(realpathSync(bus.path)).isCharacterDevice();
    } catch {
      device = !existsSync(bus.path) && resolve(bus.path).startsWith('/dev/');
    }
    if (!device) issues.push({ path: `buses[${b}].path`, message: `a pushed config may only name a serial device (under /dev), got ${JSON.stringify(bus.path)}` });
  });
  return issues;
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
      return writer.writePoint(device, point, value);
    },
    applyConfig: async (raw, command) => {
      const { loaded } = deps;
      const file = loaded.file;
      const baseDir = file ? dirname(file) : process.cwd();
      const running = loaded.written ?? loaded.config;
      // The push rules first (the cloud checked them too): a refusal names what the push may not do.
      const refused = pushedConfigIssues(raw, running);
      if (refused.length) return { ok: false, errors: refused };
      const merged = mergePushedConfig(raw, running);
      let next: LoadedConfig;
      try {
        next = validateConfig(merged, 'config from the cloud', baseDir, { dataDir: dataDirOf(loaded) });
      } catch (err) {
        if (!isLifelineError(err)) throw err;
        const errors = Array.isArray(err.details) ? (err.details as ValidationIssue[]) : [{ path: '', message: err.message }];
        return { ok: false, errors };
      }
      const serial = serialPathIssues(next.config);
      if (serial.length) return { ok: false, errors: serial };
      if (next.config.gateway.id !== loaded.config.gateway.id) {
        return { ok: false, errors: [{ path: 'gateway.id', message: `a gateway cannot rename itself: it is ${JSON.stringify(loaded.config.gateway.id)}, the config says ${JSON.stringify(next.config.gateway.id)}` }] };
      }
      if (file) {
        // The file now running is the one to come back to, unless it is itself still on trial
        // (a second push inside the apply window): then last-good already holds the proven one.
        if (!deps.onTrial?.() || !existsSync(lastGoodFile(file))) copySecretFile(file, lastGoodFile(file));
        const by = command ? ` (command ${command.id} by ${command.by})` : '';
        writeSecretFile(file, `# written by a config command from the cloud at ${new Date().toISOString()}${by}\n${stringify(merged)}`);
      }
      return { ok: true, running: next.config, restart: () => deps.onConfig?.({ ...next, file }, { command: command?.id }) };
    },
    runningConfig: () => deps.loaded.config,
  };
}
