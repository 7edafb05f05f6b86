import {
  canaryPolicy,
  IllegalStateError,
  NotFoundError,
  ValidationError,
  type CanaryPolicy,
  type CanarySchedule,
  type DeploymentStrategy,
  type PolicyDecision,
  type StickyKey,
  type TrafficWeights,
} from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';
import { evolve, initialState, type DeploymentEvent, type DeploymentState, type Rollout } from './deployment';

/** Who issues a command: an operator (errors are reported), or the schedule/policy (stale commands are no-ops). */
export type Issuer = 'hand' | 'schedule' | 'policy';

/**
 * Commands on one model's deployment. Facts from outside the stream come in
 * with the command: the version the alias holds now, whether the candidate
 * is registered, the versions loaded on the instance that handles it.
 */
export type DeploymentCommand =
  | {
      type: 'StartDeployment';
      model: string;
      deploymentId: string;
      strategy: DeploymentStrategy;
      alias: string;
      version: number;
      /** The version the alias holds now (null: nothing to roll back to). */
      aliasVersion: number | null;
      registered: boolean;
      weight?: number;
      auto: boolean;
      policy?: CanaryPolicy;
      schedule?: CanarySchedule;
      sticky?: StickyKey;
      reason: string;
      actor: string;
    }
  | { type: 'ShiftTraffic'; model: string; weights: TrafficWeights; by: Issuer; deploymentId?: string; reason: string; actor: string }
  | { type: 'PromoteDeployment'; model: string; loadedVersions: readonly number[]; by: Issuer; deploymentId?: string; decision?: PolicyDecision; reason: string; actor: string }
  | { type: 'RollbackDeployment'; model: string; by: Issuer; deploymentId?: string; decision?: PolicyDecision; reason: string; actor: string };

type Cmd<T extends DeploymentCommand['type']> = Extract<DeploymentCommand, { type: T }>;

const invalid = (path: string, message: string, code = 'INVALID_DEPLOYMENT') => new ValidationError(`${path}: ${message}`, [{ path, message }], { code });

/** The active rollout; `undefined` when an automatic command finds none (or another one): it then does nothing. */
function activeRollout(command: { model: string; by: Issuer; deploymentId?: string }, state: DeploymentState): Rollout | undefined {
  const auto = command.by !== 'hand';
  if (state.status !== 'Active' || state.ending) {
    if (auto) return undefined;
    throw new IllegalStateError(`'${command.model}' has no active rollout`, { code: 'NO_ACTIVE_ROLLOUT', details: { model: command.model } });
  }
  if (command.deploymentId !== undefined && command.deploymentId !== state.rollout.deploymentId) {
    if (auto) return undefined;
    throw new IllegalStateError(`rollout ${command.deploymentId} of '${command.model}' is over; ${state.rollout.deploymentId} is active`, { code: 'ROLLOUT_CHANGED' });
  }
  return state.rollout;
}

/** The split a strategy starts with: blue-green all at once, canary 10 %, ab 50 %, shadow answers from stable only. */
function initialSplit(command: Cmd<'StartDeployment'>): { weights: TrafficWeights; mirrorPercent: number } {
  const w = command.weight;
  switch (command.strategy) {
    case 'blue-green':
      if (w !== undefined && w !== 100) throw invalid('weight', 'blue-green switches all traffic at once (100); use canary for a partial split');
      return { weights: { stable: 0, candidate: 100 }, mirrorPercent: 0 };
    case 'canary': {
      const first = w ?? command.schedule?.steps[0] ?? 10;
      if (first < 1 || first > 99) throw invalid('weight', 'a canary takes 1..99 percent (100 is blue-green)');
      return { weights: { stable: 100 - first, candidate: first }, mirrorPercent: 0 };
    }
    case 'ab': {
      const b = w ?? 50;
      if (b < 1 || b > 99) throw invalid('weight', 'an A/B split gives each arm 1..99 percent');
      return { weights: { stable: 100 - b, candidate: b }, mirrorPercent: 0 };
    }
    case 'shadow': {
      const mirror = w ?? 10;
      if (mirror < 1 || mirror > 100) throw invalid('weight', 'shadow mirrors 1..100 percent of requests');
      return { weights: { stable: 100, candidate: 0 }, mirrorPercent: mirror };
    }
    default: {
      const never: never = command.strategy;
      return never;
    }
  }
}

