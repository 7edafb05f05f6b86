import { ValidationError } from '@mlp/contracts';
import { SeededRng } from './seeded-rng';

describe('SeededRng', () => {
  it('produces the reference mulberry32 sequence for seed 42', () => {
    const rng = new SeededRng(42);
    expect([rng.next(), rng.next(), rng.next()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('repeats the same sequence for the same seed and differs for another seed', () => {
    const draw = (seed: number) => {
      const rng = new SeededRng(seed);
      return [rng.next(), rng.int(0, 1000), rng.normal(), rng.normal(), ...rng.permutation(10)];
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('keeps next() in [0, 1) and int() in [lo, hi), reaching both ends', () => {
    const rng = new SeededRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const u = rng.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      const k = rng.int(-2, 3);
      expect(Number.isInteger(k)).toBe(true);
      seen.add(k);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
  });

  it('draws normals with mean near 0 and variance near 1', () => {
    const rng = new SeededRng(3);
    const xs = Array.from({ length: 20000 }, () => rng.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const scaled = new SeededRng(3).normal(10, 2);
    expect(scaled).toBeCloseTo(10 + 2 * xs[0], 12);
  });

  it('shuffles in place into a permutation of the input', () => {
    const input = Array.from({ length: 50 }, (_, i) => i * 3);
    const array = [...input];
    const returned = new SeededRng(5).shuffle(array);
    expect(returned).toBe(array);
    expect(array).not.toEqual(input);
    expect([...array].sort((a, b) => a - b)).toEqual(input);
  });

  it('permutation(n) contains each of 0..n-1 exactly once', () => {
    const p = new SeededRng(9).permutation(100);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new SeededRng(9).permutation(0)).toEqual([]);
  });

  it('rejects bad seeds and ranges', () => {
    expect(() => new SeededRng(1.5)).toThrow(ValidationError);
    expect(() => new SeededRng(1).int(3, 3)).toThrow(ValidationError);
    expect(() => new SeededRng(1).permutation(-1)).toThrow(ValidationError);
  });
});
