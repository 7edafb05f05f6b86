import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { streams, toNewEvent, type ModelSignature } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { fitModel, initBackend, OneHotEncoder, Pipeline, SimpleImputer, StandardScaler, type Frame } from '@mlp/ml';

/** The bench's model: a churn classifier (MLP 64-32 on 3 raw inputs → 5 features), the shape of a typical tabular model. */
export const MODEL = 'benchchurn';

export interface BenchRow {
  tenure: number | null;
  monthly: number;
  plan: string;
}

export function benchRows(n: number): BenchRow[] {
  let s = 7;
  const next = () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const plans = ['basic', 'pro', 'team'];
  return Array.from({ length: n }, () => ({ tenure: Math.round(next() * 600) / 10, monthly: Math.round((20 + next() * 80) * 100) / 100, plan: plans[Math.floor(next() * 3)] }));
}

export function rowsToFrame(rows: readonly BenchRow[]): Frame {
  return { tenure: rows.map((r) => r.tenure), monthly: rows.map((r) => r.monthly), plan: rows.map((r) => r.plan) };
}

/**
 * Fits the model, stores it as training does (content-addressed model.json,
 * weights, preprocessing.json) under `<home>/artifacts`, and records it as
 * version 1 holding `production` in `<home>/events.db`, so serving loads it
 * from the log as in production and the bare server loads the same bytes.
 */
export async function prepareBenchModel(home: string): Promise<{ modelKey: string; preprocessingKey: string }> {
  await initBackend('wasm');
  const artifacts = new FsArtifactStore({ root: join(home, 'artifacts') });
  const store = new SqliteEventStore(join(home, 'events.db'));
  try {
    const rows = benchRows(2000);
    const y = new Int32Array(rows.map((r) => (-(r.tenure ?? 30) / 10 + r.monthly / 25 + (r.plan === 'basic' ? 1.5 : 0) > 0 ? 1 : 0)));
    const pipeline = new Pipeline([
      { name: 'impute', columns: ['tenure'], transformer: new SimpleImputer({ strategy: 'mean' }) },
      { name: 'scale', columns: ['tenure', 'monthly'], transformer: new StandardScaler() },
      { name: 'encode', columns: ['plan'], transformer: new OneHotEncoder() },
    ]);
    const frame = rowsToFrame(rows);
    pipeline.fit(frame);
    const { x, n, d } = pipeline.transformToMatrix(frame);
    const model = await fitModel({ type: 'mlp', layers: [64, 32], epochs: 5, batchSize: 64 }, { x, y, n, d, task: 'binary' }, { seed: 3 });
    const sha = await model.weightsSha256();
    const saved = await model.save(sha);
    model.dispose();
    await artifacts.put(Buffer.from(saved.weights));
    const modelJson = await artifacts.put(Buffer.from(JSON.stringify(saved.modelJson)));
    const classes = ['no', 'yes'];
    const bundle = { kind: 'mlp.preprocessing', version: 1, task: 'binary', label: 'churn', inputColumns: ['tenure', 'monthly', 'plan'], featureNames: pipeline.featureNames(), classes, pipeline: pipeline.toJSON() };
    const pre = await artifacts.put(Buffer.from(JSON.stringify(bundle)));
    const signature: ModelSignature = {
      task: 'binary',
      label: 'churn',
      inputs: [
        { name: 'tenure', type: 'float', nullable: true },
        { name: 'monthly', type: 'float', nullable: false },
        { name: 'plan', type: 'category', nullable: false, values: ['basic', 'pro', 'team'] },
      ],
      features: pipeline.featureNames(),
      outputs: [
        { name: 'churn', type: 'category', classes },
        { name: 'probabilities', type: 'float[1]', classes },
      ],
    };
    const meta = { now: new Date().toISOString(), correlationId: 'bench', causationId: null, actor: 'bench' };
    await store.appendToStream(
      streams.model(MODEL),
      [
        { type: 'RegisteredModelCreated' as const, data: { name: MODEL, description: '', tags: {} } },
        {
          type: 'ModelVersionRegistered' as const,
          data: { name: MODEL, version: 1, runId: 'bench', artifacts: { model: modelJson.key, preprocessing: pre.key }, weightsSha256: sha, signature, metrics: {}, backend: 'wasm' },
        },
        { type: 'ModelAliasAssigned' as const, data: { name: MODEL, alias: 'production', version: 1, previousVersion: null } },
      ].map((e) => toNewEvent(e, meta, { codeVersion: 'bench' })),
    );
    return { modelKey: modelJson.key, preprocessingKey: pre.key };
  } finally {
    await store.close();
  }
}
