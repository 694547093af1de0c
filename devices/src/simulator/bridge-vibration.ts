/**
 * Simulated bridge accelerometer bursts with known modes: what the modal
 * reduction (edge/src/detect/modal.ts) and `pnpm bench modal` are measured on.
 *
 *     white noise (traffic, wind) ─▶ one resonator per mode (f, ζ) ─▶ Σ modes + sensor noise ─▶ burst
 *     f = f0 · (1 + tempCoeff · (T − refT)) · (1 − stiffnessLoss on mode 1)
 *
 * Each mode is a digital resonator y[n] = 2r·cos(ωd·Δt)·y[n−1] − r²·y[n−2] + x[n]
 * with r = e^(−ζωΔt): the discrete twin of a damped single-degree-of-freedom
 * oscillator under random forcing, so its spectrum peaks at the mode's
 * frequency with the half-power width 2ζf a real deck shows. Concrete and
 * steel decks soften when warm: the default −0.15 %/°C moves the first
 * frequency by about 3 % over a 20 °C cycle, the 1–3 % field studies report.
 */
import { gaussianSource } from '@lifeline/shared';

/** One mode of the simulated deck. */
export interface SimMode {
  /** Natural frequency at the reference temperature, Hz. */
  frequencyHz: number;
  /** Damping ratio (default 0.015). */
  damping?: number;
  /** RMS acceleration this mode contributes, m/s2 (default 0.01). */
  rms?: number;
}

/** A burst to simulate. */
export interface BridgeBurstOptions {
  modes: readonly SimMode[];
  /** Deck temperature during the burst, °C. */
  temperatureC: number;
  /** Temperature at which `frequencyHz` holds, °C (default 15). */
  refTemperatureC?: number;
  /** Relative frequency change per °C (default −0.0015). */
  tempCoeff?: number;
  /** Damage: the first frequency drops by this share (0.02 = 2 %). */
  stiffnessLoss?: number;
  /** Samples per second (default 100). */
  sampleRateHz?: number;
  /** Burst length, s (default 60). */
  seconds?: number;
  /** Sensor noise RMS, m/s2 (default 0.001). */
  noise?: number;
  seed: number;
}

/** A simulated burst and the frequencies it really has. */
export interface BridgeBurst {
  samples: Float64Array;
  /** True frequency of each mode during this burst, Hz. */
  frequencies: number[];
}

/** The frequencies the modes have at a temperature (and damage). */
export function modeFrequencies(opts: Pick<BridgeBurstOptions, 'modes' | 'temperatureC' | 'refTemperatureC' | 'tempCoeff' | 'stiffnessLoss'>): number[] {
  const k = 1 + (opts.tempCoeff ?? -0.0015) * (opts.temperatureC - (opts.refTemperatureC ?? 15));
  return opts.modes.map((m, i) => m.frequencyHz * k * (i === 0 ? 1 - (opts.stiffnessLoss ?? 0) : 1));
}

/** One burst of vertical deck acceleration, m/s2. */
export function bridgeBurst(opts: BridgeBurstOptions): BridgeBurst {
  const fs = opts.sampleRateHz ?? 100;
  const n = Math.round((opts.seconds ?? 60) * fs);
  const warm = Math.round(20 * fs); // let each resonator reach its steady state
  const dt = 1 / fs;
  const gauss = gaussianSource(opts.seed);
  const frequencies = modeFrequencies(opts);
  const out = new Float64Array(n);
  const mode = new Float64Array(n);
  opts.modes.forEach((m, i) => {
    const zeta = m.damping ?? 0.015;
    const w = 2 * Math.PI * frequencies[i];
    const r = Math.exp(-zeta * w * dt);
    const a1 = 2 * r * Math.cos(w * Math.sqrt(1 - zeta * zeta) * dt);
    const a2 = r * r;
    let y1 = 0;
    let y2 = 0;
    let sq = 0;
    for (let t = -warm; t < n; t++) {
      const y = a1 * y1 - a2 * y2 + gauss();
      y2 = y1;
      y1 = y;
      if (t >= 0) {
        mode[t] = y;
        sq += y * y;
      }
    }
    const scale = (m.rms ?? 0.01) / Math.sqrt(sq / n);
    for (let t = 0; t < n; t++) out[t] += mode[t] * scale;
  });
  const noise = opts.noise ?? 0.001;
  for (let t = 0; t < n; t++) out[t] += noise * gauss();
  return { samples: out, frequencies };
}

/**
 * Deck temperature over a year of 10-minute bursts, °C: a seasonal swing plus a
 * daily one (peak mid-afternoon), Jining's climate roughly (−2 °C January nights
 * to 38 °C July afternoons on the deck surface).
 */
export function deckTemperature(hoursSinceJan1: number): number {
  const season = 18 - 14 * Math.cos((2 * Math.PI * hoursSinceJan1) / (24 * 365));
  const day = 6 * Math.cos((2 * Math.PI * (hoursSinceJan1 % 24 - 15)) / 24);
  return season + day;
}
