import { SeededRng } from '../random/seeded-rng';
import { erfc, logSumExp, normalCdf, normalMass, truncatedNormal } from './normal';

describe('normal distribution helpers', () => {
  it('erfc matches reference values (Python math.erfc) to its 1.2e-7 relative accuracy, tails included', () => {
    const reference: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [3, 2.209049699858544e-5],
      [5, 1.5374597944280349e-12],
      [-1, 1.8427007929497148],
    ];
    for (const [x, expected] of reference) expect(Math.abs(erfc(x) / expected - 1)).toBeLessThan(1.2e-7);
  });

  it('normalCdf and normalMass give the textbook normal probabilities', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 7);
    expect(normalMass(0, 1, -1, 1)).toBeCloseTo(0.6826894921370859, 7); // the 68% rule
    expect(normalMass(10, 2, 8, 12)).toBeCloseTo(0.6826894921370859, 7); // same interval in sd units
    // Far tail: Q(5) − Q(6) = 2.866515718791939e-7 − 9.865876450376946e-10, kept to relative precision.
    expect(Math.abs(normalMass(0, 1, 5, 6) / (2.866515718791939e-7 - 9.865876450376946e-10) - 1)).toBeLessThan(1e-6);
    expect(Math.abs(normalMass(0, 1, -6, -5) / (2.866515718791939e-7 - 9.865876450376946e-10) - 1)).toBeLessThan(1e-6);
  });

  it('logSumExp is stable for large and very negative terms', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logSumExp([-1000, -1000 + Math.log(3)])).toBeCloseTo(-1000 + Math.log(4), 12);
    expect(logSumExp([Number.NEGATIVE_INFINITY, 0])).toBe(0);
  });

  it('truncatedNormal stays inside the bounds, with the truncated mean', () => {
    const rng = new SeededRng(2);
    const xs = Array.from({ length: 20000 }, () => truncatedNormal(rng, 0, 1, 0, 10));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    // Half-normal: mean √(2/π) ≈ 0.7979, sd ≈ 0.6028, so the standard error of 20000 draws is ≈ 0.0043.
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(Math.sqrt(2 / Math.PI), 1);
  });
});
