/**
 * Edits to a hand-written YAML file that leave every other byte as it was:
 * comments, their alignment, blank lines, key order, flow maps, quoting.
 *
 *   text ─parseDocument (ranges)─▶ node at path?
 *        ├─ a scalar            ─▶ its source range replaced by the new value, as YAML
 *        └─ missing             ─▶ deepest existing block map ─▶ `key: value` lines (nested keys
 *                                   indented two more) inserted after that map's last line
 *   result ─parse again─▶ must be valid YAML holding the value at the path, else YamlEditError
 *
 * The yaml package's Document.toString() keeps comments but re-flows the file
 * (comment alignment, flow maps, quoting), which a technician who aligned the
 * comments by hand reads as "the tool rewrote my config" (issue #15).
 */
import { isMap, isScalar, isSeq, parseDocument, stringify, type Document, type Node } from 'yaml';

/** A path into the YAML: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/** The edit could not be made in place (the path runs through a flow collection or a non-map). */
export class YamlEditError extends Error {}

function parse(text: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length) throw new YamlEditError(doc.errors[0].message);
  return doc;
}

/** A scalar as it is written inline after `key: ` (quoted when plain would change its meaning). */
function inline(value: string | number | boolean): string {
  const s = stringify(value, { lineWidth: 0 }).trimEnd();
  if (s.includes('\n')) return JSON.stringify(value);
  return s;
}

/** Offset of the end of the line holding `offset` (before its newline), or the text's end. */
function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  return i < 0 ? text.length : i;
}

/** The column where the line holding `offset` starts its content. */
function columnOf(text: string, offset: number): number {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return offset - start;
}

/** Sets one scalar at `path` in YAML text, in place. */
export function setYamlIn(text: string, path: YamlPath, value: string | number | boolean): string {
  const doc = parse(text);
  let out: string;
  const existing = doc.getIn(path, true) as Node | undefined;
  if (existing !== undefined) {
    if (!isScalar(existing) || !existing.range) throw new YamlEditError(`${path.join('.')} is not a single value`);
    const [start, end] = existing.range;
    const written = inline(value);
    // A comment after the value stays in its column when there is room (hand-aligned comments).
    const pad = /^( +)#/.exec(text.slice(end, lineEnd(text, end)))?.[1].length ?? 0;
    const keep = pad ? ' '.repeat(Math.max(1, pad - (written.length - (end - start)))) : '';
    out = text.slice(0, start) + written + keep + text.slice(end + pad);
  } else {
    // The deepest map that exists on the path.
    let depth = path.length - 1;
    let parent: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    while (parent === undefined && depth > 0) {
      depth--;
      parent = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    }
    const rest = path.slice(depth);
    if (rest.some((k) => typeof k !== 'string')) throw new YamlEditError(`${path.join('.')}: cannot create a sequence item in place`);
    const block = (indent: number) =>
      rest.map((k, i) => `${' '.repeat(indent + 2 * i)}${inline(String(k))}:${i === rest.length - 1 ? ` ${inline(value)}` : ''}`).join('\n');
    if (parent === null || parent === undefined) {
      // An empty document, or nothing on the path at all: append at the top level.
      const base = text.length && !text.endsWith('\n') ? `${text}\n` : text;
      out = `${base}${block(0)}\n`;
    } else {
      if (!isMap(parent) || parent.flow || !parent.range || parent.items.length === 0) {
        throw new YamlEditError(`${path.slice(0, depth).join('.') || 'the document'} is not a block map with keys: cannot add ${rest.join('.')} in place`);
      }
      const first = parent.items[0].key as Node;
      const indent = first.range ? columnOf(text, first.range[0]) : 0;
      const last = parent.items[parent.items.length - 1];
      const lastNode = (last.value ?? last.key) as Node;
      const at = lineEnd(text, lastNode.range ? lastNode.range[1] - (isMap(lastNode) || isSeq(lastNode) ? 1 : 0) : parent.range[1]);
      out = `${text.slice(0, at)}\n${block(indent)}${text.slice(at)}`;
      if (at === text.length) out += '\n';
    }
  }
  const check = parse(out);
  if (check.getIn(path) !== value) throw new YamlEditError(`${path.join('.')}: the edit did not read back as ${JSON.stringify(value)}`);
  return out;
}

