/**
 * Column codecs of a telemetry batch: one series' timestamps, values and quality
 * flags. Each encoder sizes its exact candidate encodings (bytes before deflate for
 * values, significant bits for timestamps) and writes the smallest; each decoder
 * checks everything it reads. One file per column under columns/.
 *
 *   timestamps: regular (delta − period) | delta-of-delta | absolute | copy of an earlier series
 *   values:     decimal m / 10^k | decimal m × 10^−k  (+ exceptions as raw float64) | XOR float
 *   quality:    run-length (code, run) pairs
 */
export * from './columns/timestamps.js';
export * from './columns/values.js';
export * from './columns/quality.js';
