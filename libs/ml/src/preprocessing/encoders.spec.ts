import { ValidationError } from '@mlp/contracts';
import { OneHotEncoder, OrdinalEncoder, TargetEncoder } from './encoders';
import { asCells, expectCloseCells, roundTrip } from './test-helpers';

describe('OneHotEncoder', () => {
  const frame = { a: [1, 2, 3, 4], color: ['red', 'blue', null, 'red'], z: [true, false, true, true] };

  it('expands sorted categories in place as <col>=<value>', () => {
    const e = new OneHotEncoder({ columns: ['color'] }).fit(frame);
    const out = e.transform(frame);
    expect(Object.keys(out)).toEqual(['a', 'color=blue', 'color=red', 'z']);
    expect(out['color=blue']).toEqual([0, 1, 0, 0]);
    expect(out['color=red']).toEqual([1, 0, 0, 1]); // missing row 2 → all zeros
  });

  it('unknown category → all zeros by default, error with handleUnknown error', () => {
    const e = new OneHotEncoder().fit({ color: ['red', 'blue'] });
    expect(e.transform({ color: ['green'] })).toEqual({ 'color=blue': [0], 'color=red': [0] });
    const strict = new OneHotEncoder({ handleUnknown: 'error' }).fit({ color: ['red', 'blue'] });
    expect(() => strict.transform({ color: ['green'] })).toThrow(/unknown category "green" in column 'color'/);
  });

  it('refuses to expand a column above maxCategories, naming it', () => {
    expect(() => new OneHotEncoder({ maxCategories: 2 }).fit({ city: ['x', 'y', 'z'] })).toThrow(/'city' has 3 categories/);
    const many = { id: Array.from({ length: 51 }, (_, i) => `u${i}`) };
    expect(() => new OneHotEncoder().fit(many)).toThrow(ValidationError);
    expect(() => new OneHotEncoder({ maxCategories: 51 }).fit(many)).not.toThrow();
  });

  it('round-trips through JSON', () => {
    const e = new OneHotEncoder({ columns: ['color', 'z'] }).fit(frame);
    const back = OneHotEncoder.fromJSON(roundTrip(e.toJSON()));
    expect(back.transform(frame)).toEqual(e.transform(frame));
    expect(back.categories()).toEqual({ color: ['blue', 'red'], z: [false, true] });
  });
});

describe('OrdinalEncoder', () => {
  it('sorted categories → 0..n−1, unknown → −1, missing stays null', () => {
    const e = new OrdinalEncoder().fit({ c: ['b', 'a', 'c', null] });
    expect(e.transform({ c: ['a', 'b', 'c', 'zz', null] }).c).toEqual([0, 1, 2, -1, null]);
  });

  it('unknown → error with handleUnknown error', () => {
    const e = new OrdinalEncoder({ handleUnknown: 'error' }).fit({ c: ['a'] });
    expect(() => e.transform({ c: ['b'] })).toThrow(ValidationError);
  });

  it('round-trips through JSON', () => {
    const e = new OrdinalEncoder().fit({ c: ['b', 'a'] });
    expect(OrdinalEncoder.fromJSON(roundTrip(e.toJSON())).transform({ c: ['b', 'q'] }).c).toEqual([1, -1]);
  });
});

