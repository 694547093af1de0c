/**
 * `lifeline run` (the agent) and `lifeline check` (its config, without running).
 * The agent's modules (MQTT, SQLite, Modbus, detectors) load only when `run` starts.
 */
import type { Command } from 'commander';
import { intIn } from './field.js';
import { summary } from './commands.js';

/** Register `run` on the program. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description(summary('run'))
    .requiredOption('-c, --config <file>', 'gateway config (YAML)')
    .option('--data-dir <dir>', "where the agent's files live; every path in the config must lie inside it, and a config pushed from the cloud cannot change it (default: the config file's directory)")
    .option('--apply-check-seconds <s>', 'after a config pushed from the cloud, how long it has to reach the cloud and the buses before the agent rolls back to the last good config', intIn(5, 3600), 60)
    .action(async (opts: { config: string; dataDir?: string; applyCheckSeconds: number }) => {
      const [{ loadConfig }, { runAgent }, { createLogger }, { SystemdNotifier }, { liteModeWarning }] = await Promise.all([
        import('../config/load.js'),
        import('../agent/runner.js'),
        import('../log.js'),
        import('../agent/notify.js'),
        import('../agent/footprint.js'),
      ]);
      const loaded = loadConfig(opts.config, { dataDir: opts.dataDir });
      const log = createLogger('edge');
      const lite = liteModeWarning(loaded);
      if (lite) log.warn(lite);
      // Under systemd (Type=notify): READY=1 once started, then watchdog pings from this event loop.
      const notifier = new SystemdNotifier((err, what) => log.warn({ err, what }, 'cannot notify systemd'));
      // A config command from the cloud restarts the agent on the new config, in this process.
      const running = await runAgent(loaded, log, { applyCheckMs: opts.applyCheckSeconds * 1000 });
      await notifier.ready(`gateway ${loaded.config.gateway.id}: ${loaded.config.buses.length} bus(es)`);
      if (notifier.watchdogMs) log.info({ watchdogMs: notifier.watchdogMs }, 'systemd watchdog fed from the main loop');
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'stopping');
          void notifier.stopping();
          running.stop().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

/** Register `check` on the program. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(summary('check'))
    .requiredOption('-c, --config <file>', 'gateway config (YAML)')
    .option('--data-dir <dir>', "the agent's data directory, as given to lifeline run (default: the config file's directory)")
    .action(async (opts: { config: string; dataDir?: string }) => {
      const { loadConfig } = await import('../config/load.js');
      const { config, profiles } = loadConfig(opts.config, { dataDir: opts.dataDir });
      console.log(`${opts.config}: ok (gateway ${config.gateway.id}, ${config.buses.length} bus(es), ${profiles.size} device(s))`);
    });
}
