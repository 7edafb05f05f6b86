import { equalFrequencyBins, mutualInformation, pearsonCorrelation, populationVariance } from './scores';

describe('populationVariance', () => {
  it('divides by n (ddof 0)', () => {
    // [0, 4, 1]: mean 5/3; squared deviations 25/9 + 49/9 + 4/9 = 78/9; / 3 = 26/9
    expect(populationVariance([0, 4, 1])).toBeCloseTo(26 / 9, 12);
  });

  it('is exactly 0 for a constant column, even when the float mean is inexact', () => {
    // mean of three 0.1 is 0.10000000000000002, which would leave a tiny positive variance
    expect(populationVariance([0.1, 0.1, 0.1])).toBe(0);
    expect(populationVariance([])).toBe(0);
  });
});

describe('pearsonCorrelation', () => {
  it('matches a hand-worked r', () => {
    // x [1,2,3], y [1,3,2]: dx [−1,0,1], dy [−1,1,0]; Σdxdy = 1, Σdx² = 2, Σdy² = 2 → r = 1/2
    expect(pearsonCorrelation([1, 2, 3], [1, 3, 2])).toBeCloseTo(0.5, 12);
    expect(pearsonCorrelation([3, 2, 1], [1, 3, 2])).toBeCloseTo(-0.5, 12);
    // w [1,2,4]: dw [−4/3,−1/3,5/3]; Σdwdy = 4/3 − 1/3 = 1; Σdw² = 42/9 → r = 1/√(84/9) = 3/√84
    expect(pearsonCorrelation([1, 2, 4], [1, 3, 2])).toBeCloseTo(3 / Math.sqrt(84), 12);
  });

  it('is 0 for a constant side or fewer than two pairs', () => {
    expect(pearsonCorrelation([5, 5, 5], [1, 3, 2])).toBe(0);
    expect(pearsonCorrelation([1, 2, 3], [7, 7, 7])).toBe(0);
    expect(pearsonCorrelation([1], [2])).toBe(0);
  });
});

describe('equalFrequencyBins', () => {
  it('cuts at numpy-linear quantiles', () => {
    // 1..8, 4 bins: quantiles 0.25/0.5/0.75 at positions 1.75/3.5/5.25 → edges 2.75, 4.5, 6.25
    expect(equalFrequencyBins([1, 2, 3, 4, 5, 6, 7, 8], 4)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    // 1..4, 2 bins: edge at position 1.5 → 2.5
    expect(equalFrequencyBins([4, 1, 3, 2], 2)).toEqual([1, 0, 1, 0]);
  });

  it('gives each value its own bin when there are at most `bins` distinct values, and missing bin −1', () => {
    expect(equalFrequencyBins([0, 0, 0, 1, null], 2)).toEqual([0, 0, 0, 1, -1]);
  });

  it('puts a value on an edge in the upper bin and merges edges at the minimum', () => {
    // 1..5, 2 bins: edge at position 2 → 3, which goes up
    expect(equalFrequencyBins([1, 2, 3, 4, 5], 2)).toEqual([0, 0, 1, 1, 1]);
    // [0,0,0,0,1,2], 2 bins (3 distinct > 2): edge at position 2.5 → 0 = min, dropped → one bin (as sklearn)
    expect(equalFrequencyBins([0, 0, 0, 0, 1, 2], 2)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('mutualInformation', () => {
  it('is ln 2 for a perfectly dependent balanced binary pair and 0 for an independent one', () => {
    expect(mutualInformation([0, 0, 1, 1], [0, 0, 1, 1])).toBeCloseTo(Math.LN2, 12);
    // joint counts all 1 = (2·2)/4: p(x,y) = p(x)p(y) everywhere
    expect(mutualInformation([0, 1, 0, 1], [0, 0, 1, 1])).toBe(0);
  });

  it('matches a hand-worked 2×2 table', () => {
    // x [0,0,1,1], y [0,1,1,1]: n(0,0)=1, n(0,1)=1, n(1,1)=2; n_x = 2, 2; n_y = 1, 3
    // MI = ¼ ln(4·1/(2·1)) + ¼ ln(4·1/(2·3)) + ½ ln(4·2/(2·3)) = ¼ ln 2 + ¼ ln(2/3) + ½ ln(4/3)
    const expected = 0.25 * Math.log(2) + 0.25 * Math.log(2 / 3) + 0.5 * Math.log(4 / 3);
    expect(mutualInformation([0, 0, 1, 1], [0, 1, 1, 1])).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.215762, 6);
  });
});
