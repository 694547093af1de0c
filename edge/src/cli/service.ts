/**
 * `lifeline service install|uninstall|status`: the agent as a systemd service on the box.
 *
 *   install ─▶ systemd running? root? config valid (loadConfig, every mistake at once)?
 *           ─▶ system user <user> (group <user>, member of dialout), /var/lib/<name> (StateDirectory)
 *           ─▶ /etc/systemd/system/<name>.service (unitFile below) ─▶ daemon-reload, enable --now
 *   uninstall ─▶ disable --now, unit removed, daemon-reload (user, config and data stay)
 *   status    ─▶ systemctl status <name>
 *   install --print ─▶ the unit on stdout, nothing installed (works without systemd)
 *
 * The unit: Type=notify with WatchdogSec (the agent pings from its main loop, agent/notify.ts),
 * Restart=on-failure, journald, JSON logs, and hardening that leaves the agent what it needs:
 * its state and config directories, serial ports (dialout) and sysfs GPIO (no ProtectKernelTunables).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { ErrorCodes, LifelineError } from '@lifeline/shared/errors';
import { cliVersion, summary } from './commands.js';
import { intIn } from './field.js';

/** What the unit is made from. */
export interface UnitOptions {
  /** The artifact's bin/lifeline (absolute). */
  exec: string;
  /** The gateway config (absolute). */
  config: string;
  /** Service and state directory name (default lifeline). */
  name: string;
  user: string;
  /** Extra supplementary groups besides dialout (e.g. gpio on a Raspberry Pi). */
  groups: string[];
  watchdogSeconds: number;
  version: string;
  /** Node flags sized from the config (agent/footprint.ts), passed through bin/lifeline's LIFELINE_NODE_FLAGS. */
  nodeFlags?: string[];
}

/** The systemd unit for these options. */
export function unitFile(o: UnitOptions): string {
  const stateDir = `/var/lib/${o.name}`;
  const configDir = dirname(o.config);
  const rw = [...new Set([stateDir, configDir])];
  return `# ${o.name}.service: written by \`lifeline service install\` (lifeline ${o.version}); edit with \`systemctl edit ${o.name}\`.
[Unit]
Description=Lifeline edge gateway agent (${o.name})
After=network-online.target time-sync.target
Wants=network-online.target
StartLimitIntervalSec=300
StartLimitBurst=10

[Service]
Type=notify
# READY=1 and the watchdog pings come from systemd-notify, a child of the agent.
NotifyAccess=all
ExecStart=${o.exec} run --config ${o.config} --data-dir ${stateDir}
User=${o.user}
Group=${o.user}
SupplementaryGroups=${['dialout', ...o.groups].join(' ')}
StateDirectory=${o.name}
StateDirectoryMode=0750
WorkingDirectory=${stateDir}
Environment=LOG_FORMAT=json
# Two glibc malloc arenas instead of 8 per core: RSS that stays flat (bin/lifeline sets it too, with its node
# flags; this covers another --exec). docs/decisions.md, issue #18.
Environment=MALLOC_ARENA_MAX=2
${o.nodeFlags?.length ? `# Sized from the config (${o.nodeFlags.join(' ')}: agent/footprint.ts); re-run \`lifeline service install\` when the site grows.\nEnvironment=LIFELINE_NODE_FLAGS=${o.nodeFlags.join(' ')}\n` : ''}Restart=on-failure
RestartSec=5
# A hung main loop stops the pings: systemd restarts the agent after this long.
WatchdogSec=${o.watchdogSeconds}
TimeoutStartSec=120
TimeoutStopSec=30
StandardOutput=journal
StandardError=journal
SyslogIdentifier=${o.name}

# Hardening. Not ProtectKernelTunables (it makes /sys read-only: onoff drives GPIO through sysfs),
# not PrivateDevices (the RS-485 adapters are /dev/ttyUSB*, /dev/ttyS*).
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${rw.join(' ')}
ProtectHome=yes
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectHostname=yes
ProtectClock=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}

/** The artifact's launcher when running from the artifact (lib/dist/cli → bin/lifeline), else undefined. */
export function artifactLauncher(): string | undefined {
  const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/lifeline');
  return existsSync(bin) ? realpathSync(bin) : undefined;
}

/** Refuses where systemd is not the running init (containers, WSL without systemd, other inits). */
export function requireSystemd(): void {
  if (!existsSync('/run/systemd/system')) {
    throw new LifelineError(
      ErrorCodes.LinkDown,
      'systemd is not running on this machine (no /run/systemd/system): run `lifeline run --config <file>` under its own supervisor, or see the unit with `lifeline service install --print`',
    );
  }
}

function sh(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new LifelineError(ErrorCodes.LinkDown, `${what} failed: ${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim() ?? `exit ${r.status}`}`);
  return r.stdout;
}

const name = (v: string) => {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(v)) throw new InvalidArgumentError(`must be lowercase letters, digits and -, got ${JSON.stringify(v)}`);
  return v;
};

interface InstallOpts {
  config: string;
  exec?: string;
  name: string;
  user: string;
  group: string[];
  watchdogSeconds: number;
  print?: boolean;
}

