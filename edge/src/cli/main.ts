/**
 * lifeline: the command line of the field technician.
 * Exit codes: 0 ok, 1 runtime failure (device, network), 2 bad input (config, arguments).
 */
import { Command, CommanderError } from 'commander';
import { isLifelineError, ErrorCodes } from '@lifeline/shared';
import { loadConfig } from '../config/load.js';
import { registerRead } from './read.js';
import { registerScan } from './scan.js';
import { registerDecode } from './decode.js';
import { registerSimulate } from './simulate.js';
import { registerAlarms } from './alarms.js';
import { registerEnroll } from './enroll.js';
import { intIn } from './field.js';

/** Exit code for an error: 2 for bad input, 1 otherwise. */
export function exitCodeFor(err: unknown): number {
  if (isLifelineError(err) && (err.code === ErrorCodes.ConfigInvalid || err.code === ErrorCodes.ProfileInvalid || err.code === ErrorCodes.ProfileNotFound)) return 2;
  return 1;
}

export function buildCli(): Command {
  const program = new Command('lifeline')
    .description('Lifeline edge gateway: run the agent and commission field devices')
    .showHelpAfterError('(run "lifeline --help" for usage)')
    .exitOverride();

  program
    .command('run')
    .description('run the gateway agent: poll devices, detect alarms, buffer and sync to the cloud')
    .requiredOption('-c, --config <file>', 'gateway config (YAML)')
    .option('--data-dir <dir>', "where the agent's files live; every path in the config must lie inside it, and a config pushed from the cloud cannot change it (default: the config file's directory)")
    .option('--apply-check-seconds <s>', 'after a config pushed from the cloud, how long it has to reach the cloud and the buses before the agent rolls back to the last good config', intIn(5, 3600), 60)
    .action(async (opts: { config: string; dataDir?: string; applyCheckSeconds: number }) => {
      const loaded = loadConfig(opts.config, { dataDir: opts.dataDir });
      // Loaded on demand: the agent pulls in MQTT, SQLite and Modbus, which other commands do not need.
      const [{ runAgent }, { createLogger }] = await Promise.all([import('../agent/runner.js'), import('../log.js')]);
      const log = createLogger('edge');
      // A config command from the cloud restarts the agent on the new config, in this process.
      const running = await runAgent(loaded, log, { applyCheckMs: opts.applyCheckSeconds * 1000 });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'stopping');
          running.stop().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  program
    .command('check')
    .description('validate a gateway config and its profiles (every mistake at once), then exit')
    .requiredOption('-c, --config <file>', 'gateway config (YAML)')
    .option('--data-dir <dir>', "the agent's data directory, as given to lifeline run (default: the config file's directory)")
    .action((opts: { config: string; dataDir?: string }) => {
      const { config, profiles } = loadConfig(opts.config, { dataDir: opts.dataDir });
      console.log(`${opts.config}: ok (gateway ${config.gateway.id}, ${config.buses.length} bus(es), ${profiles.size} device(s))`);
    });

  registerRead(program);
  registerScan(program);
  registerDecode(program);
  registerSimulate(program);
  registerAlarms(program);
  registerEnroll(program);

  return program;
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    console.error(isLifelineError(err) ? err.message : `error: ${(err as Error).stack ?? String(err)}`);
    return exitCodeFor(err);
  }
}

// Run when executed directly (not when imported by tests).
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli/main.ts')) {
  main().then((code) => process.exit(code));
}
