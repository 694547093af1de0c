/**
 * The optional alarm sound: a short two-tone beep made with the Web Audio API
 * (no audio file, nothing fetched), repeated while a red alarm is unacknowledged
 * and the operator has switched sound on (browsers only play after a click).
 */
let ctx: AudioContext | null = null;
let on = false;

export function soundOn(): boolean {
  return on;
}

export function setSound(next: boolean): void {
  on = next;
  if (on) ctx ??= new AudioContext();
}

export function beep(): void {
  if (!on || !ctx) return;
  const t0 = ctx.currentTime;
  for (const [i, f] of [880, 660].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.2, t0 + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.001, t0 + i * 0.25 + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + i * 0.25);
    osc.stop(t0 + i * 0.25 + 0.24);
  }
}
