/**
 * Dual-vigilance fuzzy ART (adaptive resonance theory; Carpenter, Grossberg & Rosen 1991
 * for fuzzy ART, da Silva, Elnabarawy & Wunsch 2019 for the dual vigilance), the
 * category memory of the ARTime detector (artime.ts). Written from the papers' description.
 *
 *     x ∈ [0,1]^d ─▶ complement code [x, 1−x] ─▶ per category j:
 *        choice  T_j = |x ∧ w_j| / (α + |w_j|)
 *        match   m_j = (|x_f ∧ w_f| / |w_f|)³ · (|x_e ∧ w_e| / |w_e|)²   (features f, "energy" e)
 *     in order of T: the first category with m ≥ ρ_lb decides:
 *        m ≥ ρ_ub  → resonance: learn w_j ← β(x ∧ w_j) + (1 − β)w_j (β = 1: fast learning)
 *        else      → a new category w = x in the same cluster (the pattern is a variant of a known one)
 *     none passes ρ_lb → a new category in a new cluster: a pattern never seen.
 *
 * Bounded: at most `capacity` categories; when full the least recently used one is
 * replaced. Memory capacity·2d numbers, preallocated; a sample costs O(categories·d).
 */

/** What one sample did to the memory. */
export const ArtOutcome = {
  /** Matched a category well enough to refine it. */
  Resonance: 0,
  /** A variant of a known cluster: stored as a new category of it. */
  Variant: 1,
  /** Like nothing stored: a new category in a new cluster. */
  Novel: 2,
} as const;
export type ArtOutcome = (typeof ArtOutcome)[keyof typeof ArtOutcome];

/** Choice parameter α of fuzzy ART (small: prefers the category that fits tightest). */
const ALPHA = 1e-3;

export class DualVigilanceArt {
  /** Learning rate on resonance: w ← β(x ∧ w) + (1 − β)w (1: fast learning). */
  beta = 1;
  /** Vigilances: lower (same cluster) and upper (resonance), ρ_lb ≤ ρ_ub. */
  rhoLb = 0.8;
  rhoUb = 0.8;
  /**
   * The published ARTime's memory (its description): the "energy" is the last feature component
   * and its complement (not separate components; give `energies` 0). Default false.
   */
  energyLast = false;
  /**
   * The published ARTime's search: the category with the best match decides (resonance at ρ_ub,
   * a variant at ρ_lb, else novel) instead of the best choice value among those passing ρ_lb.
   */
  bestDecides = false;
  /** Match of the latest sample with the category that decided it (the best match when novel). */
  match = 0;
  /** Energy part of that match. */
  energy = 1;
  /** Categories stored. */
  size = 0;
  private readonly w: Float64Array;
  private readonly wsum: Float64Array;
  /** |w| of each category's feature components (its energy part is wsum − wf). */
  private readonly wf: Float64Array;
  private readonly cluster: Int32Array;
  private readonly used: Float64Array;
  private readonly x: Float64Array;
  private clusters = 0;
  private t = 0;

  /**
   * @param features components of x that are the pattern (matched cubed)
   * @param energies components after them that are its level and size (matched squared)
   */
  constructor(
    private readonly features: number,
    private readonly energies: number,
    readonly capacity = 256,
  ) {
    const D = 2 * (features + energies);
    this.w = new Float64Array(capacity * D);
    this.wsum = new Float64Array(capacity);
    this.wf = new Float64Array(capacity);
    this.cluster = new Int32Array(capacity);
    this.used = new Float64Array(capacity);
    this.x = new Float64Array(D);
  }

  /** Presents one sample (components in [0, 1], clamped) and learns from it unless `learn` is false. */
  train(input: ArrayLike<number>, learn = true): ArtOutcome {
    const F = this.features;
    const E = this.energies;
    const d = F + E;
    const D = 2 * d;
    const x = this.x;
    for (let k = 0; k < d; k++) {
      const v = input[k];
      const c = v > 1 ? 1 : v >= 0 ? v : 0; // NaN → 0
      x[k] = c;
      x[d + k] = 1 - c;
    }
    this.t++;
    let pick = -1;
    let pickT = -Infinity;
    let pickM = 0;
    let pickE = 1;
    let bestM = -1;
    let bestE = 1;
    let bestJ = -1;
    const w = this.w;
    const last = this.energyLast;
    const best = this.bestDecides;
    for (let j = 0; j < this.size; j++) {
      const off = j * D;
      let inF = 0;
      let inE = 0;
      for (let k = 0; k < d; k++) {
        const a = w[off + k];
        const b = w[off + d + k];
        const xa = x[k];
        const xb = x[d + k];
        const both = (xa < a ? xa : a) + (xb < b ? xb : b);
        if (k < F) inF += both;
        else inE += both;
      }
      const wF = this.wf[j];
      const wE = this.wsum[j] - wF;
      // Matched against the category's own size |w| (1 when x lies inside its box).
      const mf = inF / (wF || 1);
      const me = last ? this.lastEnergy(off, d) : E > 0 ? inE / (wE || 1) : 1;
      const m = mf * mf * mf * me * me;
      if (m > bestM) {
        bestM = m;
        bestE = me;
        bestJ = j;
      }
      if (best || m < this.rhoLb) continue;
      const T = (inF + inE) / (ALPHA + this.wsum[j]);
      if (T > pickT) {
        pickT = T;
        pick = j;
        pickM = m;
        pickE = me;
      }
    }
    if (best && bestM >= this.rhoLb) {
      pick = bestJ;
      pickM = bestM;
      pickE = bestE;
    }
    if (pick >= 0) {
      this.match = pickM;
      this.energy = pickE;
      if (pickM >= this.rhoUb) {
        if (learn) {
          const off = pick * D;
          let s = 0;
          let sf = 0;
          const b = this.beta;
          for (let k = 0; k < D; k++) {
            const v = (this.w[off + k] = b * Math.min(this.w[off + k], x[k]) + (1 - b) * this.w[off + k]);
            s += v;
            if (k % d < F) sf += v;
          }
          this.wsum[pick] = s;
          this.wf[pick] = sf;
          this.used[pick] = this.t;
        }
        return ArtOutcome.Resonance;
      }
      if (learn) this.store(this.cluster[pick]);
      return ArtOutcome.Variant;
    }
    this.match = this.size > 0 ? bestM : 0;
    this.energy = this.size > 0 ? bestE : 0;
    if (learn) this.store(this.clusters++);
    return ArtOutcome.Novel;
  }

  /** Energy match of the published ARTime: the last component and its complement, |x ∧ w| / |w|. */
  private lastEnergy(off: number, d: number): number {
    const x = this.x;
    const a = this.w[off + d - 1];
    const b = this.w[off + 2 * d - 1];
    const xa = x[d - 1];
    const xb = x[2 * d - 1];
    return ((xa < a ? xa : a) + (xb < b ? xb : b)) / (a + b || 1);
  }

  /** Stores the sample in `this.x` as a new category (replacing the least recently used when full). */
  private store(cluster: number): void {
    const D = this.x.length;
    let j = this.size;
    if (j === this.capacity) {
      j = 0;
      for (let k = 1; k < this.capacity; k++) if (this.used[k] < this.used[j]) j = k;
    } else this.size++;
    this.w.set(this.x, j * D);
    this.wsum[j] = this.x.length / 2; // |[x, 1−x]| = d
    this.wf[j] = this.features;
    this.cluster[j] = cluster;
    this.used[j] = this.t;
  }
}
