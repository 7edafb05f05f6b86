import type { PredictionTelemetry } from '@mlp/contracts';
import { driftReport, SeededRng } from '@mlp/ml';
import { CurrentWindow } from '../windows/current-window';
import type { Reference } from './reference';
import { prepareReference, windowDrift } from './window-drift';

const rng = new SeededRng(42);
const normals = (n: number, mean: number) => Array.from({ length: n }, () => rng.normal(mean, 1));
const picks = (n: number, values: string[], weights: number[]) =>
  Array.from({ length: n }, () => {
    let u = rng.next();
    for (let i = 0; i < values.length; i++) if ((u -= weights[i]) < 0) return values[i];
    return values[values.length - 1];
  });

function reference(columns: { amount: number[]; plan: string[]; prediction: string[] }): Reference {
  return {
    model: 'churn', version: 1, runId: 'run', task: 'binary', classes: ['no', 'yes'], rows: columns.amount.length, sampleArtifactKey: 'k', sampleRows: columns.amount.length,
    kinds: { amount: 'numeric', plan: 'categorical', prediction: 'categorical' },
    sample: { amount: Float64Array.from(columns.amount), plan: columns.plan, prediction: columns.prediction },
    metrics: {},
  };
}

function fill(window: CurrentWindow, amount: number[], plan: string[], prediction: string[]): void {
  amount.forEach((a, i) => {
    const record: PredictionTelemetry = { requestId: `r${i}`, row: 0, model: 'churn', version: 1, arm: 'production', instance: 'i', features: { amount: a, plan: plan[i] ?? null }, prediction: prediction[i] ?? null, latencyMs: 1, at: '2026-12-01T00:00:00.000Z' };
    window.add(record);
  });
}

describe('window drift', () => {
  const ref = { amount: normals(800, 0), plan: picks(800, ['basic', 'plus', 'pro'], [0.5, 0.3, 0.2]), prediction: picks(800, ['no', 'yes'], [0.7, 0.3]) };

  it('equals libs/ml driftReport on the raw columns within the exact limit (KS, chi-squared, Z-test picked as Evidently does); the output is prediction drift, not a feature', () => {
    const cur = { amount: normals(600, 0.4), plan: picks(600, ['basic', 'plus', 'pro'], [0.3, 0.3, 0.4]), prediction: picks(600, ['no', 'yes'], [0.5, 0.5]) };
    const prepared = prepareReference(reference(ref));
    const window = new CurrentWindow('churn', 1, { size: 600 }, prepared.drift, { maxCategories: 100 });
    fill(window, cur.amount, cur.plan, cur.prediction);
    expect(window.full).toBe(true);
    const got = windowDrift(window, prepared.shareThreshold);
    const expected = driftReport(ref, cur, { columns: ['amount', 'plan', 'prediction'] });
    expect([...got.features, got.prediction]).toEqual(expected.features);
    expect(got.features.map((f) => f.method)).toEqual(['ks', 'chisquare']);
    expect(got.prediction?.method).toBe('ztest');
    expect(got).toMatchObject({ driftShare: 1, datasetDrift: true });
    expect(window.summaries.get('amount')!.toJSON()).toMatchObject({ count: 600, missing: 0 });
  });

  it('applies per-feature overrides and the share threshold; an override that cannot apply is dropped with a warning', () => {
    const prepared = prepareReference(reference(ref), { features: { amount: { method: 'psi', threshold: 0.5 }, plan: { method: 'ks' }, nope: { method: 'kl' } }, shareThreshold: 0.4 });
    expect(prepared.warnings).toEqual(["plan: method 'ks' does not apply to a categorical column; the default test is used", 'nope: not a column of the reference; its override is ignored']);
    const window = new CurrentWindow('churn', 1, { size: 400 }, prepared.drift, { maxCategories: 100 });
    fill(window, normals(400, 0.3), picks(400, ['basic', 'plus', 'pro'], [0.5, 0.3, 0.2]), picks(400, ['no', 'yes'], [0.7, 0.3]));
    const got = windowDrift(window, prepared.shareThreshold);
    expect(got.features[0]).toMatchObject({ name: 'amount', method: 'psi', threshold: 0.5, pValue: null });
    expect(got.features[1].method).toBe('chisquare');
    expect(got.shareThreshold).toBe(0.4);
  });

  it('past the exact limit keeps memory bounded: KS stays exact (libs/ml counts per reference interval), Wasserstein comes from the grid within its error bound', () => {
    const xs = normals(50_000, 0.05);
    const exact = driftReport({ amount: ref.amount }, { amount: xs }, { features: { amount: { method: 'ks' } } }).features[0];
    const exactW = driftReport({ amount: ref.amount }, { amount: xs }, { features: { amount: { method: 'wasserstein' } } }).features[0];
    for (const method of ['ks', 'wasserstein'] as const) {
      const prepared = prepareReference(reference(ref), { exactLimit: 1_000, features: { amount: { method } } });
      const window = new CurrentWindow('churn', 1, { size: 100_000 }, prepared.drift, { maxCategories: 100 });
      fill(window, xs, [], []);
      const got = windowDrift(window, 0.5).features[0];
      if (method === 'ks') expect(got).toEqual(exact);
      else {
        expect(got.approximation).toMatchObject({ from: 'grid' });
        expect(Math.abs(got.statistic - exactW.statistic)).toBeLessThanOrEqual(got.approximation!.maxError!);
      }
      const summary = window.summaries.get('amount')!.toJSON() as { count: number; mean: number; min: number };
      expect(summary.count).toBe(50_000);
      expect(summary.mean).toBeCloseTo(xs.reduce((s, x) => s + x, 0) / xs.length, 9);
      expect(summary.min).toBe(Math.min(...xs));
      expect(window.summaries.get('plan')!.toJSON()).toMatchObject({ count: 0, missing: 50_000 });
    }
  });
});
