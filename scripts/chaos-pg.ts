/**
 * A private PostgreSQL for `pnpm chaos --netem`: initdb into a temporary
 * directory, started with pg_ctl on a free port and its own socket directory, so
 * restarting it under ingest touches nobody else's database. As root the server
 * runs as the `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

function pgBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
}

export class PrivatePg {
  readonly dir: string;
  private readonly bin: string;
  private readonly asUser: string[];
  private started = false;

  private constructor(bin: string, readonly port: number) {
    this.bin = bin;
    this.dir = mkdtempSync(join(tmpdir(), 'lifeline-chaos-pg-'));
    const root = userInfo().uid === 0;
    if (root) chownSync(this.dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    this.asUser = root ? ['runuser', '-u', 'postgres', '--'] : [];
  }

  /** A running private server, or why there cannot be one. */
  static async start(port: number): Promise<PrivatePg | string> {
    const bin = pgBin();
    if (!bin) return 'no PostgreSQL server binaries under /usr/lib/postgresql';
    const pg = new PrivatePg(bin, port);
    try {
      pg.run('initdb', ['-D', join(pg.dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
      pg.ctl('start');
      pg.started = true;
    } catch (e) {
      pg.stop();
      return `cannot start a private PostgreSQL (${((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').slice(-1)[0]})`;
    }
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Fast shutdown (open connections are cut), down for `downMs`, start again; does not block the event loop. */
  async restart(downMs: number): Promise<void> {
    await this.ctlAsync('stop', ['-m', 'fast']);
    await new Promise((r) => setTimeout(r, downMs));
    await this.ctlAsync('start');
  }

  stop(): void {
    if (this.started) {
      try {
        this.ctl('stop', ['-m', 'immediate']);
      } catch {
        /* not running */
      }
    }
    this.started = false;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private ctlArgs(action: string, extra: string[]): string[] {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40 -c shared_buffers=32MB`;
    return [action, '-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-t', '60', ...(extra.length ? extra : ['-m', 'fast']), '-o', opts];
  }

  private ctl(action: string, extra: string[] = []): void {
    this.run('pg_ctl', this.ctlArgs(action, extra));
  }

  private async ctlAsync(action: string, extra: string[] = []): Promise<void> {
    const argv = [...this.asUser, join(this.bin, 'pg_ctl'), ...this.ctlArgs(action, extra)];
    await promisify(execFile)(argv[0], argv.slice(1));
  }

  private run(tool: string, args: string[]): void {
    const argv = [...this.asUser, join(this.bin, tool), ...args];
    execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  }
}
