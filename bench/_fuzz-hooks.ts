/**
 * Module hooks (node:module register) that load the project's own TypeScript with
 * edge counters in it (bench/_fuzz-instrument.ts), for `pnpm bench fuzz --coverage`.
 * Registered after tsx, so these run first; any other file goes on to tsx.
 * Probe ids are numbered across modules here (the hooks run in one thread).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { instrument } from './_fuzz-instrument.js';

let include: RegExp | undefined;
let nextId = 0;

export function initialize(data: { include: string }): void {
  include = new RegExp(data.include);
}

type Next = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, nextLoad: Next): Promise<unknown> {
  if (include && url.startsWith('file://') && include.test(url) && !url.includes('/node_modules/')) {
    const path = fileURLToPath(url.replace(/\?.*$/, ''));
    const { code, probes } = instrument(readFileSync(path, 'utf8'), path, nextId);
    nextId += probes;
    return { format: 'module', source: code, shortCircuit: true };
  }
  return nextLoad(url, context);
}
