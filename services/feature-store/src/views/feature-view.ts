import type { DomainEvent, EventData } from '@mlp/contracts';
import { storedFeatureViewSpec, type FeatureViewSpec } from '@mlp/ml';

export type FeatureViewEvent = DomainEvent<'FeatureViewDefined' | 'FeatureViewMaterialized'>;
export type ViewVersion = EventData<'FeatureViewDefined'>;
export type Materialization = EventData<'FeatureViewMaterialized'>;

export type FeatureViewState =
  | { status: 'Empty' }
  | { status: 'Defined'; name: string; versions: ViewVersion[]; materializations: Materialization[] };

export const initialState = (): FeatureViewState => ({ status: 'Empty' });

export function evolve(state: FeatureViewState, event: FeatureViewEvent): FeatureViewState {
  switch (event.type) {
    case 'FeatureViewDefined':
      return state.status === 'Defined'
        ? { ...state, versions: [...state.versions, event.data] }
        : { status: 'Defined', name: event.data.name, versions: [event.data], materializations: [] };
    case 'FeatureViewMaterialized':
      return state.status === 'Defined' ? { ...state, materializations: [...state.materializations, event.data] } : state;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export function latestVersion(state: FeatureViewState): ViewVersion | undefined {
  return state.status === 'Defined' ? state.versions[state.versions.length - 1] : undefined;
}

/** The newest materialization of a view version. */
export function latestMaterialization(state: FeatureViewState, version?: number): Materialization | undefined {
  if (state.status !== 'Defined') return undefined;
  const v = version ?? latestVersion(state)?.version;
  return [...state.materializations].reverse().find((m) => m.version === v);
}

const parsedSpecs = new WeakMap<ViewVersion, FeatureViewSpec>();

/**
 * A version's definition, re-validated from its FeatureViewDefined event
 * (once per version): a stored spec that no longer passes the feature view
 * schema is refused with STORED_DATA_INVALID, never cast and used.
 */
export function viewSpec(version: ViewVersion): FeatureViewSpec {
  let spec = parsedSpecs.get(version);
  if (!spec) {
    spec = storedFeatureViewSpec(version.spec, `definition of feature view '${version.name}' v${version.version}`);
    parsedSpecs.set(version, spec);
  }
  return spec;
}

/** The names of a version's features, from its re-validated definition. */
export const featureNames = (version: ViewVersion): string[] => viewSpec(version).features.map((f) => f.name);
