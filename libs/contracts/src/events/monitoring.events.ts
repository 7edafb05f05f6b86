import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, metrics, name } from './common';

const version = z.number().int().positive();
const runId = z.string().min(1);
/** The drift methods of libs/ml (Evidently's names). */
const driftMethod = z.enum(['ks', 'chisquare', 'ztest', 'wasserstein', 'jensenshannon', 'psi', 'kl', 'hellinger', 'anderson']);

/** Training-set statistics of one input column (or of the model output, `prediction`). */
const columnBaseline = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('numeric'),
    count: z.number().int().min(0),
    missing: z.number().int().min(0),
    mean: z.number().nullable(),
    std: z.number().nullable(),
    min: z.number().nullable(),
    max: z.number().nullable(),
  }),
  z.object({
    kind: z.literal('categorical'),
    count: z.number().int().min(0),
    missing: z.number().int().min(0),
    /** Value counts, the most frequent first (at most 50). */
    top: z.record(z.string(), z.number().int().min(0)),
    distinct: z.number().int().min(0),
  }),
]);

/** One feature's test in a drift report (pValue null for distance methods). */
const featureDrift = z.object({
  name: z.string().min(1),
  method: driftMethod,
  statistic: z.number().nullable(),
  pValue: z.number().nullable(),
  threshold: z.number(),
  drifted: z.boolean(),
  /** Present when the statistic is not the exact one on the whole window: from libs/ml's grid (Wasserstein within maxError), a uniform sample, or capped unseen categories. */
  approximation: z.object({ from: z.enum(['grid', 'sample', 'capped']), maxError: z.number().optional(), sampleSize: z.number().int().optional() }).optional(),
});

/** The current window a report covers: rows of one served version, closed by count or by time. */
const driftWindow = z.object({
  /** Deterministic: `<version>:<kind>:<first telemetry time or sequence>`. */
  id: z.string().min(1),
  kind: z.enum(['count', 'time']),
  /** Rows the window held (predictions), and the telemetry times of its first and last row. */
  rows: z.number().int().positive(),
  from: z.string(),
  to: z.string(),
  /** Values per numeric column kept exactly: the whole window, or past libs/ml's exact limit a uniform sample (features then carry `approximation`). */
  sampledRows: z.number().int().positive(),
});

/** A drift window's extent: closed after `size` rows, or `durationMs` after its first row's telemetry time. */
const windowSpec = z.union([z.object({ size: z.number().int().positive() }).strict(), z.object({ durationMs: z.number().int().positive() }).strict()]);

export const monitoringEvents = {
  /** A monitor exists for a registered model: created by the monitoring process manager. */
  MonitorCreated: defineEvent(
    'MonitorCreated',
    1,
    z.object({ model: name, policy: z.record(z.string(), z.unknown()).default({}), sourceEventId: z.uuid() }),
  ),
  /**
   * Training's reference for drift (stream `run-<id>`): statistics of the
   * training rows, and a seeded sample of them with the model's outputs as a
   * JSON artifact `{columns: {<name>: values[]}}` (column `prediction` holds the outputs).
   */
  BaselineRecorded: defineEvent(
    'BaselineRecorded',
    1,
    z.object({
      runId,
      experiment: name,
      task: z.enum(['binary', 'multiclass', 'regression']),
      /** Class labels in the model's output order (binary: [negative, positive]); [] for regression. */
      classes: z.array(z.union([z.string(), z.number(), z.boolean()])).default([]),
      /** Training rows the statistics cover. */
      rows: z.number().int().min(0),
      columns: z.record(z.string(), columnBaseline),
      prediction: columnBaseline,
      sampleArtifactKey: artifactKey,
      sampleRows: z.number().int().min(0),
      seed: z.number().int(),
    }),
  ),
  /** A drift report on a closed window of serving telemetry against the served version's baseline (stream `monitor-<model>`). */
  DriftReportComputed: defineEvent(
    'DriftReportComputed',
    1,
    z.object({
      model: name,
      version,
      window: driftWindow,
      reference: z.object({ runId, rows: z.number().int().min(0), sampleArtifactKey: artifactKey }),
      features: z.array(featureDrift),
      /** Drift of the model's outputs; null when the baseline has no outputs to compare with. */
      prediction: featureDrift.nullable(),
      driftShare: z.number().min(0).max(1),
      shareThreshold: z.number().min(0).max(1),
      datasetDrift: z.boolean(),
      /** The full report (per-feature window statistics included). */
      reportArtifactKey: artifactKey,
    }),
  ),
  /**
   * A policy set or changed the window of a model while a drift window of one
   * of its versions was open: the open window adopts the new size or duration
   * (`to`), and closes at once (`closes`, a DriftReportComputed follows) when
   * it already holds enough rows or time.
   */
  DriftWindowResized: defineEvent(
    'DriftWindowResized',
    1,
    z.object({
      model: name,
      version,
      windowId: z.string().min(1),
      from: windowSpec,
      to: windowSpec,
      /** Rows the window held when the policy arrived. */
      rows: z.number().int().min(0),
      closes: z.boolean(),
      /** The policy (MonitoringPolicyApplied) that set `to`. */
      policySha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  /** A drift report tripped a threshold: dataset drift (share of drifted features) or prediction drift. */
  DriftDetected: defineEvent(
    'DriftDetected',
    1,
    z.object({
      model: name,
      version,
      windowId: z.string().min(1),
      driftedFeatures: z.array(z.string()),
      driftShare: z.number().min(0).max(1),
      datasetDrift: z.boolean(),
      predictionDrift: z.boolean(),
      reportArtifactKey: artifactKey,
    }),
  ),
  /**
   * Model metrics over a sliding window of labelled predictions (feedback
   * joined by request id) of one version and arm, with the version's
   * holdout metrics from training for comparison.
   */
  PerformanceEvaluated: defineEvent(
    'PerformanceEvaluated',
    1,
    z.object({
      model: name,
      version,
      arm: z.string().min(1),
      /** Labelled predictions in the window, and how many of them were right (classification). */
      labelled: z.number().int().positive(),
      correct: z.number().int().min(0).optional(),
      metrics,
      /** The version's holdout metrics (ModelEvaluated), when known. */
      reference: metrics,
      /** Prediction times of the oldest and newest labelled prediction in the window. */
      from: z.string(),
      to: z.string(),
      /** Labels joined so far for this version and arm; the window id is `<version>:<arm>:<seq>`. */
      seq: z.number().int().positive(),
    }),
  ),
  /** A performance window fell past the threshold (a minimum, or a drop from the holdout metric). */
  PerformanceDegraded: defineEvent(
    'PerformanceDegraded',
    1,
    z.object({
      model: name,
      version,
      arm: z.string().min(1),
      metric: z.string().min(1),
      value: z.number(),
      reference: z.number().optional(),
      /** The rule that tripped, in words (`roc_auc 0.61 < minimum 0.75`). */
      rule: z.string().min(1),
      windowSeq: z.number().int().positive(),
    }),
  ),
} as const;
