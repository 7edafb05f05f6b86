import { ValidationError } from '@mlp/contracts';
import { MinMaxScaler, RobustScaler, StandardScaler } from './scalers';
import { expectCloseCells, roundTrip } from './test-helpers';

describe('StandardScaler', () => {
  it('uses the population std', () => {
    // mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; var 5/4 = 1.25; std √1.25 = 1.118034
    // (1 − 2.5)/1.118034 = −1.3416, (2 − 2.5)/1.118034 = −0.4472
    const s = new StandardScaler().fit({ x: [1, 2, 3, 4] });
    expect(s.params().x.center).toBe(2.5);
    expect(s.params().x.scale).toBeCloseTo(Math.sqrt(1.25), 10);
    expectCloseCells(s.transform({ x: [1, 2, 3, 4] }).x, [-1.3416, -0.4472, 0.4472, 1.3416]);
  });

  it('ignores missing values when fitting and passes them through', () => {
    // [1, 3]: mean 2, var (1 + 1)/2 = 1 → std 1
    expect(new StandardScaler().fitTransform({ x: [1, null, 3] }).x).toEqual([-1, null, 1]);
  });

  it('std 0 → scale 1', () => {
    // constant 5: center 5, scale 1 → 7 maps to 2
    expect(new StandardScaler().fit({ x: [5, 5] }).transform({ x: [5, 7] }).x).toEqual([0, 2]);
  });

  it('rejects non-numeric values at fit and at transform', () => {
    expect(() => new StandardScaler().fit({ x: [1, 'a'] })).toThrow(ValidationError);
    const s = new StandardScaler().fit({ x: [1, 2] });
    expect(() => s.transform({ x: ['a'] })).toThrow(/must be numeric/);
  });

  it('round-trips through JSON', () => {
    const s = new StandardScaler().fit({ x: [1, 2, 3, 4], y: [10, 0, 5, null] });
    const back = StandardScaler.fromJSON(roundTrip(s.toJSON()));
    const frame = { x: [0, 9, null], y: [1, 2, 3] };
    expect(back.transform(frame)).toEqual(s.transform(frame));
  });

  it('fromJSON rejects a zero scale', () => {
    const state = { kind: 'StandardScaler', version: 1, options: {}, columns: ['x'], params: { x: { center: 0, scale: 0 } } };
    expect(() => StandardScaler.fromJSON(state)).toThrow(ValidationError);
  });
});

describe('MinMaxScaler', () => {
  it('maps [min, max] to [0, 1]', () => {
    // min 2, range 10 − 2 = 8: 4 → 2/8 = 0.25; unseen 18 → 2 (no clipping, like sklearn)
    const s = new MinMaxScaler().fit({ x: [2, 4, 10, null] });
    expect(s.transform({ x: [2, 4, 10, null, 18] }).x).toEqual([0, 0.25, 1, null, 2]);
  });

  it('constant column → 0', () => {
    expect(new MinMaxScaler().fitTransform({ x: [3, 3, 3] }).x).toEqual([0, 0, 0]);
  });

  it('round-trips through JSON', () => {
    const s = new MinMaxScaler().fit({ x: [2, 4, 10] });
    expect(MinMaxScaler.fromJSON(roundTrip(s.toJSON())).transform({ x: [6] }).x).toEqual([0.5]);
  });
});

describe('RobustScaler', () => {
  it('median and IQR with numpy-linear quantiles', () => {
    // sorted [1, 2, 3, 4], n − 1 = 3
    // Q1: pos 0.75 → 1 + 0.75·1 = 1.75; median: pos 1.5 → 2.5; Q3: pos 2.25 → 3 + 0.25·1 = 3.25
    // IQR 3.25 − 1.75 = 1.5: 1 → −1.5/1.5 = −1, 2 → −0.5/1.5 = −0.3333, 4 → 1
    const s = new RobustScaler().fit({ x: [4, 1, null, 3, 2] });
    expect(s.params().x).toEqual({ center: 2.5, scale: 1.5 });
    expectCloseCells(s.transform({ x: [1, 2, 4, null] }).x, [-1, -0.3333, 1, null]);
  });

  it('is robust to an outlier', () => {
    // sorted [1, 2, 3, 4, 10]: Q1 pos 1 → 2, median pos 2 → 3, Q3 pos 3 → 4, IQR 2
    expect(new RobustScaler().fitTransform({ x: [1, 2, 3, 4, 10] }).x).toEqual([-1, -0.5, 0, 0.5, 3.5]);
  });

  it('IQR 0 → scale 1', () => {
    expect(new RobustScaler().fit({ x: [7, 7, 7] }).transform({ x: [9] }).x).toEqual([2]);
  });

  it('fails clearly when unfitted', () => {
    expect(() => new RobustScaler().transform({ x: [1] })).toThrow(/RobustScaler is not fitted/);
  });
});
