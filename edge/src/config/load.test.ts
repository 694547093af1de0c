/** validateConfig: paths confined to the data directory, and semantic checks on whatever is well-formed. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLifelineError, type ValidationIssue } from '@lifeline/shared';
import { tempDir } from '../../../test/helpers.js';
import { loadConfig, parseConfigText, validateConfig } from './load.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const data = join(tmp.dir, 'data');
mkdirSync(data);
symlinkSync('/etc', join(data, 'etc-link'));

const base = () => ({
  gateway: { id: 'g' },
  buses: [{ name: 'l', link: 'tcp', host: 'h', port: 1, devices: [{ id: 'd', profile: 'flood-gauge', unit: 1 }] }],
  detectors: { points: [{ device: 'd', point: 'water_level', threshold: { high: { red: 1 } } }] },
  outputs: [{ name: 'o', modbus: { device: 'd', point: 'x' } }],
  actions: [{ output: 'o', when: { level: 'red' } }],
  buffer: { path: 'edge.db' },
  sync: { transport: 'mqtt', url: 'mqtt://x' },
});

function issues(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test', data, { dataDir: data });
    return [];
  } catch (e) {
    if (!isLifelineError(e)) throw e;
    return (e.details as ValidationIssue[]).map((i) => `${i.path}: ${i.message}`);
  }
}

describe('validateConfig', () => {
  it('keeps every path in the data directory, symlinks and .. included; :memory: is fine', () => {
    const c = base() as ReturnType<typeof base> & { alarms?: unknown; sync: Record<string, unknown> };
    c.buffer.path = 'etc-link/buffer.db';
    c.alarms = { controlSocket: '../ctl.sock' };
    c.sync.tls = { cert: '/etc/ssl/gw.crt', key: 'gw.key' };
    c.buses[0].devices[0].profile = 'etc-link/passwd.yaml';
    expect(issues(c).filter((m) => /data directory/.test(m))).toEqual([
      `buffer.path: must be inside the data directory ${data}, got "etc-link/buffer.db"`,
      `alarms.controlSocket: must be inside the data directory ${data}, got "../ctl.sock"`,
      `sync.tls.cert: must be inside the data directory ${data}, got "/etc/ssl/gw.crt"`,
      `buses[0].devices[0].profile: must be inside the data directory ${data}, got "etc-link/passwd.yaml"`,
    ]);
    expect(issues({ ...base(), buffer: { path: ':memory:' } })).not.toContainEqual(expect.stringMatching(/^buffer\.path/));
    // Without a data directory (code that builds its own config), paths are not confined.
    expect(() => validateConfig({ ...base(), buffer: { path: '/tmp/x.db' }, outputs: undefined, actions: undefined, detectors: undefined }, 'test', data)).not.toThrow();
  });

  it('runs the semantic checks on the well-formed parts when the schema fails elsewhere', () => {
    const c = base() as ReturnType<typeof base> & { sync: Record<string, unknown> };
    c.sync.url = 'http://x';
    c.detectors.points[0].point = 'water_levl';
    expect(issues(c)).toEqual([
      "sync.url: expected string to match '^(mqtts?|wss?|tcp)://', got \"http://x\"",
      'detectors.points[0].point: device "d" has no point "water_levl" (did you mean "water_level"?)',
      'outputs[0].modbus.point: profile flood-gauge has no point "x"',
    ]);
  });

  it('leaves a malformed entry out instead of reporting what follows from it', () => {
    const c = base() as ReturnType<typeof base> & { outputs: Record<string, unknown>[] };
    c.outputs[0].mode = 'flash'; // the output is malformed: the action naming it is not a second mistake
    c.buses[0].devices[0].unit = 300 as number; // a bad unit: no "unit is required" on top
    const got = issues(c);
    expect(got).toContain('outputs[0].mode: must be one of follow, latching, momentary, got "flash"');
    expect(got).toContainEqual(expect.stringMatching(/^buses\[0\]\.devices\[0\]\.unit: .*247, got 300$/));
    expect(got.some((m) => /no output named|is required for a Modbus device/.test(m))).toBe(false);
  });

  it('never throws anything but CONFIG_INVALID, whatever a field holds', () => {
    const odd = [null, 1, 'x', [], {}, [null], { a: 1 }, true, '../../etc/passwd'];
    const paths = (o: unknown, p: (string | number)[] = []): (string | number)[][] =>
      o && typeof o === 'object' ? [p, ...Object.keys(o).flatMap((k) => paths((o as Record<string, unknown>)[k], [...p, Array.isArray(o) ? Number(k) : k]))] : [p];
    for (const p of paths(base()).filter((p) => p.length)) {
      for (const v of odd) {
        const c = base() as unknown as Record<string | number, unknown>;
        let o = c;
        for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
        o[p[p.length - 1]] = v;
        expect(() => issues(c), `${p.join('.')} = ${JSON.stringify(v)}`).not.toThrow();
      }
    }
  });
});

describe('parseConfigText (the text half of loadConfig)', () => {
  const yaml = JSON.stringify({ ...base(), outputs: undefined, actions: undefined });
  it('answers as loadConfig does on the same text in that file', () => {
    const file = join(data, 'gw.yaml');
    writeFileSync(file, yaml);
    const viaFile = loadConfig(file);
    const viaText = parseConfigText(yaml, file);
    expect(viaText.file).toBe(file);
    expect(viaText.config).toEqual(viaFile.config);
    expect(viaText.config.buffer.path).toBe(join(data, 'edge.db'));
  });

  it('refuses a value that contains itself (a YAML alias inside its anchor) instead of walking it forever', () => {
    // yaml turns an alias inside its own anchor into a circular value; quoting it in a message (JSON.stringify) threw a TypeError.
    const file = join(data, 'loop.yaml');
    const text = `${JSON.stringify({ ...base(), buses: undefined, outputs: undefined, actions: undefined, detectors: undefined })}`.replace(/}$/, ', "buses": &b [ *b ]}');
    expect(() => parseConfigText(text, file)).toThrow(`CONFIG_INVALID: ${file} has 1 error(s):\n  buses[0]: contains itself`);
    const devices = JSON.stringify({ ...base(), outputs: undefined, actions: undefined }).replace('"devices":[', '"devices": &d [*d, ');
    expect(() => parseConfigText(devices, file)).toThrow('buses[0].devices[0]: contains itself');
    // Shared but not circular (an alias used twice) is a tree as far as the config goes: checked as usual.
    const twice = JSON.stringify({ ...base(), outputs: undefined, actions: undefined, detectors: undefined }).replace('"gateway":{"id":"g"}', '"gateway": &g {"id":"g"}, "x": *g');
    expect(() => parseConfigText(twice, file)).toThrow(/x: is not a known field/);
  });

  it('refuses typed YAML values (bytes, sets, maps, timestamps) no field takes, naming where', () => {
    // Found by `pnpm bench fuzz --only config_values`: bytes as the whole config made TypeBox's defaults throw a TypeError.
    const file = join(data, 'typed.yaml');
    expect(() => parseConfigText('!!binary aGVsbG8=\n', file)).toThrow(`CONFIG_INVALID: ${file} has 1 error(s):\n  (root): is bytes (YAML !!binary); write a mapping`);
    expect(() => parseConfigText('gateway: !!set {x}\n', file)).toThrow('gateway: is a set (YAML !!set)');
    expect(() => parseConfigText('gateway: {id: !!timestamp 2001-12-14}\n', file)).toThrow('gateway.id: is a timestamp (YAML !!timestamp)');
    expect(() => parseConfigText('buses: !!omap [x: 1]\n', file)).toThrow('buses: is an ordered map');
  });

  it('refuses bad YAML naming the file, line and column, not the text', () => {
    const file = join(data, 'bad.yaml');
    expect(() => parseConfigText('gateway: {id: "secret-pass\n', file)).toThrow(`CONFIG_INVALID: ${file} is not valid YAML (line 2, column 1: missing char)`);
    expect(() => parseConfigText('gateway: {id: "secret-pass\n', file)).not.toThrow(/secret-pass/);
  });
});
