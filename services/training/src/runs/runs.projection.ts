import { categories, type EventData, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';
import { trainingSpecSchema } from '@mlp/ml';

export interface TrialView {
  trial: number;
  params: Record<string, unknown>;
  status: 'running' | 'complete' | 'pruned' | 'failed';
  attempts: number;
  worker?: string;
  metrics: Record<string, number>;
  std: Record<string, number>;
  error?: string;
  /** Failed trials: the error's class and why the trial ended (`error`, `timeout`, `retries_exhausted`, `run_deadline`). */
  errorClass?: string;
  reason?: EventData<'TrialFailed'>['reason'];
}

export interface RunView {
  runId: string;
  experiment: string;
  status: 'Running' | 'Cancelling' | 'Completed' | 'Failed' | 'Cancelled';
  createdAt: string;
  endedAt?: string;
  task: string;
  seed: number;
  backend: string;
  coordinator: string;
  inputs: { ref: string; sha256: string }[];
  rows?: number;
  warnings: string[];
  split?: Record<string, number>;
  trials: TrialView[];
  /** Holdout metrics of the final model. */
  metrics?: Record<string, number>;
  blessed?: boolean;
  params?: Record<string, unknown>;
  bestTrial?: number;
  weightsSha256?: string;
  artifacts?: { model: string; weights: string; preprocessing: string; report: string; modelCard: string };
  evaluation?: EventData<'ModelEvaluated'>;
  error?: string;
  /** Failed runs: `all_trials_failed`, `run_deadline_exceeded` or `error`. */
  failureReason?: EventData<'TrainingRunFailed'>['reason'];
  replays: { identical: boolean; replayed: string; at: string }[];
}

export interface CurvePoint {
  epoch: number;
  metrics: Record<string, number>;
}

/** Runs and experiments from `run-*` and `experiment-*` streams; per-epoch curves are kept per trial and fold (latest attempt). */
export class RunsProjection implements VerifiableProjection {
  readonly name = 'training.runs';
  readonly version = 2;
  readonly filter = 'all' as const; // two categories: filtered by canHandle
  readonly runs = new Map<string, RunView>();
  readonly experiments = new Map<string, { experiment: string; createdAt: string; runs: string[] }>();
  /** runId → "trial/fold" or "final" → points. */
  readonly curves = new Map<string, Map<string, { attempt: number; points: CurvePoint[] }>>();

  canHandle(event: RecordedEvent): boolean {
    return event.stream.startsWith(`${categories.run}-`) || event.stream.startsWith(`${categories.experiment}-`);
  }

  reset(): void {
    this.runs.clear();
    this.experiments.clear();
    this.curves.clear();
  }

  /** Runs, experiments and curves as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { runs: this.runs, experiments: this.experiments, curves: this.curves };
  }

  handle(event: RecordedEvent): void {
    if (event.type === 'ExperimentCreated') {
      const d = event.data as EventData<'ExperimentCreated'>;
      if (!this.experiments.has(d.experiment)) this.experiments.set(d.experiment, { experiment: d.experiment, createdAt: event.occurredAt, runs: [] });
      return;
    }
    const d = event.data as { runId: string };
    if (event.type === 'TrainingRunRequested') {
      const r = event.data as EventData<'TrainingRunRequested'>;
      const stored = storedSpecSummary(r);
      this.runs.set(r.runId, {
        runId: r.runId,
        experiment: r.experiment,
        status: 'Running',
        createdAt: event.occurredAt,
        task: stored.task,
        seed: r.seed,
        backend: r.backend,
        coordinator: r.coordinator,
        inputs: r.inputs,
        warnings: stored.warnings,
        trials: [],
        replays: [],
      });
      const exp = this.experiments.get(r.experiment) ?? { experiment: r.experiment, createdAt: event.occurredAt, runs: [] };
      exp.runs.push(r.runId);
      this.experiments.set(r.experiment, exp);
      return;
    }
    const run = this.runs.get(d.runId);
    if (!run) return;
    switch (event.type) {
      case 'TrainingDataPrepared': {
        const p = event.data as EventData<'TrainingDataPrepared'>;
        run.rows = p.rows;
        run.warnings = p.warnings;
        break;
      }
      case 'TrainingSetSplit':
        run.split = (event.data as EventData<'TrainingSetSplit'>).sizes;
        break;
      case 'TrialStarted': {
        const t = event.data as EventData<'TrialStarted'>;
        const existing = run.trials.find((x) => x.trial === t.trial);
        if (existing) {
          existing.attempts++;
          existing.worker = t.worker;
        } else {
          run.trials.push({ trial: t.trial, params: t.params, status: 'running', attempts: 1, worker: t.worker, metrics: {}, std: {} });
          run.trials.sort((a, b) => a.trial - b.trial);
        }
        break;
      }
      case 'TrialCompleted': {
        const t = event.data as EventData<'TrialCompleted'>;
        let view = run.trials.find((x) => x.trial === t.trial);
        if (!view) {
          view = { trial: t.trial, params: t.params, status: 'running', attempts: 1, metrics: {}, std: {} };
          run.trials.push(view);
          run.trials.sort((a, b) => a.trial - b.trial);
        }
        Object.assign(view, { status: t.status, metrics: t.metrics, std: t.std, worker: t.worker, ...(t.error ? { error: t.error } : {}) });
        break;
      }
      case 'TrialFailed': {
        const t = event.data as EventData<'TrialFailed'>;
        let view = run.trials.find((x) => x.trial === t.trial);
        if (!view) {
          view = { trial: t.trial, params: t.params, status: 'running', attempts: t.attempts, metrics: {}, std: {} };
          run.trials.push(view);
          run.trials.sort((a, b) => a.trial - b.trial);
        }
        Object.assign(view, { status: 'failed', error: t.error.message, errorClass: t.error.class, reason: t.reason, ...(t.worker ? { worker: t.worker } : {}) });
        break;
      }
      case 'EpochCompleted': {
        const e = event.data as EventData<'EpochCompleted'>;
        const key = e.trial === undefined ? 'final' : `${e.trial}/${e.fold ?? 0}`;
        const byKey = this.curves.get(run.runId) ?? new Map();
        const current = byKey.get(key);
        if (!current || e.attempt > current.attempt) byKey.set(key, { attempt: e.attempt, points: [...e.epochs] });
        else if (e.attempt === current.attempt) current.points.push(...e.epochs);
        this.curves.set(run.runId, byKey);
        break;
      }
      case 'ModelEvaluated':
        run.evaluation = event.data as EventData<'ModelEvaluated'>;
        break;
      case 'TrainingRunCompleted': {
        const c = event.data as EventData<'TrainingRunCompleted'>;
        Object.assign(run, {
          status: 'Completed',
          endedAt: event.occurredAt,
          metrics: c.metrics,
          blessed: c.blessed,
          params: c.params,
          bestTrial: c.bestTrial,
          weightsSha256: c.weightsSha256,
          artifacts: { model: c.modelArtifactKey, weights: c.weightsArtifactKey, preprocessing: c.preprocessingArtifactKey, report: c.reportArtifactKey, modelCard: c.modelCardArtifactKey },
        });
        break;
      }
      case 'TrainingRunFailed': {
        const f = event.data as EventData<'TrainingRunFailed'>;
        run.status = 'Failed';
        run.endedAt = event.occurredAt;
        run.error = f.error;
        if (f.reason) run.failureReason = f.reason;
        break;
      }
      case 'TrainingRunCancelRequested':
        if (run.status === 'Running') run.status = 'Cancelling';
        break;
      case 'TrainingRunCancelled':
        run.status = 'Cancelled';
        run.endedAt = event.occurredAt;
        break;
      case 'TrainingRunReplayed': {
        const r = event.data as EventData<'TrainingRunReplayed'>;
        run.replays.push({ identical: r.identical, replayed: r.replayed, at: event.occurredAt });
        break;
      }
    }
  }
}

/**
 * The task of a run from its stored spec, re-validated with the training
 * spec schema: a spec that no longer passes shows as task `invalid` with the
 * reason in the run's warnings, never as a value read off an unchecked cast.
 */
function storedSpecSummary(request: EventData<'TrainingRunRequested'>): { task: string; warnings: string[] } {
  const parsed = trainingSpecSchema.safeParse(request.spec);
  if (parsed.success) return { task: parsed.data.task, warnings: [] };
  const why = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(spec)'}: ${i.message}`).join('; ');
  return { task: 'invalid', warnings: [`stored training spec of run ${request.runId} is invalid: ${why}`] };
}
