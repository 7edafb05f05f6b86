import type { PredictionTelemetry } from '@mlp/contracts';
import { driftReport, SeededRng } from '@mlp/ml';
import { CurrentWindow } from '../windows/current-window';
import type { Reference } from './reference';
import { windowDrift } from './window-drift';

const rng = new SeededRng(42);
const normals = (n: number, mean: number) => Array.from({ length: n }, () => rng.normal(mean, 1));
const picks = (n: number, values: string[], weights: number[]) =>
  Array.from({ length: n }, () => {
    let u = rng.next();
    for (let i = 0; i < values.length; i++) if ((u -= weights[i]) < 0) return values[i];
    return values[values.length - 1];
  });

function reference(columns: { amount: number[]; plan: string[]; prediction: string[] }): Reference {
  const counts = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  return {
    model: 'churn', version: 1, runId: 'run', task: 'binary', classes: ['no', 'yes'], rows: columns.amount.length, sampleArtifactKey: 'k',
    kinds: { amount: 'numeric', plan: 'categorical', prediction: 'categorical' },
    numeric: new Map([['amount', Float64Array.from(columns.amount)]]),
    categorical: new Map([['plan', counts(columns.plan)], ['prediction', counts(columns.prediction)]]),
    metrics: {},
  };
}

function fill(window: CurrentWindow, amount: number[], plan: string[], prediction: string[]): void {
  amount.forEach((a, i) => {
    const record: PredictionTelemetry = { requestId: `r${i}`, row: 0, model: 'churn', version: 1, arm: 'production', instance: 'i', features: { amount: a, plan: plan[i] }, prediction: prediction[i], latencyMs: 1, at: '2026-12-01T00:00:00.000Z' };
    window.add(record);
  });
}

describe('window drift', () => {
  const ref = { amount: normals(800, 0), plan: picks(800, ['basic', 'plus', 'pro'], [0.5, 0.3, 0.2]), prediction: picks(800, ['no', 'yes'], [0.7, 0.3]) };
  const kinds = { amount: 'numeric', plan: 'categorical', prediction: 'categorical' } as const;
  const options = { sampleCap: 10_000, maxCategories: 100, seed: 1 };

  it('equals libs/ml driftReport on the raw columns while the window is within the sample cap (KS, chi-squared, Z-test picked as Evidently does)', () => {
    const cur = { amount: normals(600, 0.4), plan: picks(600, ['basic', 'plus', 'pro'], [0.3, 0.3, 0.4]), prediction: picks(600, ['no', 'yes'], [0.5, 0.5]) };
    const window = new CurrentWindow('churn', 1, { size: 600 }, kinds, options);
    fill(window, cur.amount, cur.plan, cur.prediction);
    expect(window.full).toBe(true);
    const got = windowDrift(reference(ref), window);
    const expected = driftReport(ref, cur, { columns: ['amount', 'plan', 'prediction'] });
    expect([...got.features, got.prediction]).toEqual(expected.features);
    expect(got.features.map((f) => f.method)).toEqual(['ks', 'chisquare']);
    expect(got.prediction?.method).toBe('ztest');
    expect(got.features.every((f) => f.drifted)).toBe(true);
    expect(got).toMatchObject({ driftShare: 1, datasetDrift: true, warnings: [] });
  });

  it('applies per-feature overrides and the share threshold; a numeric-only method on a categorical column falls back with a warning', () => {
    const window = new CurrentWindow('churn', 1, { size: 400 }, kinds, options);
    fill(window, normals(400, 0.3), picks(400, ['basic', 'plus', 'pro'], [0.5, 0.3, 0.2]), picks(400, ['no', 'yes'], [0.7, 0.3]));
    const got = windowDrift(reference(ref), window, { features: { amount: { method: 'psi', threshold: 0.5 }, plan: { method: 'ks' } }, shareThreshold: 0.4 });
    expect(got.features[0]).toMatchObject({ name: 'amount', method: 'psi', threshold: 0.5, pValue: null });
    expect(got.features[1].method).toBe('chisquare');
    expect(got.warnings).toEqual(["plan: method 'ks' does not apply to a categorical column; the default test was used"]);
    expect(got.shareThreshold).toBe(0.4);
  });

  it('keeps a bounded uniform sample of a large window, with exact count, mean and bounds', () => {
    const window = new CurrentWindow('churn', 1, { size: 100_000 }, { amount: 'numeric' }, { ...options, sampleCap: 1_000 });
    const xs = normals(50_000, 5);
    fill(window, xs, [], []);
    const sketch = window.columns.get('amount')!;
    expect(sketch.sample().length).toBe(1_000);
    expect(sketch.count).toBe(50_000);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(sketch.mean).toBeCloseTo(mean, 9);
    expect(sketch.min).toBe(Math.min(...xs));
    // every sampled value is one of the window's, and the sample's mean is near the window's (sd 1 / sqrt(1000) ≈ 0.03)
    const all = new Set(xs);
    const sample = Array.from(sketch.sample());
    expect(sample.every((x) => all.has(x))).toBe(true);
    expect(Math.abs(sample.reduce((s, x) => s + x, 0) / sample.length - mean)).toBeLessThan(0.15);
  });
});
