/** One pino logger for the agent; components take a child with their name. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name = 'edge', level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level });
}
