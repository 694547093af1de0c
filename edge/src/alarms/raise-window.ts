/**
 * Sliding windows of raise times (epoch ms, oldest first): an alarm's own raises
 * (chattering, chatter.ts) and the gateway's (alarm flood, flood.ts).
 */

/** Drops the times at or before `now - windowMs`. */
export function trimWindow(times: number[], now: number, windowMs: number): void {
  let k = 0;
  while (k < times.length && times[k] <= now - windowMs) k++;
  if (k) times.splice(0, k);
}

/** Adds a raise time, drops those out of the window, keeps at most `cap`. */
export function pushWindow(times: number[], ts: number, windowMs: number, cap: number): void {
  times.push(ts);
  trimWindow(times, ts, windowMs);
  if (times.length > cap) times.splice(0, times.length - cap);
}
