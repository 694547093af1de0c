/**
 * What every request must be before a handler sees it, checked in one place so
 * no route can forget: bad input is a 400 naming the field and the value, never
 * a 500 from a database, a stack overflow or a number past 2^53.
 *
 *   raw body ─▶ jsonParser: nesting depth counted on the text (no recursion) ─▶ 400, or fastify's JSON parser
 *   params, query, body ─▶ refuseControlChars (preValidation) ─▶ 400 on NUL / C0 / DEL, an unpaired UTF-16 surrogate
 *                       ─▶ schema validation ─▶ refuseNonFinite (preHandler) ─▶ 400 on a coerced Infinity
 *   route schemas ─▶ requireBoundedNumbers (onRoute): an integer without a safe maximum fails at start
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { Type, type TInteger, type TString } from '@sinclair/typebox';
import { ErrorCodes } from '@lifeline/shared';
import { httpError } from './http-error.js';

/** Latest instant a JS Date can hold (±8.64e15 ms): the bound of every epoch-ms field. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000;

/** Deepest JSON body accepted; a gateway config is about 6 levels deep. */
export const MAX_BODY_DEPTH = 64;

/** An epoch-ms field: 0 … 8.64e15, so a Date, SQLite and PostgreSQL BIGINT all hold it. */
export function EpochMs(description: string): TInteger {
  return Type.Integer({ minimum: 0, maximum: MAX_EPOCH_MS, description });
}

/** A numeric row id: 1 … 2^53 − 1. */
export const RowId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/**
 * Deepest nesting of `{` / `[` in a JSON text, counted without recursion;
 * stops counting once past `limit`.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

type JsonParser = ReturnType<FastifyInstance['getDefaultJsonParser']>;

/** Fastify's JSON body parser `parse`, refusing deep nesting before anything recurses over the body (exported for bench/_fuzz-targets.ts). */
export function depthLimitedJsonParser(parse: JsonParser, maxDepth = MAX_BODY_DEPTH): JsonParser {
  return (req, body, done) => {
    if (jsonDepth(body as string, maxDepth) > maxDepth) return done(httpError(400, ErrorCodes.RequestInvalid, `body nested deeper than ${maxDepth} levels`), undefined);
    return parse(req, body, done);
  };
}

/** Replace fastify's JSON body parser with one that refuses deep nesting before anything recurses over the body. */
export function limitJsonDepth(app: FastifyInstance, maxDepth = MAX_BODY_DEPTH): void {
  const parse = depthLimitedJsonParser(app.getDefaultJsonParser('error', 'error'), maxDepth);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parse);
}

// Params and query are one-line ids and filters: no C0 control character or DEL at all.
const LINE_CONTROL = /[\x00-\x1f\x7f]/;
// Bodies hold free text too (comments, notes, config): tab, LF and CR are allowed there.
const TEXT_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

function quote(v: string): string {
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
}

// Half of a UTF-16 pair without the other: no character at all (SQLite kept it as three U+FFFD, PostgreSQL as one).
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What free text people write must hold besides spaces (ASCII or full-width 　, line breaks) and the invisible
 * zero-width ones (U+200B–U+200D, U+2060, U+FEFF): a comment or reason that says nothing is no audit line.
 */
export const VISIBLE_PATTERN = '[^\\s\\u200b-\\u200d\\u2060\\ufeff]';
/** The validation message of VISIBLE_PATTERN. */
export const VISIBLE_MESSAGE = 'must hold a visible character, not only spaces or invisible ones';
const VISIBLE = new RegExp(VISIBLE_PATTERN, 'u');

/** Whether free text holds anything visible (VISIBLE_PATTERN). */
export function hasVisible(text: string): boolean {
  return VISIBLE.test(text);
}

/** VISIBLE_MESSAGE naming the value at `instancePath` (`/a/0/b`) of a request body. */
export function invisibleMessage(body: unknown, instancePath: string): string {
  let v = body;
  for (const k of instancePath.split('/').slice(1)) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' ? `${VISIBLE_MESSAGE}, got ${quote(v)}` : VISIBLE_MESSAGE;
}

/** Free text a person writes (a comment, a reason): 1 … `max` characters, at least one of them visible. */
export function PeopleText(max: number, description?: string): TString {
  return Type.String({ minLength: 1, maxLength: max, pattern: VISIBLE_PATTERN, ...(description ? { description } : {}) });
}

