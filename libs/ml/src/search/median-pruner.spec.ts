import { ValidationError } from '@mlp/contracts';
import { MedianPruner, medianShouldPrune } from './median-pruner';

// Five completed trials; their values at step 2 are 1..5, so the median at step 2 is 3.
const completed = [
  [9, 5, 1],
  [9, 6, 2],
  [9, 7, 3, 0],
  [9, 8, 4],
  [9, 9, 5],
];

describe('MedianPruner (Optuna semantics)', () => {
  it("prunes when the trial's best value so far is worse than the median at the current step (minimize)", () => {
    // Best so far min(4, 3.5, 3.2) = 3.2 > 3 → prune.
    expect(medianShouldPrune([4, 3.5, 3.2], completed)).toBe(true);
    // Latest 3.6 is worse than 3, but the best so far 2.5 is better → keep (best-so-far rule, not latest value).
    expect(medianShouldPrune([2.5, 3.5, 3.6], completed)).toBe(false);
    // Equal to the median is not worse → keep.
    expect(medianShouldPrune([4, 3], completed.map((c) => [c[0], c[2]]))).toBe(false);
  });

  it('flips the comparison for maximize', () => {
    // Best so far max(1, 2.9) = 2.9 < 3 → prune; max(3.1, 0) = 3.1 > 3 → keep.
    expect(medianShouldPrune([1, 2, 2.9], completed, { direction: 'maximize' })).toBe(true);
    expect(medianShouldPrune([3.1, 0, 0], completed, { direction: 'maximize' })).toBe(false);
  });

  it('averages the two middle values for an even count, and leaves out trials that did not reach the step', () => {
    // Step 3 was reported by one completed trial only (value 0): median 0.
    expect(medianShouldPrune([5, 5, 5, 0.5], completed)).toBe(true);
    expect(medianShouldPrune([5, 5, 5, 0.5], completed, { nMinTrials: 2 })).toBe(false);
    // Four trials at step 2 (1, 2, 3, 4): median (2 + 3) / 2 = 2.5.
    const four = completed.slice(0, 4);
    expect(medianShouldPrune([9, 9, 2.6], four, { nStartupTrials: 4 })).toBe(true);
    expect(medianShouldPrune([9, 9, 2.5], four, { nStartupTrials: 4 })).toBe(false);
  });

  it('waits for nStartupTrials completed trials (default 5)', () => {
    expect(medianShouldPrune([9, 9, 9], completed.slice(0, 4))).toBe(false);
    expect(medianShouldPrune([9, 9, 9], completed.slice(0, 4), { nStartupTrials: 4 })).toBe(true);
    expect(medianShouldPrune([9, 9, 9], [], { nStartupTrials: 0 })).toBe(false);
  });

  it('checks only from nWarmupSteps on, every intervalSteps', () => {
    const worse = [99, 99, 99, 99];
    const others = Array.from({ length: 5 }, () => [1, 1, 1, 1, 1, 1]);
    expect(medianShouldPrune(worse.slice(0, 3), others, { nWarmupSteps: 3 })).toBe(false); // step 2 < 3
    expect(medianShouldPrune(worse, others, { nWarmupSteps: 3 })).toBe(true); // step 3
    // Warmup 1, interval 2: checked at steps 1, 3, 5.
    const at = (step: number) => medianShouldPrune(new Array(step + 1).fill(99), others, { nWarmupSteps: 1, intervalSteps: 2 });
    expect([0, 1, 2, 3, 4, 5].map(at)).toEqual([false, true, false, true, false, true]);
    expect(medianShouldPrune([], others)).toBe(false);
  });

  it('ignores NaN values; a trial with only NaN is pruned, one against only NaN medians is not', () => {
    expect(medianShouldPrune([NaN, NaN, NaN], completed)).toBe(true);
    expect(medianShouldPrune([2, NaN, NaN], completed)).toBe(false); // best 2 < 3
    const nanAtStep2 = completed.map((c) => [c[0], c[1], NaN]);
    expect(medianShouldPrune([99, 99, 99], nanAtStep2)).toBe(false);
    // NaN among others is dropped: step 2 values 1, 2, 3 → median 2.
    const mixed = completed.map((c, i) => (i >= 3 ? [c[0], c[1], NaN] : c));
    expect(medianShouldPrune([9, 9, 2.5], mixed)).toBe(true);
  });

  it('validates its options, and the class gives the same answers', () => {
    expect(() => new MedianPruner({ intervalSteps: 0 })).toThrow(ValidationError);
    expect(() => new MedianPruner({ direction: 'down' as never })).toThrow(ValidationError);
    const pruner = new MedianPruner({ direction: 'maximize', nStartupTrials: 2 });
    expect(pruner.options).toEqual({ direction: 'maximize', nStartupTrials: 2, nWarmupSteps: 0, intervalSteps: 1, nMinTrials: 1 });
    expect(pruner.shouldPrune([0.1], [[0.5], [0.7]])).toBe(true); // 0.1 < median 0.6
    expect(pruner.shouldPrune([0.65], [[0.5], [0.7]])).toBe(false);
  });
});
