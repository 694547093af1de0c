/**
 * The anomaly detector options the NAB bench runs with: none, i.e. the defaults of
 * edge/src/detect/anomaly.ts (chosen by the cross-validation described in
 * docs/detection-results.md).
 */
import type { NabDetectorOptions } from './_nab.js';

export const NAB_OPTIONS: NabDetectorOptions = {};

/** NAB_OPTIONS with `--set key=value` overrides (numbers, words, or `false`) for tuning runs. */
export function nabOptions(sets: readonly string[] = []): NabDetectorOptions {
  const opts: NabDetectorOptions = { ...NAB_OPTIONS };
  for (const kv of sets) {
    const [k, v] = kv.split('=');
    (opts as Record<string, unknown>)[k] = v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v);
  }
  return opts;
}
