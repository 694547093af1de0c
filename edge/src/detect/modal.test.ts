import { describe, expect, it } from 'vitest';
import { AlarmLevel, Quality, type Reading } from '@lifeline/shared';
import { bridgeBurst } from '@lifeline/devices';
import { createDetectors } from './engine.js';
import { ModalAnalyzer } from './modal.js';
import { ModalDriftDetector } from './modal-drift.js';

describe('ModalAnalyzer', () => {
  it('finds a pure tone between bins, and its RMS and peak (A·sin: RMS A/√2, peak A)', () => {
    const fs = 100;
    const x = Float64Array.from({ length: 6000 }, (_, i) => 3 + 0.02 * Math.sin(2 * Math.PI * 2.3456 * (i / fs)));
    const r = new ModalAnalyzer({ sampleRateHz: fs, modes: 1 }).analyze(x);
    expect(r.frequencies[0]).toBeCloseTo(2.3456, 2);
    expect(Math.abs(r.frequencies[0] / 2.3456 - 1)).toBeLessThan(0.002);
    expect(r.rms).toBeCloseTo(0.02 / Math.SQRT2, 4); // the 3 m/s2 offset (gravity, bias) is removed
    expect(r.peak).toBeCloseTo(0.02, 4);
  });

  it('recovers three simulated deck modes under ambient excitation, ascending', () => {
    const b = bridgeBurst({ modes: [{ frequencyHz: 2.35 }, { frequencyHz: 7.9, rms: 0.006 }, { frequencyHz: 12.6, rms: 0.004 }], temperatureC: 15, seed: 7 });
    const r = new ModalAnalyzer({ sampleRateHz: 100 }).analyze(b.samples);
    expect(r.frequencies).toHaveLength(3);
    r.frequencies.forEach((f, i) => expect(Math.abs(f / b.frequencies[i] - 1)).toBeLessThan(0.02));
  });

  it('refuses a short burst or a non-finite sample, naming it', () => {
    const a = new ModalAnalyzer({ sampleRateHz: 100 });
    expect(() => a.analyze(new Float64Array(100))).toThrow(/burst: needs at least one segment of 512 samples, got 100/);
    const x = new Float64Array(6000);
    x[42] = NaN;
    expect(() => a.analyze(x)).toThrow(/burst\[42\]: must be a finite number, got NaN/);
    expect(() => new ModalAnalyzer({ sampleRateHz: 100, segment: 1000 })).toThrow(/segment: must be a power of two/);
  });
});

describe('ModalDriftDetector', () => {
  const at = (i: number, point: string, value: number): Reading => ({ device: 'deck', point, ts: i * 600_000, value, quality: Quality.Good });
  /** f = 2.4 − 0.0035·T, exactly: warm-up over 5..25 °C. */
  const f = (t: number, loss = 0) => (2.4 - 0.0035 * t) * (1 - loss);
  function warmed(): ModalDriftDetector {
    const d = new ModalDriftDetector('deck/frequency_1/modal', 'deck', { frequency: 'frequency_1', temperature: 'temperature', warmup: 20, average: 3, share: 0.01 });
    for (let i = 0; i < 20; i++) {
      const t = 5 + i;
      d.update(at(i, 'temperature', t));
      expect(d.update(at(i, 'frequency_1', f(t)))).toBeNull();
    }
    return d;
  }

  it('learns the frequency–temperature line, then stays quiet when only the temperature moves (even outside the learned range)', () => {
    const d = warmed();
    expect(d.baseline.slope).toBeCloseTo(-0.0035, 9);
    expect(d.baseline.intercept).toBeCloseTo(2.4, 9);
    for (let i = 20; i < 60; i++) {
      const t = -5 + i; // −5..35 °C: a 3 % frequency swing
      d.update(at(i, 'temperature', t));
      expect(d.update(at(i, 'frequency_1', f(t)))).toBeNull();
    }
  });

  it('raises a 1.8 % stiffness loss after `average` bursts and clears below half the share', () => {
    const d = warmed();
    const events: string[] = [];
    for (let i = 20; i < 30; i++) {
      d.update(at(i, 'temperature', 30));
      const e = d.update(at(i, 'frequency_1', f(30, i < 25 ? 0.018 : 0)));
      if (e) events.push(`${AlarmLevel[e.level]}@${i}: ${e.cause}`);
    }
    expect(events).toHaveLength(2);
    expect(events[0]).toMatch(/^Orange@22: frequency_1 fell 1\.80 % from its temperature-compensated baseline 2\.295 Hz \(at 30\.0 °C, outside the learned 5\.0\.\.24\.0 °C\) over 3 bursts/);
    // Healthy again from burst 25: at 26 one damaged burst is left in the 3-burst mean (0.6 % ≥ 0.5 %: holds), at 27 none.
    expect(events[1]).toMatch(/^Normal@27: frequency_1 back within 0\.50 %/);
  });

  it('is built from a config `modal` entry', () => {
    const set = createDetectors({ modal: [{ device: 'deck', frequency: 'frequency_1', temperature: 'temperature', share: 0.02 }] });
    expect(set.get('deck/frequency_1/modal')).toBeInstanceOf(ModalDriftDetector);
  });
});
