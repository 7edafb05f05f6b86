import { IllegalStateError, NotFoundError, streams, type EventData, type RecordedEvent } from '@mlp/contracts';

/** An input reference as the run and the training set record it (`TrainingRunRequested.inputs`, `TrainingSetBuilt.inputs`). */
export type InputRef =
  | { kind: 'dataset'; name: string; version: number }
  | { kind: 'featureview'; name: string; version: number; materializationId?: string }
  | { kind: 'trainingset'; id: string }
  | { kind: 'artifact'; key: string }
  | { kind: 'other'; ref: string };

export function parseInputRef(ref: string): InputRef {
  let m = /^dataset:([^@]+)@(\d+)$/.exec(ref);
  if (m) return { kind: 'dataset', name: m[1], version: Number(m[2]) };
  m = /^featureview:([^@]+)@(\d+)(?:\/materialization:(.+))?$/.exec(ref);
  if (m) return { kind: 'featureview', name: m[1], version: Number(m[2]), ...(m[3] ? { materializationId: m[3] } : {}) };
  m = /^trainingset:(.+)$/.exec(ref);
  if (m) return { kind: 'trainingset', id: m[1] };
  m = /^artifact:(.+)$/.exec(ref);
  if (m) return { kind: 'artifact', key: m[1] };
  return { kind: 'other', ref };
}

export interface RunLineage {
  /** Per stream, the last revision the run depends on (revisions 0..n are exported). */
  streams: Map<string, number>;
  /** Artifact keys named by input references (`artifact:<key>`), besides those the events mention. */
  artifacts: Set<string>;
  notFollowed: { ref: string; reason: string }[];
}

type ReadStream = (stream: string) => Promise<RecordedEvent[]>;

/**
 * Everything a run causally depends on, followed through the recorded
 * inputs: its own stream; its experiment's creation; the training set it was
 * built from; every dataset version and feature-view materialization the run
 * or the training set names; the dataset versions those materializations
 * read. Each dependency is a stream prefix ending at the event that records
 * it (a dataset up to the version's events), so later, unrelated history is
 * left out. A reference to an event that does not exist is an error: the
 * lineage is broken and an archive of it would not replay.
 */
export async function collectRunLineage(read: ReadStream, runId: string): Promise<RunLineage> {
  const cache = new Map<string, RecordedEvent[]>();
  const events = async (stream: string) => {
    let e = cache.get(stream);
    if (!e) cache.set(stream, (e = await read(stream)));
    return e;
  };
  const lineage: RunLineage = { streams: new Map(), artifacts: new Set(), notFollowed: [] };
  const need = (stream: string, revision: number) => lineage.streams.set(stream, Math.max(revision, lineage.streams.get(stream) ?? -1));

  const runStream = streams.run(runId);
  const run = await events(runStream);
  const requested = run.find((e) => e.type === 'TrainingRunRequested');
  if (!requested) throw new NotFoundError(`run ${runId} does not exist`, { code: 'RUN_NOT_FOUND' });
  const ended = run.some((e) => e.type === 'TrainingRunCompleted' || e.type === 'TrainingRunFailed' || e.type === 'TrainingRunCancelled');
  if (!ended) throw new IllegalStateError(`run ${runId} has not ended; export it once it has completed, failed or been cancelled`, { code: 'RUN_NOT_ENDED' });
  need(runStream, run[run.length - 1].revision);
  const request = requested.data as EventData<'TrainingRunRequested'>;

  const experiment = await events(streams.experiment(request.experiment));
  const created = experiment.find((e) => e.type === 'ExperimentCreated');
  if (created) need(created.stream, created.revision);

  const pending: string[] = request.inputs.map((i) => i.ref);
  if (request.data.trainingSetId) pending.push(`trainingset:${request.data.trainingSetId}`);
  const seen = new Set<string>();
  while (pending.length) {
    const ref = pending.shift()!;
    if (seen.has(ref)) continue;
    seen.add(ref);
    const input = parseInputRef(ref);
    switch (input.kind) {
      case 'dataset': {
        const stream = streams.dataset(input.name);
        const all = await events(stream);
        const version = all.find((e) => e.type === 'DatasetVersionIngested' && (e.data as { version: number }).version === input.version);
        if (!version) throw new NotFoundError(`input ${ref}: dataset '${input.name}' has no version ${input.version} in the event store`, { code: 'LINEAGE_BROKEN' });
        // The version's own events (quarantine, schema change, checks) follow it: end at the last one about this version or an earlier one.
        const last = all.filter((e) => typeof (e.data as { version?: unknown }).version === 'number' && (e.data as { version: number }).version <= input.version).pop()!;
        need(stream, last.revision);
        break;
      }
      case 'featureview': {
        const stream = streams.featureView(input.name);
        const all = await events(stream);
        const anchor = input.materializationId
          ? all.find((e) => e.type === 'FeatureViewMaterialized' && (e.data as EventData<'FeatureViewMaterialized'>).materializationId === input.materializationId)
          : all.find((e) => e.type === 'FeatureViewDefined' && (e.data as EventData<'FeatureViewDefined'>).version === input.version);
        if (!anchor) throw new NotFoundError(`input ${ref}: feature view '${input.name}' has no such ${input.materializationId ? 'materialization' : 'version'} in the event store`, { code: 'LINEAGE_BROKEN' });
        need(stream, anchor.revision);
        for (const e of all.slice(0, anchor.revision + 1)) {
          if (e.type !== 'FeatureViewMaterialized') continue;
          const m = e.data as EventData<'FeatureViewMaterialized'>;
          for (const v of m.datasetVersions.length ? m.datasetVersions : [m.datasetVersion]) pending.push(`dataset:${m.dataset}@${v}`);
        }
        break;
      }
      case 'trainingset': {
        const all = await events(streams.trainingSet(input.id));
        const built = all.find((e) => e.type === 'TrainingSetBuilt');
        if (!built) throw new NotFoundError(`input ${ref}: training set ${input.id} has no TrainingSetBuilt event`, { code: 'LINEAGE_BROKEN' });
        need(built.stream, all[all.length - 1].revision);
        for (const i of (built.data as EventData<'TrainingSetBuilt'>).inputs) pending.push(i.ref);
        break;
      }
      case 'artifact':
        lineage.artifacts.add(input.key);
        break;
      case 'other':
        lineage.notFollowed.push({ ref, reason: 'not an input an archive carries (dataset, feature view, training set or artifact)' });
        break;
    }
  }
  return lineage;
}
