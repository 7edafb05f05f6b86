import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { IngestionOutcome } from '@mlp/contracts';
import { eventually, repoRoot } from '@mlp/testing';
import { startTrainingPlatform, type TrainingPlatform } from './testing/platform.fixture';
import type { RunView } from './runs/runs.projection';

const SPEC = `experiment: penguins
task: multiclass
data:
  dataset: {name: penguins}
  label: species
  sensitive: [sex]
preprocessing:
  - {impute: median, columns: numeric}
  - {impute: most_frequent, columns: categorical}
  - {scale: standard, columns: numeric}
  - {encode: onehot, columns: categorical}
split: {method: stratified, test: 0.25}
cv: {folds: 3, method: stratified}
model: {type: mlp, layers: [16], epochs: 40, batchSize: 32, learningRate: 0.01, earlyStopping: {patience: 5}}
search: {method: random, trials: 3, parallelism: 2, metric: accuracy, space: {lr: {loguniform: [0.003, 0.03]}, layers: {choice: [[8], [16]]}}}
seed: 7
evaluation: {baseline: production, gate: {accuracy: {min: 0.8}}}
`;

describe('training service (in process, embedded queue)', () => {
  jest.setTimeout(240_000);
  let p: TrainingPlatform;
  const train = (path: string, init?: RequestInit) => fetch(`${p.training.url}${path}`, init);

  async function runToEnd(yaml: string): Promise<RunView> {
    const res = await train('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: yaml });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    return waitRun(runId, (r) => r.status !== 'Running' && r.status !== 'Cancelling');
  }

  const getRun = async (runId: string) => (await (await train(`/runs/${runId}`)).json()) as RunView;
  const waitRun = (runId: string, done: (r: RunView) => boolean, timeoutMs = 200_000) =>
    eventually(async () => {
      const r = await getRun(runId);
      return done(r) ? r : undefined;
    }, timeoutMs, `run ${runId}`);

  beforeAll(async () => {
    p = await startTrainingPlatform();
    const schema = readFileSync(join(repoRoot, 'examples/data/penguins.schema.yaml'), 'utf8');
    expect((await fetch(`${p.ingestion.url}/datasets/penguins/schema`, { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: schema })).status).toBeLessThan(300);
    const csv = readFileSync(join(repoRoot, 'examples/data/penguins.csv'));
    const up = await fetch(`${p.ingestion.url}/datasets/penguins/upload?format=csv&null=NA`, { method: 'PUT', body: csv });
    expect(((await up.json()) as IngestionOutcome).status).toBe('accepted');
  });
  afterAll(async () => p?.close());

  it('rejects an invalid spec with every wrong field named', async () => {
    const bad = SPEC.replace('task: multiclass', 'task: clustering').replace('folds: 3', 'folds: 1').replace("label: species", 'label: species\n  colour: red');
    const res = await train('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: bad });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { details: { path: string; message: string }[] };
    expect(body.details.map((d) => d.path).sort()).toEqual(['cv.folds', 'data.colour', 'task']);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('names columns that do not exist', async () => {
    const run = await runToEnd(SPEC.replace('sensitive: [sex]', 'sensitive: [gender]\n  exclude: [nickname]'));
    expect(run.status).toBe('Failed');
    expect(run.error).toMatch(/gender/);
    expect(run.error).toMatch(/nickname/);
  });

  let first: RunView;
  it('trains, searches, evaluates and stores a loadable tfjs model with its card', async () => {
    first = await runToEnd(SPEC);
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('Completed');
    expect(first.rows).toBe(342); // 344 penguins; the 2 without measurements are quarantined at ingestion
    expect(first.trials).toHaveLength(3);
    expect(first.trials.every((t) => t.status === 'complete' || t.status === 'pruned')).toBe(true);
    expect(first.metrics!.accuracy).toBeGreaterThan(0.9);
    expect(first.evaluation!.baseline.kind).toBe('naive');
    expect(first.evaluation!.baseline.metrics.accuracy).toBeLessThan(0.5);
    expect(first.blessed).toBe(true);
    const fairness = first.evaluation!.fairness as { attributes: { sex: { slices: Record<string, { count: number }> } } };
    expect(Object.keys(fairness.attributes.sex.slices).sort()).toEqual(expect.arrayContaining(['female', 'male']));

    // The model is a standard tfjs layers model: model.json + weights named by the manifest.
    const modelJson = JSON.parse((await p.artifacts.getBuffer(first.artifacts!.model)).toString('utf8'));
    expect(modelJson.format).toBe('layers-model');
    const weights = await p.artifacts.getBuffer(`sha256/${modelJson.weightsManifest[0].paths[0]}`);
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: new Uint8Array(weights).buffer }));
    const pre = JSON.parse((await p.artifacts.getBuffer(first.artifacts!.preprocessing)).toString('utf8'));
    expect(model.inputs[0].shape[1]).toBe(pre.featureNames.length);
    expect(pre.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    model.dispose();

    const card = await (await train(`/runs/${first.runId}/artifacts/model-card`)).text();
    expect(card).toMatch(/# Model card: penguins/);
    expect(card).toMatch(/## Fairness/);
    expect(card).toContain(first.weightsSha256!);
    const curves = (await (await train(`/runs/${first.runId}/curves`)).json()) as { curves: Record<string, { epoch: number; metrics: { loss: number } }[]> };
    expect(curves.curves.final.length).toBeGreaterThan(0);
    expect(curves.curves['0/0'][0].metrics.loss).toBeGreaterThan(0);
  });

  it('is deterministic: the same spec gives the same weights, and a replay says identical', async () => {
    const second = await runToEnd(SPEC);
    expect(second.status).toBe('Completed');
    expect(second.trials.map((t) => t.params)).toEqual(first.trials.map((t) => t.params));
    expect(second.weightsSha256).toBe(first.weightsSha256);
    const replay = (await (await train(`/runs/${first.runId}/replay`, { method: 'POST' })).json()) as { identical: boolean; original: string; replayed: string };
    expect(replay).toMatchObject({ identical: true, original: first.weightsSha256, replayed: first.weightsSha256 });
    const compare = (await (await train(`/runs/compare?ids=${first.runId},${second.runId}`)).json()) as { metrics: { metric: string; deltas: (number | null)[] }[] };
    expect(compare.metrics.find((m) => m.metric === 'accuracy')!.deltas).toEqual([0, 0]);
    const listed = (await (await train('/runs?experiment=penguins&orderBy=accuracy')).json()) as { runs: RunView[] };
    expect(listed.runs.map((r) => r.runId)).toEqual(expect.arrayContaining([first.runId, second.runId]));
  });

  it('cancels a run', async () => {
    const res = await train('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SPEC.replace('trials: 3', 'trials: 30').replace('epochs: 40', 'epochs: 200') });
    const { runId } = (await res.json()) as { runId: string };
    await waitRun(runId, (r) => r.trials.length > 0, 60_000);
    expect((await train(`/runs/${runId}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(202);
    const run = await waitRun(runId, (r) => r.status === 'Cancelled', 60_000);
    expect(run.trials.length).toBeLessThan(30);
  });
});
