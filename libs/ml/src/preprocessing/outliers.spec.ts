import { IqrClipper, ZScoreClipper } from './outliers';
import { roundTrip } from './test-helpers';

describe('IqrClipper', () => {
  it('clips to [Q1 − 1.5·IQR, Q3 + 1.5·IQR]', () => {
    // sorted [1, 2, 3, 4, 100]: Q1 pos 1 → 2, Q3 pos 3 → 4, IQR 2 → bounds [2 − 3, 4 + 3] = [−1, 7]
    const c = new IqrClipper().fit({ x: [1, 2, 3, 4, 100, null] });
    expect(c.bounds().x).toEqual({ lower: -1, upper: 7 });
    expect(c.transform({ x: [1, 100, -5, null] }).x).toEqual([1, 7, -1, null]);
  });

  it('honours factor', () => {
    // same data, factor 0 → [2, 4]
    expect(new IqrClipper({ factor: 0 }).fitTransform({ x: [1, 2, 3, 4, 100] }).x).toEqual([2, 2, 3, 4, 4]);
  });

  it('round-trips through JSON', () => {
    const c = new IqrClipper({ factor: 1 }).fit({ x: [1, 2, 3, 4, 100] });
    const back = IqrClipper.fromJSON(roundTrip(c.toJSON()));
    expect(back.transform({ x: [-10, 50] })).toEqual(c.transform({ x: [-10, 50] }));
    expect(back.toJSON().options).toEqual({ factor: 1 });
  });
});

describe('ZScoreClipper', () => {
  it('clips to mean ± t·std (population)', () => {
    // [0, 0, 0, 0, 10]: mean 2; var (4·4 + 8²)/5 = 80/5 = 16; std 4
    // t = 1 → [−2, 6]; default t = 3 → [−10, 14] leaves the data unchanged
    expect(new ZScoreClipper({ threshold: 1 }).fitTransform({ x: [0, 0, 0, 0, 10] }).x).toEqual([0, 0, 0, 0, 6]);
    const d = new ZScoreClipper().fit({ x: [0, 0, 0, 0, 10] });
    expect(d.bounds().x).toEqual({ lower: -10, upper: 14 });
    expect(d.transform({ x: [10, -20, null] }).x).toEqual([10, -10, null]);
  });

  it('round-trips through JSON', () => {
    const c = new ZScoreClipper({ threshold: 1 }).fit({ x: [0, 0, 0, 0, 10] });
    expect(ZScoreClipper.fromJSON(roundTrip(c.toJSON())).transform({ x: [100] }).x).toEqual([6]);
  });

  it('rejects a negative threshold', () => {
    expect(() => new ZScoreClipper({ threshold: -1 })).toThrow(/Invalid ZScoreClipper options/);
  });
});
