import type { ArtifactStore } from '@mlp/artifacts';
import { IllegalStateError, streams, type EventData } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import type { Logger } from '@mlp/service-kit';
import {
  diagnostics,
  fairnessReport,
  fitOnRows,
  lowerIsBetter,
  modelSpecFor,
  naiveOutput,
  positiveClassIndex,
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
export async function evaluateFinalModel(ctx: RunContext, trained: TrainedPipeline, store: EventStore, artifacts: ArtifactStore, logger?: Logger): Promise<Evaluation> {
  const { spec, prepared, plan, request } = ctx;
  const test = plan.holdout.test;
  const yTest = test.map((r) => prepared.y[r]);
  const out = predictRows(trained, prepared, test, spec.task);
  const omittedMetrics: Record<string, string> = {};
  const metrics = scoreTask(yTest, out, omittedMetrics);
  const sensitive: Record<string, (string | number | boolean | null)[]> = {};
  for (const [c, values] of Object.entries(prepared.sensitive)) sensitive[c] = test.map((r) => values[r]);
  const fairness = Object.keys(sensitive).length ? { ...fairnessOf(ctx, yTest, predictions(out), sensitive) } : {};
  const slices: Record<string, unknown> = {};
  for (const [attr, rep] of Object.entries((fairness as { attributes?: Record<string, { slices: unknown }> }).attributes ?? {})) slices[attr] = rep.slices;

  const baseline = await baselineOf(ctx, store, artifacts, yTest, logger);
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
  const gateFailures = Object.entries(comparison)
    .filter(([, c]) => !c.passed)
    .map(([m, c]) => gateFailure(m, c, metrics[m] === undefined ? omittedMetrics[m] : undefined));
  const data: EventData<'ModelEvaluated'> = {
    runId: request.runId,
    metrics,
    slices,
    fairness,
    baseline: {
      kind: baseline.kind,
      ...(baseline.model ? { model: baseline.model, version: baseline.version } : {}),
      metrics: baseline.metrics,
      ...(baseline.kind !== spec.evaluation.baseline ? { requested: spec.evaluation.baseline } : {}),
      ...(baseline.fallbackReason ? { fallbackReason: baseline.fallbackReason } : {}),
    },
    comparison,
    blessed,
    ...(gateFailures.length ? { gateFailures } : {}),
    ...(Object.keys(omittedMetrics).length ? { omittedMetrics } : {}),
  };
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
    gateFailures,
    omittedMetrics,
    featureNames: trained.featureNames,
    bestEpoch: trained.bestEpoch,
    epochs: trained.epochs,
  };
  return { data, report };
}

/** One sentence per failed rule, e.g. `accuracy 0.9512 fails "≥ 0.99"`. */
function gateFailure(metric: string, c: EventData<'ModelEvaluated'>['comparison'][string], omitted: string | undefined): string {
  if (omitted !== undefined || !Number.isFinite(c.value)) return `${metric} could not be computed on the holdout${omitted ? ` (${omitted})` : ''}, so "${c.rule}" fails`;
  const vs = c.baseline !== undefined ? ` (baseline ${c.baseline.toFixed(4)}, delta ${c.delta?.toFixed(4) ?? '–'})` : '';
  return `${metric} ${c.value.toFixed(4)}${vs} fails "${c.rule}"`;
}

/**
 * Fairness on the real class labels, with the spec's positive class for
 * binary tasks (`evaluation.positiveLabel`, else the second class in sorted
 * order). Booleans become 'true'/'false' (the fairness metrics take strings
 * and numbers).
 */
function fairnessOf(ctx: RunContext, yTest: number[], pred: number[], sensitive: Record<string, (string | number | boolean | null)[]>) {
  const { spec, prepared } = ctx;
  if (spec.task === 'regression') return fairnessReport(yTest, pred, sensitive, { task: 'regression' });
  const label = (i: number): string | number => {
    const c = prepared.classes[i];
    return typeof c === 'boolean' ? String(c) : c;
  };
  const positiveLabel = spec.task === 'binary' ? label(positiveClassIndex(prepared.classes, spec.evaluation.positiveLabel)) : undefined;
  return fairnessReport(yTest.map(label), pred.map(label), sensitive, { task: spec.task, ...(positiveLabel !== undefined ? { positiveLabel } : {}) });
}

