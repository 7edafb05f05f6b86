import type { ArtifactStore } from '@mlp/artifacts';
import {
  IllegalStateError,
  InfrastructureError,
  NotFoundError,
  streams,
  type EventData,
  type EventInput,
  type ModelSignature,
  type RecordedEvent,
} from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';

export type VersionDetails = Omit<EventInput<'ModelVersionRegistered'>, 'name' | 'version' | 'source'>;

/** The part of `preprocessing.json` (training's PreprocessingBundle) a signature needs. */
interface PreprocessingBundle {
  kind: 'mlp.preprocessing';
  task: string;
  label: string;
  inputColumns: string[];
  featureNames: string[];
  classes: (string | number | boolean)[];
  pipeline?: { steps?: { transformer?: { kind?: string; params?: Record<string, { categories?: (string | number | boolean)[] }> } }[] };
}

interface ColumnSpec {
  type?: string;
  required?: boolean;
  nullable?: boolean;
  min?: number | string;
  max?: number | string;
  values?: string[];
}

const MAX_PREPROCESSING_BYTES = 16 * 1024 * 1024;

/**
 * The signature of a trained model: its raw input columns with the type, nullability and allowed values or
 * range the training data's schema declared (categories learnt by the pipeline's encoders when the schema has
 * none), the model inputs after preprocessing, and the outputs with their class names. Pure.
 */
export function deriveSignature(bundle: PreprocessingBundle, schemaColumns: Record<string, ColumnSpec>): ModelSignature {
  const learnt = new Map<string, (string | number | boolean)[]>();
  for (const step of bundle.pipeline?.steps ?? []) {
    const t = step.transformer;
    if (!t || !/Encoder$/.test(t.kind ?? '')) continue;
    for (const [column, p] of Object.entries(t.params ?? {})) if (Array.isArray(p?.categories)) learnt.set(column, p.categories);
  }
  const inputs = bundle.inputColumns.map((name) => {
    const spec = schemaColumns[name];
    const values = spec?.values ?? learnt.get(name);
    return {
      name,
      type: spec?.type ?? (learnt.has(name) ? 'category' : 'unknown'),
      nullable: spec ? (spec.nullable ?? !spec.required) : true,
      ...(values ? { values: [...values] } : {}),
      ...(typeof spec?.min === 'number' ? { min: spec.min } : {}),
      ...(typeof spec?.max === 'number' ? { max: spec.max } : {}),
    };
  });
  const outputs =
    bundle.task === 'regression'
      ? [{ name: bundle.label, type: 'float' }]
      : [
          { name: bundle.label, type: 'category', classes: [...bundle.classes] },
          { name: 'probabilities', type: `float[${bundle.task === 'binary' ? 1 : bundle.classes.length}]`, classes: [...bundle.classes] },
        ];
  return { task: bundle.task, label: bundle.label, inputs, features: [...bundle.featureNames], outputs };
}

function dataOf<T extends 'TrainingRunRequested' | 'ModelEvaluated' | 'TrainingRunCompleted' | 'TrainingDataPrepared'>(events: RecordedEvent[], type: T): EventData<T> | undefined {
  return events.find((e) => e.type === type)?.data as EventData<T> | undefined;
}

/** Columns of every dataset version the run read (`dataset:<name>@<v>` inputs), from their DatasetVersionIngested. */
async function schemaColumns(store: EventStore, inputs: { ref: string }[]): Promise<Record<string, ColumnSpec>> {
  const columns: Record<string, ColumnSpec> = {};
  for (const input of inputs) {
    const m = /^dataset:([A-Za-z0-9_-]+)@(\d+)$/.exec(input.ref);
    if (!m) continue;
    const ingested = (await store.readStream(streams.dataset(m[1]))).find(
      (e) => e.type === 'DatasetVersionIngested' && (e.data as EventData<'DatasetVersionIngested'>).version === Number(m[2]),
    );
    const schema = (ingested?.data as EventData<'DatasetVersionIngested'> | undefined)?.schema as { columns?: Record<string, ColumnSpec> } | undefined;
    for (const [name, spec] of Object.entries(schema?.columns ?? {})) columns[name] ??= spec;
  }
  return columns;
}

/**
 * Everything a version records about the run that produced it, read from the run's events and its saved
 * preprocessing artifact (by content hash). A run without a completed model is refused.
 */
export async function versionDetailsFromRun(store: EventStore, artifacts: ArtifactStore, runId: string): Promise<VersionDetails & { experiment: string }> {
  const events = await store.readStream(streams.run(runId));
  const requested = dataOf(events, 'TrainingRunRequested');
  if (!requested) throw new NotFoundError(`no training run ${runId}`, { code: 'RUN_NOT_FOUND', details: { runId } });
  const completed = dataOf(events, 'TrainingRunCompleted');
  if (!completed) {
    throw new IllegalStateError(`training run ${runId} has no completed model (only completed runs can be registered)`, { code: 'RUN_NOT_COMPLETED', details: { runId } });
  }
  const evaluated = dataOf(events, 'ModelEvaluated');
  let bundle: PreprocessingBundle;
  try {
    bundle = JSON.parse((await artifacts.getBuffer(completed.preprocessingArtifactKey, { maxBytes: MAX_PREPROCESSING_BYTES })).toString('utf8')) as PreprocessingBundle;
  } catch (err) {
    throw new InfrastructureError(`cannot read the preprocessing artifact ${completed.preprocessingArtifactKey} of run ${runId}`, { code: 'ARTIFACT_UNAVAILABLE', cause: err });
  }
  if (bundle?.kind !== 'mlp.preprocessing' || !Array.isArray(bundle.inputColumns)) {
    throw new InfrastructureError(`artifact ${completed.preprocessingArtifactKey} of run ${runId} is not a preprocessing bundle`, { code: 'STORED_DATA_INVALID' });
  }
  const signature = deriveSignature(bundle, await schemaColumns(store, requested.inputs));
  return {
    runId,
    experiment: requested.experiment,
    blessed: completed.blessed,
    artifacts: {
      model: completed.modelArtifactKey,
      weights: completed.weightsArtifactKey,
      preprocessing: completed.preprocessingArtifactKey,
      report: completed.reportArtifactKey,
      modelCard: completed.modelCardArtifactKey,
    },
    weightsSha256: completed.weightsSha256,
    signature,
    metrics: evaluated?.metrics ?? completed.metrics,
    params: completed.params,
    backend: requested.backend,
    tags: {},
    lineage: { inputs: requested.inputs, featureViews: requested.featureViews.map((f) => `${f.name}@${f.version}`) },
  };
}
