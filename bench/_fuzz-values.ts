/**
 * The loaders' second half fuzzed without YAML: a parsed value, mutated as a tree, through the
 * same validateConfig / validateProfile that parseConfigText / parseProfileText call after the
 * parse (schema defaults and checks, then the cross-field checks). The parse is fuzzed apart, on
 * small text seeds (config_loader, profile_loader in bench/_fuzz-targets.ts).
 *
 * An input is a value in V8's serialization (node:v8), which carries everything yaml's parse can
 * hand over and JSON cannot: NaN, ±Infinity, -0, Map (!!omap), Set (!!set), Date (!!timestamp),
 * bytes (!!binary), shared and circular references (aliases). The mutator edits the tree: replace
 * a value (interesting numbers and strings, the schema's own field names and literals, a subtree
 * of another corpus entry, a reference to an ancestor), delete or add a field, rename a key,
 * duplicate or drop a list entry, nudge a number or a string.
 */
import { deserialize, serialize } from 'node:v8';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !(v instanceof Date) && !(v instanceof Map) && !(v instanceof Set);

/** Field names, literals and string values of a schema (TypeBox: JSON Schema objects). */
export function schemaWords(schema: object, into = new Set<string>()): Set<string> {
  const seen = new Set<object>();
  const walk = (s: unknown) => {
    if (typeof s !== 'object' || s === null || seen.has(s)) return;
    seen.add(s);
    const o = s as Obj;
    if (typeof o.const === 'string') into.add(o.const);
    if (isObj(o.properties)) for (const k of Object.keys(o.properties)) into.add(k);
    for (const v of Object.values(o)) walk(v);
  };
  walk(schema);
  return into;
}

/** Keys and string values of a value (the seeds' own words: ids, profile names, point names). */
export function valueWords(v: unknown, into = new Set<string>()): Set<string> {
  if (typeof v === 'string' && v.length <= 40) into.add(v);
  else if (Array.isArray(v)) for (const x of v) valueWords(x, into);
  else if (isObj(v))
    for (const [k, x] of Object.entries(v)) {
      into.add(k);
      valueWords(x, into);
    }
  return into;
}

const NUMBERS = [0, -0, 1, -1, 2, 3, 7, 8, 15, 16, 100, 247, 248, 255, 256, 1000, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, 5e-324, 0.5, 0.1, NaN, Infinity, -Infinity];
const STRINGS = ['', ' ', 'x', '0', '-1', '1.5', 'true', 'null', '~', '\u0000', '\n', 'é', '洸河路', 'a'.repeat(300), '../../etc/passwd', '/etc/passwd', 'edge.db', ':memory:', 'mqtt://x', 'x.yaml', '*', '00:00', '25:61', 'Asia/Shanghai', 'Mars/Base'];

/** A mutator of serialized values; `words` are the field names and literals to draw from. */
export function valueMutator(words: Iterable<string>): (input: Uint8Array, rand: () => number, corpus: readonly Uint8Array[]) => Uint8Array {
  const dict = [...new Set(words)];
  return (input, rand, corpus) => {
    const int = (n: number) => Math.floor(rand() * n);
    const pick = <T>(a: readonly T[]): T => a[int(a.length)];
    const root: Obj = { v: deserialize(input) };
    // Every place a value sits (parent, key) and each container's ancestors, walked once (aliases: shared nodes once).
    const slots: { parent: Obj | unknown[]; key: string | number; ancestors: object[] }[] = [];
    const seen = new Set<object>();
    const walk = (parent: Obj | unknown[], key: string | number, ancestors: object[]) => {
      slots.push({ parent, key, ancestors });
      const v = (parent as Obj)[key as string];
      if (typeof v !== 'object' || v === null || seen.has(v) || slots.length > 4000) return;
      seen.add(v);
      const up = [...ancestors, v];
      if (Array.isArray(v)) v.forEach((_, i) => walk(v, i, up));
      else if (isObj(v)) for (const k of Object.keys(v)) walk(v, k, up);
    };
    walk(root, 'v', []);
    const subtree = (): unknown => {
      // A part of another corpus entry (or this one): the fields of one section moved into another.
      const other = deserialize(pick(corpus)) as unknown;
      const parts: unknown[] = [];
      const collect = (v: unknown, depth: number) => {
        parts.push(v);
        if (depth > 8 || parts.length > 500) return;
        if (Array.isArray(v)) for (const x of v) collect(x, depth + 1);
        else if (isObj(v)) for (const x of Object.values(v)) collect(x, depth + 1);
      };
      collect(other, 0);
      return pick(parts);
    };
    const fresh = (slot: (typeof slots)[number]): unknown => {
      const r = int(20);
      if (r < 4) return pick(NUMBERS);
      if (r < 7) return pick(STRINGS);
      if (r < 10) return pick(dict);
      if (r === 10) return pick([true, false, null, undefined]);
      if (r === 11) return [];
      if (r === 12) return {};
      if (r < 16) return subtree();
      if (r === 16) return { [pick(dict)]: fresh(slot) };
      if (r === 17) return [fresh(slot)];
      if (r === 18) return pick([new Map([[pick(dict), 1]]), new Set([pick(dict)]), new Date(int(2) ? NaN : 1.7e12), Uint8Array.of(1, 2)]);
      // A reference to a container above: a value that contains itself (a YAML alias inside its anchor).
      return slot.ancestors.length ? pick(slot.ancestors) : subtree();
    };
    for (let m = 1 + int(4); m > 0; m--) {
      const slot = pick(slots);
      const { parent, key } = slot;
      const cur = (parent as Obj)[key as string];
      const op = int(10);
      if (op < 4) (parent as Obj)[key as string] = fresh(slot);
      else if (op === 4 && parent !== root) {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
      } else if (op === 5 && isObj(cur) && !Array.isArray(cur)) cur[pick(dict)] = fresh(slot);
      else if (op === 6 && isObj(parent) && parent !== root && !Array.isArray(parent)) {
        // A misspelt or another section's field name, same value.
        delete parent[key as string];
        parent[int(3) ? pick(dict) : mangle(String(key), int)] = cur;
      } else if (op === 7 && Array.isArray(cur) && cur.length) {
        // Two entries alike (duplicate ids, units, outputs) or out of order.
        const i = int(cur.length);
        if (int(2)) cur.splice(int(cur.length + 1), 0, structuredClone(cur[i]));
        else [cur[i], cur[cur.length - 1]] = [cur[cur.length - 1], cur[i]];
      } else if (typeof cur === 'number') {
        (parent as Obj)[key as string] = pick([cur + 1, cur - 1, cur * 2, cur / 2, -cur, cur + 0.5, Math.trunc(cur / 10), cur * 1000]);
      } else if (typeof cur === 'string') (parent as Obj)[key as string] = mangle(cur, int);
      else (parent as Obj)[key as string] = fresh(slot);
    }
    return serialize(root.v);
  };
}

/** A string one edit away (a typo), or cut, doubled, upper-cased, or a number in words. */
function mangle(s: string, int: (n: number) => number): string {
  const at = int(s.length + 1);
  switch (int(6)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + String.fromCharCode(32 + int(95)) + s.slice(at);
    case 2:
      return s.slice(0, at);
    case 3:
      return s + s;
    case 4:
      return s.toUpperCase();
    default:
      return String(int(2) ? int(100_000) : -int(100));
  }
}
