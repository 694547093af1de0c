/**
 * One pino logger for the agent; components take a child with their name.
 *
 *   stdout a terminal (a technician running `lifeline run`)  ─▶ pino-pretty, colour, local time, in this thread
 *   stdout a pipe or a file (journald, docker, a log shipper) ─▶ pino's JSON lines, one per record
 *   LOG_FORMAT=json | pretty overrides the guess; LOG_LEVEL sets the level (default info).
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** How records are written: `pretty` for a person at a terminal, `json` for machines. */
export type LogFormat = 'json' | 'pretty';

/** The format for this process: LOG_FORMAT when set (json|pretty), else pretty exactly when stdout is a terminal. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stdout.isTTY)): LogFormat {
  const f = env.LOG_FORMAT?.toLowerCase();
  if (f === 'json' || f === 'pretty') return f;
  return isTty ? 'pretty' : 'json';
}

/** pino-pretty as a synchronous stream (no worker thread: a Ctrl-C loses no line, and nothing waits at exit). */
function prettyStream(): DestinationStream {
  // Loaded only for a terminal: JSON output (the service) never pays for it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
  return pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

export function createLogger(name = 'edge', level = process.env.LOG_LEVEL ?? 'info', format: LogFormat = logFormat()): Logger {
  return format === 'pretty' ? pino({ name, level }, prettyStream()) : pino({ name, level });
}
