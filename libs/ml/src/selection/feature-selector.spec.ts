import { ValidationError } from '@mlp/contracts';
import { Pipeline, loadTransformer } from '../preprocessing/pipeline';
import { roundTrip } from '../preprocessing/test-helpers';
import { FeatureSelector } from './feature-selector';

// sklearn VarianceThreshold doc example: X = [[0,2,0,3],[0,1,4,3],[0,1,1,3]] → [[2,0],[1,4],[1,1]]
const sklearnX = { a: [0, 0, 0], b: [2, 1, 1], c: [0, 4, 1], d: [3, 3, 3] };

describe('FeatureSelector variance', () => {
  it('reproduces the sklearn VarianceThreshold example', () => {
    // variances: a 0; b [2,1,1] mean 4/3 → (4/9 + 1/9 + 1/9)/3 = 2/9; c 26/9; d 0
    const s = new FeatureSelector({ method: 'variance' }).fit(sklearnX);
    expect(s.selected()).toEqual(['b', 'c']);
    expect(s.scores().b).toBeCloseTo(2 / 9, 12);
    expect(s.scores().c).toBeCloseTo(26 / 9, 12);
    expect(s.transform(sklearnX)).toEqual({ b: [2, 1, 1], c: [0, 4, 1] });
  });

  it('honours threshold (strictly greater) and ignores y', () => {
    expect(new FeatureSelector({ method: 'variance', threshold: 2 / 9 }).fit(sklearnX).selected()).toEqual(['c']);
  });

  it('scores present values only; an all-missing column scores 0', () => {
    const s = new FeatureSelector({ method: 'variance' }).fit({ x: [1, null, 3], gone: [null, null, null] });
    expect(s.scores()).toEqual({ x: 1, gone: 0 });
    expect(s.selected()).toEqual(['x']);
  });
});

describe('FeatureSelector correlation', () => {
  // y [1,3,2]: r(x)=1/2, r(z)=−1/2, r(w)=3/√84≈0.327, r(c)=0 (see scores.spec.ts)
  const frame = { z: [3, 2, 1], w: [1, 2, 4], x: [1, 2, 3], c: [5, 5, 5] };
  const y = [1, 3, 2];

  it('keeps the k largest |r|, ties broken by column order', () => {
    const s = new FeatureSelector({ method: 'correlation', k: 1 }).fit(frame, y);
    expect(s.scores().z).toBeCloseTo(0.5, 12);
    expect(s.scores().c).toBe(0);
    expect(s.selected()).toEqual(['z']);
    expect(new FeatureSelector({ method: 'correlation', k: 3 }).fit(frame, y).selected()).toEqual(['z', 'w', 'x']);
  });

  it('keeps every column when k exceeds their number', () => {
    expect(new FeatureSelector({ method: 'correlation', k: 10 }).fit(frame, y).selected()).toEqual(['z', 'w', 'x', 'c']);
  });

  it('uses the rows where the feature is present', () => {
    const s = new FeatureSelector({ method: 'correlation', k: 1 }).fit({ x: [1, 2, 3, null] }, [1, 3, 2, 100]);
    expect(s.scores().x).toBeCloseTo(0.5, 12);
  });

  it('needs a y of the right length', () => {
    expect(() => new FeatureSelector({ method: 'correlation', k: 1 }).fit(frame)).toThrow(ValidationError);
    expect(() => new FeatureSelector({ method: 'correlation', k: 1 }).fit(frame, [1, 2])).toThrow(/y has 2 values/);
  });
});

describe('FeatureSelector mutual_info', () => {
  it('scores a dependent binary feature ln 2 and an independent one 0 (classification)', () => {
    const s = new FeatureSelector({ method: 'mutual_info', k: 1, task: 'classification' }).fit(
      { indep: [0, 1, 0, 1], dep: [0, 0, 1, 1] },
      [0, 0, 1, 1],
    );
    expect(s.scores().dep).toBeCloseTo(Math.LN2, 12);
    expect(s.scores().indep).toBe(0);
    expect(s.selected()).toEqual(['dep']);
  });

  it('treats missing values as their own bin', () => {
    // codes [missing, missing, 1, 1] against y [0,0,1,1]: still a perfect 2×2 dependence → ln 2
    const s = new FeatureSelector({ method: 'mutual_info', k: 1, task: 'classification' }).fit({ x: [null, null, 7, 7] }, [0, 0, 1, 1]);
    expect(s.scores().x).toBeCloseTo(Math.LN2, 12);
  });

  it('bins a regression target into equal-frequency bins', () => {
    // bins 2: x [10,20,30,40] → [0,0,1,1]; y [1,2,3,4] → [0,0,1,1]: MI = ln 2.
    // x2 [10,40,20,30] → [0,1,0,1] against [0,0,1,1]: independent → 0
    const s = new FeatureSelector({ method: 'mutual_info', k: 1, task: 'regression', bins: 2 }).fit(
      { x2: [10, 40, 20, 30], x: [10, 20, 30, 40] },
      [1, 2, 3, 4],
    );
    expect(s.scores()).toEqual({ x2: 0, x: expect.closeTo(Math.LN2, 12) });
    expect(s.selected()).toEqual(['x']);
  });
});

describe('FeatureSelector transform and state', () => {
  it('drops unselected scored columns and passes the others through in input order', () => {
    const s = new FeatureSelector({ method: 'variance', columns: ['a', 'b'] }).fit({ a: [1, 1], b: [1, 2], name: ['p', 'q'] });
    expect(s.transform({ name: ['r'], a: [1], b: [5] })).toEqual({ name: ['r'], b: [5] });
  });

  it('rejects non-numeric columns and bad options', () => {
    expect(() => new FeatureSelector({ method: 'variance' }).fit({ s: ['a', 'b'] })).toThrow(/must be numeric/);
    expect(() => new FeatureSelector({ method: 'correlation', k: 0 })).toThrow(/Invalid FeatureSelector options/);
    expect(() => new FeatureSelector({ method: 'mutual_info', k: 1 } as never)).toThrow(ValidationError);
    expect(() => new FeatureSelector({ method: 'variance' }).transform({ a: [1] })).toThrow(/not fitted/);
  });

  it('round-trips through JSON and loads by kind inside a pipeline', () => {
    const s = new FeatureSelector({ method: 'correlation', k: 2 }).fit({ z: [3, 2, 1], w: [1, 2, 4], x: [1, 2, 3] }, [1, 3, 2]);
    const back = FeatureSelector.fromJSON(roundTrip(s.toJSON()));
    expect(back.selected()).toEqual(['z', 'x']);
    expect(back.scores()).toEqual(s.scores());
    const frame = { z: [0], w: [0], x: [0] };
    expect(back.transform(frame)).toEqual({ z: [0], x: [0] });

    const p = new Pipeline([{ name: 'select', columns: 'numeric', transformer: new FeatureSelector({ method: 'variance' }) }]);
    p.fit({ a: [0, 0, 0], b: [2, 1, 1], tag: ['u', 'v', 'w'] });
    const loaded = loadTransformer(roundTrip(p.toJSON()));
    expect(loaded.transform({ a: [9], b: [8], tag: ['x'] })).toEqual({ b: [8], tag: ['x'] });
  });

  it('rejects a state of another kind', () => {
    expect(() => FeatureSelector.fromJSON({ kind: 'StandardScaler' })).toThrow(/Expected a FeatureSelector state/);
  });
});