describe('TargetEncoder', () => {
  const x = { c: ['a', 'a', 'a', 'b'] };
  const y = [1, 1, 0, 0];

  it('smoothed mean (count·mean + m·prior)/(count + m)', () => {
    // prior = 2/4 = 0.5; m = 2
    // a: count 3, mean 2/3 → (2 + 2·0.5)/(3 + 2) = 3/5 = 0.6
    // b: count 1, mean 0   → (0 + 2·0.5)/(1 + 2) = 1/3
    const e = new TargetEncoder({ smoothing: 2 }).fit(x, y);
    expectCloseCells(e.transform({ c: ['a', 'b', 'zz', null] }).c, [0.6, 0.3333, 0.5, 0.5]);
  });

  it('default smoothing is 10', () => {
    // a: (2 + 10·0.5)/(3 + 10) = 7/13
    expect(asCells(new TargetEncoder().fit(x, y).transform({ c: ['a'] })).c[0]).toBeCloseTo(7 / 13, 10);
  });

  it('regression targets and booleans', () => {
    // m = 0 → plain means: a = (10 + 20)/2 = 15
    expect(new TargetEncoder({ smoothing: 0 }).fit({ c: ['a', 'a', 'b'] }, [10, 20, 0]).transform({ c: ['a'] }).c).toEqual([15]);
    expect(new TargetEncoder({ smoothing: 0 }).fit({ c: ['a', 'b'] }, [true, false]).transform({ c: ['a', 'b'] }).c).toEqual([1, 0]);
  });

  it('requires a target of the right length', () => {
    expect(() => new TargetEncoder().fit(x)).toThrow(/needs a target/);
    expect(() => new TargetEncoder().fit(x, [1])).toThrow(ValidationError);
  });

  describe('fitTransformOutOfFold', () => {
    const xf = { c: ['a', 'a', 'b', 'b'] };
    const yf = [1, 0, 1, 0];
    const folds = [[0, 2], [1, 3]];

    it('encodes each fold from the other folds only', () => {
      // m = 0. Fold 0 (rows 0, 2) learns from rows 1, 3: a → y1 = 0, b → y3 = 0.
      // Fold 1 (rows 1, 3) learns from rows 0, 2: a → y0 = 1, b → y2 = 1.
      // In-fold (leaky) fitting would give a = b = 0.5 for every row.
      const e = new TargetEncoder({ smoothing: 0 });
      const out = e.fitTransformOutOfFold(xf, yf, folds);
      expect(out.c).toEqual([0, 1, 0, 1]);
      expect(e.transform(xf).c).toEqual([0.5, 0.5, 0.5, 0.5]); // full fit kept for serving
    });

    it("a row's encoding does not depend on its own label", () => {
      // flip y0: the full-fit encoding of row 0 moves, the out-of-fold one must not
      const flipped = [0, 0, 1, 0];
      const e = new TargetEncoder({ smoothing: 2 });
      const before = asCells(e.fitTransformOutOfFold(xf, yf, folds)).c[0];
      const leakyBefore = asCells(e.transform(xf)).c[0];
      const after = asCells(e.fitTransformOutOfFold(xf, flipped, folds)).c[0];
      const leakyAfter = asCells(e.transform(xf)).c[0];
      expect(leakyAfter).not.toBeCloseTo(leakyBefore as number, 6);
      expect(after).toBe(before);
    });

    it('smoothing uses the prior of the other folds; unseen category → that prior', () => {
      // rows: c = [a, b, a, c], y = [1, 0, 0, 1], folds [[0, 1], [2, 3]], m = 1
      // fold 1 (rows 2, 3) from rows 0, 1: prior 0.5; a: (1 + 0.5)/(1 + 1) = 0.75; c unseen → 0.5
      const out = new TargetEncoder({ smoothing: 1 }).fitTransformOutOfFold({ c: ['a', 'b', 'a', 'c'] }, [1, 0, 0, 1], [[0, 1], [2, 3]]);
      // fold 0 (rows 0, 1) from rows 2, 3: prior 0.5; a: (0 + 0.5)/2 = 0.25; b unseen → 0.5
      expect(out.c).toEqual([0.25, 0.5, 0.75, 0.5]);
    });

    it('rejects bad folds', () => {
      const e = new TargetEncoder();
      expect(() => e.fitTransformOutOfFold(xf, yf, [[0, 1], [1, 2, 3]])).toThrow(/Row 1 is in folds 0 and 1/);
      expect(() => e.fitTransformOutOfFold(xf, yf, [[0, 1], [2]])).toThrow(/Row 3 is in no fold/);
      expect(() => e.fitTransformOutOfFold(xf, yf, [[0, 1, 2, 3]])).toThrow(/holds every row/);
      expect(() => e.fitTransformOutOfFold(xf, yf, [[0, 9]])).toThrow(/outside/);
    });
  });

  it('round-trips through JSON', () => {
    const e = new TargetEncoder({ smoothing: 2 }).fit(x, y);
    const back = TargetEncoder.fromJSON(roundTrip(e.toJSON()));
    const f = { c: ['a', 'b', 'new'] };
    expect(back.transform(f)).toEqual(e.transform(f));
  });
});