function controlChar(where: string, value: string, re: RegExp): Error | undefined {
  const half = UNPAIRED_SURROGATE.exec(value);
  if (half) {
    const code = `U+${half[0].charCodeAt(0).toString(16).toUpperCase()}`;
    return httpError(400, ErrorCodes.RequestInvalid, `${where}: unpaired surrogate ${code} is not text (a character cut in half?), got ${quote(value)}`, [
      { path: where, message: `unpaired surrogate ${code} is not text` },
    ]);
  }
  const m = re.exec(value);
  if (!m) return undefined;
  const code = `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return httpError(400, ErrorCodes.RequestInvalid, `${where}: control character ${code} is not allowed, got ${quote(value)}`, [{ path: where, message: `control character ${code} is not allowed` }]);
}

/** The first error `check` finds in the strings, keys and numbers of `value` (walked without recursion), as a 400 naming its path. */
function findFirst(root: string, value: unknown, check: (path: string, v: string | number) => Error | undefined): Error | undefined {
  const stack: [string, unknown][] = [[root, value]];
  while (stack.length) {
    const [path, v] = stack.pop()!;
    if (typeof v === 'string' || typeof v === 'number') {
      const e = check(path, v);
      if (e) return e;
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push([`${path}[${i}]`, x]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const e = check(`${path} key`, k);
        if (e) return e;
        stack.push([`${path}.${k}`, x]);
      }
    }
  }
  return undefined;
}

const control = (re: RegExp) => (path: string, v: string | number) => (typeof v === 'string' ? controlChar(path, v, re) : undefined);

/** preValidation hook: NUL and other control characters are refused in every param, query value and body string. */
export async function refuseControlChars(req: FastifyRequest): Promise<void> {
  const e =
    findFirst('params', req.params, control(LINE_CONTROL)) ??
    findFirst('query', req.query, control(LINE_CONTROL)) ??
    (req.body !== undefined ? findFirst('body', req.body, control(TEXT_CONTROL)) : undefined);
  if (e) throw e;
}

const finite = (path: string, v: string | number) =>
  typeof v === 'number' && !Number.isFinite(v) ? httpError(400, ErrorCodes.RequestInvalid, `${path}: must be a finite number, got ${v}`, [{ path, message: 'must be a finite number' }]) : undefined;

/**
 * preHandler hook: no Infinity reaches a handler. Ajv coerces `limit=1e400`
 * to Infinity and then skips its minimum / maximum checks (they test finite
 * numbers only), so the bound is checked again after validation.
 */
export async function refuseNonFinite(req: FastifyRequest): Promise<void> {
  const e = findFirst('params', req.params, finite) ?? findFirst('querystring', req.query, finite) ?? (req.body !== undefined ? findFirst('body', req.body, finite) : undefined);
  if (e) throw e;
}

type Schema = { type?: string | string[]; maximum?: number; exclusiveMaximum?: number; minimum?: number; exclusiveMinimum?: number; [k: string]: unknown };

/** Paths of integer schemas inside `schema` whose range is not within ±(2^53 − 1). */
export function unboundedIntegers(schema: unknown, path: string): string[] {
  const out: string[] = [];
  const stack: [string, unknown][] = [[path, schema]];
  while (stack.length) {
    const [p, s] = stack.pop()!;
    if (s === null || typeof s !== 'object') continue;
    const x = s as Schema;
    const types = Array.isArray(x.type) ? x.type : [x.type];
    if (types.includes('integer')) {
      const hi = x.maximum ?? (x.exclusiveMaximum !== undefined ? x.exclusiveMaximum - 1 : undefined);
      const lo = x.minimum ?? (x.exclusiveMinimum !== undefined ? x.exclusiveMinimum + 1 : undefined);
      if (hi === undefined || lo === undefined || hi > Number.MAX_SAFE_INTEGER || lo < -Number.MAX_SAFE_INTEGER) out.push(p);
    }
    if (x.properties && typeof x.properties === 'object') for (const [k, v] of Object.entries(x.properties)) stack.push([`${p}.${k}`, v]);
    for (const k of ['items', 'anyOf', 'oneOf', 'allOf'] as const) {
      const v = x[k];
      if (Array.isArray(v)) v.forEach((y, i) => stack.push([`${p}.${k}[${i}]`, y]));
      else if (v) stack.push([`${p}.${k}`, v]);
    }
  }
  return out;
}

/** Refuse, at start, an /api route with an integer field that has no bound inside the safe range. */
export function requireBoundedIntegers(app: FastifyInstance): void {
  app.addHook('onRoute', (r: RouteOptions) => {
    if (!r.url.startsWith('/api/')) return;
    const s = (r.schema ?? {}) as Record<string, unknown>;
    const bad = (['params', 'querystring', 'body'] as const).flatMap((k) => (s[k] ? unboundedIntegers(s[k], k) : []));
    if (bad.length) throw new Error(`route ${String(r.method)} ${r.url}: integer field(s) ${bad.join(', ')} need a minimum and maximum within ±(2^53 − 1)`);
  });
}
