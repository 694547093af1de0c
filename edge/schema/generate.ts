/**
 * Publishes the TypeBox schemas as JSON Schema: files for editors
 * (yaml-language-server reads the `# yaml-language-server: $schema=...` line
 * at the top of each profile and gateway.yaml), and the gateway config schema
 * into shared too, so the cloud imports it instead of reading edge's folder:
 *
 *   devices/src/profile.ts  ProfileSchema        ─▶ devices/schema/profile.schema.json
 *   edge/src/config/schema.ts GatewayConfigSchema ─┬▶ edge/schema/gateway.schema.json
 *                                                  └▶ shared/schema/gateway.schema.json (@lifeline/shared/config)
 *
 * It lives in edge because only edge may import both (the import ladder).
 * `pnpm tsx edge/schema/generate.ts` rewrites the files; `--check` exits 1
 * when a committed file is stale (schema-files.test.ts does the same in CI).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { ProfileSchema } from '@lifeline/devices';
import { GatewayConfigSchema } from '../src/config/schema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One published schema file. */
export interface SchemaFile {
  /** Absolute path. */
  path: string;
  /** Its exact content. */
  text: string;
}

/** A TypeBox schema as a JSON Schema document (TypeBox's symbol keys drop out of JSON). */
function document(schema: TSchema, title: string, description: string): string {
  const body = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  const doc = { $schema: 'http://json-schema.org/draft-07/schema#', title, description, ...body };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The schema files as they should be on disk. */
export function schemaFiles(): SchemaFile[] {
  const gateway = document(GatewayConfigSchema, 'Lifeline gateway configuration', 'gateway.yaml: buses, device instances, detectors, buffer and sync. See README.md.');
  return [
    {
      path: join(root, 'devices/schema/profile.schema.json'),
      text: document(ProfileSchema, 'Lifeline device profile', 'One device model: identity, protocol and points. See docs/profiles.md.'),
    },
    { path: join(root, 'edge/schema/gateway.schema.json'), text: gateway },
    { path: join(root, 'shared/schema/gateway.schema.json'), text: gateway },
  ];
}

/** Files whose content on disk differs from the schemas (relative paths). */
export function staleSchemaFiles(): string[] {
  return schemaFiles()
    .filter((f) => {
      try {
        return readFileSync(f.path, 'utf8') !== f.text;
      } catch {
        return true;
      }
    })
    .map((f) => relative(root, f.path));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = staleSchemaFiles();
    if (stale.length) {
      console.error(`stale JSON Schema: ${stale.join(', ')}; run pnpm tsx edge/schema/generate.ts`);
      process.exit(1);
    }
    console.log('JSON Schema files are up to date');
  } else {
    for (const f of schemaFiles()) {
      writeFileSync(f.path, f.text);
      console.log(`wrote ${relative(root, f.path)}`);
    }
  }
}
