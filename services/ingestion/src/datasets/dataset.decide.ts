import { IllegalStateError, type EventInput } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';
import { evolve, initialState, versionWithSource, type DatasetEvent, type DatasetState } from './dataset';

/** The version's facts, minus the number: the decider assigns it. */
export type NewVersion = Omit<EventInput<'DatasetVersionIngested'>, 'version' | 'dataset'>;

export type DatasetCommand =
  | { type: 'RegisterDataset'; name: string; description?: string }
  | { type: 'DeclareDatasetSchema'; name: string; schemaHash: string; schema: Record<string, unknown> }
  | {
      type: 'RecordDatasetVersion';
      name: string;
      version: NewVersion;
      quarantineReasons: Record<string, number>;
      failedChecks: { check: string; message: string }[];
      /** Differences from the previous accepted version (empty when none or no previous). */
      schemaChanges: { previousVersion: number; diff: Record<string, unknown>[] } | null;
    };

/** Datasets come into being on first use: declaring a schema or ingesting into a new name registers it. */
function ensureRegistered(name: string, state: DatasetState): DatasetEvent[] {
  return state.status === 'Empty' ? [{ type: 'DatasetRegistered', data: { dataset: name, description: '' } }] : [];
}

export function decide(command: DatasetCommand, state: DatasetState): DatasetEvent[] {
  switch (command.type) {
    case 'RegisterDataset':
      if (state.status !== 'Empty') {
        throw new IllegalStateError(`dataset '${command.name}' already exists`, { code: 'DATASET_EXISTS' });
      }
      return [{ type: 'DatasetRegistered', data: { dataset: command.name, description: command.description ?? '' } }];
    case 'DeclareDatasetSchema':
      if (state.status === 'Registered' && state.declared?.schemaHash === command.schemaHash) return [];
      return [
        ...ensureRegistered(command.name, state),
        { type: 'DatasetSchemaDeclared', data: { dataset: command.name, schemaHash: command.schemaHash, schema: command.schema } },
      ];
    case 'RecordDatasetVersion': {
      // Identical source bytes: no new version (the caller reports the existing one).
      if (versionWithSource(state, command.version.sourceSha256)) return [];
      const version = state.status === 'Registered' ? state.versions.length + 1 : 1;
      const events: DatasetEvent[] = [
        ...ensureRegistered(command.name, state),
        { type: 'DatasetVersionIngested', data: { ...command.version, dataset: command.name, version } } as DatasetEvent,
      ];
      if (command.version.quarantined > 0 && command.version.quarantineArtifactKey) {
        events.push({
          type: 'RowsQuarantined',
          data: {
            dataset: command.name,
            version,
            count: command.version.quarantined,
            artifactKey: command.version.quarantineArtifactKey,
            reasons: command.quarantineReasons,
          },
        });
      }
      if (command.failedChecks.length > 0) {
        events.push({ type: 'DataQualityCheckFailed', data: { dataset: command.name, version, checks: command.failedChecks } });
      }
      if (command.schemaChanges && command.schemaChanges.diff.length > 0) {
        events.push({
          type: 'SchemaChangeDetected',
          data: { dataset: command.name, version, previousVersion: command.schemaChanges.previousVersion, diff: command.schemaChanges.diff },
        });
      }
      return events;
    }
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

export const datasetDecider: Decider<DatasetCommand, DatasetState, DatasetEvent> = { decide, evolve, initialState };
