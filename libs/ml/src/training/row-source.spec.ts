import { CHUNK_ROWS, fitModel, initBackend } from '../models';
import { SeededRng } from '../random/seeded-rng';
import { pipelineFromSpec } from './preprocessing-from-spec';
import { prepareTrainingData, toMatrix } from './prepare';
import { fitOnRows, modelSpecFor } from './trainer';
import { parseTrainingSpec } from './training-spec';

jest.setTimeout(120_000);

beforeAll(async () => {
  await initBackend('wasm');
});

describe('fitOnRows on more rows than one chunk', () => {
  it('preprocesses each chunk from the typed columns to exactly the weights of a fit on the whole transformed matrix', async () => {
    const n = CHUNK_ROWS + 12_000;
    const rng = new SeededRng(3);
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      a[i] = i % 997 === 0 ? Number.NaN : 50 + 10 * rng.normal();
      b[i] = rng.normal();
      y.push(Number((a[i] || 50) - 50 + 5 * b[i] > 0));
    }
    const spec = parseTrainingSpec({
      experiment: 'e',
      task: 'binary',
      data: { dataset: { name: 'd' }, label: 'y' },
      preprocessing: [{ impute: 'median' }, { scale: 'standard' }],
      model: { type: 'logistic', epochs: 2, batchSize: 512 },
    });
    const prepared = prepareTrainingData({ a, b, y }, { a: 'numeric', b: 'numeric', y: 'numeric' }, spec);
    // Four rows in five: the fit's rows are not the prepared rows 0..n-1, so the chunks map indices back.
    const rows = Array.from({ length: n }, (_, i) => i).filter((r) => r % 5 !== 0);
    expect(rows.length).toBeGreaterThan(CHUNK_ROWS);
    const trained = await fitOnRows(prepared, spec, rows, undefined, modelSpecFor(spec, {}), 11);
    // The reference: the same pipeline fitted on the same rows, the whole matrix at once.
    const frame = { a: Float32Array.from(rows, (r) => a[r]), b: Float32Array.from(rows, (r) => b[r]) };
    const pipeline = pipelineFromSpec(spec).fit(frame, rows.map((r) => y[r]));
    const { x, d } = toMatrix(pipeline.transform(frame), pipeline.featureNames());
    const reference = await fitModel(modelSpecFor(spec, {}), { x, y: Float32Array.from(rows, (r) => y[r]), n: rows.length, d, task: 'binary', nClasses: 2 }, { seed: 11 });
    try {
      expect(await trained.model.weightsSha256()).toBe(await reference.weightsSha256());
    } finally {
      trained.model.dispose();
      reference.dispose();
    }
  });
});
