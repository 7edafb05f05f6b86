import { createHash } from 'node:crypto';
import type { ArtifactStore } from '@mlp/artifacts';
import { streams, toNewEvent, type DomainEventInput, type EventType, type ModelSignature } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { fitModel, initBackend, OneHotEncoder, Pipeline, SimpleImputer, StandardScaler, type Category, type Frame, type Predictor } from '@mlp/ml';

/** One customer row, as a client sends it. */
export interface ChurnRow {
  tenure: number | null;
  monthly: number;
  plan: string;
}

/** Deterministic churn rows (LCG): churn is likely with a short tenure on the basic plan and a high monthly bill. */
export function churnRows(n: number, seed = 7): { rows: ChurnRow[]; labels: string[] } {
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const plans = ['basic', 'pro', 'team'];
  const rows: ChurnRow[] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const tenure = Math.round(next() * 600) / 10;
    const monthly = Math.round((20 + next() * 80) * 100) / 100;
    const plan = plans[Math.floor(next() * 3)];
    const score = -tenure / 10 + monthly / 25 + (plan === 'basic' ? 1.5 : plan === 'pro' ? 0 : -1) + (next() - 0.5);
    rows.push({ tenure: i % 17 === 5 ? null : tenure, monthly, plan });
    labels.push(score > 0 ? 'yes' : 'no');
  }
  return { rows, labels };
}

/** Columns of the rows; `prefix` names them like a training set's feature-view columns (`cust__tenure`). */
export function toFrame(rows: readonly ChurnRow[], prefix = ''): Frame {
  return { [`${prefix}tenure`]: rows.map((r) => r.tenure), [`${prefix}monthly`]: rows.map((r) => r.monthly), [`${prefix}plan`]: rows.map((r) => r.plan) };
}

export interface StoredTinyModel {
  artifacts: { model: string; weights: string; preprocessing: string };
  weightsSha256: string;
  signature: ModelSignature;
  pipeline: Pipeline;
  predictor: Predictor;
  classes: Category[];
  /** P(yes) per row, as the model computes it offline. */
  offline(rows: readonly ChurnRow[]): Float32Array;
}

/**
 * A binary churn classifier fitted with libs/ml and stored the way training
 * stores a run's model: `sha256/<w>` weights, a model.json whose manifest
 * names `<w>`, and a `preprocessing.json` bundle with the fitted pipeline.
 * `epochs` changes the weights, so two calls with different epochs make two
 * distinguishable versions.
 */
export async function storeTinyModel(artifacts: ArtifactStore, options: { epochs?: number; seed?: number; prefix?: string } = {}): Promise<StoredTinyModel> {
  const px = options.prefix ?? '';
  await initBackend('wasm');
  const { rows, labels } = churnRows(300);
  const classes: Category[] = ['no', 'yes'];
  const pipeline = new Pipeline([
    { name: 'impute', columns: [`${px}tenure`], transformer: new SimpleImputer({ strategy: 'mean' }) },
    { name: 'scale', columns: [`${px}tenure`, `${px}monthly`], transformer: new StandardScaler() },
    { name: 'encode', columns: [`${px}plan`], transformer: new OneHotEncoder() },
  ]);
  const frame = toFrame(rows, px);
  pipeline.fit(frame);
  const { x, n, d } = pipeline.transformToMatrix(frame);
  const y = new Int32Array(labels.map((l) => (l === 'yes' ? 1 : 0)));
  const model = await fitModel({ type: 'logistic', epochs: options.epochs ?? 20, batchSize: 32, learningRate: 0.05 }, { x, y, n, d, task: 'binary' }, { seed: options.seed ?? 1 });
  const weightsSha256 = await model.weightsSha256();
  const saved = await model.save(weightsSha256);
  const weights = await artifacts.put(Buffer.from(saved.weights));
  const modelJson = await artifacts.put(Buffer.from(JSON.stringify(saved.modelJson)));
  const bundle = { kind: 'mlp.preprocessing', version: 1, task: 'binary', label: 'churn', inputColumns: [`${px}tenure`, `${px}monthly`, `${px}plan`], featureNames: pipeline.featureNames(), classes, pipeline: pipeline.toJSON() };
  const pre = await artifacts.put(Buffer.from(JSON.stringify(bundle)));
  const signature: ModelSignature = {
    task: 'binary',
    label: 'churn',
    inputs: [
      { name: `${px}tenure`, type: 'float', nullable: true },
      { name: `${px}monthly`, type: 'float', nullable: false },
      { name: `${px}plan`, type: 'category', nullable: false, values: ['basic', 'pro', 'team'] },
    ],
    features: pipeline.featureNames(),
    outputs: [
      { name: 'churn', type: 'category', classes },
      { name: 'probabilities', type: 'float[1]', classes },
    ],
  };
  return {
    artifacts: { model: modelJson.key, weights: weights.key, preprocessing: pre.key },
    weightsSha256,
    signature,
    pipeline,
    predictor: model,
    classes,
    offline: (r) => {
      const m = pipeline.transformToMatrix(toFrame(r, px));
      return model.predict(m.x, m.n);
    },
  };
}

