/**
 * docs/wire-protocol.md cannot drift from the codec: its worked example must be
 * exactly what the codec produces, and its hex must decode to its JSON input.
 * `UPDATE_WIRE_DOC=1 pnpm vitest run shared/src/wire/doc-example.test.ts` rewrites the example.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../reading.js';
import { exampleBatch, renderWireExample } from './doc-example.js';
import { prng } from '../random.js';
import { randomBatch } from '../../test/wire/fixtures.js';
import { decodeTelemetryBatch, encodeTelemetryBatch, encodeTelemetryBody, type TelemetryBatch } from './telemetry.js';

const docPath = fileURLToPath(new URL('../../../docs/wire-protocol.md', import.meta.url));
const BEGIN = '<!-- BEGIN generated: wire example (shared/src/wire/doc-example.ts) -->';
const END = '<!-- END generated: wire example -->';

function section(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/wire-protocol.md lacks the ${BEGIN} … ${END} markers`);
  return doc.slice(a + BEGIN.length, b).trim();
}

/** The fenced blocks of a markdown text with the given info string, in order. */
function blocks(md: string, info: string): string[] {
  return [...md.matchAll(new RegExp('```' + info + '\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]);
}

/** `0000  4c 4c 01 …` lines → bytes (the offset column dropped). */
function fromDump(dump: string): Uint8Array {
  const hex = dump
    .split('\n')
    .map((l) => l.replace(/^[0-9a-f]{4}\s+/, ''))
    .join(' ')
    .trim()
    .split(/\s+/);
  return Uint8Array.from(hex, (h) => parseInt(h, 16));
}

describe('docs/wire-protocol.md worked example', () => {
  if (process.env.UPDATE_WIRE_DOC) {
    const doc = readFileSync(docPath, 'utf8');
    const a = doc.indexOf(BEGIN);
    const b = doc.indexOf(END);
    writeFileSync(docPath, `${doc.slice(0, a + BEGIN.length)}\n\n${renderWireExample()}\n\n${doc.slice(b)}`);
  }
  const doc = readFileSync(docPath, 'utf8');
  const example = section(doc);

  it('is exactly what the codec produces today', () => {
    expect(example).toBe(renderWireExample());
  });

  it('shows hex that decodes to its own JSON input, and JSON that encodes to its own hex', () => {
    const [json] = blocks(example, 'json');
    const [bodyDump, messageDump] = blocks(example, 'text');
    const input = JSON.parse(json) as TelemetryBatch;
    expect(input).toEqual(exampleBatch);
    const message = fromDump(messageDump);
    expect(Array.from(message)).toEqual(Array.from(encodeTelemetryBatch(input, { compress: 'always', level: 6 })));
    const decoded = decodeTelemetryBatch(message);
    expect(decoded.readings).toEqual(input.readings);
    expect(decoded.gaps).toEqual(input.gaps);
    expect(decoded.seqs).toEqual([1001, 1002, 1003, 1004, 1005, 1006]);
    // The body shown is the codec's body, and the payload is its raw DEFLATE.
    const body = fromDump(bodyDump);
    expect(Array.from(body)).toEqual(Array.from(encodeTelemetryBody(input)));
    const payloadOffset = Number(/payload from offset (\d+)/.exec(example)?.[1]);
    expect(Array.from(inflateSync(message.subarray(payloadOffset)))).toEqual(Array.from(body));
  });
});

describe('docs/wire-protocol.md Python decoder (appendix)', () => {
  const doc = readFileSync(docPath, 'utf8');
  const [python] = blocks(doc, 'python');
  // python3 is part of every machine this project builds on; without it this fails, it does not skip.
  type PyBatch = { readings: Array<Reading & { value: number | string }>; seqs: number[]; gaps: unknown[]; firstSeq: number; lastSeq: number };
  /** Runs the doc's decoder as a module (one Python process for many messages, one hex message a line). */
  const runPython = (messages: Uint8Array[]): PyBatch[] => {
    const driver = [
      'import json, sys',
      "ns = {'__name__': 'wire_doc'}",
      'exec(sys.argv[1], ns)',
      'for line in sys.stdin:',
      "    batch = ns['decode_telemetry'](bytes.fromhex(line.strip()))",
      "    for r in batch['readings']: r['value'] = ns['show'](r['value'])",
      "    for g in batch['gaps']:",
      "        for m in g['minutes']: m.update({k: ns['show'](m[k]) for k in ('min', 'max', 'mean')})",
      '    print(json.dumps(batch, ensure_ascii=False))',
    ].join('\n');
    const input = messages.map((m) => Buffer.from(m).toString('hex')).join('\n') + '\n';
    const out = spawnSync('python3', ['-c', driver, python], { input, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`python decoder failed: ${out.stderr}`);
    return out.stdout.trim().split('\n').map((l) => JSON.parse(l) as PyBatch);
  };
  const shown = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : Object.is(v, -0) ? '-0' : v);

  it('decodes the worked example', () => {
    const [out] = runPython([encodeTelemetryBatch(exampleBatch, { compress: 'always', level: 6 })]);
    expect(out.readings).toEqual(exampleBatch.readings);
    expect(out.gaps).toEqual(exampleBatch.gaps);
    expect([out.firstSeq, out.lastSeq]).toEqual([1001, 1006]);
  });

  it('decodes random batches of every encoding mode like the reference decoder', () => {
    const rand = prng(42);
    const wires = Array.from({ length: 40 }, (_, i) => encodeTelemetryBatch(randomBatch(rand, { holes: i % 2 === 0 })));
    const outs = runPython(wires);
    expect(outs.length).toBe(wires.length);
    for (const [i, out] of outs.entries()) {
      const ref = decodeTelemetryBatch(wires[i]);
      expect(out.seqs).toEqual(ref.seqs);
      expect(out.readings).toEqual(ref.readings.map((r) => ({ ...r, value: shown(r.value) })));
      expect(out.gaps).toEqual(ref.gaps.map((g) => ({ ...g, minutes: g.minutes.map((m) => ({ ...m, min: shown(m.min), max: shown(m.max), mean: shown(m.mean) })) })));
    }
  });
});