/** One active rollout per model; the candidate must be registered and differ from what the alias holds. */
export function startDeployment(command: Cmd<'StartDeployment'>, state: DeploymentState): DeploymentEvent[] {
  if (state.status === 'Active') {
    const r = state.rollout;
    throw new IllegalStateError(`'${command.model}' already has an active ${r.strategy} rollout (${r.deploymentId}: v${r.stableVersion} → v${r.candidateVersion}); promote or roll it back first`, {
      code: 'ROLLOUT_ACTIVE',
      details: { model: command.model, deploymentId: r.deploymentId },
    });
  }
  if (!command.registered) throw new NotFoundError(`registered model '${command.model}' has no version ${command.version}`, { code: 'VERSION_NOT_FOUND', details: { model: command.model, version: command.version } });
  if (command.aliasVersion === null) {
    throw new IllegalStateError(`'${command.model}@${command.alias}' holds no version: a rollout needs a stable version to start from and to roll back to; assign the alias first`, { code: 'NO_STABLE_VERSION' });
  }
  if (command.aliasVersion === command.version) throw new IllegalStateError(`version ${command.version} already holds '${command.model}@${command.alias}'`, { code: 'ALREADY_STABLE' });
  const canary = command.strategy === 'canary';
  if (!canary && (command.auto || command.policy)) throw invalid('auto', 'the automatic policy applies to canary rollouts only');
  if (!canary && command.schedule) throw invalid('schedule', 'a schedule applies to canary rollouts only');
  if (command.sticky && command.strategy !== 'ab' && !canary) throw invalid('sticky', 'stickiness applies to ab and canary splits only');
  const { weights, mirrorPercent } = initialSplit(command);
  if (command.schedule && command.weight !== undefined && command.schedule.steps.some((s) => s <= weights.candidate)) {
    throw invalid('schedule.steps', `every step must exceed the starting weight ${weights.candidate}`);
  }
  const policy = command.auto || command.policy ? (command.policy ?? canaryPolicy.parse({})) : null;
  return [
    {
      type: 'DeploymentStarted',
      data: {
        model: command.model,
        deploymentId: command.deploymentId,
        strategy: command.strategy,
        alias: command.alias,
        stableVersion: command.aliasVersion,
        candidateVersion: command.version,
        weights,
        mirrorPercent,
        sticky: command.sticky ?? null,
        policy,
        schedule: command.schedule ?? null,
        reason: command.reason,
        actor: command.actor,
      },
    },
  ];
}

/** Weights that sum to 100, on a canary or A/B split; the schedule only ever moves to its next step. */
export function shiftTraffic(command: Cmd<'ShiftTraffic'>, state: DeploymentState): DeploymentEvent[] {
  const { stable, candidate } = command.weights;
  for (const [arm, w] of Object.entries(command.weights)) {
    if (!Number.isInteger(w) || w < 0 || w > 100) throw invalid(`weights.${arm}`, 'an integer percent 0..100', 'INVALID_WEIGHTS');
  }
  if (stable + candidate !== 100) throw invalid('weights', `weights must sum to 100 (stable ${stable} + candidate ${candidate} = ${stable + candidate})`, 'INVALID_WEIGHTS');
  const r = activeRollout(command, state);
  if (!r) return [];
  if (r.strategy !== 'canary' && r.strategy !== 'ab') {
    throw new IllegalStateError(
      r.strategy === 'blue-green' ? 'a blue-green rollout switches all traffic at once: promote or roll it back' : 'a shadow rollout answers from the stable version only: promote or roll it back',
      { code: 'NOT_SHIFTABLE', details: { strategy: r.strategy } },
    );
  }
  if (command.by === 'schedule') {
    const next = r.schedule?.steps.find((s) => s > r.weights.candidate);
    if (next === undefined || next !== candidate) return [];
  }
  if (r.weights.stable === stable && r.weights.candidate === candidate) return [];
  return [{ type: 'TrafficShifted', data: { model: command.model, deploymentId: r.deploymentId, from: r.weights, to: { stable, candidate }, by: command.by, reason: command.reason, actor: command.actor } }];
}

/** The candidate takes the alias; refused while the candidate is not loaded (it could not take the traffic). */
export function promoteDeployment(command: Cmd<'PromoteDeployment'>, state: DeploymentState): DeploymentEvent[] {
  const r = activeRollout(command, state);
  if (!r) return [];
  if (!command.loadedVersions.includes(r.candidateVersion)) {
    throw new IllegalStateError(`version ${r.candidateVersion} of '${command.model}' is not loaded here yet; promote once it is loaded and warm`, {
      code: 'VERSION_NOT_LOADED',
      details: { model: command.model, version: r.candidateVersion },
    });
  }
  const byPolicy = command.by === 'policy';
  return [
    {
      type: 'DeploymentPromoted',
      data: {
        model: command.model,
        deploymentId: r.deploymentId,
        alias: r.alias,
        version: r.candidateVersion,
        previousVersion: r.stableVersion,
        by: command.by,
        policy: byPolicy ? r.policy : null,
        decision: command.decision ?? null,
        reason: command.reason,
        actor: command.actor,
      },
    },
    { type: 'DeploymentCompleted', data: { model: command.model, deploymentId: r.deploymentId, outcome: 'promoted', stableVersion: r.candidateVersion } },
  ];
}

/** All traffic back to the version the rollout started from, whatever the split had become. */
export function rollbackDeployment(command: Cmd<'RollbackDeployment'>, state: DeploymentState): DeploymentEvent[] {
  const r = activeRollout(command, state);
  if (!r) return [];
  return [
    {
      type: 'DeploymentRolledBack',
      data: {
        model: command.model,
        deploymentId: r.deploymentId,
        restoredVersion: r.stableVersion,
        candidateVersion: r.candidateVersion,
        by: command.by,
        policy: command.by === 'policy' ? r.policy : null,
        decision: command.decision ?? null,
        reason: command.reason,
        actor: command.actor,
      },
    },
    { type: 'DeploymentCompleted', data: { model: command.model, deploymentId: r.deploymentId, outcome: 'rolled-back', stableVersion: r.stableVersion } },
  ];
}

export function decide(command: DeploymentCommand, state: DeploymentState): DeploymentEvent[] {
  switch (command.type) {
    case 'StartDeployment':
      return startDeployment(command, state);
    case 'ShiftTraffic':
      return shiftTraffic(command, state);
    case 'PromoteDeployment':
      return promoteDeployment(command, state);
    case 'RollbackDeployment':
      return rollbackDeployment(command, state);
    default: {
      const never: never = command;
      return never;
    }
  }
}

export const deploymentDecider: Decider<DeploymentCommand, DeploymentState, DeploymentEvent> = { decide, evolve, initialState };
