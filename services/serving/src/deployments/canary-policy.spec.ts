import { canaryPolicy } from '@mlp/contracts';
import { ArmStats, fnv1a, LiveRollout, stickyBucket } from './deployment-router';
import { evaluatePolicy } from './canary-policy';
import type { Rollout } from './deployment';

describe('canary policy', () => {
  const policy = canaryPolicy.parse({ minRequests: 100, maxErrorRate: 0.05, maxP99Ms: 200, metrics: [{ metric: 'accuracy', op: '>=', value: 0.8 }] });

  it('promotes when the error rate, p99 and every supplied metric pass', () => {
    expect(evaluatePolicy(policy, { requests: 200, errors: 10, p99Ms: 199.5, metrics: { accuracy: 0.8, auc: 0.5 } })).toEqual({
      outcome: 'promote',
      requests: 200,
      errors: 10,
      errorRate: 0.05,
      p99Ms: 199.5,
      metrics: { accuracy: 0.8 },
      reasons: [],
    });
    // No metrics from monitoring yet: the bound is not checked.
    expect(evaluatePolicy(policy, { requests: 100, errors: 0, p99Ms: 3 })).toMatchObject({ outcome: 'promote', metrics: {} });
  });

  it('rolls back naming every failed check', () => {
    expect(evaluatePolicy(policy, { requests: 100, errors: 31, p99Ms: 250, metrics: { accuracy: 0.7 } })).toEqual({
      outcome: 'rollback',
      requests: 100,
      errors: 31,
      errorRate: 0.31,
      p99Ms: 250,
      metrics: { accuracy: 0.7 },
      reasons: ['error rate 0.31 > 0.05', 'p99 250 ms > 200 ms', 'accuracy 0.7 is not >= 0.8'],
    });
  });
});

describe('router arithmetic', () => {
  it('hashes keys with FNV-1a (reference values) into a bucket salted by the rollout', () => {
    // FNV-1a 32-bit test vectors.
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
    expect(stickyBucket('d1', 'user-7')).toBe(fnv1a('d1:user-7') % 100);
  });

  it('p99 over the recent latencies', () => {
    const s = new ArmStats();
    expect(s.p99()).toBeNull();
    for (let i = 1; i <= 1000; i++) s.add(i % 10 !== 0, i);
    expect(s.p99()).toBe(990);
    expect({ requests: s.requests, errors: s.errors }).toEqual({ requests: 1000, errors: 100 });
  });

  it('spreads unkeyed requests and mirrors by weight without randomness', () => {
    const rollout: Rollout = {
      deploymentId: 'd1', strategy: 'canary', alias: 'production', stableVersion: 1, candidateVersion: 2,
      weights: { stable: 90, candidate: 10 }, mirrorPercent: 10, sticky: null, policy: null, schedule: null,
    };
    const live = new LiveRollout('churn', rollout, 0);
    let candidate = 0;
    let mirrored = 0;
    for (let i = 0; i < 1000; i++) {
      if (live.pick(undefined) === 'candidate') candidate++;
      if (live.mirror()) mirrored++;
    }
    expect(Math.abs(candidate - 100)).toBeLessThanOrEqual(2);
    expect(Math.abs(mirrored - 100)).toBeLessThanOrEqual(2);
    // A key always lands in the same arm.
    const arms = new Set(Array.from({ length: 20 }, () => live.pick('user-7')));
    expect(arms.size).toBe(1);
  });
});
