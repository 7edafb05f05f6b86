import { streams, type EventData, type IngestionOutcome } from '@mlp/contracts';
import { eventually } from '@mlp/testing';
import { loadStoredModel, predictFrame } from './engine/model-bundle';
import type { RunView } from './runs/runs.projection';
import { startTrainingPlatform, type TrainingPlatform } from './testing/platform.fixture';

const SCHEMA = `dataset: sales
columns:
  sold:   {type: date, required: true}
  listed: {type: string}
  y:      {type: float, required: true}
`;

const SPEC = `experiment: sales
task: regression
data:
  dataset: {name: sales}
  label: y
preprocessing:
  - {scale: standard, columns: numeric}
split: {method: random, test: 0.2}
cv: {folds: 2}
model: {type: linear, epochs: 60, batchSize: 32, learningRate: 0.3}
evaluation: {baseline: naive}
seed: 5
`;

const DAY_MS = 86_400_000;

/**
 * 400 sales: `sold` (a DATE column) in 2022–2023 carries the only signal,
 * y = 3·month + 8·is_weekend + N(0, 1); `listed` is text in DD.MM.YYYY
 * holding unrelated dates. Deterministic (a fixed LCG).
 */
function salesCsv(): string {
  let state = 12345;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const lines = ['sold,listed,y'];
  for (let i = 0; i < 400; i++) {
    const sold = new Date((18_993 + Math.floor(next() * 730)) * DAY_MS);
    const listed = new Date((18_000 + Math.floor(next() * 2000)) * DAY_MS);
    const weekend = sold.getUTCDay() === 0 || sold.getUTCDay() === 6 ? 1 : 0;
    const noise = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const dmy = `${String(listed.getUTCDate()).padStart(2, '0')}.${String(listed.getUTCMonth() + 1).padStart(2, '0')}.${listed.getUTCFullYear()}`;
    lines.push(`${sold.toISOString().slice(0, 10)},${dmy},${(3 * (sold.getUTCMonth() + 1) + 8 * weekend + noise).toFixed(4)}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('training on a dataset with date columns (in process)', () => {
  jest.setTimeout(240_000);
  let p: TrainingPlatform;
  const train = (path: string, init?: RequestInit) => fetch(`${p.training.url}${path}`, init);

  beforeAll(async () => {
    p = await startTrainingPlatform();
    expect((await fetch(`${p.ingestion.url}/datasets/sales/schema`, { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: SCHEMA })).status).toBeLessThan(300);
    const up = await fetch(`${p.ingestion.url}/datasets/sales/upload?format=csv`, { method: 'PUT', body: salesCsv() });
    expect(((await up.json()) as IngestionOutcome).status).toBe('accepted');
  });
  afterAll(async () => p?.close());

  it('takes the dates apart instead of dropping them, records the parts, and serves raw date rows through the stored pipeline', async () => {
    const res = await train('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SPEC });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    const run = await eventually(async () => {
      const r = (await (await train(`/runs/${runId}`)).json()) as RunView;
      return r.status !== 'Running' && r.status !== 'Cancelling' ? r : undefined;
    }, 200_000, `run ${runId}`);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Completed');

    // The record: both date columns are features, taken apart; none is dropped.
    const prepared = (await p.store.readStream(streams.run(runId))).find((e) => e.type === 'TrainingDataPrepared')!.data as EventData<'TrainingDataPrepared'>;
    expect(prepared.features).toEqual(['sold', 'listed']);
    expect(prepared.dropped).toEqual([]);
    expect(prepared.warnings).toEqual(
      expect.arrayContaining([
        "column 'sold': date column taken apart automatically into sold_year, sold_month, sold_day, sold_dayofweek, sold_dayofyear, sold_is_weekend, sold_epoch (constant over the labelled rows, left out: hour, minute)",
        expect.stringMatching(/^column 'listed': date column taken apart automatically into listed_year, listed_month, .*listed_epoch/),
      ]),
    );
    expect(run.warnings).toEqual(prepared.warnings);

    // y is linear in month and is_weekend: the error falls to the noise (σ = 1); predicting the mean (the naive baseline) leaves ≈ 11.
    expect(run.metrics!.rmse).toBeLessThan(2);
    expect(run.evaluation!.baseline.metrics.rmse).toBeGreaterThan(9);

    // Serving: the stored preprocessing takes raw date text apart the same way.
    const model = await loadStoredModel(p.artifacts, { modelKey: run.artifacts!.model, preprocessingKey: run.artifacts!.preprocessing });
    expect(model.bundle.inputColumns).toEqual(['sold', 'listed']);
    const steps = (model.bundle.pipeline as { steps: { name: string; columns: string[]; transformer: { kind: string } }[] }).steps;
    expect(steps[0]).toMatchObject({ name: 'dateparts_auto', columns: ['sold', 'listed'], transformer: { kind: 'DateParts' } });
    // 2023-07-01 is a Saturday in July (y ≈ 21 + 8 = 29); 2023-01-04 a Wednesday in January (y ≈ 3).
    const out = predictFrame(model, { sold: ['2023-07-01', '2023-01-04T10:00:00+01:00'], listed: ['01.02.2021', null] }, 2);
    expect(out[0]).toBeGreaterThan(26);
    expect(out[0]).toBeLessThan(32);
    expect(out[1]).toBeGreaterThan(0);
    expect(out[1]).toBeLessThan(6);
  });
});
