/** A cloud on free ports with one token per role, for API tests. */
import { join } from 'node:path';
import { startCloud, type Cloud, type CloudOptions } from '../../src/index.js';
import { tempDir, testLog } from '../../../test/helpers.js';

export interface TestCloud {
  cloud: Cloud;
  tokens: Record<'viewer' | 'operator' | 'technician' | 'admin', string>;
  /** fetch against the API with a role's token (or none). */
  call(method: string, path: string, opts?: { as?: keyof TestCloud['tokens'] | null; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<{ status: number; json: any; text: string; headers: Headers }>;
  close(): Promise<void>;
}

export async function testCloud(extra: Partial<CloudOptions> = {}): Promise<TestCloud> {
  const tmp = tempDir('lifeline-api-');
  const cloud = await startCloud({ log: testLog, port: 0, dbPath: join(tmp.dir, 'cloud.db'), adminToken: 'admin-secret-token', ...extra, rateLimit: { authFailuresPerMinute: 100_000, enrollPerMinute: 100_000, ...extra.rateLimit } });
  const tokens = { admin: 'admin-secret-token' } as TestCloud['tokens'];
  const call: TestCloud['call'] = async (method, path, o = {}) => {
    const as = o.as === undefined ? 'admin' : o.as;
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (as) headers.authorization = `Bearer ${tokens[as]}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const abort = new AbortController();
    const res = await fetch(`${cloud.apiUrl}${path}`, { method, headers, body, signal: abort.signal });
    // An event stream never ends: answer with its status and headers only.
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      abort.abort();
      return { status: res.status, json: undefined, text: '', headers: res.headers };
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  for (const role of ['viewer', 'operator', 'technician'] as const) {
    const r = await call('POST', '/api/v1/tokens', { body: { name: `test-${role}`, role } });
    if (r.status !== 201) throw new Error(`could not create the ${role} token: ${r.text}`);
    tokens[role] = r.json.token;
  }
  return {
    cloud,
    tokens,
    call,
    close: async () => {
      await cloud.close();
      tmp.cleanup();
    },
  };
}

/** Routes of a fastify `printRoutes({ commonPrefix: false })` tree, as `METHOD /path`. */
export function routesOfTree(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2];
    stack[depth] = path;
    if (m[3]) for (const method of m[3].split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}
