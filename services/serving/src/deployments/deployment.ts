import type { DomainEvent, PolicyDecision, RolloutView } from '@mlp/contracts';

export type DeploymentEvent = DomainEvent<'DeploymentStarted' | 'TrafficShifted' | 'DeploymentPromoted' | 'DeploymentRolledBack' | 'DeploymentCompleted'>;

export const deploymentEventTypes: ReadonlySet<string> = new Set(['DeploymentStarted', 'TrafficShifted', 'DeploymentPromoted', 'DeploymentRolledBack', 'DeploymentCompleted']);

/** The rollout in progress: stable → candidate, with the split in force now (the API's view without its start time). */
export type Rollout = Omit<RolloutView, 'startedAt'>;

/**
 * One model's deployment aggregate (stream `deployment-<model>`): nothing
 * yet, idle on a stable version, or one rollout active. `ending` is set
 * between DeploymentPromoted/RolledBack and the DeploymentCompleted decided
 * with it.
 */
export type DeploymentState =
  | { status: 'Empty' }
  | {
      status: 'Idle';
      model: string;
      stableVersion: number;
      /** How the last rollout ended, and the alias it was on. */
      outcome: 'promoted' | 'rolled-back';
      alias: string;
      lastDecision: PolicyDecision | null;
    }
  | { status: 'Active'; model: string; rollout: Rollout; ending?: 'promoted' | 'rolled-back'; lastDecision: PolicyDecision | null };

export const initialState = (): DeploymentState => ({ status: 'Empty' });

export function evolve(state: DeploymentState, event: DeploymentEvent): DeploymentState {
  switch (event.type) {
    case 'DeploymentStarted': {
      const d = event.data;
      const rollout: Rollout = {
        deploymentId: d.deploymentId,
        strategy: d.strategy,
        alias: d.alias,
        stableVersion: d.stableVersion,
        candidateVersion: d.candidateVersion,
        weights: d.weights,
        mirrorPercent: d.mirrorPercent,
        sticky: d.sticky,
        policy: d.policy,
        schedule: d.schedule,
      };
      return { status: 'Active', model: d.model, rollout, lastDecision: state.status === 'Empty' ? null : state.lastDecision };
    }
    case 'TrafficShifted':
      if (state.status !== 'Active') return state;
      return { ...state, rollout: { ...state.rollout, weights: event.data.to } };
    case 'DeploymentPromoted':
      if (state.status !== 'Active') return state;
      return { ...state, ending: 'promoted', rollout: { ...state.rollout, weights: { stable: 0, candidate: 100 } }, lastDecision: event.data.decision ?? state.lastDecision };
    case 'DeploymentRolledBack':
      if (state.status !== 'Active') return state;
      return { ...state, ending: 'rolled-back', rollout: { ...state.rollout, weights: { stable: 100, candidate: 0 } }, lastDecision: event.data.decision ?? state.lastDecision };
    case 'DeploymentCompleted':
      return {
        status: 'Idle',
        model: event.data.model,
        stableVersion: event.data.stableVersion,
        outcome: event.data.outcome,
        alias: state.status === 'Active' ? state.rollout.alias : state.status === 'Idle' ? state.alias : 'production',
        lastDecision: state.status === 'Empty' ? null : state.lastDecision,
      };
    default: {
      const never: never = event;
      return never;
    }
  }
}
