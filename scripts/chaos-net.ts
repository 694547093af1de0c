/**
 * The network lab of `pnpm chaos --netem`: the gateway in a network namespace of
 * its own (iproute2, as root), joined to this host twice:
 *
 *   host                                        namespace llchaos-PID (the agent, `ip netns exec`)
 *   10.231.N.1  llcPIDuh ◀═ chaos-link.py ═▶ llcPIDug  10.231.N.2   TUN pair: the shaped 4G uplink
 *   10.231.N.5  llcPIDfh ═══════ veth ═══════ llcPIDfg  10.231.N.6   never shaped: the local Modbus network
 *
 * The broker listens on 10.231.N.1, the Modbus simulator on 10.231.N.5.
 *
 * The uplink is shaped by scripts/chaos-link.py, a user-space netem between two
 * TUN devices, because this machine's kernel has no sch_netem (tc answers
 * "Specified qdisc kind is unknown"; CONFIG_NET_SCH_NETEM is not set): it delays,
 * jitters, drops, reorders and rate-limits whole IP packets, so TCP meets real
 * loss and silence. A blackhole drops every packet: no reset, no ICMP, a
 * half-open connection until a keepalive notices. A flap is `ip link set down/up`
 * of the gateway's end.
 *
 * Teardown ends the link process by PID (its TUNs go with it), deletes the
 * namespace and the field veth by name, also on a failed run, SIGINT or SIGTERM.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type LinkShape = 'clean' | 'lossy' | 'cap' | 'blackhole';

/** The link's parameters per shape: loss and reorder fractions, delay and jitter ms, rate bit/s (0: none), queue bytes. */
export const SHAPES: Record<LinkShape, { loss: number; delayMs: number; jitterMs: number; reorder: number; rate: number; limit: number }> = {
  clean: { loss: 0, delayMs: 0, jitterMs: 0, reorder: 0, rate: 0, limit: 1 << 20 },
  // 300 ms ± 100 ms, 5 % loss, a quarter of the packets overtaking the delayed ones (netem's reorder 25%).
  lossy: { loss: 0.05, delayMs: 300, jitterMs: 100, reorder: 0.25, rate: 0, limit: 1 << 20 },
  // A 64 kbit/s link with 300 ms of latency and a modem's 64 KB queue (tail drop beyond).
  cap: { loss: 0, delayMs: 300, jitterMs: 0, reorder: 0, rate: 64_000, limit: 64 * 1024 },
  // Everything vanishes.
  blackhole: { loss: 1, delayMs: 0, jitterMs: 0, reorder: 0, rate: 0, limit: 1 << 20 },
};

