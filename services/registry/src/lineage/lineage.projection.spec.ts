import type { RecordedEvent } from '@mlp/contracts';
import { LineageProjection } from './lineage.projection';
import { renderLineageTree, toOpenLineage } from './lineage-render';

const hex = (c: string) => c.repeat(64);
let position = 0;
const at = (n: number) => `2026-01-0${n}T00:00:00.000Z`;
function recorded(stream: string, type: string, data: unknown, day = 1): RecordedEvent {
  position++;
  return { id: `e${position}`, type, schemaVersion: 1, data, occurredAt: at(day), correlationId: 'c', causationId: null, actor: 'a', codeVersion: 'v', stream, revision: 0, position };
}

/** A dataset → feature view → training set → run → version chain, as the services append it. */
const history = (): RecordedEvent[] => [
  recorded('dataset-txns', 'RowsQuarantined', { dataset: 'txns', version: 1, count: 2, artifactKey: 'sha256/q', reasons: { out_of_range: 2 } }),
  recorded('dataset-txns', 'DatasetVersionIngested', {
    dataset: 'txns', version: 1, jobId: 'j', source: { kind: 'file', uri: '/in/txns.csv', spec: {} }, format: 'csv', sourceSha256: hex('1'), artifactKey: `sha256/${hex('2')}`, sha256: hex('2'),
    rows: 10, accepted: 8, quarantined: 2, schemaHash: hex('3'), schema: {}, inferred: false, reportArtifactKey: 'sha256/r', quarantineArtifactKey: 'sha256/q', report: { ok: true }, status: 'accepted', watermark: null, streamRange: null,
  }),
  recorded('dataset-labels', 'DatasetVersionIngested', {
    dataset: 'labels', version: 1, jobId: 'j2', source: { kind: 'upload', uri: 'labels.csv', spec: {} }, format: 'csv', sourceSha256: hex('4'), artifactKey: `sha256/${hex('5')}`, sha256: hex('5'),
    rows: 4, accepted: 4, quarantined: 0, schemaHash: hex('6'), schema: {}, inferred: true, reportArtifactKey: 'sha256/r2', quarantineArtifactKey: null, report: {}, status: 'accepted', watermark: null, streamRange: null,
  }),
  recorded('featureview-spend', 'FeatureViewDefined', { name: 'spend', version: 1, entity: { name: 'c', joinKeys: ['id'] }, timestampColumn: 'ts', source: { dataset: 'txns', mode: 'snapshot' }, spec: {}, specHash: hex('7'), ttlSeconds: null, online: true, diff: [], breaking: false }),
  recorded('featureview-spend', 'FeatureViewMaterialized', {
    name: 'spend', version: 1, materializationId: 'm1', dataset: 'txns', datasetVersion: 1, datasetSha256: hex('2'), datasetVersions: [1], offlineArtifactKey: 'sha256/o', offlineSha256: hex('8'), rows: 8, onlineRows: 8, statsArtifactKey: 'sha256/s', watermark: null, computedRows: 8,
  }),
  recorded('trainingset-ts1', 'TrainingSetBuilt', { trainingSetId: 'ts1', spec: {}, inputs: [{ ref: 'dataset:labels@1', sha256: hex('5') }, { ref: 'featureview:spend@1/materialization:m1', sha256: hex('8') }], artifactKey: 'sha256/t', sha256: hex('9'), rows: 4, columns: [] }),
  recorded('run-r1', 'TrainingRunRequested', {
    runId: 'r1', experiment: 'churn', spec: { b: 1, a: 2 }, seed: 7, inputs: [{ ref: 'dataset:labels@1', sha256: hex('5') }, { ref: 'featureview:spend@1/materialization:m1', sha256: hex('8') }, { ref: 'trainingset:ts1', sha256: hex('9') }],
    data: { artifactKey: 'sha256/t', sha256: hex('9'), rows: 4, trainingSetId: 'ts1' }, featureViews: [{ name: 'spend', version: 1 }], backend: 'wasm', simd: true, libraries: {}, codeVersion: '0.1.0+abc', coordinator: 'x',
  }, 2),
  recorded('run-r1', 'TrialCompleted', { runId: 'r1', trial: 0 }, 2),
  recorded('run-r1', 'TrialCompleted', { runId: 'r1', trial: 1 }, 2),
  recorded('run-r1', 'TrainingRunCompleted', { runId: 'r1', weightsSha256: hex('a'), blessed: true }, 3),
  recorded('model-churn', 'ModelVersionRegistered', { name: 'churn', version: 1, runId: 'r1' }, 3),
  recorded('model-churn', 'ModelAliasAssigned', { name: 'churn', alias: 'production', version: 1, previousVersion: null, kind: 'assigned', reason: 'go', actor: 'ana' }, 4),
  recorded('model-churn', 'ModelAliasRemoved', { name: 'churn', alias: 'production', version: 1, reason: 'pause', actor: 'bo' }, 5),
];

