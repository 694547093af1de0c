/**
 * Every subcommand: its one-line summary and where its definition lives.
 *
 *   lifeline --help        ─▶ summaries only (no command module loaded: starts in node's time plus commander)
 *   lifeline <cmd> ...     ─▶ import that command's module ─▶ its options, parsers and action
 *   lifeline help <cmd>    ─▶ same as <cmd> --help
 *
 * A command module pulls in what its action needs (typebox schemas, codecs, SQLite,
 * MQTT) at import or on demand; none of that is paid by a command that does not use it.
 */
import { createRequire } from 'node:module';
import type { Command } from 'commander';

/** One subcommand as the top-level help lists it. */
export interface CommandEntry {
  name: string;
  summary: string;
  /** Registers the full command (options, subcommands, action) on the program. */
  load(): Promise<(program: Command) => void>;
}

/** In the order `lifeline --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'init', summary: 'write a commented gateway config for this box, by flags or by answering prompts; validated before it is written', load: async () => (await import('./init.js')).registerInit },
  { name: 'run', summary: 'run the gateway agent: poll devices, detect alarms, buffer and sync to the cloud', load: async () => (await import('./run.js')).registerRun },
  {
    name: 'status',
    summary: "the running agent: buses, devices, buffer depth and age, sync state, config version, active alarms (via its control socket)",
    load: async () => (await import('./status.js')).registerStatus,
  },
  {
    name: 'watch',
    summary: 'live table of the running agent: values, alarm levels and per-device comm quality (success rate, latency, last good read), until Ctrl-C',
    load: async () => (await import('./watch.js')).registerWatch,
  },
  {
    name: 'doctor',
    summary: 'check this box for the agent: serial permissions, clock sync, disk budget, broker reachability and login, certificate expiry; each with what to fix',
    load: async () => (await import('./doctor.js')).registerDoctor,
  },
  { name: 'check', summary: 'validate a gateway config and its profiles (every mistake at once), then exit', load: async () => (await import('./run.js')).registerCheck },
  { name: 'read', summary: 'read every point of one device once and print name, value, unit and raw registers; --raw: registers or coils without a profile', load: async () => (await import('./read.js')).registerRead },
  { name: 'write', summary: 'write holding registers or coils of one unit (FC5/6/15/16), like mbpoll', load: async () => (await import('./raw.js')).registerWrite },
  {
    name: 'probe',
    summary: 'read registers and show them in every type and byte order; with --expect, name the type, order and scale that give the value',
    load: async () => (await import('./probe.js')).registerProbe,
  },
  { name: 'scan', summary: 'find the units that answer on a bus (progress on stderr, results on stdout)', load: async () => (await import('./scan.js')).registerScan },
  { name: 'decode', summary: 'decode a captured frame and print its fields and values, or say exactly why it is invalid', load: async () => (await import('./decode.js')).registerDecode },
  {
    name: 'simulate',
    summary: 'serve simulated devices from a profile over Modbus TCP (meters: a serial server) or a serial pty, until Ctrl-C',
    load: async () => (await import('./simulate.js')).registerSimulate,
  },
  { name: 'device', summary: 'list, add or remove the devices of the gateway config (comments kept), or test one: read every point and flag values out of range', load: async () => (await import('./device.js')).registerDevice },
  { name: 'alarms', summary: 'list alarms; acknowledge, shelve and unshelve them; show outputs (see docs/alarms.md)', load: async () => (await import('./alarms.js')).registerAlarms },
  { name: 'service', summary: 'install, remove or check the agent as a systemd service (Type=notify, watchdog, hardened)', load: async () => (await import('./service.js')).registerService },
  {
    name: 'completion',
    summary: 'print a bash or zsh completion script generated from these command definitions (lifeline completion bash | sudo tee /etc/bash_completion.d/lifeline)',
    load: async () => (await import('./completion.js')).registerCompletion,
  },
  {
    name: 'enroll',
    summary: 'enrol this gateway with the cloud: spend a one-time token, receive the gateway id and MQTT credentials',
    load: async () => (await import('./enroll.js')).registerEnroll,
  },
];

/** The summary of a command, for its own `.description()`. */
export function summary(name: string): string {
  const c = COMMANDS.find((e) => e.name === name);
  if (!c) throw new Error(`no command ${name} in COMMANDS`);
  return c.summary;
}

/** The subcommand argv asks for (`lifeline [help] <name> ...`), if any. */
export function requestedCommand(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  const first = args.find((a) => !a.startsWith('-'));
  if (first === 'help') return args[args.indexOf('help') + 1];
  return first;
}

/** How the technician invoked us, for hints to copy: `pnpm lifeline` in a checkout (the sources under tsx), else `lifeline`. */
export function selfName(argv1 = process.argv[1] ?? ''): string {
  return argv1.endsWith('.ts') ? 'pnpm lifeline' : 'lifeline';
}

/** The edge package's version (src/cli and dist/cli are both two levels below its package.json). */
export function cliVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}
