import { join } from 'node:path';
import { streams } from '@mlp/contracts';
import { formatNumber } from '../output';
import { awaitEvent, shortId } from './demo-events';
import { runJson, startAndWait } from './train';

export const demoTrainingSpec = join(__dirname, '..', '..', '..', '..', 'examples', 'training', 'penguins-demo.train.yaml');

interface Evaluated {
  metrics: Record<string, number>;
  baseline: { kind: string; metrics: Record<string, number> };
  fairness: { attributes?: Record<string, { slices: Record<string, { count: number; accuracy?: number | null }> }> };
}

/** Trains the penguins classifier (a short seeded search with 3-fold cross-validation) on the latest penguins version. */
export async function demoTraining(json: boolean): Promise<{ lines: string[]; json: ReturnType<typeof runJson>; experiment: string; runId: string; blessed: boolean }> {
  const run = await startAndWait(demoTrainingSpec, { json, watch: false });
  if (run.status !== 'Completed') throw new Error(`demo training ${run.status}: ${run.error ?? ''}`);
  const m = run.metrics ?? {};
  const best = run.trials.reduce<(typeof run.trials)[number] | undefined>((b, t) => (t.metrics.accuracy !== undefined && (!b || t.metrics.accuracy > (b.metrics.accuracy ?? -1)) ? t : b), undefined);
  const lines = [
    `trained '${run.experiment}' (run ${shortId(run.runId)}, seed 42): ${run.trials.length} trials of a random search, 3-fold cross-validation each`,
    ...run.trials.map((t) => `  trial ${t.trial}: ${formatParams(t.params)}  cv accuracy ${formatNumber(t.metrics.accuracy ?? NaN)}${t === best ? '  (best)' : ''}`),
    `holdout: ${['accuracy', 'f1_macro', 'log_loss'].filter((k) => m[k] !== undefined).map((k) => `${k} ${formatNumber(m[k])}`).join(', ')}; gate accuracy >= 0.9: ${run.blessed ? 'passed (blessed)' : 'failed'}`,
  ];
  return { lines, json: runJson(run), experiment: run.experiment, runId: run.runId, blessed: run.blessed === true };
}

/** The evaluation of a run as its ModelEvaluated event holds it: holdout metrics and the fairness slices by the sensitive column. */
export async function demoEvaluation(runId: string): Promise<{ lines: string[]; json: unknown }> {
  const evaluated = await awaitEvent<Evaluated>('ModelEvaluated', { stream: streams.run(runId), timeoutMs: 30_000 });
  const { metrics, baseline } = evaluated.data;
  const shown = ['accuracy', 'f1_macro', 'precision_macro', 'recall_macro'].filter((k) => metrics[k] !== undefined);
  const lines = [
    `ModelEvaluated on the 25 % holdout: ${shown.map((k) => `${k} ${formatNumber(metrics[k])}`).join(', ')}`,
    `  against the ${baseline.kind} baseline: ${shown.filter((k) => baseline.metrics[k] !== undefined).map((k) => `${k} ${formatNumber(baseline.metrics[k])}`).join(', ') || '-'}`,
    'fairness slices on the holdout (sensitive column sex: not a feature):',
  ];
  for (const [attribute, report] of Object.entries(evaluated.data.fairness.attributes ?? {})) {
    const slices = Object.entries(report.slices);
    const accuracies = slices.map(([, s]) => s.accuracy).filter((a): a is number => typeof a === 'number');
    for (const [value, s] of slices) lines.push(`  ${attribute}=${value}: ${s.count} rows, accuracy ${formatNumber(s.accuracy ?? NaN)}`);
    if (accuracies.length > 1) lines.push(`  accuracy gap between ${attribute} slices: ${formatNumber(Math.max(...accuracies) - Math.min(...accuracies))}`);
  }
  return { lines, json: { fairness: evaluated.data.fairness } };
}

const formatParams = (params: Record<string, unknown>) =>
  Object.entries(params)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)}`)
    .join(', ');
