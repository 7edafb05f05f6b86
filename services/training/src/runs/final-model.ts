import type { ArtifactStore } from '@mlp/artifacts';
import { streams, type EventData } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import {
  diagnostics,
  fairnessReport,
  fitOnRows,
  lowerIsBetter,
  modelSpecFor,
  naiveOutput,
  predictRows,
  primaryMetric,
  randomSplit,
  scoreTask,
  predictions,
  SeededRng,
  seeds,
  takeRows,
  timeSplit,
  type EpochLog,
  type ModelOutput,
  type TrainedPipeline,
} from '@mlp/ml';
import { loadStoredModel, predictFrame } from '../engine/model-bundle';
import type { RunContext } from './run-context';

/**
 * The final model: fitted on every training row of the holdout split with
 * the best trial's parameters and the run's final seed. With early stopping,
 * the latest 10% (time splits) or a seeded 10% of those rows is held out for
 * it. Deterministic: a replay calls exactly this.
 */
export async function fitFinalModel(ctx: RunContext, params: Record<string, unknown>, onEpoch?: (e: EpochLog) => Promise<void>): Promise<TrainedPipeline> {
  const { spec, prepared, plan } = ctx;
  const model = modelSpecFor(spec, params);
  let fitRows = plan.holdout.train;
  let valRows: number[] | undefined;
  if (model.earlyStopping && fitRows.length >= 20) {
    const local =
      spec.split.method === 'time' ? timeSplit(fitRows.map((r) => prepared.order![r] as number), { test: 0.1 }) : randomSplit(fitRows.length, { test: 0.1, rng: new SeededRng(seeds.final(spec.seed)) });
    valRows = local.test.map((i) => fitRows[i]);
    fitRows = local.train.map((i) => fitRows[i]);
  }
  return fitOnRows(prepared, spec, fitRows, valRows, model, seeds.final(spec.seed), onEpoch ? { onEpoch } : {});
}

export interface Evaluation {
  data: EventData<'ModelEvaluated'>;
  report: Record<string, unknown>;
}

/**
 * Holdout metrics, confusion matrix and calibration, per-slice and fairness
 * metrics of the sensitive attributes, and the comparison with the baseline
 * (the model holding the `production` alias of the experiment's registered
 * model, scored on the same holdout rows; else a naive model) under the gate.
 */
export async function evaluateFinalModel(ctx: RunContext, trained: TrainedPipeline, store: EventStore, artifacts: ArtifactStore): Promise<Evaluation> {
  const { spec, prepared, plan, request } = ctx;
  const test = plan.holdout.test;
  const yTest = test.map((r) => prepared.y[r]);
  const out = predictRows(trained, prepared, test, spec.task);
  const metrics = scoreTask(yTest, out);
  const sensitive: Record<string, (string | number | boolean | null)[]> = {};
  for (const [c, values] of Object.entries(prepared.sensitive)) sensitive[c] = test.map((r) => values[r]);
  const fairness = Object.keys(sensitive).length ? (fairnessReport(yTest, predictions(out), sensitive, { task: spec.task, positiveLabel: 1 }) as unknown as Record<string, unknown>) : {};
  const slices: Record<string, unknown> = {};
  for (const [attr, rep] of Object.entries((fairness as { attributes?: Record<string, { slices: unknown }> }).attributes ?? {})) slices[attr] = rep.slices;

  const baseline = await baselineOf(ctx, store, artifacts, yTest);
  const metric = primaryMetric(spec);
  const comparison: EventData<'ModelEvaluated'>['comparison'] = {};
  const rules = Object.keys(spec.evaluation.gate).length ? spec.evaluation.gate : baseline.kind === 'none' ? {} : { [metric]: { minDelta: 0 } };
  for (const [m, rule] of Object.entries(rules)) {
    if (!rule) continue;
    const value = metrics[m];
    const b = baseline.metrics[m];
    const delta = value === undefined || b === undefined ? undefined : lowerIsBetter.has(m) ? b - value : value - b;
    let passed = value !== undefined;
    const parts: string[] = [];
    if (rule.minDelta !== undefined) {
      parts.push(`${lowerIsBetter.has(m) ? 'improves on' : 'beats'} ${baseline.kind} by ≥ ${rule.minDelta}`);
      passed &&= delta === undefined ? baseline.kind === 'none' : delta >= rule.minDelta;
    }
    if (rule.min !== undefined) {
      parts.push(`≥ ${rule.min}`);
      passed &&= value >= rule.min;
    }
    if (rule.max !== undefined) {
      parts.push(`≤ ${rule.max}`);
      passed &&= value <= rule.max;
    }
    comparison[m] = { value: value ?? Number.NaN, ...(b !== undefined ? { baseline: b } : {}), ...(delta !== undefined ? { delta } : {}), passed, rule: parts.join(' and ') };
  }
  const blessed = Object.values(comparison).every((c) => c.passed);
  const data: EventData<'ModelEvaluated'> = { runId: request.runId, metrics, slices, fairness, baseline: { kind: baseline.kind, ...(baseline.model ? { model: baseline.model, version: baseline.version } : {}), metrics: baseline.metrics }, comparison, blessed };
  const report = {
    runId: request.runId,
    experiment: request.experiment,
    task: spec.task,
    primaryMetric: metric,
    holdoutRows: test.length,
    metrics,
    ...diagnostics(yTest, out),
    classes: prepared.classes,
    fairness,
    baseline: data.baseline,
    comparison,
    blessed,
    featureNames: trained.featureNames,
    bestEpoch: trained.bestEpoch,
    epochs: trained.epochs,
  };
  return { data, report };
}

