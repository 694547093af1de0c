/**
 * lifeline: the command line of the field technician.
 * Exit codes: 0 ok, 1 runtime failure (device, network), 2 bad input (config, arguments).
 *
 *   argv ─requestedCommand─▶ that command's module loaded and registered (commands.ts)
 *                            the others listed by their summary only, so `lifeline --help` loads no command module
 */
import { Command, CommanderError } from 'commander';
import { isLifelineError, ErrorCodes } from '@lifeline/shared/errors';
import { COMMANDS, cliVersion, requestedCommand } from './commands.js';

/** Exit code for an error: 2 for bad input, 1 otherwise. */
export function exitCodeFor(err: unknown): number {
  if (isLifelineError(err) && (err.code === ErrorCodes.ConfigInvalid || err.code === ErrorCodes.ProfileInvalid || err.code === ErrorCodes.ProfileNotFound)) return 2;
  return 1;
}

/** Every command's errors end with the way to its own help (`lifeline alarms ack --help`). */
function pointAtOwnHelp(cmd: Command, path: string): void {
  cmd.showHelpAfterError(`(run "${path} --help" for usage)`);
  for (const sub of cmd.commands) pointAtOwnHelp(sub, `${path} ${sub.name()}`);
}

/**
 * The program for argv: the command argv names fully defined, the others by summary
 * (`all`: every command fully defined, e.g. for completion).
 */
export async function buildCli(argv: readonly string[] = process.argv, all = false): Promise<Command> {
  const program = new Command('lifeline')
    .description('Lifeline edge gateway: run the agent and commission field devices')
    .version(cliVersion(), '-V, --version', 'print the version and exit')
    .exitOverride();
  const wanted = requestedCommand(argv);
  for (const c of COMMANDS) {
    if (all || c.name === wanted) (await c.load())(program);
    else program.command(c.name).description(c.summary);
  }
  pointAtOwnHelp(program, 'lifeline');
  return program;
}

/**
 * A commander error, by class or by its `commander.*` code: in the artifact the entry bundles its
 * own copy of commander and the command modules import the package's, so a command module's
 * `InvalidArgumentError` is not an instance of the bundle's class.
 */
function isCommanderError(err: unknown): err is CommanderError {
  return err instanceof CommanderError || (err instanceof Error && typeof (err as CommanderError).code === 'string' && (err as CommanderError).code.startsWith('commander.') && typeof (err as CommanderError).exitCode === 'number');
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await (await buildCli(argv)).parseAsync(argv);
    return 0;
  } catch (err) {
    if (isCommanderError(err)) return err.exitCode === 0 ? 0 : 2;
    console.error(isLifelineError(err) ? err.message : `error: ${(err as Error).stack ?? String(err)}`);
    return exitCodeFor(err);
  }
}

// Run when executed directly (not when imported by tests); the compiled CLI's entry is bin.ts. By the
// path, not import.meta.url: in the artifact's bundle import.meta.url is the bundle's own.
if (/\/cli\/main\.[jt]s$/.test(process.argv[1] ?? '')) {
  main().then((code) => process.exit(code));
}
