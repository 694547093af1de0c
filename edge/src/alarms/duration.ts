/**
 * Durations as a technician types and reads them: `90s`, `30m`, `2h`, `1h30m`, `1d`.
 */
import { ErrorCodes, LifelineError } from '@lifeline/shared';

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1h30m` → 5400000. Throws REQUEST_INVALID naming the bad text. */
export function parseDuration(text: string, what = 'duration'): number {
  const t = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * UNIT[m[2]];
    at = re.lastIndex;
  }
  if (t.length === 0 || at !== t.length || !(total > 0)) {
    throw new LifelineError(ErrorCodes.RequestInvalid, `${what}: expected a duration like 90s, 30m, 2h or 1h30m, got ${JSON.stringify(text)}`);
  }
  return Math.round(total);
}

/** 5400000 → `1h30m`; 1500 → `1.5s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [u, s] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= s) {
      parts.push(`${Math.floor(rest / s)}${u}`);
      rest %= s;
    }
  }
  return parts.slice(0, 2).join('');
}