interface Baseline {
  kind: 'production' | 'naive' | 'none';
  model?: string;
  version?: number;
  metrics: Record<string, number>;
  /** Why the requested baseline was not used. */
  fallbackReason?: string;
}

async function baselineOf(ctx: RunContext, store: EventStore, artifacts: ArtifactStore, yTest: number[], logger?: Logger): Promise<Baseline> {
  const { spec, prepared, plan } = ctx;
  if (spec.evaluation.baseline === 'none') return { kind: 'none', metrics: {} };
  let fallbackReason: string | undefined;
  if (spec.evaluation.baseline === 'production') {
    const prod = await productionModel(store, ctx.request.experiment);
    if ('reason' in prod) {
      fallbackReason = prod.reason;
    } else {
      try {
        const loaded = await loadStoredModel(artifacts, prod);
        try {
          const frame = takeRows(prepared.features, plan.holdout.test);
          const missing = loaded.bundle.inputColumns.filter((c) => !(c in frame));
          if (missing.length) throw new IllegalStateError(`it needs column(s) ${missing.map((c) => `'${c}'`).join(', ')}, which this run's data does not have`, { code: 'BASELINE_INCOMPATIBLE' });
          const out: ModelOutput = { task: spec.task, nClasses: Math.max(prepared.classes.length, 1), values: predictFrame(loaded, frame, plan.holdout.test.length) };
          return { kind: 'production', model: prod.model, version: prod.version, metrics: scoreTask(yTest, out) };
        } finally {
          loaded.predictor.dispose();
        }
      } catch (err) {
        const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        fallbackReason = `the production model ${prod.model} v${prod.version} could not be scored on this run's holdout: ${message}`;
        logger?.warn({ err, runId: ctx.request.runId, model: prod.model, version: prod.version }, 'production baseline failed; comparing with the naive baseline');
      }
    }
  }
  const yTrain = plan.holdout.train.map((r) => prepared.y[r]);
  return {
    kind: 'naive',
    metrics: scoreTask(yTest, naiveOutput(spec.task, yTrain, Math.max(prepared.classes.length, 1), yTest.length)),
    ...(fallbackReason ? { fallbackReason } : {}),
  };
}

type ProductionModel = { model: string; version: number; modelKey: string; preprocessingKey: string };

/** The version holding `production` on the registered model named like the experiment, with its run's artifacts; else why there is none. */
async function productionModel(store: EventStore, model: string): Promise<ProductionModel | { reason: string }> {
  const events = await store.readStream(streams.model(model)); // [] when the model is not registered
  if (events.length === 0) return { reason: `no registered model named '${model}' (the experiment's name), so no production model to compare with` };
  let version: number | undefined;
  const runs = new Map<number, string>();
  for (const e of events) {
    const d = e.data as { alias?: string; version?: number; runId?: string };
    if (e.type === 'ModelVersionRegistered' && d.version && d.runId) runs.set(d.version, d.runId);
    if (e.type === 'ModelAliasAssigned' && d.alias === 'production') version = d.version;
    if (e.type === 'ModelAliasRemoved' && d.alias === 'production') version = undefined;
  }
  if (version === undefined) return { reason: `registered model '${model}' has no version with the production alias` };
  const runId = runs.get(version);
  if (!runId) return { reason: `production version ${version} of '${model}' was not registered from a training run` };
  const completed = (await store.readStream(streams.run(runId))).find((e) => e.type === 'TrainingRunCompleted')?.data as EventData<'TrainingRunCompleted'> | undefined;
  if (!completed) return { reason: `the run ${runId} of production version ${version} of '${model}' has no completed model` };
  return { model, version, modelKey: completed.modelArtifactKey, preprocessingKey: completed.preprocessingArtifactKey };
}
