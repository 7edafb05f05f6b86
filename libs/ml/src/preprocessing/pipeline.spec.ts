import { ValidationError } from '@mlp/contracts';
import { OneHotEncoder, TargetEncoder } from './encoders';
import { IqrClipper } from './outliers';
import { Pipeline, loadTransformer } from './pipeline';
import { StandardScaler } from './scalers';
import { SimpleImputer } from './simple-imputer';
import { expectCloseCells, roundTrip } from './test-helpers';

function build(): Pipeline {
  return new Pipeline([
    { name: 'impute_num', columns: 'numeric', transformer: new SimpleImputer({ strategy: 'median' }) },
    { name: 'clip', columns: ['income'], transformer: new IqrClipper() },
    { name: 'scale', columns: 'numeric', transformer: new StandardScaler() },
    { name: 'impute_cat', columns: 'categorical', transformer: new SimpleImputer({ strategy: 'most_frequent' }) },
    { name: 'onehot', columns: 'categorical', transformer: new OneHotEncoder() },
  ]);
}
const train = { age: [20, null, 40, 30], city: ['x', 'y', null, 'x'], income: [1, 2, 3, 100] };

describe('Pipeline', () => {
  it('fits steps sequentially on resolved column selectors', () => {
    const p = build().fit(train);
    expect(p.featureNames()).toEqual(['age', 'city=x', 'city=y', 'income']);
    const out = p.transform(train);
    // age: median of [20, 40, 30] = 30 → [20, 30, 40, 30]; mean 30, var (100 + 0 + 100 + 0)/4 = 50, std 7.0711
    expectCloseCells(out.age, [-1.4142, 0, 1.4142, 0]);
    // city: most frequent 'x' fills row 2
    expect(out['city=x']).toEqual([1, 0, 1, 1]);
    expect(out['city=y']).toEqual([0, 1, 0, 0]);
    // income: Q1 pos 0.75 → 1.75, Q3 pos 2.25 → 3 + 0.25·97 = 27.25, IQR 25.5, upper 27.25 + 38.25 = 65.5
    // then the scaler fits on the clipped [1, 2, 3, 65.5]: mean 71.5/4 = 17.875 (unclipped it would be 26.5)
    const scaler = p.step('scale').toJSON() as unknown as { params: Record<string, { center: number }> };
    expect(scaler.params.income.center).toBeCloseTo(17.875, 10);
  });

  it('round-trips through JSON with identical transforms', () => {
    const p = build().fit(train);
    const back = Pipeline.fromJSON(roundTrip(p.toJSON()));
    const serving = { age: [null, 99], city: ['q', null], income: [500, null], extra: ['ignored', 'too'] };
    expect(back.transform(serving)).toEqual(p.transform(serving));
    expect(back.featureNames()).toEqual(p.featureNames());
    expect(Object.keys(back.transform(serving))).toEqual(['age', 'city=x', 'city=y', 'income']);
    expect(loadTransformer(roundTrip(p.toJSON()))).toBeInstanceOf(Pipeline);
  });

  it('passes y to supervised steps', () => {
    const p = new Pipeline([{ name: 'te', columns: 'categorical', transformer: new TargetEncoder({ smoothing: 0 }) }]);
    p.fit({ c: ['a', 'b', 'a'], n: [1, 2, 3] }, [1, 0, 0]);
    // a: mean(1, 0) = 0.5
    expect(p.transform({ c: ['a', 'b'], n: [0, 0] })).toEqual({ c: [0.5, 0], n: [0, 0] });
  });

  it('errors when a needed column is missing at transform', () => {
    const p = build().fit(train);
    expect(() => p.transform({ age: [1], city: ['x'] })).toThrow(/Missing column 'income'/);
  });

  it('errors when unfitted, on duplicate names and on unknown kinds', () => {
    expect(() => build().transform(train)).toThrow(/Pipeline is not fitted/);
    expect(() => build().featureNames()).toThrow(ValidationError);
    const s = new StandardScaler();
    expect(
      () =>
        new Pipeline([
          { name: 'a', columns: 'numeric', transformer: s },
          { name: 'a', columns: 'numeric', transformer: s },
        ]),
    ).toThrow(/Duplicate pipeline step name 'a'/);
    expect(() => loadTransformer({ kind: 'Nope', version: 1 })).toThrow(/known kinds: SimpleImputer, StandardScaler/);
  });

  it('rejects an explicit selector naming an absent column', () => {
    const p = new Pipeline([{ name: 's', columns: ['nope'], transformer: new StandardScaler() }]);
    expect(() => p.fit(train)).toThrow(/Missing column 'nope'/);
  });
});