function run(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(argv: string[]): void {
  try {
    run(argv);
  } catch {
    /* already gone */
  }
}

export class NetLab {
  readonly ns: string;
  readonly hostUp: string;
  readonly gwUp: string;
  readonly hostField: string;
  readonly gwField: string;
  readonly hostAddr: string;
  readonly gwAddr: string;
  readonly fieldAddr: string;
  shape: LinkShape = 'clean';
  private link?: ChildProcess;
  private statsWaiters: ((s: LinkStats) => void)[] = [];
  private removed = false;
  private readonly onSignal = () => {
    this.teardown();
    process.exit(130);
  };

  constructor(tag = process.pid) {
    const n = 10 + (tag % 240);
    this.ns = `llchaos-${tag}`;
    this.hostUp = `llc${tag}uh`;
    this.gwUp = `llc${tag}ug`;
    this.hostField = `llc${tag}fh`;
    this.gwField = `llc${tag}fg`;
    this.hostAddr = `10.231.${n}.1`;
    this.gwAddr = `10.231.${n}.2`;
    this.fieldAddr = `10.231.${n}.5`;
  }

  /**
   * Make the namespace, the field veth and the shaped uplink; undefined when done,
   * else why it cannot be done here (not root, no iproute2 or python3, namespaces
   * or TUN not permitted).
   */
  async setup(seed: number): Promise<string | undefined> {
    try {
      run(['ip', 'netns', 'add', this.ns]);
    } catch (e) {
      return `cannot make a network namespace (${firstLine(e)})`;
    }
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    const n = this.hostAddr.split('.')[2];
    const inNs = ['ip', 'netns', 'exec', this.ns];
    try {
      run([...inNs, 'ip', 'link', 'set', 'lo', 'up']);
      run(['ip', 'link', 'add', this.hostField, 'type', 'veth', 'peer', 'name', this.gwField]);
      run(['ip', 'link', 'set', this.gwField, 'netns', this.ns]);
      run(['ip', 'addr', 'add', `10.231.${n}.5/30`, 'dev', this.hostField]);
      run(['ip', 'link', 'set', this.hostField, 'up']);
      run([...inNs, 'ip', 'addr', 'add', `10.231.${n}.6/30`, 'dev', this.gwField]);
      run([...inNs, 'ip', 'link', 'set', this.gwField, 'up']);
    } catch (e) {
      this.teardown();
      return `cannot set up a veth pair into the namespace (${firstLine(e)})`;
    }
    const script = join(dirname(fileURLToPath(import.meta.url)), 'chaos-link.py');
    const link = spawn('python3', [script, this.hostUp, this.ns, this.gwUp, String(seed)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.link = link;
    let err = '';
    link.stderr!.on('data', (d) => (err += d));
    const lines = createInterface({ input: link.stdout! });
    const ready = await new Promise<boolean>((resolve) => {
      link.once('error', (e) => ((err += e.message), resolve(false)));
      link.once('exit', () => resolve(false));
      lines.once('line', (l) => resolve(l === 'ready'));
    });
    if (!ready) {
      this.teardown();
      return `cannot open the TUN pair of the shaped link (${err.trim().split('\n').slice(-1)[0] || 'python3 chaos-link.py exited'})`;
    }
    lines.on('line', (l) => this.statsWaiters.shift()?.(JSON.parse(l) as LinkStats));
    try {
      run(['ip', 'addr', 'add', this.hostAddr, 'peer', this.gwAddr, 'dev', this.hostUp]);
      run(['ip', 'link', 'set', this.hostUp, 'up']);
      run([...inNs, 'ip', 'addr', 'add', this.gwAddr, 'peer', this.hostAddr, 'dev', this.gwUp]);
      run([...inNs, 'ip', 'link', 'set', this.gwUp, 'up']);
    } catch (e) {
      this.teardown();
      return `cannot address the TUN pair (${firstLine(e)})`;
    }
    return undefined;
  }

  /** Whether the link process still runs (it ends the run when it does not). */
  get linkAlive(): boolean {
    return !!this.link && this.link.exitCode === null && this.link.signalCode === null;
  }

  /** argv prefix that runs a command inside the namespace. */
  exec(argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.ns, ...argv];
  }

  /** Shape the uplink, both ways. */
  setShape(shape: LinkShape): void {
    const p = SHAPES[shape];
    this.link?.stdin!.write(`shape ${p.loss} ${p.delayMs} ${p.jitterMs} ${p.reorder} ${p.rate} ${p.limit}\n`);
    this.shape = shape;
  }

  /** Packets seen and dropped by the link so far. */
  stats(): Promise<LinkStats> {
    return new Promise((resolve) => {
      this.statsWaiters.push(resolve);
      this.link?.stdin!.write('stats\n');
    });
  }

  /** The gateway's end of the uplink down or up (a flapping modem). */
  setLink(up: boolean): void {
    run(this.exec(['ip', 'link', 'set', this.gwUp, up ? 'up' : 'down']));
    // Its addresses stay; the peer route comes back with the link.
  }

  /** Remove the link process, the namespace and the veth by name; safe to call twice. */
  teardown(): void {
    if (this.removed) return;
    this.removed = true;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (this.linkAlive) this.link!.kill('SIGKILL');
    tryRun(['ip', 'link', 'del', this.hostField]);
    tryRun(['ip', 'netns', 'del', this.ns]);
  }

  /** What is left of this lab (names), for the check that teardown worked. */
  leftovers(): string[] {
    const links = run(['ip', '-o', 'link', 'show']);
    const nss = run(['ip', 'netns', 'list']);
    return [this.hostUp, this.hostField].filter((d) => new RegExp(`: ${d}[:@]`).test(links)).concat(nss.includes(this.ns) ? [this.ns] : []);
  }
}

export interface LinkStats {
  packets: number;
  dropped: number;
  overflow: number;
  reordered: number;
  bytes: number;
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr || err.message || String(e)).trim().split('\n')[0];
}
