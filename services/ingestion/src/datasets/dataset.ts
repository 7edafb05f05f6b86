import type { DomainEvent, EventData } from '@mlp/contracts';

export type DatasetEvent = DomainEvent<
  'DatasetRegistered' | 'DatasetSchemaDeclared' | 'DatasetVersionIngested' | 'RowsQuarantined' | 'SchemaChangeDetected' | 'DataQualityCheckFailed'
>;

export type VersionRecord = EventData<'DatasetVersionIngested'>;

export type DatasetState =
  | { status: 'Empty' }
  | {
      status: 'Registered';
      name: string;
      description: string;
      declared: { schemaHash: string; schema: Record<string, unknown> } | null;
      versions: VersionRecord[];
    };

export const initialState = (): DatasetState => ({ status: 'Empty' });

export function evolve(state: DatasetState, event: DatasetEvent): DatasetState {
  switch (event.type) {
    case 'DatasetRegistered':
      return { status: 'Registered', name: event.data.dataset, description: event.data.description, declared: null, versions: [] };
    case 'DatasetSchemaDeclared':
      return state.status === 'Registered' ? { ...state, declared: { schemaHash: event.data.schemaHash, schema: event.data.schema } } : state;
    case 'DatasetVersionIngested':
      return state.status === 'Registered' ? { ...state, versions: [...state.versions, event.data] } : state;
    case 'RowsQuarantined':
    case 'SchemaChangeDetected':
    case 'DataQualityCheckFailed':
      return state;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** The newest version downstream stages may use. */
export function latestAccepted(state: DatasetState): VersionRecord | undefined {
  if (state.status !== 'Registered') return undefined;
  return [...state.versions].reverse().find((v) => v.status === 'accepted');
}

export function versionWithSource(state: DatasetState, sourceSha256: string): VersionRecord | undefined {
  return state.status === 'Registered' ? state.versions.find((v) => v.sourceSha256 === sourceSha256) : undefined;
}
