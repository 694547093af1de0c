import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { depthLimitedJsonParser, jsonDepth, unboundedIntegers } from './input.js';

describe('jsonDepth', () => {
  it('counts objects and arrays, not brackets inside strings or escaped quotes', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('{"a":"[[[{{{"}')).toBe(1);
    expect(jsonDepth('{"a":"\\"[[[","b":[1]}')).toBe(2);
    expect(jsonDepth('[[],[],[[]]]')).toBe(3);
  });

  it('stops early past the limit on a huge nesting, without recursion', () => {
    const deep = '['.repeat(1_000_000);
    expect(jsonDepth(deep, 64)).toBe(65);
    expect(jsonDepth(deep)).toBe(1_000_000);
  });
});

describe('unboundedIntegers', () => {
  it('names integer fields without a bound inside the safe range, wherever they sit', () => {
    const s = Type.Object({
      ok: Type.Integer({ minimum: 0, maximum: 10 }),
      open: Type.Integer({ minimum: 0 }),
      huge: Type.Integer({ minimum: 0, maximum: 1e300 }),
      nested: Type.Object({ list: Type.Array(Type.Integer({ maximum: 5 })) }),
      either: Type.Union([Type.Integer({ minimum: 1, maximum: 2 }), Type.Integer()]),
      n: Type.Number(),
    });
    expect(unboundedIntegers(s, 'body').sort()).toEqual(['body.either.anyOf[1]', 'body.huge', 'body.nested.list.items', 'body.open']);
  });
});

describe('depthLimitedJsonParser', () => {
  const inner = (_req: unknown, body: string | Buffer, done: (err: Error | null, v?: unknown) => void) => done(null, JSON.parse(String(body)));
  const parse = (body: string) => {
    let out: { err: (Error & { statusCode?: number }) | null; value?: unknown } | undefined;
    depthLimitedJsonParser(inner as never, 3)({} as never, body, (err, value) => (out = { err: err as Error | null, value }));
    return out;
  };
  it('hands a body within the depth to the JSON parser', () => {
    expect(parse('{"a":[{"b":1}]}')).toEqual({ err: null, value: { a: [{ b: 1 }] } });
  });
  it('refuses a deeper body with a 400 before parsing it', () => {
    const r = parse('{"a":[{"b":[1]}]}');
    expect([r?.err?.statusCode, r?.err?.message, r?.value]).toEqual([400, 'body nested deeper than 3 levels', undefined]);
  });
});