/** Several `setYamlIn` in order. */
export function setYamlAll(text: string, edits: readonly [YamlPath, string | number | boolean][]): string {
  return edits.reduce((t, [p, v]) => setYamlIn(t, p, v), text);
}

/** The block sequence at `path`, with the column of its `- ` markers. */
function blockSeq(text: string, doc: Document, path: YamlPath) {
  const seq = doc.getIn(path, true) as Node | undefined;
  if (!isSeq(seq) || seq.flow || !seq.range || seq.items.length === 0) {
    throw new YamlEditError(`${path.join('.')} is not a block list with items ("- " lines): cannot edit it in place`);
  }
  const first = seq.items[0] as Node;
  // The item's node starts after its "- ": the marker is two columns to the left.
  const col = first.range ? columnOf(text, first.range[0]) - 2 : 0;
  return { seq, col: Math.max(0, col) };
}

/**
 * Appends one item to the block list at `path`, written as a one-line flow map
 * (`- { id: x, profile: y }`) after the list's last item; every other byte stays.
 */
export function appendYamlItem(text: string, path: YamlPath, item: Record<string, string | number | boolean>): string {
  const doc = parse(text);
  const { seq, col } = blockSeq(text, doc, path);
  const last = seq.items[seq.items.length - 1] as Node;
  const endOf = last.range ? last.range[1] - (isMap(last) || isSeq(last) ? 1 : 0) : seq.range![1];
  const at = lineEnd(text, endOf);
  const flow = `{ ${Object.entries(item)
    .map(([k, v]) => `${inline(k)}: ${inline(v)}`)
    .join(', ')} }`;
  let out = `${text.slice(0, at)}\n${' '.repeat(col)}- ${flow}${text.slice(at)}`;
  if (at === text.length) out += '\n';
  const check = parse(out).getIn([...path, seq.items.length]);
  if (JSON.stringify(check) !== JSON.stringify(item)) throw new YamlEditError(`${path.join('.')}: the new item did not read back as ${JSON.stringify(item)}`);
  return out;
}

/** Removes item `index` of the block list at `path` (its whole lines, and the comment lines right above it); every other byte stays. */
export function removeYamlItem(text: string, path: YamlPath, index: number): string {
  const doc = parse(text);
  const { seq, col } = blockSeq(text, doc, path);
  const item = seq.items[index] as Node | undefined;
  if (!item?.range) throw new YamlEditError(`${path.join('.')}[${index}]: no such item`);
  let start = text.lastIndexOf('\n', item.range[0] - 1) + 1;
  // Comment lines right above the item, at its marker's column, describe it: they go with it.
  for (;;) {
    if (start === 0) break;
    const prev = text.lastIndexOf('\n', start - 2) + 1;
    const line = text.slice(prev, start - 1);
    if (!line.startsWith(`${' '.repeat(col)}#`)) break;
    start = prev;
  }
  const endOf = item.range[1] - (isMap(item) || isSeq(item) ? 1 : 0);
  const end = Math.min(text.length, lineEnd(text, Math.max(endOf, item.range[0])) + 1);
  const out = text.slice(0, start) + text.slice(end);
  const before = (seq.toJSON() as unknown[]).filter((_, i) => i !== index);
  // The last item gone leaves `key:` with no value (null): the caller's validation says whether that may be.
  if (JSON.stringify((parse(out).getIn(path, true) as Node | null | undefined)?.toJSON() ?? []) !== JSON.stringify(before)) throw new YamlEditError(`${path.join('.')}[${index}]: could not remove the item in place`);
  return out;
}
