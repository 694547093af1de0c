/**
 * systemd's notify protocol for `lifeline run` under `Type=notify` + `WatchdogSec=`:
 * READY=1 once the agent has started, WATCHDOG=1 from the main event loop, STOPPING=1
 * when it stops. A loop that hangs (a stuck synchronous call, a busy loop) stops the
 * pings, and systemd restarts the service after WatchdogSec.
 *
 *   NOTIFY_SOCKET unset (a terminal, tests, Docker) ─▶ nothing at all
 *   set ─▶ `systemd-notify --ready | WATCHDOG=1 | STOPPING=1`  (a unix datagram: node has no
 *          AF_UNIX SOCK_DGRAM; systemd-notify ships with systemd, waits until systemd has read
 *          the message (barrier), and the unit sets NotifyAccess=all so a child may speak)
 *   WATCHDOG_USEC set (and WATCHDOG_PID ours, or unset) ─▶ a ping every WATCHDOG_USEC / 3 on a timer
 */
import { spawn } from 'node:child_process';

/** What a notifier needs of the outside, replaceable in tests. */
export interface NotifyEnv {
  env: NodeJS.ProcessEnv;
  pid: number;
  /** Sends one state; resolves when the sender is done (errors are reported, never thrown). */
  send(args: string[]): Promise<void>;
}

/** `systemd-notify args...` with NOTIFY_SOCKET passed on; gives up after 5 s. */
export function sendWithSystemdNotify(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('systemd-notify', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`systemd-notify ${args.join(' ')}: ${signal ?? `exit ${code}`}${err ? `: ${err.trim()}` : ''}`));
    });
  });
}

/** The agent's side of sd_notify. */
export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;
  private readonly io: NotifyEnv;

  constructor(
    private readonly onError: (err: unknown, what: string) => void = () => {},
    io: Partial<NotifyEnv> = {},
  ) {
    const env = io.env ?? process.env;
    this.io = { env, pid: io.pid ?? process.pid, send: io.send ?? ((args) => sendWithSystemdNotify(args, env)) };
  }

  /** True when systemd (or a test) listens: NOTIFY_SOCKET is set. */
  get enabled(): boolean {
    return Boolean(this.io.env.NOTIFY_SOCKET);
  }

  /** The watchdog period systemd asked for, ms (undefined: no watchdog, or it is another process's). */
  get watchdogMs(): number | undefined {
    const usec = Number(this.io.env.WATCHDOG_USEC);
    const pid = this.io.env.WATCHDOG_PID;
    if (!this.enabled || !(usec > 0) || (pid !== undefined && Number(pid) !== this.io.pid)) return undefined;
    return usec / 1000;
  }

  private send(args: string[], what: string): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return this.io.send(args).catch((err: unknown) => this.onError(err, what));
  }

  /** The agent is up: READY=1 (with our pid as MAINPID), then the watchdog pings start. */
  async ready(status = 'polling'): Promise<void> {
    await this.send(['--ready', `--pid=${this.io.pid}`, `--status=${status}`], 'READY=1');
    const ms = this.watchdogMs;
    if (ms === undefined || this.timer) return;
    // A third of the period: two pings may be lost or late before systemd acts.
    this.timer = setInterval(() => void this.send(['WATCHDOG=1'], 'WATCHDOG=1'), Math.max(100, Math.floor(ms / 3)));
    this.timer.unref();
  }

  /** The agent is stopping: pings end, STOPPING=1. */
  async stopping(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.send(['STOPPING=1'], 'STOPPING=1');
  }
}