interface Baseline {
  kind: 'production' | 'naive' | 'none';
  model?: string;
  version?: number;
  metrics: Record<string, number>;
}

async function baselineOf(ctx: RunContext, store: EventStore, artifacts: ArtifactStore, yTest: number[]): Promise<Baseline> {
  const { spec, prepared, plan } = ctx;
  if (spec.evaluation.baseline === 'none') return { kind: 'none', metrics: {} };
  if (spec.evaluation.baseline === 'production') {
    const prod = await productionModel(store, ctx.request.experiment);
    if (prod) {
      try {
        const loaded = await loadStoredModel(artifacts, prod);
        const frame = takeRows(prepared.features, plan.holdout.test);
        for (const c of loaded.bundle.inputColumns) if (!(c in frame)) throw new Error(`production model needs column '${c}'`);
        const out: ModelOutput = { task: spec.task, nClasses: Math.max(prepared.classes.length, 1), values: predictFrame(loaded, frame, plan.holdout.test.length) };
        loaded.predictor.dispose();
        return { kind: 'production', model: prod.model, version: prod.version, metrics: scoreTask(yTest, out) };
      } catch {
        // an incompatible production model: fall back to the naive baseline
      }
    }
  }
  const yTrain = plan.holdout.train.map((r) => prepared.y[r]);
  return { kind: 'naive', metrics: scoreTask(yTest, naiveOutput(spec.task, yTrain, Math.max(prepared.classes.length, 1), yTest.length)) };
}

/** The version holding `production` on the registered model named like the experiment, with its run's artifacts. */
async function productionModel(store: EventStore, model: string): Promise<{ model: string; version: number; modelKey: string; preprocessingKey: string } | undefined> {
  let events;
  try {
    events = await store.readStream(streams.model(model));
  } catch {
    return undefined;
  }
  let version: number | undefined;
  const runs = new Map<number, string>();
  for (const e of events) {
    const d = e.data as { alias?: string; version?: number; runId?: string };
    if (e.type === 'ModelVersionRegistered' && d.version && d.runId) runs.set(d.version, d.runId);
    if (e.type === 'ModelAliasAssigned' && d.alias === 'production') version = d.version;
    if (e.type === 'ModelAliasRemoved' && d.alias === 'production') version = undefined;
  }
  const runId = version !== undefined ? runs.get(version) : undefined;
  if (!runId || version === undefined) return undefined;
  const completed = (await store.readStream(streams.run(runId))).find((e) => e.type === 'TrainingRunCompleted')?.data as EventData<'TrainingRunCompleted'> | undefined;
  return completed ? { model, version, modelKey: completed.modelArtifactKey, preprocessingKey: completed.preprocessingArtifactKey } : undefined;
}
