/**
 * The published JSON Schema files (the gateway schema twice: for editors in
 * edge/schema, for the cloud in shared) must match the TypeBox schemas they come from; a
 * schema change without `pnpm tsx edge/schema/generate.ts` fails here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProfiles, profilesDir } from '@lifeline/devices';
import { gatewayConfigJsonSchema } from '@lifeline/shared/config';
import { schemaFiles, staleSchemaFiles } from './generate.js';

const root = resolve(import.meta.dirname, '../..');

describe('published JSON Schema', () => {
  it('is up to date with the TypeBox schemas (else run: pnpm tsx edge/schema/generate.ts)', () => {
    expect(staleSchemaFiles()).toEqual([]);
  });

  it('is plain JSON Schema that describes every protocol shape and the gateway config', () => {
    const [profile, gateway] = schemaFiles().map((f) => JSON.parse(f.text) as Record<string, unknown>);
    expect(profile.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const shapes = profile.anyOf as { properties: { protocol: { const: string } } }[];
    expect(shapes.map((s) => s.properties.protocol.const)).toEqual(['modbus', 'dlt645', 'cjt188', 'sl651']);
    expect(Object.keys((gateway.properties as object) ?? {})).toEqual(expect.arrayContaining(['gateway', 'buses', 'buffer', 'sync']));
    for (const f of schemaFiles()) expect(f.text).not.toMatch(/Symbol|\[Kind\]/);
  });

  it('reaches the cloud from shared as the same document editors get', () => {
    const published = JSON.parse(readFileSync(join(root, 'edge/schema/gateway.schema.json'), 'utf8')) as unknown;
    expect(gatewayConfigJsonSchema).toEqual(published);
  });

  it('is where the YAML files say it is', () => {
    const check = (yamlFile: string) => {
      const first = readFileSync(yamlFile, 'utf8').split('\n')[0];
      const m = /^# yaml-language-server: \$schema=(.+)$/.exec(first);
      expect(m, yamlFile).not.toBeNull();
      return resolve(dirname(yamlFile), m![1]);
    };
    const paths = new Set(schemaFiles().map((f) => f.path));
    for (const name of listProfiles()) expect(paths.has(check(join(profilesDir, `${name}.yaml`)))).toBe(true);
    expect(paths.has(check(join(root, 'edge/examples/gateway.yaml')))).toBe(true);
  });
});