describe('LineageProjection', () => {
  it('builds the graph from a version back to every dataset version, through the training set and the materialization', () => {
    const p = new LineageProjection();
    for (const e of history()) if (p.canHandle(e)) p.handle(e);
    const graph = p.modelVersionGraph('churn', 1)!;
    expect(graph.nodes.map((n) => n.id).sort()).toEqual([
      'dataset:labels@1',
      'dataset:txns@1',
      'featureview:spend@1',
      'featureview:spend@1/materialization:m1',
      'model:churn@1',
      'run:r1',
      'trainingset:ts1',
    ]);
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { from: 'dataset:txns@1', to: 'featureview:spend@1/materialization:m1', relation: 'materialized-from' },
        { from: 'featureview:spend@1', to: 'featureview:spend@1/materialization:m1', relation: 'materialization-of' },
        { from: 'trainingset:ts1', to: 'run:r1', relation: 'trained-on' },
        { from: 'run:r1', to: 'model:churn@1', relation: 'registered-as' },
      ]),
    );
    expect(p.node('dataset:txns@1')).toMatchObject({ sha256: hex('2'), sourceSha256: hex('1'), quarantine: { artifactKey: 'sha256/q', reasons: { out_of_range: 2 } }, qualityReport: { artifactKey: 'sha256/r' } });
    // The spec hash does not depend on key order; the trials are counted.
    expect(p.node('run:r1')).toMatchObject({ trials: 2, status: 'completed', seed: 7, backend: 'wasm', codeVersion: '0.1.0+abc' });
    expect(p.node('model:churn@1')).toMatchObject({ aliases: [{ alias: 'production', from: at(4), to: at(5), kind: 'assigned', reason: 'go', actor: 'ana' }] });
  });

  it('answers the reverse query through materializations', () => {
    const p = new LineageProjection();
    for (const e of history()) if (p.canHandle(e)) p.handle(e);
    expect(p.modelsTrainedOn('txns', 1).map((m) => `${m.model}@${m.version}`)).toEqual(['churn@1']);
    expect(p.modelsTrainedOn('txns', 2)).toEqual([]);
  });

  it('prints a tree and exports OpenLineage RunEvents with the required fields', () => {
    const p = new LineageProjection();
    for (const e of history()) if (p.canHandle(e)) p.handle(e);
    const graph = p.modelVersionGraph('churn', 1)!;
    const tree = renderLineageTree(graph);
    expect(tree.split('\n')[0]).toBe('model churn v1 (active)');
    expect(tree).toContain(`dataset txns v1 (accepted): sha256 ${hex('2')}`);
    const events = toOpenLineage(graph);
    expect(events.map((e) => e.job.name)).toEqual(['ingestion.txns', 'ingestion.labels', 'feature-store.materialize.spend', 'feature-store.training-set', 'training.churn']);
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(['eventTime', 'eventType', 'inputs', 'job', 'outputs', 'producer', 'run', 'schemaURL']);
      expect(e.run.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      for (const f of Object.values(e.run.facets)) expect(f).toMatchObject({ _producer: expect.any(String), _schemaURL: expect.any(String) });
    }
    expect(events[4].outputs.map((o) => o.name)).toEqual(['model:churn@1']);
  });

  it('adds a batch inference job downstream of the version: input sha256 → version → output sha256', () => {
    const p = new LineageProjection();
    const batch = [
      recorded('dataset-scoring', 'DatasetVersionIngested', {
        dataset: 'scoring', version: 2, jobId: 'j3', source: { kind: 'upload', uri: 'scoring.csv', spec: {} }, format: 'csv', sourceSha256: hex('b'), artifactKey: `sha256/${hex('c')}`, sha256: hex('c'),
        rows: 9, accepted: 9, quarantined: 0, schemaHash: hex('6'), schema: {}, inferred: true, reportArtifactKey: 'sha256/r3', quarantineArtifactKey: null, report: {}, status: 'accepted', watermark: null, streamRange: null,
      }, 6),
      recorded('batch-b1', 'BatchInferenceStarted', { jobId: 'b1', model: { name: 'churn', version: 1, alias: 'production' }, input: { kind: 'dataset', artifactKey: `sha256/${hex('c')}`, sha256: hex('c'), rows: 9, dataset: { name: 'scoring', version: 2 } } }, 6),
      recorded('batch-b1', 'BatchInferenceCompleted', { jobId: 'b1', model: { name: 'churn', version: 1 }, inputSha256: hex('c'), rows: 9, predicted: 8, rejected: 1, output: { artifactKey: `sha256/${hex('d')}`, sha256: hex('d'), rows: 8 } }, 7),
    ];
    for (const e of [...history(), ...batch]) if (p.canHandle(e)) p.handle(e);
    const graph = p.modelVersionGraph('churn', 1)!;
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { from: 'model:churn@1', to: 'batch:b1', relation: 'predicted-with' },
        { from: 'dataset:scoring@2', to: 'batch:b1', relation: 'input-of' },
        { from: 'batch:b1', to: `artifact:sha256/${hex('d')}`, relation: 'output-of' },
      ]),
    );
    expect(p.node('batch:b1')).toMatchObject({ status: 'completed', input: { ref: 'dataset:scoring@2', sha256: hex('c') }, output: { sha256: hex('d'), rows: 8 }, rejected: 1 });
    // Scored with, not trained on.
    expect(p.modelsTrainedOn('scoring', 2)).toEqual([]);
    expect(renderLineageTree(graph)).toContain(`  batch inference b1 (completed): input dataset:scoring@2 sha256 ${hex('c').slice(0, 12)}, 9 rows → output sha256 ${hex('d').slice(0, 12)}, 8 rows, 1 rejected`);
    const scored = toOpenLineage(graph).find((e) => e.job.name === 'serving.batch-inference.churn')!;
    expect(scored.inputs.map((i) => i.name)).toEqual(['model:churn@1', 'dataset:scoring@2']);
    expect(scored.outputs.map((o) => o.name)).toEqual([`artifact:sha256/${hex('d')}`]);
  });

  it('rebuilds to the same read model after reset', () => {
    const p = new LineageProjection();
    for (const e of history()) p.handle(e);
    const first = p.snapshot();
    p.reset();
    expect(p.snapshot()).toEqual([]);
    for (const e of history()) p.handle(e);
    expect(p.snapshot()).toEqual(first);
  });
});
