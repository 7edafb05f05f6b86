import reference from './arm-comparison.scipy.json';
import { bootstrapDifference, compareArms, twoProportionZTest } from './arm-comparison';

const close = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));

describe('arm comparison', () => {
  it.each(reference.cases)('two-proportion z-test $a vs $b matches scipy', (c) => {
    const t = twoProportionZTest({ correct: c.a[0], n: c.a[1] }, { correct: c.b[0], n: c.b[1] });
    close(t.difference, c.difference);
    close(t.z, c.z);
    close(t.pValue, c.pValue);
    close(t.interval[0], c.interval[0]);
    close(t.interval[1], c.interval[1]);
  });

  it('names the better arm with 1 − p as confidence only when p < alpha', () => {
    const arms = [
      { arm: 'production', version: 1, labelled: 500, correct: 400, accuracy: 0.8 },
      { arm: 'canary', version: 2, labelled: 500, correct: 430, accuracy: 0.86 },
    ];
    const r = compareArms(arms);
    expect(r).toMatchObject({ a: 'canary', b: 'production', winner: 'canary' });
    close(r.confidence!, 1 - reference.cases[0].pValue);
    const strict = compareArms(arms, 0.01);
    expect(strict.winner).toBeNull();
    expect(strict.reason).toMatch(/no significant difference at alpha 0.01/);
    expect(compareArms(arms.slice(0, 1)).winner).toBeNull();
  });

  it('bootstrap interval of an accuracy difference covers the difference, and is seeded', () => {
    const a = Array.from({ length: 400 }, (_, i) => (i % 10 < 9 ? 1 : 0)); // 0.9
    const b = Array.from({ length: 400 }, (_, i) => (i % 10 < 7 ? 1 : 0)); // 0.7
    const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const r = bootstrapDifference(a, b, mean, { iterations: 500, seed: 3 });
    close(r.difference, 0.2);
    expect(r.interval[0]).toBeGreaterThan(0.1);
    expect(r.interval[0]).toBeLessThan(0.2);
    expect(r.interval[1]).toBeGreaterThan(0.2);
    expect(bootstrapDifference(a, b, mean, { iterations: 500, seed: 3 })).toEqual(r);
  });
});
