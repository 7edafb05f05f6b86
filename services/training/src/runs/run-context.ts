import type { ArtifactStore } from '@mlp/artifacts';
import { parseStored, type EventData } from '@mlp/contracts';
import { initBackend, planSplits, prepareTrainingData, trainingSpecSchema, type PreparedData, type SplitPlan, type TrainingSpec } from '@mlp/ml';
import { loadParquetFrame } from '../engine/load-frame';

/** Everything a worker needs to run trials of a run: its spec, prepared data and splits, rebuilt from the recorded request. */
export interface RunContext {
  request: EventData<'TrainingRunRequested'>;
  spec: TrainingSpec;
  prepared: PreparedData;
  plan: SplitPlan;
}

/**
 * Rebuilds a run's context from its TrainingRunRequested event: the input is
 * read by artifact key and must still hash to the recorded sha256; the same
 * spec and seed then give the same prepared rows and the same splits.
 */
export async function buildRunContext(artifacts: ArtifactStore, request: EventData<'TrainingRunRequested'>): Promise<RunContext> {
  const spec = parseStored(trainingSpecSchema, request.spec, `training spec of run ${request.runId}`);
  await initBackend(spec.backend);
  const loaded = await loadParquetFrame(artifacts, request.data.artifactKey, request.data.sha256);
  const prepared = prepareTrainingData(loaded.frame, loaded.types, spec, { nonFinite: loaded.nonFinite });
  return { request, spec, prepared, plan: planSplits(prepared, spec) };
}

/** A few recent run contexts per process, so the trials of a run do not reload its data. */
export class RunContextCache {
  private readonly entries = new Map<string, Promise<RunContext>>();

  constructor(private readonly capacity = 4) {}

  get(runId: string, build: () => Promise<RunContext>): Promise<RunContext> {
    let p = this.entries.get(runId);
    if (p) {
      this.entries.delete(runId);
      this.entries.set(runId, p);
      return p;
    }
    p = build();
    // A failed build is not cached: its callers get the rejection from `p`; this only evicts the entry.
    p.catch(() => this.entries.delete(runId));
    this.entries.set(runId, p);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return p;
  }

  drop(runId: string): void {
    this.entries.delete(runId);
  }
}