/** What serving's V2 metadata says of a tiny churn model (REST `GET /v2/models/{m}` and gRPC ModelMetadata alike). */
export function churnV2Metadata(name: string, versions: string[]) {
  return {
    name,
    versions,
    platform: 'tensorflowjs_layers',
    inputs: [
      { name: 'tenure', datatype: 'FP64', shape: [-1] },
      { name: 'monthly', datatype: 'FP64', shape: [-1] },
      { name: 'plan', datatype: 'BYTES', shape: [-1] },
    ],
    outputs: [
      { name: 'churn', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 1] },
    ],
  };
}

/** Stores a tiny churn model, registers it as version 1 of `name` and gives it the `production` alias. */
export async function promoteTinyModel(p: { artifacts: ArtifactStore; store: EventStore }, options: { name?: string; epochs?: number; seed?: number } = {}): Promise<StoredTinyModel> {
  const name = options.name ?? 'churn';
  const stored = await storeTinyModel(p.artifacts, options);
  await registerVersion(p.store, name, 1, stored);
  await assignAlias(p.store, name, 'production', 1);
  return stored;
}

const meta = () => ({ now: new Date().toISOString(), correlationId: createHash('sha1').update(String(Math.random())).digest('hex'), causationId: null, actor: 'test' });

export async function appendModelEvents(store: EventStore, name: string, events: DomainEventInput<EventType>[]): Promise<void> {
  await store.appendToStream(streams.model(name), events.map((e) => toNewEvent(e, meta(), { codeVersion: 'test' })));
}

/** What the registry appends when it registers a version (the first one creates the model). */
export async function registerVersion(store: EventStore, name: string, version: number, stored: Pick<StoredTinyModel, 'artifacts' | 'weightsSha256' | 'signature'>, extra: { backend?: string; featureViews?: string[] } = {}): Promise<void> {
  const events: DomainEventInput<EventType>[] = [];
  if (version === 1) events.push({ type: 'RegisteredModelCreated', data: { name, description: '', tags: {} } });
  events.push({
    type: 'ModelVersionRegistered',
    data: {
      name,
      version,
      runId: `run-of-${name}-${version}`,
      artifacts: stored.artifacts,
      weightsSha256: stored.weightsSha256,
      signature: stored.signature,
      metrics: {},
      backend: extra.backend ?? 'wasm',
      lineage: { inputs: [], featureViews: extra.featureViews ?? [] },
    },
  });
  await appendModelEvents(store, name, events);
}

export async function assignAlias(store: EventStore, name: string, alias: string, version: number, previousVersion: number | null = null): Promise<void> {
  await appendModelEvents(store, name, [{ type: 'ModelAliasAssigned', data: { name, alias, version, previousVersion, kind: previousVersion === null ? 'assigned' : 'moved' } }]);
}

export async function removeAlias(store: EventStore, name: string, alias: string, version: number): Promise<void> {
  await appendModelEvents(store, name, [{ type: 'ModelAliasRemoved', data: { name, alias, version } }]);
}
