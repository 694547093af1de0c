/**
 * Validate once at the boundary and report every error together, each naming
 * the field and the bad value: `buses[0].devices[2].unit: must be <= 247, got 300`.
 */
import { Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { ErrorCodes, LifelineError, type ErrorCode } from './errors.js';

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

const compiled = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

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
    issues.push({ path, message: missing ? `is required` : `${e.message.toLowerCase()}, got ${show(e.value)}` });
  }
  // Keep the deepest issue of a chain: `a.b.c` explains `a.b`.
  return issues.filter((i) => !issues.some((o) => o !== i && i.path !== '' && o.path.startsWith(i.path) && o.path.length > i.path.length) && !(i.path === '' && issues.length > 1));
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
