import { categories, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';
import { deploymentEventTypes, evolve, initialState, type DeploymentEvent, type DeploymentState } from './deployment';

/** Each model's deployment state and the revision it folded, by model. */
export type DeploymentStates = Map<string, { state: DeploymentState; revision: number }>;

/**
 * The rollout state serving routes by, folded from `deployment-*` streams the
 * way DeploymentsService folds it live: `mlp replay projections` rebuilds it
 * with this and compares.
 */
export class DeploymentStatesProjection implements VerifiableProjection {
  readonly name = 'serving.deployments';
  readonly version = 1;
  readonly filter = { category: categories.deployment };
  readonly states: DeploymentStates = new Map();

  canHandle(event: RecordedEvent): boolean {
    return deploymentEventTypes.has(event.type);
  }

  handle(event: RecordedEvent): void {
    const model = (event.data as { model: string }).model;
    const current = this.states.get(model) ?? { state: initialState(), revision: -1 };
    if (event.revision <= current.revision) return;
    this.states.set(model, { state: evolve(current.state, { type: event.type, data: event.data } as DeploymentEvent), revision: event.revision });
  }

  reset(): void {
    this.states.clear();
  }

  snapshot(): unknown {
    return deploymentStatesSnapshot(this.states);
  }
}

/** The plain data both the live service and a rebuild are compared by. */
export function deploymentStatesSnapshot(states: DeploymentStates): unknown {
  return { deployments: states };
}
