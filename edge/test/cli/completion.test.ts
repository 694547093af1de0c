/**
 * `lifeline completion bash|zsh`: scripts generated from the command definitions. The bash one is
 * loaded into a real bash and its completion function run as bash runs it on Tab (COMP_WORDS,
 * COMP_CWORD → COMPREPLY); the zsh one is checked against the same command tree, and run in a
 * real zsh with compsys's `_describe`, `compadd` and `_files` replaced by functions that print
 * what they are given (compsys itself needs an interactive line editor).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.js';
import { lifeline } from '../field/cli-run.js';
import { buildCli } from '../../src/cli/main.js';
import { completionTree, zshScript } from '../../src/cli/completion.js';

const tmp = tempDir();
const script = join(tmp.dir, 'lifeline.bash');
afterAll(() => tmp.cleanup());

beforeAll(async () => {
  const r = await lifeline(tmp.dir, 'completion', 'bash');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  writeFileSync(script, r.stdout);
}, 60_000);

/** What bash offers on Tab after `words` (the last one is the word being completed). */
function complete(...words: string[]): string[] {
  const cmd = `source ${script}\nCOMP_WORDS=(${['lifeline', ...words].map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _lifeline; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', cmd], { cwd: tmp.dir, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('lifeline completion', () => {
  it('bash completes the subcommands, from the command table', () => {
    const top = complete('');
    for (const c of ['init', 'run', 'status', 'watch', 'scan', 'probe', 'device', 'alarms', 'service', 'completion', 'help', '--version']) expect(top).toContain(c);
    expect(complete('wa')).toEqual(['watch']);
    expect(complete('device', '')).toEqual(expect.arrayContaining(['list', 'add', 'remove', 'test']));
    expect(complete('alarms', 'sh')).toEqual(['shelve']);
  });

  it("bash completes each command's own flags and the choices of a flag or argument", () => {
    expect(complete('watch', '--')).toEqual(expect.arrayContaining(['--device', '--interval', '--count', '--json', '--config', '--help']));
    expect(complete('scan', '--me')).toEqual(['--meters']);
    expect(complete('scan', '--meters', '')).toEqual(['dlt645', 'cjt188']);
    expect(complete('completion', '')).toEqual(expect.arrayContaining(['bash', 'zsh']));
    // After a flag's value the command is still known: scan's flags, not the top level's.
    expect(complete('scan', '--serial', '/dev/ttyUSB0', '--no-p')).toEqual(['--no-profiles']);
    // A flag that takes a path completes file names.
    writeFileSync(join(tmp.dir, 'gateway.yaml'), '');
    expect(complete('status', '--config', 'gate')).toEqual(['gateway.yaml']);
  });

  it('zsh: every command path, subcommand and flag of the tree, with descriptions', async () => {
    const tree = completionTree(await buildCli(['node', 'lifeline'], true));
    const z = zshScript(tree);
    expect(z.startsWith('#compdef lifeline\n')).toBe(true);
    expect(z).toMatch(/^ {4}'watch'\) subs=\(\); flags=\(.*'--interval:refresh every this many ms'.*\); args=\(\) ;;$/m);
    expect(z).toMatch(/^ {4}'alarms'\) subs=\('list:[^']*' 'ack:/m);
    expect(z).toMatch(/^ {4}'completion'\) .*args=\('bash' 'zsh'\) ;;$/m);
    // The tree holds every command the program defines.
    expect(tree.find((n) => n.path === '')!.subcommands.map((s) => s.name)).toEqual(expect.arrayContaining(['watch', 'scan', 'completion']));
  }, 60_000);

  it('zsh: the script runs in zsh and offers what the command path allows', async () => {
    const r = await lifeline(tmp.dir, 'completion', 'zsh');
    expect(r.status).toBe(0);
    const zfile = join(tmp.dir, '_lifeline');
    writeFileSync(zfile, r.stdout);
    const harness = join(tmp.dir, 'harness.zsh');
    writeFileSync(
      harness,
      [
        '_describe() { local a=$4; print -l -- ${(P)a} }',
        'compadd() { local a=$2; print -l -- ${(P)a} }',
        '_files() { print FILES }',
        // The script's last line calls _lifeline itself (as compinit does); the harness calls it with its own words.
        `source <(sed '$d' ${zfile})`,
        'words=("$@"); CURRENT=$#words',
        '_lifeline',
      ].join('\n'),
    );
    const offered = (...words: string[]) => {
      const z = spawnSync('zsh', ['-f', harness, 'lifeline', ...words], { encoding: 'utf8' });
      expect(z.error).toBeUndefined(); // zsh must be installed (pnpm test's prerequisites bring it)
      expect(z.stderr).toBe('');
      return z.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[0]);
    };
    expect(offered('')).toEqual(expect.arrayContaining(['init', 'run', 'watch', 'scan', 'completion', '--version']));
    expect(offered('device', '')).toEqual(expect.arrayContaining(['list', 'add', 'remove', 'test']));
    // After a flag's value the command is still known: scan's flags, not the top level's.
    expect(offered('scan', '--serial', '/dev/ttyUSB0', '--')).toEqual(expect.arrayContaining(['--meters', '--no-profiles', '--units']));
    expect(offered('scan', '--serial', '/dev/ttyUSB0', '--')).not.toContain('--version');
    expect(offered('completion', '')).toEqual(expect.arrayContaining(['bash', 'zsh']));
    expect(offered('status', '--config', 'gate')).toEqual(['FILES']);
  }, 60_000);
});
