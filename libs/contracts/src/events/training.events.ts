import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, metrics, name, sha256Hex } from './common';

const runId = z.string().min(1);
const trial = z.number().int().nonnegative();
const params = z.record(z.string(), z.unknown());
const epochLog = z.object({ epoch: z.number().int().nonnegative(), metrics });

export const trainingEvents = {
  ExperimentCreated: defineEvent('ExperimentCreated', 1, z.object({ experiment: name, description: z.string().optional() })),
  /** Everything a replay needs: the resolved spec and the identity of every input and of the runtime. */
  TrainingRunRequested: defineEvent(
    'TrainingRunRequested',
    1,
    z.object({
      runId,
      experiment: name,
      spec: z.record(z.string(), z.unknown()),
      seed: z.number().int(),
      inputs: z.array(z.object({ ref: z.string(), sha256: sha256Hex })),
      /** The Parquet the run trains on (a dataset version or a built training set). */
      data: z.object({ artifactKey, sha256: sha256Hex, rows: z.number().int().nonnegative(), trainingSetId: z.string().optional() }),
      featureViews: z.array(z.object({ name: z.string(), version: z.number().int() })),
      backend: z.string(),
      simd: z.boolean(),
      libraries: z.record(z.string(), z.string()),
      codeVersion: z.string(),
      /** The training service instance that coordinates the search. */
      coordinator: z.string(),
    }),
  ),
  TrainingDataPrepared: defineEvent(
    'TrainingDataPrepared',
    1,
    z.object({
      runId,
      rows: z.number().int().nonnegative(),
      droppedMissingLabel: z.number().int().nonnegative(),
      features: z.array(z.string()),
      dropped: z.array(z.object({ column: z.string(), reason: z.string() })),
      warnings: z.array(z.string()),
      classes: z.array(z.union([z.string(), z.number(), z.boolean()])),
      /** NaN and ±Infinity per column, read as missing (absent in runs recorded before they were counted). */
      nonFinite: z.record(z.string(), z.number().int().nonnegative()).optional(),
    }),
  ),
  TrainingSetSplit: defineEvent(
    'TrainingSetSplit',
    1,
    z.object({
      runId,
      method: z.string(),
      sizes: z.record(z.string(), z.number().int()),
      indicesSha256: sha256Hex,
      cv: z.object({ method: z.string(), folds: z.number().int() }).optional(),
    }),
  ),
  TrialStarted: defineEvent('TrialStarted', 1, z.object({ runId, trial, params, attempt: z.number().int().positive(), worker: z.string() })),
  /** A batch of epochs of one fold of one trial (`trial` is absent for the final fit). */
  EpochCompleted: defineEvent(
    'EpochCompleted',
    1,
    z.object({ runId, trial: trial.optional(), fold: z.number().int().nonnegative().optional(), attempt: z.number().int().positive(), epochs: z.array(epochLog).min(1) }),
  ),
  TrialCompleted: defineEvent(
    'TrialCompleted',
    1,
    z.object({
      runId,
      trial,
      params,
      status: z.enum(['complete', 'pruned', 'failed']),
      /** Mean over the folds that ran, per metric. */
      metrics,
      std: metrics,
      folds: z.array(metrics),
      pruned: z.boolean(),
      error: z.string().optional(),
      worker: z.string(),
    }),
  ),
  /**
   * A trial that ended without a result: its fit threw (`error`), an attempt ran past the trial deadline or no
   * worker started it in time (`timeout`), every delivery failed on infrastructure errors (`retries_exhausted`),
   * or the run deadline passed first (`run_deadline`). The search goes on without it.
   */
  TrialFailed: defineEvent(
    'TrialFailed',
    1,
    z.object({
      runId,
      trial,
      params,
      reason: z.enum(['error', 'timeout', 'retries_exhausted', 'run_deadline']),
      /** The error's class (e.g. `ValidationError`, `TrialTimeoutError`), its message and its code when it has one. */
      error: z.object({ class: z.string().min(1), message: z.string(), code: z.string().optional() }),
      /** Attempts started (0 when no worker ever started it). */
      attempts: z.number().int().nonnegative(),
      worker: z.string().optional(),
    }),
  ),
  ModelEvaluated: defineEvent(
    'ModelEvaluated',
    1,
    z.object({
      runId,
      metrics,
      slices: z.record(z.string(), z.unknown()),
      fairness: z.record(z.string(), z.unknown()),
      baseline: z.object({
        kind: z.enum(['production', 'naive', 'none']),
        model: z.string().optional(),
        version: z.number().int().optional(),
        metrics,
        /** The baseline the spec asked for, when another one was used. */
        requested: z.enum(['production', 'naive', 'none']).optional(),
        /** Why the requested baseline could not be used (no production model, incompatible columns, …). */
        fallbackReason: z.string().optional(),
      }),
      comparison: z.record(z.string(), z.object({ value: z.number(), baseline: z.number().optional(), delta: z.number().optional(), passed: z.boolean(), rule: z.string() })),
      blessed: z.boolean(),
      /** One sentence per failed gate rule: why the model is not blessed. */
      gateFailures: z.array(z.string()).optional(),
      /** Metrics left out of `metrics`, with why (e.g. ROC AUC on a holdout with one class). */
      omittedMetrics: z.record(z.string(), z.string()).optional(),
    }),
  ),
  TrainingRunCompleted: defineEvent(
    'TrainingRunCompleted',
    1,
    z.object({
      runId,
      bestTrial: trial.optional(),
      params,
      metrics,
      modelArtifactKey: artifactKey,
      weightsArtifactKey: artifactKey,
      weightsSha256: sha256Hex,
      preprocessingArtifactKey: artifactKey,
      reportArtifactKey: artifactKey,
      modelCardArtifactKey: artifactKey,
      blessed: z.boolean(),
    }),
  ),
  TrainingRunFailed: defineEvent(
    'TrainingRunFailed',
    1,
    z.object({
      runId,
      error: z.string(),
      code: z.string().optional(),
      /** `all_trials_failed`, `run_deadline_exceeded`, or `error` (anything else; see `code`). */
      reason: z.enum(['error', 'all_trials_failed', 'run_deadline_exceeded']).optional(),
    }),
  ),
  TrainingRunCancelRequested: defineEvent('TrainingRunCancelRequested', 1, z.object({ runId, reason: z.string().optional() })),
  TrainingRunCancelled: defineEvent('TrainingRunCancelled', 1, z.object({ runId, reason: z.string().optional() })),
  /** A re-execution of the run from its events: the weights' sha256 compared with the original. */
  TrainingRunReplayed: defineEvent(
    'TrainingRunReplayed',
    1,
    z.object({ runId, identical: z.boolean(), original: sha256Hex, replayed: sha256Hex, backend: z.string(), simd: z.boolean() }),
  ),
} as const;
