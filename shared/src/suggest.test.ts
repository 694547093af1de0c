import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from './suggest.js';

describe('did you mean', () => {
  it('measures edits and picks the nearest name within a slip', () => {
    expect(editDistance('flod-gauge', 'flood-gauge')).toBe(1);
    expect(editDistance('tpc', 'tcp')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('unti', ['unit', 'address'])).toBe('unit');
    expect(closest('flod-gauge', ['flood-gauge', 'lamp-post-controller'])).toBe('flood-gauge');
    expect(closest('water_levle', ['water_level', 'water_temperature'])).toBe('water_level');
    expect(closest('xyz', ['flood-gauge'])).toBeUndefined();
    expect(didYouMean('Rtu', ['tcp', 'rtu'])).toBe(' (did you mean "rtu"?)');
    expect(didYouMean('rtu', ['rtu'])).toBe('');
    expect(didYouMean(3, ['rtu'])).toBe('');
  });
});
