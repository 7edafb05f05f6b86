import type { CanaryPolicy, PolicyDecision } from '@mlp/contracts';

/** What the policy reads of the candidate arm. */
export interface CandidateHealth {
  requests: number;
  errors: number;
  p99Ms: number | null;
  /** Model metrics of the candidate version from monitoring (PerformanceEvaluated), when there are any. */
  metrics?: Record<string, number>;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
const holds = { '>': (a: number, b: number) => a > b, '>=': (a: number, b: number) => a >= b, '<': (a: number, b: number) => a < b, '<=': (a: number, b: number) => a <= b } as const;

/**
 * Promote when every check passes, else roll back: the error rate and the
 * p99 latency of the candidate's requests, and each model-metric bound that
 * monitoring has a value for (a bound without a value yet is not checked;
 * the decision lists the metrics it saw).
 */
export function evaluatePolicy(policy: CanaryPolicy, health: CandidateHealth): PolicyDecision {
  const errorRate = health.requests === 0 ? 0 : health.errors / health.requests;
  const reasons: string[] = [];
  if (errorRate > policy.maxErrorRate) reasons.push(`error rate ${round(errorRate)} > ${policy.maxErrorRate}`);
  if (health.p99Ms !== null && health.p99Ms > policy.maxP99Ms) reasons.push(`p99 ${round(health.p99Ms, 3)} ms > ${policy.maxP99Ms} ms`);
  const metrics = health.metrics ?? {};
  for (const bound of policy.metrics) {
    const value = metrics[bound.metric];
    if (value === undefined) continue;
    if (!holds[bound.op](value, bound.value)) reasons.push(`${bound.metric} ${round(value)} is not ${bound.op} ${bound.value}`);
  }
  return {
    outcome: reasons.length === 0 ? 'promote' : 'rollback',
    requests: health.requests,
    errors: health.errors,
    errorRate: round(errorRate, 6),
    p99Ms: health.p99Ms === null ? null : round(health.p99Ms, 3),
    metrics: Object.fromEntries(policy.metrics.filter((b) => metrics[b.metric] !== undefined).map((b) => [b.metric, metrics[b.metric]])),
    reasons,
  };
}
