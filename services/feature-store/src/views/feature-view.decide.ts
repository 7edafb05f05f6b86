import { IllegalStateError, type EventInput } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';
import { evolve, initialState, latestVersion, type FeatureViewEvent, type FeatureViewState } from './feature-view';

export type FeatureViewCommand =
  | {
      type: 'DefineFeatureView';
      definition: Omit<EventInput<'FeatureViewDefined'>, 'version' | 'diff' | 'breaking'>;
      diff: Record<string, unknown>[];
      breaking: boolean;
      /** Model versions in use that were trained on the current version. */
      dependents: string[];
      force: boolean;
    }
  | { type: 'RecordMaterialization'; materialization: EventInput<'FeatureViewMaterialized'> };

export function decide(command: FeatureViewCommand, state: FeatureViewState): FeatureViewEvent[] {
  switch (command.type) {
    case 'DefineFeatureView': {
      const current = latestVersion(state);
      // Applying an unchanged definition is a no-op.
      if (current && current.specHash === command.definition.specHash) return [];
      if (current && command.breaking && command.dependents.length > 0 && !command.force) {
        throw new IllegalStateError(
          `feature view '${command.definition.name}' v${current.version} is used by ${command.dependents.join(', ')}; this change is breaking (apply with force to override)`,
          { code: 'BREAKING_CHANGE', details: { dependents: command.dependents, diff: command.diff } },
        );
      }
      return [
        {
          type: 'FeatureViewDefined',
          data: { ...command.definition, version: (current?.version ?? 0) + 1, diff: current ? command.diff : [], breaking: current ? command.breaking : false },
        } as FeatureViewEvent,
      ];
    }
    case 'RecordMaterialization': {
      if (state.status !== 'Defined') throw new IllegalStateError('feature view is not defined', { code: 'VIEW_NOT_FOUND' });
      const m = command.materialization;
      // The same view version over the same dataset bytes: nothing new.
      const done = state.materializations.some((x) => x.version === m.version && x.datasetSha256 === m.datasetSha256 && x.datasetVersion === m.datasetVersion);
      return done ? [] : [{ type: 'FeatureViewMaterialized', data: m } as FeatureViewEvent];
    }
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

export const featureViewDecider: Decider<FeatureViewCommand, FeatureViewState, FeatureViewEvent> = { decide, evolve, initialState };
