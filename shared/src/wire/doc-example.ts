/**
 * The worked example of docs/wire-protocol.md, generated from the real codec:
 * the input batch, the body before deflate as annotated hex, and the message on
 * the wire. doc-example.test.ts fails if the document and the codec disagree
 * (`UPDATE_WIRE_DOC=1 pnpm vitest run shared/src/wire/doc-example.test.ts` rewrites it).
 */
import { Quality } from '../reading.js';
import type { TraceRow } from './bytes.js';
import { encodeTelemetryBatch, encodeTelemetryBody, traceTelemetryBatch, type TelemetryBatch } from './telemetry.js';

const T0 = 1_764_000_000_000; // 2025-11-25 00:00:00 China Standard Time

/** Two series of one flood gauge read in one request, one quality flag, one gap record. */
export const exampleBatch: TelemetryBatch = {
  gateway: 'gw-demo',
  firstSeq: 1001,
  lastSeq: 1006,
  readings: [
    { device: 'flood-1', point: 'water_level', ts: T0 + 25, value: 2.412 },
    { device: 'flood-1', point: 'ponding_depth', ts: T0 + 25, value: 0.05 },
    { device: 'flood-1', point: 'water_level', ts: T0 + 1031, value: 2.413 },
    { device: 'flood-1', point: 'ponding_depth', ts: T0 + 1031, value: 0.05 },
    { device: 'flood-1', point: 'water_level', ts: T0 + 2027, value: 2.411 },
    { device: 'flood-1', point: 'ponding_depth', ts: T0 + 2027, value: 0.06, quality: Quality.Uncertain },
  ],
  gaps: [
    {
      device: 'flood-1',
      point: 'water_level',
      from: T0 - 120_000,
      to: T0 - 60_001,
      minutes: [{ ts: T0 - 120_000, count: 60, min: 2.405, max: 2.419, mean: 2.4121 }],
    },
  ],
};

/** DEFLATE level the example uses (the encoder's default). */
export const EXAMPLE_LEVEL = 6;

/** Bytes as lowercase hex pairs separated by spaces. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A hex dump, 16 bytes a line, each line starting with its offset. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) lines.push(`${i.toString(16).padStart(4, '0')}  ${hex(bytes.subarray(i, i + 16))}`);
  return lines.join('\n');
}

function table(bytes: Uint8Array, rows: TraceRow[]): string {
  const out = ['| offset | bytes | field | value |', '|---:|---|---|---|'];
  for (const r of rows) {
    const b = bytes.subarray(r.start, r.end);
    const shown = b.length > 12 ? `${hex(b.subarray(0, 12))} …` : hex(b);
    out.push(`| ${r.start} | \`${shown}\` | ${r.field.replace(/\|/g, '\\|')} | ${r.value.replace(/\|/g, '\\|')} |`);
  }
  return out.join('\n');
}

/** The batch as JSON, one reading (or gap) a line. */
export function exampleJson(batch: TelemetryBatch): string {
  const lines = Object.entries(batch).map(([key, value]) =>
    Array.isArray(value)
      ? `  ${JSON.stringify(key)}: [\n${value.map((v) => `    ${JSON.stringify(v)}`).join(',\n')}\n  ]`
      : `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`,
  );
  return `{\n${lines.join(',\n')}\n}`;
}

/** The generated markdown between the doc's BEGIN/END markers. */
export function renderWireExample(batch: TelemetryBatch = exampleBatch): string {
  const message = encodeTelemetryBatch(batch, { compress: 'always', level: EXAMPLE_LEVEL });
  const body = encodeTelemetryBody(batch);
  const trace = traceTelemetryBatch(message);
  return [
    'Input (`encodeTelemetryBatch(batch, { compress: "always", level: 6 })`):',
    '',
    '```json',
    exampleJson(batch),
    '```',
    '',
    `Body before deflate (${body.length} bytes):`,
    '',
    '```text',
    hexDump(body),
    '```',
    '',
    'The body, field by field (the rows come from the decoder itself):',
    '',
    table(trace.bodyBytes, trace.body),
    '',
    `The message on the wire (${message.length} bytes; the payload from offset ${trace.payloadOffset} is the raw DEFLATE of the body):`,
    '',
    '```text',
    hexDump(message),
    '```',
    '',
    'Its header, field by field:',
    '',
    table(message, trace.header),
  ].join('\n');
}
