/** A check run every `checkMs`, one at a time, whose failure is logged and retried at the next: what escalation and digests share. */
import type { Logger } from 'pino';

/** How often a periodic check runs, and its clock (tests inject a fake one). */
export interface PeriodicOptions {
  checkMs?: number;
  now?: () => number;
}

export abstract class PeriodicCheck {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  protected readonly checkMs: number;
  protected readonly now: () => number;

  constructor(protected readonly log: Logger, private readonly what: string, opts: PeriodicOptions, defaultMs: number) {
    this.checkMs = opts.checkMs ?? defaultMs;
    this.now = opts.now ?? Date.now;
  }

  /** Check every checkMs (and at once when `now` is true). */
  start(now = false): void {
    this.timer = setInterval(() => void this.check(), this.checkMs);
    this.timer.unref();
    if (now) void this.check();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Run one check (or join the one running); the number of outbox rows it queued. */
  check(): Promise<number> {
    this.running ??= this.scan()
      .catch((err: unknown) => (this.log.error({ err }, `${this.what} check failed; tried again at the next`), 0))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  protected abstract scan(): Promise<number>;
}
