/**
 * Burst reduction for bridge accelerometers: one burst of raw samples (e.g.
 * 100 Hz for 60 s = 6,000 samples) becomes a handful of readings the gateway
 * sends: RMS, peak, and the first natural frequencies.
 *
 *     burst ─▶ remove mean ─▶ RMS, |peak|
 *           ─▶ Welch PSD: Hann segments (50 % overlap), zero-padded FFT (fft.js), averaged
 *           ─▶ local maxima in [fMin, fMax], strongest first, at least minSpacingHz apart
 *           ─▶ each refined to the power-weighted centre of its half-power band
 *           ─▶ frequencies ascending: frequency_1 is the first mode
 *
 * Why Welch + interpolation, not one FFT of the burst: ambient (traffic, wind)
 * excitation is random, so a single periodogram's peaks scatter by its own
 * noise; averaging segments steadies the spectrum at the cost of resolution,
 * and zero-padding plus the half-power-band centroid places the mode between
 * bins. A 60 s record of a mode with damping ζ cannot pin its frequency closer
 * than about √(ζ·f/(π·T)) (≈ 0.5 % for 2.3 Hz, ζ 1.5 %): single bursts scatter
 * that much whatever the estimator, which is why the drift detector averages. Stochastic subspace
 * identification would also give damping and mode shapes, at O(n·blockrows²)
 * cost and a model order to choose per bridge; for a drift alarm on the first
 * frequency it buys nothing this does not (docs/decisions.md).
 *
 * Pure and allocation-bounded: a `ModalAnalyzer` owns its FFT plan and buffers
 * and reuses them for every burst of the same shape.
 */
import FFT from 'fft.js';

/** Options of a burst analyser. */
export interface ModalOptions {
  /** Sampling rate, Hz. */
  sampleRateHz: number;
  /** Samples per Welch segment (power of two; default 512: 5.12 s at 100 Hz, 22 averages in a 60 s burst). */
  segment?: number;
  /** FFT length after zero-padding (power of two ≥ segment; default 8 × segment: 0.024 Hz steps at 100 Hz; fft.js is many times slower at 2^13 than at 2^12, for no better estimate). */
  nfft?: number;
  /** Band searched for modes, Hz (default 0.3 .. 0.4 × sample rate). */
  fMinHz?: number;
  fMaxHz?: number;
  /** Modes reported (default 3). */
  modes?: number;
  /** Two peaks closer than this are one mode, Hz (default 0.5): a random bump on a strong mode's skirt is not a mode. */
  minSpacingHz?: number;
  /** A peak must stand this many times above the band's median PSD to count as a mode (default 10). */
  prominence?: number;
}

/** What one burst reduces to. */
export interface ModalResult {
  /** RMS of the burst after removing its mean, in the samples' unit (m/s2). */
  rms: number;
  /** Largest |sample − mean|. */
  peak: number;
  /** Natural frequencies found, ascending, Hz (fewer than `modes` when the spectrum shows fewer). */
  frequencies: number[];
  /** PSD at each frequency relative to the band median (how clear the peak is). */
  prominences: number[];
}

const isPow2 = (n: number) => Number.isInteger(n) && n >= 16 && (n & (n - 1)) === 0;

/** Reusable burst analyser (one per accelerometer channel shape). */
export class ModalAnalyzer {
  private readonly fs: number;
  private readonly seg: number;
  private readonly nfft: number;
  private readonly fft: FFT;
  private readonly window: Float64Array;
  private readonly frame: number[];
  private readonly spectrum: number[];
  private readonly psd: Float64Array;
  private readonly kMin: number;
  private readonly kMax: number;
  private readonly modes: number;
  private readonly spacingBins: number;
  private readonly prominence: number;

  constructor(opts: ModalOptions) {
    if (!(opts.sampleRateHz > 0)) throw new RangeError(`sampleRateHz: must be above 0, got ${opts.sampleRateHz}`);
    this.fs = opts.sampleRateHz;
    this.seg = opts.segment ?? 512;
    this.nfft = opts.nfft ?? this.seg * 8;
    if (!isPow2(this.seg)) throw new RangeError(`segment: must be a power of two ≥ 16, got ${this.seg}`);
    if (!isPow2(this.nfft) || this.nfft < this.seg) throw new RangeError(`nfft: must be a power of two ≥ segment (${this.seg}), got ${this.nfft}`);
    this.fft = new FFT(this.nfft);
    this.window = new Float64Array(this.seg);
    for (let i = 0; i < this.seg; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (this.seg - 1));
    this.frame = new Array<number>(this.nfft).fill(0);
    this.spectrum = this.fft.createComplexArray() as number[];
    this.psd = new Float64Array(this.nfft / 2 + 1);
    const df = this.fs / this.nfft;
    this.kMin = Math.max(1, Math.ceil((opts.fMinHz ?? 0.3) / df));
    this.kMax = Math.min(this.nfft / 2 - 1, Math.floor((opts.fMaxHz ?? 0.4 * this.fs) / df));
    this.modes = opts.modes ?? 3;
    this.spacingBins = Math.max(1, Math.round((opts.minSpacingHz ?? 0.5) / df));
    this.prominence = opts.prominence ?? 10;
  }

