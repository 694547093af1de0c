import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { YamlEditError, appendYamlItem, removeYamlItem, setYamlAll, setYamlIn } from './yaml-edit.js';

const config = `# gateway config, aligned by hand
gateway:
  id: gw-old          # the id the cloud knows
  location: { lon: 116.6, lat: 35.4 }

buses:
  - name: a
    devices:
      - { id: d1, unit: 1 }

sync:
  transport: mqtt     # or aws-iot
  url: mqtt://127.0.0.1:1884   # the broker
# trailing comment
`;

describe('setYamlIn', () => {
  it('replaces a value and leaves every other byte, comments aligned', () => {
    const out = setYamlIn(config, ['gateway', 'id'], 'gw-jn-0042');
    expect(out).toBe(config.replace('id: gw-old          #', 'id: gw-jn-0042      #'));
    expect(setYamlIn(config, ['gateway', 'id'], 'a-very-long-gateway-id')).toContain('id: a-very-long-gateway-id # the id');
  });

  it('adds missing keys after the last line of their map, at its indentation', () => {
    const out = setYamlAll(config, [
      [['sync', 'username'], 'gw-jn-0042'],
      [['sync', 'password'], 'p:ss #word'],
    ]);
    expect(out).toBe(config.replace('# the broker\n', '# the broker\n  username: gw-jn-0042\n  password: "p:ss #word"\n'));
    expect(parse(out).sync).toEqual({ transport: 'mqtt', url: 'mqtt://127.0.0.1:1884', username: 'gw-jn-0042', password: 'p:ss #word' });
  });

  it('adds a missing map at the top level, and inside a map whose last value is a nested map', () => {
    const out = setYamlIn(config, ['buffer', 'path'], 'var/edge.db');
    expect(out.endsWith('# the broker\nbuffer:\n  path: var/edge.db\n# trailing comment\n')).toBe(true);
    const nested = 'a:\n  b:\n    c: 1\n# end\n';
    expect(setYamlIn(nested, ['a', 'd'], 2)).toBe('a:\n  b:\n    c: 1\n  d: 2\n# end\n');
  });

  it('refuses what it cannot edit in place, naming the path', () => {
    expect(() => setYamlIn(config, ['gateway', 'location', 'district'], 'x')).toThrow(YamlEditError);
    expect(() => setYamlIn(config, ['gateway'], 'x')).toThrow(/gateway is not a single value/);
  });
});

describe('appendYamlItem / removeYamlItem', () => {
  const text = `buses:
  - name: lan   # cabinet
    devices:
      - { id: a, unit: 1 }   # first
      # about b
      - id: b
        unit: 2
  - name: flow
    devices: [{ id: c }]
`;
  it('appends a one-line item after the last one, at the list’s indent, keeping every other byte', () => {
    expect(appendYamlItem(text, ['buses', 0, 'devices'], { id: 'n', unit: 5 })).toBe(text.replace('        unit: 2\n', '        unit: 2\n      - { id: n, unit: 5 }\n'));
  });
  it('removes an item with the comment lines right above it', () => {
    expect(removeYamlItem(text, ['buses', 0, 'devices'], 1)).toBe(text.replace('      # about b\n      - id: b\n        unit: 2\n', ''));
    expect(removeYamlItem(text, ['buses', 0, 'devices'], 0)).toBe(text.replace('      - { id: a, unit: 1 }   # first\n', ''));
  });
  it('refuses a flow list or a missing index instead of rewriting the file', () => {
    expect(() => appendYamlItem(text, ['buses', 1, 'devices'], { id: 'x' })).toThrow(/not a block list/);
    expect(() => removeYamlItem(text, ['buses', 0, 'devices'], 7)).toThrow(/no such item/);
  });
});
