import { z } from 'zod';
import { name } from '../events/common';
import { canaryPolicy, canarySchedule, deploymentStrategy, stickyKey, type CanaryPolicy, type CanarySchedule, type DeploymentStrategy, type PolicyDecision, type StickyKey, type TrafficWeights } from '../events/deployment.events';
import { aliasName } from '../events/registry.events';

/** Rollout commands of serving, validated at every entry (HTTP admin API and NATS). */
const percent = z.coerce.number().int().min(0).max(100);
const reason = z.string().max(2000).optional();

export const startDeploymentSchema = z
  .object({
    model: name,
    version: z.coerce.number().int().positive(),
    strategy: deploymentStrategy,
    /** Percent to the candidate (canary default 10, ab 50); shadow: percent of requests mirrored (default 10); blue-green: always 100. */
    weight: percent.optional(),
    alias: aliasName.default('production'),
    /** Canary only: promote or roll back by `policy` (defaults apply when omitted). */
    auto: z.boolean().default(false),
    policy: canaryPolicy.optional(),
    schedule: canarySchedule.optional(),
    sticky: stickyKey.optional(),
    reason,
  })
  .strict();
export type StartDeploymentDto = z.output<typeof startDeploymentSchema>;

/** `weights` (both arms) or `weight` (the candidate's; the stable arm gets the rest). */
export const shiftTrafficSchema = z
  .object({ model: name, weight: percent.optional(), weights: z.object({ stable: z.number().int(), candidate: z.number().int() }).strict().optional(), reason })
  .strict()
  .refine((v) => (v.weight === undefined) !== (v.weights === undefined), { message: 'give weight or weights', path: ['weight'] });
export type ShiftTrafficDto = z.output<typeof shiftTrafficSchema>;

export const endDeploymentSchema = z.object({ model: name, reason }).strict();
export const deploymentRefSchema = z.object({ model: name });

/** One entry of a model's rollout history, replayed from its events. */
export interface DeploymentHistoryEntry {
  type: string;
  at: string;
  actor: string;
  revision: number;
  data: Record<string, unknown>;
}

/** A rollout as the API returns it. */
export interface RolloutView {
  deploymentId: string;
  strategy: DeploymentStrategy;
  alias: string;
  stableVersion: number;
  candidateVersion: number;
  weights: TrafficWeights;
  mirrorPercent: number;
  sticky: StickyKey | null;
  policy: CanaryPolicy | null;
  schedule: CanarySchedule | null;
  startedAt: string;
}

/** `GET /deployments/{model}`: the split in force now and every change that led to it. */
export interface DeploymentView {
  model: string;
  /** The stream revision (for optimistic concurrency). */
  revision: number;
  active: RolloutView | null;
  /** Version per arm and percent of answered traffic now (one arm when nothing is rolling out). */
  split: { arm: 'stable' | 'candidate'; version: number; weight: number }[];
  /** Shadow: percent of requests also sent to the challenger. */
  mirror: { version: number; percent: number } | null;
  /** The version that takes all traffic when the active rollout ends by rollback (or now, when none is active). */
  stableVersion: number | null;
  lastDecision: PolicyDecision | null;
  history: DeploymentHistoryEntry[];
}