  /** Frequency step of the (zero-padded) spectrum, Hz. */
  get resolutionHz(): number {
    return this.fs / this.nfft;
  }

  /** Reduces one burst. Throws a RangeError naming the problem when the burst is shorter than one segment or holds a non-finite sample. */
  analyze(samples: ArrayLike<number>): ModalResult {
    const n = samples.length;
    if (n < this.seg) throw new RangeError(`burst: needs at least one segment of ${this.seg} samples, got ${n}`);
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const v = samples[i];
      if (!Number.isFinite(v)) throw new RangeError(`burst[${i}]: must be a finite number, got ${v}`);
      mean += v;
    }
    mean /= n;
    let sq = 0;
    let peak = 0;
    for (let i = 0; i < n; i++) {
      const d = samples[i] - mean;
      sq += d * d;
      if (Math.abs(d) > peak) peak = Math.abs(d);
    }
    this.welch(samples, mean);
    const { frequencies, prominences } = this.pickPeaks();
    return { rms: Math.sqrt(sq / n), peak, frequencies, prominences };
  }

  /** Averaged periodogram of Hann segments with 50 % overlap (the last segment ends at the burst's end). */
  private welch(x: ArrayLike<number>, mean: number): void {
    const { seg, psd, frame, spectrum, window } = this;
    psd.fill(0);
    const hop = seg / 2;
    const count = Math.max(1, Math.floor((x.length - seg) / hop) + 1);
    const last = x.length - seg;
    for (let s = 0; s < count; s++) {
      const start = count === 1 ? 0 : Math.round((s * last) / (count - 1));
      for (let i = 0; i < seg; i++) frame[i] = (x[start + i] - mean) * window[i];
      // frame[seg..nfft) stays 0: the zero padding.
      this.fft.realTransform(spectrum, frame);
      for (let k = 0; k < psd.length; k++) {
        const re = spectrum[2 * k];
        const im = spectrum[2 * k + 1];
        psd[k] += re * re + im * im;
      }
    }
  }

  /**
   * The power-weighted centre of a peak's half-power band, in bins. It uses every
   * bin of the resonance (about 2ζf wide), not three, so the random scatter of
   * single bins under ambient excitation averages out; a parabola through the
   * top three bins did worse on the simulated decks (docs/benchmarks.md).
   */
  private centroid(k: number): number {
    const { psd } = this;
    const half = psd[k] / 2;
    let lo = k;
    while (lo > 1 && psd[lo - 1] >= half) lo--;
    let hi = k;
    while (hi < psd.length - 2 && psd[hi + 1] >= half) hi++;
    let weight = 0;
    let moment = 0;
    for (let j = lo; j <= hi; j++) {
      weight += psd[j];
      moment += j * psd[j];
    }
    return moment / weight;
  }

  private pickPeaks(): { frequencies: number[]; prominences: number[] } {
    const { psd, kMin, kMax } = this;
    // Noise floor: the band median (robust to the peaks themselves).
    const band = Array.from(psd.subarray(kMin, kMax + 1)).sort((a, b) => a - b);
    const floor = band[band.length >> 1] || Number.MIN_VALUE;
    const candidates: number[] = [];
    for (let k = kMin; k <= kMax; k++) {
      if (psd[k] > psd[k - 1] && psd[k] >= psd[k + 1] && psd[k] >= this.prominence * floor) candidates.push(k);
    }
    candidates.sort((a, b) => psd[b] - psd[a]);
    const chosen: number[] = [];
    for (const k of candidates) {
      if (chosen.every((c) => Math.abs(c - k) >= this.spacingBins)) chosen.push(k);
      if (chosen.length === this.modes) break;
    }
    chosen.sort((a, b) => a - b);
    const df = this.fs / this.nfft;
    return {
      frequencies: chosen.map((k) => this.centroid(k) * df),
      prominences: chosen.map((k) => psd[k] / floor),
    };
  }
}
