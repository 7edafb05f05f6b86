import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { IllegalStateError } from '@mlp/contracts';
import { literal, openDuck } from '@mlp/duckdb';
import { cellAt, fitOnRows, initBackend, isCodedColumn, modelSpecFor, parseTrainingSpec, prepareTrainingData, type Column } from '@mlp/ml';
import { loadParquetFrame } from './load-frame';

jest.setTimeout(60_000);

let dir: string;
let store: FsArtifactStore;

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'mlp-load-frame-'));
  store = new FsArtifactStore({ root: join(dir, 'artifacts') });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A Parquet written by DuckDB from `select`, stored as an artifact. */
async function parquetArtifact(select: string): Promise<{ key: string; sha256: string }> {
  const duck = await openDuck(join(dir, `duck-${Math.random()}`));
  const path = join(dir, `${Math.random()}.parquet`);
  try {
    await duck.run(`COPY (${select}) TO ${literal(path)} (FORMAT PARQUET)`);
  } finally {
    duck.close();
  }
  const put = await store.put(await readFile(path));
  return { key: put.key, sha256: put.sha256 };
}

const values = (col: Column) => Array.from({ length: isCodedColumn(col) ? col.codes.length : col.length }, (_, i) => cellAt(col, i));

describe('loadParquetFrame', () => {
  it('reads typed columns: float32 where it loses nothing, float64 where it would, codes for text and booleans, epoch ms for dates', async () => {
    const { key, sha256 } = await parquetArtifact(`
      SELECT i,
             i::DOUBLE / 8 AS eighths,
             12345678.0 + i / 100 AS offset_price,
             4000000000 + i AS big_id,
             CASE WHEN i = 2 THEN 1e308 ELSE i END::DOUBLE AS huge,
             ['basic', 'pro', NULL][i % 3 + 1] AS plan,
             i % 2 = 0 AS even,
             DATE '2024-01-01' + i::INTEGER AS day
      FROM range(6) t(i)`);
    const loaded = await loadParquetFrame(store, key, sha256);
    const { frame, types } = loaded;
    expect(loaded.rows).toBe(6);
    expect(loaded.sha256).toBe(sha256);
    expect(types).toEqual({ i: 'numeric', eighths: 'numeric', offset_price: 'numeric', big_id: 'numeric', huge: 'numeric', plan: 'categorical', even: 'categorical', day: 'datetime' });
    expect(frame.i).toBeInstanceOf(Float32Array);
    expect(frame.eighths).toBeInstanceOf(Float32Array); // exact in float32
    expect(values(frame.eighths)).toEqual([0, 0.125, 0.25, 0.375, 0.5, 0.625]);
    // float32 would round 12345678.01 to 12345678: the spread would be lost.
    expect(frame.offset_price).toBeInstanceOf(Float64Array);
    expect(values(frame.offset_price)[1]).toBe(12345678.01);
    expect(frame.big_id).toBeInstanceOf(Float64Array);
    expect(values(frame.big_id)[5]).toBe(4000000005);
    expect(frame.huge).toBeInstanceOf(Float64Array); // 1e308 is finite, beyond float32
    expect(values(frame.huge)[2]).toBe(1e308);
    expect(isCodedColumn(frame.plan) && frame.plan.codes).toEqual(new Int32Array([0, 1, -1, 0, 1, -1]));
    expect(values(frame.plan)).toEqual(['basic', 'pro', null, 'basic', 'pro', null]);
    expect(values(frame.even)).toEqual([true, false, true, false, true, false]);
    expect(frame.day).toBeInstanceOf(Float64Array);
    expect(values(frame.day)[1]).toBe(Date.UTC(2024, 0, 2));
    expect(loaded.nonFinite).toEqual({});
  });

  it('reads NaN and ±Infinity as missing and counts them; training on them with an impute step gives finite weights', async () => {
    const { key, sha256 } = await parquetArtifact(`
      SELECT i::DOUBLE AS a,
             CASE i % 10 WHEN 3 THEN 'nan'::DOUBLE WHEN 5 THEN 'inf'::DOUBLE WHEN 7 THEN '-inf'::DOUBLE ELSE sin(i) END AS b,
             CASE WHEN i = 4 THEN 'nan'::FLOAT ELSE i::FLOAT / 4 END AS c,
             (i % 3 = 0)::INTEGER AS y
      FROM range(120) t(i)`);
    const loaded = await loadParquetFrame(store, key, sha256);
    expect(loaded.nonFinite).toEqual({ b: 36, c: 1 });
    const b = values(loaded.frame.b);
    expect([b[3], b[5], b[7], b[13]]).toEqual([null, null, null, null]);
    expect(Number.isNaN((loaded.frame.c as Float32Array)[4])).toBe(true);

    const spec = parseTrainingSpec({
      experiment: 'e',
      task: 'binary',
      data: { dataset: { name: 'd' }, label: 'y' },
      preprocessing: [{ impute: 'median' }, { scale: 'standard' }],
      model: { type: 'mlp', layers: [8], epochs: 2, batchSize: 16 },
    });
    const prepared = prepareTrainingData(loaded.frame, loaded.types, spec, { nonFinite: loaded.nonFinite });
    expect(prepared.nonFinite).toEqual({ b: 36, c: 1 });
    const rows = Array.from({ length: prepared.rows }, (_, i) => i);
    const trained = await fitOnRows(prepared, spec, rows, undefined, modelSpecFor(spec, {}), 5);
    try {
      const weights = new Float32Array((await trained.model.save('w')).weights);
      expect(weights.length).toBeGreaterThan(0);
      expect(weights.every((w) => Number.isFinite(w))).toBe(true);
    } finally {
      trained.model.dispose();
    }
  });

  it('refuses bytes other than the recorded sha256', async () => {
    const { key } = await parquetArtifact('SELECT 1 AS a');
    const error = await loadParquetFrame(store, key, 'f'.repeat(64)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IllegalStateError);
    expect((error as IllegalStateError).code).toBe('INPUT_CHANGED');
    expect((error as Error).message).toMatch(/but the run recorded f{64}/);
  });
});
