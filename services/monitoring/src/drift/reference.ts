import type { ArtifactStore } from '@mlp/artifacts';
import { streams, type EventData } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import type { ColumnKind } from '../windows/column-summary';
import { PREDICTION_COLUMN } from '../windows/current-window';

/** The reference sample is a small artifact (≤ 5000 rows); refuse anything far larger. */
const MAX_SAMPLE_BYTES = 256 * 1024 * 1024;

/** What a served version is compared with: its run's baseline and reference sample, and its holdout metrics. */
export interface Reference {
  model: string;
  version: number;
  runId: string;
  task: EventData<'BaselineRecorded'>['task'] | null;
  classes: EventData<'BaselineRecorded'>['classes'];
  /** Training rows the baseline statistics cover. */
  rows: number;
  sampleArtifactKey: string | null;
  /** Column kinds, the model output (`prediction`) included when the baseline has it. */
  kinds: Record<string, ColumnKind>;
  /** The reference sample by column: numbers (NaN missing) or values (null missing). */
  sample: Record<string, Float64Array | (string | null)[]>;
  /** Rows of the reference sample. */
  sampleRows: number;
  /** ModelEvaluated holdout metrics of the run ({} when unknown). */
  metrics: Record<string, number>;
  /** Why there is no baseline to test drift against (the run predates BaselineRecorded, …). */
  missing?: string;
}

/**
 * A served version's reference, from the event store (registry: version →
 * run; training: BaselineRecorded and ModelEvaluated) and the artifact store
 * (the reference sample), cached per version: a run's baseline never changes.
 */
export class ReferenceLoader {
  private readonly cache = new Map<string, Promise<Reference | null>>();

  constructor(
    private readonly store: EventStore,
    private readonly artifacts: ArtifactStore,
  ) {}

  /** null when the version is not registered (yet): not cached, so a later call finds it. */
  load(model: string, version: number): Promise<Reference | null> {
    const key = `${model}:${version}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.read(model, version);
      this.cache.set(key, p);
      p.then(
        (r) => r === null && this.cache.delete(key),
        () => this.cache.delete(key),
      );
    }
    return p;
  }

  private async read(model: string, version: number): Promise<Reference | null> {
    const registered = (await this.store.readStream(streams.model(model))).find(
      (e) => e.type === 'ModelVersionRegistered' && (e.data as { version: number }).version === version,
    );
    if (!registered) return null;
    const runId = (registered.data as { runId?: string }).runId;
    const empty = { model, version, runId: runId ?? '', task: null, classes: [], rows: 0, sampleArtifactKey: null, kinds: {}, sample: {}, sampleRows: 0, metrics: {} };
    if (!runId) return { ...empty, missing: `version ${version} of '${model}' was not registered from a training run` };
    const events = await this.store.readStream(streams.run(runId));
    const metrics = (events.find((e) => e.type === 'ModelEvaluated')?.data as EventData<'ModelEvaluated'> | undefined)?.metrics ?? {};
    const baseline = events.find((e) => e.type === 'BaselineRecorded')?.data as EventData<'BaselineRecorded'> | undefined;
    if (!baseline) return { ...empty, metrics, missing: `run ${runId} recorded no baseline (BaselineRecorded)` };
    const sample = JSON.parse((await this.artifacts.getBuffer(baseline.sampleArtifactKey, { maxBytes: MAX_SAMPLE_BYTES })).toString('utf8')) as {
      columns: Record<string, (string | number | boolean | null)[]>;
    };
    const ref: Reference = { ...empty, task: baseline.task, classes: baseline.classes, rows: baseline.rows, sampleArtifactKey: baseline.sampleArtifactKey, sampleRows: baseline.sampleRows, metrics };
    const described: Record<string, { kind: ColumnKind }> = { ...baseline.columns, [PREDICTION_COLUMN]: baseline.prediction };
    for (const [name, values] of Object.entries(sample.columns)) {
      const kind = described[name]?.kind;
      if (!kind) continue;
      ref.kinds[name] = kind;
      ref.sample[name] = kind === 'numeric' ? Float64Array.from(values, (v) => (typeof v === 'number' ? v : NaN)) : values.map((v) => (v === null ? null : String(v)));
    }
    return ref;
  }
}
