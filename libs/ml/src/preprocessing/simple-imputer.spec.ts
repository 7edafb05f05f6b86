import { ValidationError } from '@mlp/contracts';
import { SimpleImputer } from './simple-imputer';
import { roundTrip } from './test-helpers';

describe('SimpleImputer', () => {
  it('mean: fills with the mean of the non-missing values', () => {
    // (1 + 3 + 8) / 3 = 4
    const out = new SimpleImputer({ strategy: 'mean' }).fitTransform({ x: [1, null, 3, 8] });
    expect(out.x).toEqual([1, 4, 3, 8]);
  });

  it('treats NaN as missing', () => {
    // mean of [2, 4] = 3
    expect(new SimpleImputer().fitTransform({ x: [2, Number.NaN, 4] }).x).toEqual([2, 3, 4]);
  });

  it('median: numpy-linear middle of an even count', () => {
    // sorted [1, 3, 8, 100], position 0.5·3 = 1.5 → 3 + 0.5·(8 − 3) = 5.5
    const out = new SimpleImputer({ strategy: 'median' }).fitTransform({ x: [1, null, 3, 8, 100] });
    expect(out.x).toEqual([1, 5.5, 3, 8, 100]);
  });

  it('most_frequent: ties go to the smallest value', () => {
    // a and b both twice → 'a'
    const s = new SimpleImputer({ strategy: 'most_frequent' }).fit({ c: ['b', 'a', 'b', 'a', null, 'c'] });
    expect(s.statistics()).toEqual({ c: 'a' });
    // 9 and 10 both twice → 9 numerically (the string order would pick 10)
    const n = new SimpleImputer({ strategy: 'most_frequent' }).fit({ n: [10, 9, 10, 9, null] });
    expect(n.transform({ n: [null, 1] }).n).toEqual([9, 1]);
  });

  it('constant: uses fillValue, else 0 for numeric and missing_value for strings', () => {
    expect(new SimpleImputer({ strategy: 'constant', fillValue: 'unk' }).fitTransform({ c: ['a', null] }).c).toEqual(['a', 'unk']);
    const d = new SimpleImputer({ strategy: 'constant' }).fitTransform({ n: [5, null], c: [null, 'z'] });
    expect(d).toEqual({ n: [5, 0], c: ['missing_value', 'z'] });
  });

  it('only touches the fitted columns and passes others through', () => {
    const s = new SimpleImputer({ columns: ['x'] }).fit({ x: [2, null], y: [null, 'k'] });
    expect(s.transform({ x: [null, 1], y: [null, null] })).toEqual({ x: [2, 1], y: [null, null] });
  });

  it('rejects mean on a string column and an all-missing column', () => {
    expect(() => new SimpleImputer().fit({ c: ['a', null] })).toThrow(ValidationError);
    expect(() => new SimpleImputer({ strategy: 'median' }).fit({ x: [null, null] })).toThrow(/no non-missing values/);
  });

  it('rejects an unknown strategy', () => {
    expect(() => new SimpleImputer({ strategy: 'mode' as never })).toThrow(ValidationError);
  });

  it('fails clearly when unfitted', () => {
    const s = new SimpleImputer();
    expect(() => s.transform({ x: [1] })).toThrow(/not fitted/);
    expect(() => s.toJSON()).toThrow(ValidationError);
  });

  it('errors when a fitted column is missing at transform', () => {
    const s = new SimpleImputer().fit({ x: [1] });
    expect(() => s.transform({ y: [1] })).toThrow(/Missing column 'x'/);
  });

  it('round-trips through JSON', () => {
    const s = new SimpleImputer({ strategy: 'median' }).fit({ x: [1, 2, 9], c: [4, null, 6] });
    const state = s.toJSON();
    expect(state.kind).toBe('SimpleImputer');
    const back = SimpleImputer.fromJSON(roundTrip(state));
    const frame = { x: [null, 5], c: [null, null] };
    expect(back.transform(frame)).toEqual(s.transform(frame));
    expect(back.transform(frame)).toEqual({ x: [2, 5], c: [5, 5] });
  });

  it('fromJSON rejects a state of another kind', () => {
    expect(() => SimpleImputer.fromJSON({ kind: 'StandardScaler', version: 1 })).toThrow(/Expected a SimpleImputer state/);
  });
});
