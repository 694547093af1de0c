import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('durations', () => {
  it('parses what a technician types', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration(' 1d ')).toBe(86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
  });

  it('refuses anything else, naming the text', () => {
    for (const bad of ['', '2', 'h', '2 hours', '-1h', '0s', '2h!']) expect(() => parseDuration(bad, '--for')).toThrow(/REQUEST_INVALID: --for: expected a duration like 90s/);
  });

  it('formats for reading', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(86_400_000 + 3_600_000)).toBe('1d1h');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(20)).toBe('20ms');
  });
});
