/**
 * Validate once at the boundary and report every error together, each naming
 * the field and the bad value: `buses[0].devices[2].unit: must be <= 247, got 300`.
 */
import { Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { ErrorCodes, LifelineError, type ErrorCode } from './errors.js';
import { didYouMean } from './suggest.js';

/** One problem found in an input, as shown to a person. */
export interface ValidationIssue {
  /** `buses[0].devices[2].unit`; empty for the root. */
  path: string;
  message: string;
}

/** `/buses/0/devices/2/unit` → `buses[0].devices[2].unit` */
export function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * What makes a parsed value something other than a tree of plain values (mappings, lists,
 * strings, numbers, booleans, null), as an issue, else undefined. YAML can say both: a value
 * that contains itself (an alias inside its own anchor: `buses: &b [*b]`), and typed values
 * (`!!binary`, `!!set`, `!!omap`, `!!timestamp`) that arrive as bytes, a Set, a Map, a Date.
 * No config or profile field takes those, and the code that walks a value (messages, schema
 * defaults, freezing) would never end on the first or trip on the others' getters.
 */
export function treeIssue(value: unknown): ValidationIssue | undefined {
  const open = new Set<object>();
  // Shared but not circular (an alias used twice): walked once.
  const done = new Set<object>();
  const walk = (v: unknown, path: string): ValidationIssue | undefined => {
    if (typeof v !== 'object' || v === null || done.has(v)) return undefined;
    if (open.has(v)) return { path, message: 'contains itself (a YAML alias to its own anchor or a parent of it); it must be a tree of values' };
    const kind = ArrayBuffer.isView(v) ? 'bytes (YAML !!binary)' : v instanceof Set ? 'a set (YAML !!set)' : v instanceof Map ? 'an ordered map (YAML !!omap or !!pairs)' : v instanceof Date ? 'a timestamp (YAML !!timestamp)' : undefined;
    if (kind) return { path, message: `is ${kind}; write a mapping, a list, text or a number` };
    open.add(v);
    // Array.from, not map: map skips a sparse array's holes and leaves holes in what it returns.
    const entries: [string, unknown][] = Array.isArray(v) ? Array.from(v, (x, i) => [`${path}[${i}]`, x]) : Object.entries(v).map(([k, x]) => [path ? `${path}.${k}` : k, x]);
    for (const [at, x] of entries) {
      const issue = walk(x, at);
      if (issue) return issue;
    }
    open.delete(v);
    done.add(v);
    return undefined;
  };
  return walk(value, '');
}

const compiled = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

/** The values of a union of literals (an enum), else undefined. */
function enumValues(schema: TSchema): unknown[] | undefined {
  const any = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  return any?.length && any.every((s) => 'const' in s) ? any.map((s) => s.const) : undefined;
}

/** One schema error in words: an enum lists its values, an unknown key or value says what was likely meant. */
function explain(schema: TSchema, message: string, value: unknown, path: string): string {
  const values = enumValues(schema);
  if (values) {
    const words = values.filter((v): v is string => typeof v === 'string');
    return `must be one of ${values.map((v) => String(v)).join(', ')}, got ${show(value)}${didYouMean(value, words)}`;
  }
  const props = (schema as { properties?: Record<string, unknown> }).properties;
  if (/unexpected property/i.test(message) && props) {
    const key = path.replace(/^.*[.\]]/, '');
    return `is not a known field${didYouMean(key, Object.keys(props))}, got ${show(value)}`;
  }
  return `${message.toLowerCase()}, got ${show(value)}`;
}

/**
 * A YAML or JSON parse error as `line L, column C: what is wrong` (yaml's
 * error code in words), never
 * quoting the text (the file may not be a config at all: a key, /etc/shadow).
 */
export function parseErrorMessage(err: unknown): string {
  const e = err as { code?: unknown; linePos?: { line: number; col: number }[] };
  const at = e?.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : '';
  const what = typeof e?.code === 'string' ? e.code.toLowerCase().replace(/_/g, ' ') : 'syntax error';
  return `${at}${what}`;
}

/** Every schema error, one per path (the first message for each path). */
export function schemaIssues(schema: TSchema, value: unknown): ValidationIssue[] {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  if (check.Check(value)) return [];
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const e of check.Errors(value)) {
    const path = pointerToPath(e.path);
    // A union reports each branch; a parent path repeats its child's failure.
    if (seen.has(path)) continue;
    seen.add(path);
    const missing = e.value === undefined;
    issues.push({ path, message: missing ? `is required` : explain(e.schema, e.message, e.value, path) });
  }
  // Keep the deepest issue of a chain: `a.b.c` explains `a.b`.
  return issues.filter((i) => !issues.some((o) => o !== i && i.path !== '' && o.path.startsWith(i.path) && o.path.length > i.path.length) && !(i.path === '' && issues.length > 1));
}

/** A message parsed as JSON and checked against its schema; `value` is undefined when the text is not JSON. */
export interface JsonCheck {
  value: unknown;
  /** Empty when the value fits the schema; `(root): not JSON` when it did not parse. */
  issues: ValidationIssue[];
}

/**
 * Parse a JSON message from the other side and list what its schema finds wrong,
 * without throwing: a malformed message is counted and logged, never a crash.
 * The caller still has the value to read an id from, to answer a half-good message.
 */
export function parseJsonIssues(schema: TSchema, text: string): JsonCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { value: undefined, issues: [{ path: '', message: 'not JSON' }] };
  }
  return { value, issues: schemaIssues(schema, value) };
}

export function formatIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n');
}

/** Throws a LifelineError listing every issue, or returns the value typed. */
export function assertValid<T extends TSchema>(
  schema: T,
  value: unknown,
  what: string,
  code: ErrorCode = ErrorCodes.ConfigInvalid,
): Static<T> {
  const issues = schemaIssues(schema, value);
  if (issues.length) {
    throw new LifelineError(code, `${what} has ${issues.length} error(s):\n${formatIssues(issues)}`, {
      details: issues,
    });
  }
  return Value.Default(schema, value) as Static<T>;
}

/** A string enum as JSON Schema (anyOf const) that keeps the TypeScript union type. */
export const literalUnion = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
