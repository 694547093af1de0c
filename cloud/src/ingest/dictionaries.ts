/**
 * The series dictionaries an ingest worker has learned (wire version 2,
 * docs/wire-protocol.md §7), in memory only and bounded.
 *
 *   telemetry batch v2 + flag Dictionary ─▶ learn(gateway, dictionary) ─▶ Ack names the id
 *   Live frame ─▶ get(gateway, id) ─┬─ held ─▶ decode, commit, ack
 *                                  └─ not held (restart, another worker, evicted) ─▶ Reject UnknownDictionary
 *
 * Losing this map loses nothing: a Live frame is never committed against a
 * dictionary it does not hold, and the gateway answers the reject by sending
 * the same readings with their names (which teaches the dictionary again).
 */
import type { SeriesDictionary } from '@lifeline/shared';

export class DictionaryCache {
  /** `gateway\0id` → dictionary, oldest use first (a Map keeps insertion order). */
  private readonly map = new Map<string, SeriesDictionary>();

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.map.size;
  }

  /** Remembers a dictionary a gateway defined (replacing one with the same id). */
  learn(gateway: string, dict: SeriesDictionary): void {
    const key = `${gateway}\0${dict.id}`;
    this.map.delete(key);
    this.map.set(key, dict);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  /** The gateway's dictionary `id`, if this worker holds it. */
  get(gateway: string, id: number): SeriesDictionary | undefined {
    const key = `${gateway}\0${id}`;
    const d = this.map.get(key);
    if (d) {
      this.map.delete(key);
      this.map.set(key, d);
    }
    return d;
  }

  /** Forget everything (what a restart does; tests use it). */
  clear(): void {
    this.map.clear();
  }
}
