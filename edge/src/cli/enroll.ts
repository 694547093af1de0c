/**
 * `lifeline enroll`: join this gateway to a cloud with a one-time enrolment
 * token (made by a technician with POST /api/v1/enrolments).
 *
 *   lifeline enroll --cloud <url> --token <t> [--gateway <id>] [--name <text>] [--out <file>] [--config <gateway.yaml>]
 *     ─▶ POST <cloud>/api/v1/enroll {token, gateway?, name?}
 *     ◀─ {gateway, mqtt: {url, username, password}}
 *     ─▶ credentials file (JSON, mode 0600): what the cloud answered
 *     ─▶ with --config: gateway.id, sync.url, sync.username, sync.password set in place (comments kept)
 *
 * A refused token exits 2 (bad input); an unreachable cloud exits 1.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ErrorCodes, LifelineError } from '@lifeline/shared/errors';
import { writeSecretFile } from '../config/write.js';
import { YamlEditError, setYamlAll, type YamlPath } from '../config/yaml-edit.js';
import { summary } from './commands.js';

/** What the cloud answers to an enrolment. */
export interface EnrolmentAnswer {
  gateway: string;
  mqtt: { url: string | null; username: string; password: string };
}

/** Spend an enrolment token at `cloud`. */
export async function enroll(cloud: string, token: string, wanted: { gateway?: string; name?: string } = {}): Promise<EnrolmentAnswer> {
  let url: URL;
  try {
    url = new URL('/api/v1/enroll', cloud);
  } catch {
    throw new LifelineError(ErrorCodes.ConfigInvalid, `--cloud: not a URL, got ${JSON.stringify(cloud)}`);
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, ...(wanted.gateway ? { gateway: wanted.gateway } : {}), ...(wanted.name ? { name: wanted.name } : {}) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new LifelineError(ErrorCodes.LinkDown, `cannot reach the cloud at ${url.origin}: ${(err as Error).message}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as { message?: string; error?: string } & Partial<EnrolmentAnswer>;
  if (res.status >= 400 && res.status < 500)
    throw new LifelineError(ErrorCodes.ConfigInvalid, `the cloud refused the enrolment (${res.status} ${body.error ?? ''}): ${body.message ?? 'no reason given'}`);
  if (!res.ok || !body.gateway || !body.mqtt) throw new LifelineError(ErrorCodes.LinkDown, `the cloud answered ${res.status}: ${body.message ?? 'not an enrolment'}`);
  return { gateway: body.gateway, mqtt: body.mqtt };
}

/** Set the enrolled identity in a gateway config file, keeping every other byte (comments, their alignment, layout). */
export function applyToConfig(file: string, a: EnrolmentAnswer): void {
  const text = readFileSync(file, 'utf8');
  const edits: [YamlPath, string][] = [[['gateway', 'id'], a.gateway]];
  if (a.mqtt.url) edits.push([['sync', 'url'], a.mqtt.url]);
  edits.push([['sync', 'username'], a.mqtt.username], [['sync', 'password'], a.mqtt.password]);
  let out: string;
  try {
    out = setYamlAll(text, edits);
  } catch (err) {
    const why = err instanceof YamlEditError ? err.message : String(err);
    throw new LifelineError(ErrorCodes.ConfigInvalid, `${file}: cannot set the enrolled identity in place (${why}); set gateway.id and sync.username / sync.password by hand`, { cause: err });
  }
  writeSecretFile(file, out); // holds a password now: 0600, and never half-written
}

export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .description(summary('enroll'))
    .requiredOption('--cloud <url>', 'cloud API base URL, e.g. https://lifeline.example.city')
    .requiredOption('--token <token>', 'one-time enrolment token from the cloud')
    .option('--gateway <id>', 'gateway id to ask for (default: the gateway the token was issued for, or the cloud chooses a new id)')
    .option('--name <text>', 'a name for the registry, e.g. "Binhe Rd underpass"')
    .option('--out <file>', 'where to write the credentials (JSON, mode 0600)', 'lifeline-credentials.json')
    .option('-c, --config <file>', 'also set gateway.id and the sync login in this gateway config')
    .action(async (opts: { cloud: string; token: string; gateway?: string; name?: string; out: string; config?: string }) => {
      const a = await enroll(opts.cloud, opts.token, { gateway: opts.gateway, name: opts.name });
      const out = resolve(opts.out);
      writeSecretFile(out, `${JSON.stringify({ ...a, cloud: opts.cloud, enrolledAt: new Date().toISOString() }, null, 2)}\n`);
      console.log(`enrolled as ${a.gateway}; MQTT login ${a.mqtt.username} written to ${out} (mode 600)`);
      if (opts.config) {
        applyToConfig(resolve(opts.config), a);
        console.log(`${opts.config}: gateway.id, sync.url, sync.username and sync.password set (mode 600)`);
      } else {
        console.log(`set gateway.id: ${a.gateway} and sync.username / sync.password from that file in the gateway config, or run again with --config`);
      }
    });
}
