import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { name } from './common';

const version = z.number().int().positive();
const percent = z.number().int().min(0).max(100);

/** How a rollout moves traffic from the stable version to the candidate. */
export const deploymentStrategy = z.enum(['blue-green', 'canary', 'ab', 'shadow']);
export type DeploymentStrategy = z.infer<typeof deploymentStrategy>;

/** Percent of the answered traffic per arm; always sums to 100. */
export const trafficWeights = z
  .object({ stable: percent, candidate: percent })
  .refine((w) => w.stable + w.candidate === 100, { message: 'weights must sum to 100' });
export type TrafficWeights = z.infer<typeof trafficWeights>;

/** A/B stickiness: the arm is a hash of this request header or input field, so one key always gets one arm. */
export const stickyKey = z.union([
  z.object({ header: z.string().regex(/^[a-z0-9-]{1,100}$/, 'a lowercase header name') }).strict(),
  z.object({ field: z.string().min(1).max(200) }).strict(),
]);
export type StickyKey = z.infer<typeof stickyKey>;

/** A model metric bound the policy checks once monitoring supplies the candidate's metrics (`PerformanceEvaluated`). */
export const metricBound = z.object({ metric: z.string().min(1), op: z.enum(['>', '>=', '<', '<=']), value: z.number() }).strict();

/**
 * Canary `--auto`: after `minRequests` answered by the candidate, promote it
 * when every check passes, else roll back. Errors are candidate requests that
 * did not end OK; p99 is over the candidate's recent latencies.
 */
export const canaryPolicy = z
  .object({
    minRequests: z.number().int().min(1).max(10_000_000).default(100),
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    maxP99Ms: z.number().positive().max(600_000).default(1000),
    metrics: z.array(metricBound).max(20).default([]),
  })
  .strict();
export type CanaryPolicy = z.infer<typeof canaryPolicy>;

/** Canary steps by schedule: the candidate's weight moves to each step in turn, `everySeconds` apart. */
export const canarySchedule = z
  .object({ steps: z.array(z.number().int().min(1).max(100)).min(1).max(20), everySeconds: z.number().int().min(1).max(7 * 86_400) })
  .strict()
  .refine((s) => s.steps.every((w, i) => i === 0 || w > s.steps[i - 1]), { message: 'steps must increase', path: ['steps'] });
export type CanarySchedule = z.infer<typeof canarySchedule>;

/** What the automatic policy saw and decided: kept in the event that acts on it. */
export const policyDecision = z.object({
  outcome: z.enum(['promote', 'rollback']),
  requests: z.number().int().min(0),
  errors: z.number().int().min(0),
  errorRate: z.number().min(0).max(1),
  p99Ms: z.number().min(0).nullable(),
  /** The candidate's model metrics, when monitoring supplied them. */
  metrics: z.record(z.string(), z.number()).default({}),
  /** Every failed check in words (`error rate 0.31 > 0.05`); empty on promote. */
  reasons: z.array(z.string()).default([]),
});
export type PolicyDecision = z.infer<typeof policyDecision>;

/** Who moved the traffic: an operator, the canary schedule, or the automatic policy. */
const by = z.enum(['hand', 'schedule', 'policy']);
const reason = z.string().max(2000).default('');
/** Who ended the rollout and why; the policy and its decision when the policy did. */
const verdict = {
  by,
  policy: canaryPolicy.nullable().default(null),
  decision: policyDecision.nullable().default(null),
  reason,
  actor: z.string().min(1),
};

/**
 * One model's rollouts (stream `deployment-<model>`). A rollout starts from
 * the version the alias holds (stable) toward a candidate, and ends promoted
 * (the alias moves to the candidate) or rolled back (stable takes all
 * traffic again); at most one is active per model.
 */
export const deploymentEvents = {
  DeploymentStarted: defineEvent(
    'DeploymentStarted',
    1,
    z.object({
      model: name,
      deploymentId: z.string().min(1),
      strategy: deploymentStrategy,
      /** The alias whose traffic is split (and moved on promotion). */
      alias: z.string().min(1),
      stableVersion: version,
      candidateVersion: version,
      weights: trafficWeights,
      /** Shadow: percent of requests mirrored to the candidate (answers go to telemetry only). */
      mirrorPercent: percent.default(0),
      sticky: stickyKey.nullable().default(null),
      policy: canaryPolicy.nullable().default(null),
      schedule: canarySchedule.nullable().default(null),
      reason,
      actor: z.string().min(1),
    }),
  ),
  TrafficShifted: defineEvent(
    'TrafficShifted',
    1,
    z.object({ model: name, deploymentId: z.string().min(1), from: trafficWeights, to: trafficWeights, by, reason, actor: z.string().min(1) }),
  ),
  DeploymentPromoted: defineEvent(
    'DeploymentPromoted',
    1,
    z.object({
      model: name,
      deploymentId: z.string().min(1),
      alias: z.string().min(1),
      version,
      previousVersion: version,
      ...verdict,
    }),
  ),
  DeploymentRolledBack: defineEvent(
    'DeploymentRolledBack',
    1,
    z.object({
      model: name,
      deploymentId: z.string().min(1),
      /** The stable state restored: its version with all traffic. */
      restoredVersion: version,
      candidateVersion: version,
      ...verdict,
    }),
  ),
  /** The rollout ended; `stableVersion` answers all of the alias's traffic from now on. */
  DeploymentCompleted: defineEvent(
    'DeploymentCompleted',
    1,
    z.object({ model: name, deploymentId: z.string().min(1), outcome: z.enum(['promoted', 'rolled-back']), stableVersion: version }),
  ),
} as const;