/** Register `service` on the program. */
export function registerService(program: Command): void {
  const service = program.command('service').description(summary('service'));
  service
    .command('install')
    .description('install and start the agent as a systemd service (needs root); --print shows the unit only')
    .option('-c, --config <file>', 'gateway config the service runs', '/etc/lifeline/gateway.yaml')
    .option('--exec <path>', "the lifeline launcher the unit runs (default: this artifact's bin/lifeline)")
    .option('--name <name>', 'service name, also /var/lib/<name>', name, 'lifeline')
    .option('--user <user>', 'system user the agent runs as (created, member of dialout)', name, 'lifeline')
    .option('--group <group>', 'another supplementary group, e.g. gpio (repeatable)', (v: string, prev: string[]) => [...prev, name(v)], [])
    .option('--watchdog-seconds <s>', 'restart the agent when its main loop stops answering this long', intIn(10, 3600), 30)
    .option('--print', 'print the unit and exit; installs nothing')
    .action(async (opts: InstallOpts) => {
      const exec = opts.exec ? resolve(opts.exec) : artifactLauncher();
      if (!exec) throw new LifelineError(ErrorCodes.ConfigInvalid, '--exec: not running from the installed artifact (bin/lifeline); give the launcher to run, e.g. --exec /opt/lifeline/bin/lifeline');
      const [{ loadConfig }, { agentNodeFlags }] = await Promise.all([import('../config/load.js'), import('../agent/footprint.js')]);
      const config = resolve(opts.config);
      const stateDir = `/var/lib/${opts.name}`;
      // The unit's node flags are sized from the config (agent/footprint.ts), so the config is read for --print too.
      const unitFor = (dataDir: string) => {
        const loaded = loadConfig(config, { dataDir }); // every mistake at once, before anything changes
        return unitFile({ exec, config, name: opts.name, user: opts.user, groups: opts.group, watchdogSeconds: opts.watchdogSeconds, version: cliVersion(), nodeFlags: agentNodeFlags(loaded) });
      };
      if (opts.print) {
        // Before any install made the state directory, paths are checked against / (the install checks them against it).
        process.stdout.write(unitFor(existsSync(stateDir) ? stateDir : '/'));
        return;
      }
      requireSystemd();
      if (process.getuid?.() !== 0) throw new LifelineError(ErrorCodes.ConfigInvalid, `service install needs root: sudo ${exec} service install --config ${opts.config}`);
      const unit = unitFor(stateDir);
      if (spawnSync('getent', ['passwd', opts.user]).status !== 0) {
        sh('useradd', ['--system', '--user-group', '--groups', 'dialout', '--home-dir', `/var/lib/${opts.name}`, '--no-create-home', '--shell', '/usr/sbin/nologin', opts.user], 'creating the user');
        console.log(`user ${opts.user} created (groups ${opts.user}, dialout)`);
      } else sh('usermod', ['--append', '--groups', 'dialout', opts.user], 'adding the user to dialout');
      // The agent rewrites its config when the cloud pushes one: the config's directory is the service user's.
      const uid = Number(sh('id', ['-u', opts.user], 'looking up the user').trim());
      const gid = Number(sh('id', ['-g', opts.user], 'looking up the group').trim());
      chownSync(dirname(config), uid, gid);
      chownSync(config, uid, gid);
      const unitPath = `/etc/systemd/system/${opts.name}.service`;
      writeFileSync(unitPath, unit, { mode: 0o644 });
      sh('systemctl', ['daemon-reload'], 'daemon-reload');
      sh('systemctl', ['enable', '--now', `${opts.name}.service`], 'enabling the service');
      console.log(`${unitPath} installed, enabled and started; logs: journalctl -u ${opts.name} -f; state: lifeline service status`);
    });
  service
    .command('uninstall')
    .description('stop, disable and remove the service (the user, config and /var/lib data stay)')
    .option('--name <name>', 'service name', name, 'lifeline')
    .action((opts: { name: string }) => {
      requireSystemd();
      const unitPath = `/etc/systemd/system/${opts.name}.service`;
      if (!existsSync(unitPath)) throw new LifelineError(ErrorCodes.NotFound, `${unitPath} does not exist: nothing to uninstall`);
      spawnSync('systemctl', ['disable', '--now', `${opts.name}.service`], { stdio: 'inherit' });
      rmSync(unitPath);
      sh('systemctl', ['daemon-reload'], 'daemon-reload');
      console.log(`${opts.name}.service stopped, disabled and removed; /var/lib/${opts.name}, the config and user are kept`);
    });
  service
    .command('status')
    .description('the service as systemd sees it (active, restarts, last log lines)')
    .option('--name <name>', 'service name', name, 'lifeline')
    .action((opts: { name: string }) => {
      requireSystemd();
      const r = spawnSync('systemctl', ['status', '--no-pager', `${opts.name}.service`], { stdio: 'inherit' });
      // systemctl status: 0 running, 3 not running, 4 no such unit.
      if (r.status !== 0) throw new LifelineError(ErrorCodes.LinkDown, `${opts.name}.service is not running (systemctl status exit ${r.status})`);
    });
}
