import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import {
  DomainError,
  IllegalStateError,
  InfrastructureError,
  NotFoundError,
  streams,
  subjects,
  type CommandMetadata,
  type EventData,
  type EventInput,
  type RecordedEvent,
  type TrainingSetResult,
} from '@mlp/contracts';
import { aggregate, codeVersion, handleCommand, type EventStore } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import {
  createSampler,
  initBackend,
  lowerIsBetter,
  MedianPruner,
  parseSearchSpace,
  parseTrainingSpec,
  parseTrainingSpecYaml,
  positiveClassIndex,
  primaryMetric,
  runTrial,
  SeededRng,
  seeds,
  type TrainingSpec,
  type TrialRecord,
} from '@mlp/ml';
import { ARTIFACT_STORE, EVENT_STORE, resolveDatasetVersion, SERVICE_LOGGER, type Logger } from '@mlp/service-kit';
import { TRAINING_CONFIG, type TrainingConfig } from '../training-config';
import { TRIAL_QUEUE, type TrialDelivery, type TrialQueue } from '../queue/trial-queue';
import { storeModel } from '../engine/model-bundle';
import { buildRunContext, RunContextCache, type RunContext } from './run-context';
import { runDecider, type RunCommand } from './run.decide';
import { completedTrials, failedTrials, trialEnded, type RunState } from './run';
import { buildBaseline } from './baseline';
import { evaluateFinalModel, fitFinalModel } from './final-model';
import { modelCard } from './model-card';
import { RunsQueryService } from './runs-query.service';

const POLL_MS = 200;
/** How long a coordinator waits before resuming a run whose failure it could not record (the log was unreachable). */
const RESUME_AFTER_UNREACHABLE_MS = 2_000;
/** Resumptions of one run after infrastructure errors before its failure is recorded (the run deadline bounds them too). */
const MAX_RESUMES_WHILE_UNREACHABLE = 30;
/** An error of the broker or the log (JetStream event store, NATS request or publish), not of the run itself. */
const unreachable = (err: unknown): boolean => (err instanceof InfrastructureError && err.code === 'INFRASTRUCTURE_ERROR') || (err instanceof Error && err.name === 'NatsError');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StartRunInput {
  yaml?: string;
  spec?: unknown;
  /** A run id fixed by the caller (retraining derives it from its trigger, so a restart cannot start the run twice). */
  runId?: string;
}

export interface ReplayResult {
  runId: string;
  identical: boolean;
  original: string;
  replayed: string;
  backend: string;
}

/**
 * Training runs: accepts a spec, records everything needed to reproduce the
 * run, coordinates its search (batch-synchronous, so the suggested trials
 * depend only on the seed and the completed batches, never on timing), works
 * trials from the shared queue, fits and evaluates the final model and stores
 * its artifacts. A restarted instance resumes the runs it coordinated.
 */
@Injectable()
export class RunsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly contexts = new RunContextCache();
  private readonly coordinating = new Map<string, Promise<void>>();
  /** Runs this process knows are being cancelled (checked between epochs). */
  private readonly cancelled = new Set<string>();
  /** `runId:trial` → when this coordinator queued it (a queued trial's deadline counts from there). */
  private readonly queuedAt = new Map<string, number>();
  /** `runId:trial` → its parameters, for a trial that fails before any worker started it. */
  private readonly queuedParams = new Map<string, Record<string, unknown>>();
  private stopping = false;
  /** Resumptions scheduled while the log was unreachable (cleared on shutdown). */
  private readonly retries = new Set<NodeJS.Timeout>();
  /** Runs resumed after infrastructure errors, with how often. */
  private readonly resumes = new Map<string, number>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(MLP_CLIENT) private readonly client: MlpClient,
    @Inject(TRAINING_CONFIG) private readonly config: TrainingConfig,
    @Inject(TRIAL_QUEUE) private readonly queue: TrialQueue,
    private readonly queries: RunsQueryService,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // MLP_TRAINING_WORKERS=0: a coordinator only; other instances run the trials.
    if (this.config.MLP_TRAINING_WORKERS > 0) await this.queue.work((d) => this.executeTrial(d), this.config.MLP_TRAINING_WORKERS);
    this.resumeMine().catch((err: unknown) => this.logger.error({ err }, 'could not resume the runs this instance coordinated'));
  }

  /** Stops running trials at their next epoch, then closes the queue (unacked trials go to other workers). */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    await this.queue.close();
  }

  // ------------------------------------------------------------ commands

  async start(input: StartRunInput, meta: CommandMetadata): Promise<{ runId: string; experiment: string; status: string }> {
    const spec = input.yaml !== undefined ? parseTrainingSpecYaml(input.yaml) : parseTrainingSpec(input.spec);
    const backend = await initBackend(spec.backend);
    const data = await this.resolveData(spec, meta);
    const runId = input.runId ?? randomUUID();
    await this.ensureExperiment(spec.experiment, meta);
    await this.command(runId, {
      type: 'RequestRun',
      data: {
        runId,
        experiment: spec.experiment,
        spec,
        seed: spec.seed,
        inputs: data.inputs,
        data: data.data,
        featureViews: data.featureViews,
        backend: backend.backend,
        simd: backend.simd,
        libraries: { '@tensorflow/tfjs': backend.tfjsVersion, node: process.version },
        codeVersion: codeVersion(),
        coordinator: this.config.instance,
      },
    }, meta);
    this.coordinate(runId, meta);
    return { runId, experiment: spec.experiment, status: 'Running' };
  }

  async cancel(runId: string, reason: string | undefined, meta: CommandMetadata): Promise<{ runId: string; status: string }> {
    await this.command(runId, { type: 'RequestCancel', ...(reason ? { reason } : {}) }, meta);
    this.cancelled.add(runId);
    return { runId, status: 'Cancelling' };
  }

  /** Re-executes the final fit from the recorded events and inputs and compares the weights' sha256. */
  async replay(runId: string, meta: CommandMetadata): Promise<ReplayResult> {
    const state = await this.state(runId);
    if (state.status === 'None') throw new NotFoundError(`run ${runId} does not exist`, { code: 'RUN_NOT_FOUND' });
    if (state.status !== 'Completed' || !state.completed) throw new IllegalStateError(`run ${runId} is ${state.status}; only completed runs can be replayed`, { code: 'RUN_NOT_COMPLETED' });
    const ctx = await buildRunContext(this.artifacts, state.request);
    if (state.split && ctx.plan.indicesSha256 !== state.split.indicesSha256) {
      throw new IllegalStateError(`replay split the data differently (indices sha256 ${ctx.plan.indicesSha256} vs ${state.split.indicesSha256})`, { code: 'REPLAY_DIVERGED' });
    }
    const trained = await fitFinalModel(ctx, state.completed.params);
    try {
      const replayed = await trained.model.weightsSha256();
      const backend = await initBackend(ctx.spec.backend);
      const original = state.completed.weightsSha256;
      await this.command(runId, { type: 'RecordReplay', data: { runId, identical: replayed === original, original, replayed, backend: backend.backend, simd: backend.simd } }, meta);
      return { runId, identical: replayed === original, original, replayed, backend: backend.backend };
    } finally {
      trained.model.dispose();
    }
  }

  async state(runId: string): Promise<RunState> {
    return aggregate(runDecider, await this.store.readStream(streams.run(runId)));
  }

  // ------------------------------------------------------------ data

  private async resolveData(spec: TrainingSpec, meta: CommandMetadata) {
    if (spec.data.dataset) {
      const v = await resolveDatasetVersion(this.store, spec.data.dataset.name, spec.data.dataset.version);
      return {
        inputs: [{ ref: `dataset:${v.dataset}@${v.version}`, sha256: v.sha256 }],
        data: { artifactKey: v.artifactKey, sha256: v.sha256, rows: v.accepted },
        featureViews: [],
      };
    }
    const ts = spec.data.trainingSet!;
    const built = await this.client.send<TrainingSetResult>(subjects.cmd.featureStore.buildTrainingSet, { entities: ts.entities, timestampColumn: ts.timestampColumn, features: ts.features }, meta, { timeoutMs: 120_000 });
    const featureViews = built.inputs
      .map((i) => /^featureview:([^@]+)@(\d+)/.exec(i.ref))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => ({ name: m[1], version: Number(m[2]) }));
    return {
      inputs: [...built.inputs, { ref: `trainingset:${built.trainingSetId}`, sha256: built.sha256 }],
      data: { artifactKey: built.artifactKey, sha256: built.sha256, rows: built.rows, trainingSetId: built.trainingSetId },
      featureViews,
    };
  }

  private async ensureExperiment(experiment: string, meta: CommandMetadata): Promise<void> {
    await handleCommand(
      this.store,
      streams.experiment(experiment),
      {
        initialState: () => false,
        evolve: () => true,
        decide: (_c: null, exists: boolean) => (exists ? [] : [{ type: 'ExperimentCreated' as const, data: { experiment } }]),
      },
      null,
      meta,
    );
  }

  private context(runId: string, request: EventData<'TrainingRunRequested'>): Promise<RunContext> {
    return this.contexts.get(runId, () => buildRunContext(this.artifacts, request));
  }

  private command(runId: string, command: RunCommand, meta: CommandMetadata) {
    // Events carry the time they happen (trial and run deadlines are measured from them), not the time the run began.
    // Workers and the coordinator append to one run stream concurrently: retry conflicts generously.
    return handleCommand(this.store, streams.run(runId), runDecider, command, { ...meta, now: new Date().toISOString() }, { maxRetries: 25 });
  }

  // ------------------------------------------------------------ coordination

  private coordinate(runId: string, meta: CommandMetadata): void {
    if (this.coordinating.has(runId)) return;
    const job = this.runSearch(runId, meta)
      .catch((err: unknown) => this.recordRunFailure(runId, err, meta))
      .finally(() => {
        this.coordinating.delete(runId);
        this.contexts.drop(runId);
        for (const key of [...this.queuedAt.keys()]) {
          if (key.startsWith(`${runId}:`)) {
            this.queuedAt.delete(key);
            this.queuedParams.delete(key);
          }
        }
      });
    this.coordinating.set(runId, job);
  }

  /** The run's search or final fit threw: record why the run ended (or leave it to a restart when this instance is stopping). */
  private async recordRunFailure(runId: string, err: unknown, meta: CommandMetadata): Promise<void> {
    if (this.stopping) {
      this.logger.info({ err, runId }, 'run interrupted by shutdown; this instance resumes it when it starts again');
      return;
    }
    const code = err instanceof DomainError ? err.code : undefined;
    if (unreachable(err) && (this.resumes.get(runId) ?? 0) < MAX_RESUMES_WHILE_UNREACHABLE) {
      // The broker or the log is away, not the run at fault: coordinate it again from its events shortly.
      this.resumes.set(runId, (this.resumes.get(runId) ?? 0) + 1);
      this.logger.warn({ err, runId, resume: this.resumes.get(runId) }, 'training run interrupted by an unreachable broker or log; resuming it in 2 s');
      this.resumeLater(runId, meta);
      return;
    }
    this.resumes.delete(runId);
    try {
      if (code === 'RUN_CANCELLING') {
        await this.command(runId, { type: 'ConfirmCancel', reason: 'cancelled on request' }, meta);
        return;
      }
      const error = err instanceof Error ? err.message : String(err);
      const reason = code === 'RUN_DEADLINE_EXCEEDED' ? 'run_deadline_exceeded' : 'error';
      if (err instanceof DomainError && !(err instanceof InfrastructureError)) this.logger.warn({ runId, code, error }, 'training run failed');
      else this.logger.error({ err, runId }, 'training run failed');
      await this.command(runId, { type: 'FailRun', error, reason, ...(code ? { code } : {}) }, meta);
    } catch (recordErr) {
      // The log is unreachable (e.g. the broker is restarting): the run is not over. Coordinate it again from its events
      // once the log answers; a step that fails for good then records its failure like any other.
      this.logger.error({ err: recordErr, runId, cause: err instanceof Error ? err.message : String(err) }, 'could not record the end of the run; resuming it in 2 s');
      this.resumeLater(runId, meta);
    }
  }

  private resumeLater(runId: string, meta: CommandMetadata): void {
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (!this.stopping) this.coordinate(runId, meta);
    }, RESUME_AFTER_UNREACHABLE_MS);
    this.retries.add(timer);
  }

  /** Resolves when the run this instance coordinates has ended (tests and the embedded demo wait on it). */
  async settled(runId: string): Promise<void> {
    await this.coordinating.get(runId);
  }

  /** Runs this instance coordinated that were still running when it stopped: resume them from their events. */
  private async resumeMine(): Promise<void> {
    for (const run of this.queries.list({ limit: Number.MAX_SAFE_INTEGER })) {
      if ((run.status === 'Running' || run.status === 'Cancelling') && run.coordinator === this.config.instance) {
        this.logger.info({ runId: run.runId }, 'resuming a run this instance coordinated');
        this.coordinate(run.runId, { now: new Date().toISOString(), correlationId: run.runId, causationId: null, actor: this.config.instance });
      }
    }
  }

  private async load(runId: string): Promise<{ state: RunState; events: RecordedEvent[] }> {
    const events = await this.store.readStream(streams.run(runId));
    return { state: aggregate(runDecider, events), events };
  }

  /** The run's deadlines: the run's counts from its request (as recorded, so a resumed coordinator keeps it). */
  private limits(spec: TrainingSpec, events: readonly RecordedEvent[]): Limits {
    const requested = events.find((e) => e.type === 'TrainingRunRequested');
    const since = requested ? Date.parse(requested.occurredAt) : Date.now();
    const { trial, run } = spec.timeoutMinutes;
    return { trialMinutes: trial, runMinutes: run, trialMs: trial * 60_000, runEndsAt: since + run * 60_000 };
  }

  private async runSearch(runId: string, meta: CommandMetadata): Promise<void> {
    const loaded = await this.load(runId);
    let state = loaded.state;
    if (state.status !== 'Running') return;
    const ctx = await this.context(runId, state.request);
    const { spec, prepared, plan } = ctx;
    const limits = this.limits(spec, loaded.events);
    // A positive label that is not a class fails the run now, not after the search.
    if (spec.task === 'binary') positiveClassIndex(prepared.classes, spec.evaluation.positiveLabel);
    if (!state.prepared) {
      await this.command(
        runId,
        {
          type: 'RecordPreparation',
          prepared: { runId, rows: prepared.rows, droppedMissingLabel: prepared.droppedMissingLabel, features: Object.keys(prepared.features), dropped: prepared.dropped, warnings: prepared.warnings, classes: prepared.classes, nonFinite: prepared.nonFinite },
          split: {
            runId,
            method: spec.split.method,
            sizes: { train: plan.holdout.train.length, test: plan.holdout.test.length },
            indicesSha256: plan.indicesSha256,
            cv: { method: spec.cv?.method ?? 'holdout', folds: plan.folds.length },
          },
        },
        meta,
      );
    }
    const metric = primaryMetric(spec);
    const direction = lowerIsBetter.has(metric) ? 'minimize' : 'maximize';
    const search = spec.search;
    const sampler = search ? createSampler(search.method, parseSearchSpace(search.space), search.method === 'tpe' ? { direction } : search.method === 'grid' && search.gridSize ? { grid: search.gridSize } : undefined) : undefined;
    const total = search?.trials ?? 1;
    const parallel = search?.parallelism ?? 1;
    for (let next = 0, batch = 0; next < total; batch++) {
      state = await this.state(runId);
      if (await this.stopIfCancelled(runId, state, meta)) return;
      if (Date.now() > limits.runEndsAt) return this.failRunAtDeadline(runId, [], limits, meta);
      // Only trials of earlier batches inform the suggestions: the same seed gives the same batches on resume.
      const history: TrialRecord[] = [
        ...completedTrials(state).map((t) => ({ number: t.trial, params: t.params as TrialRecord['params'], state: t.status, ...(t.metrics[metric] !== undefined ? { value: t.metrics[metric] } : {}) })),
        ...failedTrials(state).map((t) => ({ number: t.trial, params: t.params as TrialRecord['params'], state: 'failed' as const })),
      ]
        .filter((t) => t.number < next)
        .sort((a, b) => a.number - b.number);
      const n = Math.min(parallel, total - next);
      const params = sampler ? sampler.suggestBatch(history, n, new SeededRng((seeds.search(spec.seed) + batch) >>> 0)) : [{}];
      if (params.length === 0) break;
      const numbers = params.map((_, i) => next + i);
      const trials = state.status === 'None' ? {} : state.trials;
      for (const [i, p] of params.entries()) {
        if (trialEnded(trials[numbers[i]])) continue;
        await this.queue.enqueue({ runId, trial: numbers[i], params: p });
        this.queuedAt.set(`${runId}:${numbers[i]}`, Date.now());
        this.queuedParams.set(`${runId}:${numbers[i]}`, p);
      }
      if (!(await this.waitForTrials(runId, numbers, limits, meta))) return;
      next += params.length;
    }
    state = await this.state(runId);
    if (await this.stopIfCancelled(runId, state, meta)) return;
    if (Date.now() > limits.runEndsAt) return this.failRunAtDeadline(runId, [], limits, meta);
    const done = completedTrials(state).filter((t) => t.status !== 'failed' && t.metrics[metric] !== undefined);
    if (done.length === 0) {
      const failed = failedTrials(state);
      const ended = completedTrials(state).length + failed.length;
      if (failed.length > 0 && failed.length === ended) {
        const first = failed[0];
        const error = `all ${failed.length} trial${failed.length === 1 ? '' : 's'} failed; trial ${first.trial} (${first.reason}): ${first.error.class}: ${first.error.message}`;
        this.logger.warn({ runId, failed: failed.length }, 'training run failed: every trial failed');
        await this.command(runId, { type: 'FailRun', error, code: 'ALL_TRIALS_FAILED', reason: 'all_trials_failed' }, meta);
        return;
      }
      const errors = completedTrials(state).map((t) => t.error).filter(Boolean);
      throw new IllegalStateError(`no trial completed: ${errors[0] ?? `no trial reported ${metric}`}`, { code: 'NO_TRIAL_COMPLETED' });
    }
    const best = [...done].sort((a, b) => (direction === 'minimize' ? a.metrics[metric] - b.metrics[metric] : b.metrics[metric] - a.metrics[metric]) || a.trial - b.trial)[0];
    await this.finish(runId, ctx, best, limits, meta);
  }

  private async stopIfCancelled(runId: string, state: RunState, meta: CommandMetadata): Promise<boolean> {
    if (state.status !== 'Running') return true;
    if (!state.cancelRequested) return false;
    this.cancelled.add(runId);
    await this.command(runId, { type: 'ConfirmCancel', reason: 'cancelled on request' }, meta);
    return true;
  }

  /**
   * Polls the run until every trial in `numbers` has ended (completed or
   * failed); false when the run ended, was cancelled or passed its deadline
   * meanwhile. Enforces the deadlines: an attempt running longer than the
   * trial deadline, or a queued trial that no worker starts within it while
   * nothing else of the batch runs (a worker that took it and hangs, or no
   * worker at all), is failed as `timeout`; past the run deadline every open
   * trial is failed and the run ends. So the wait always ends.
   */
  private async waitForTrials(runId: string, numbers: number[], limits: Limits, meta: CommandMetadata): Promise<boolean> {
    for (;;) {
      if (this.stopping) return false;
      const { state, events } = await this.load(runId);
      if (state.status !== 'Running') return false;
      if (state.cancelRequested) {
        await this.stopIfCancelled(runId, state, meta);
        return false;
      }
      const open = numbers.filter((n) => !trialEnded(state.trials[n]));
      if (open.length === 0) return true;
      const now = Date.now();
      if (now > limits.runEndsAt) {
        await this.failRunAtDeadline(runId, open, limits, meta);
        return false;
      }
      const starts = latestStarts(events);
      const anyRunning = open.some((n) => starts.has(n));
      const lastActivity = latestActivity(events, numbers);
      for (const n of open) {
        const start = starts.get(n);
        const attempts = state.trials[n]?.attempts ?? 0;
        const params = state.trials[n]?.params ?? this.queuedParams.get(`${runId}:${n}`) ?? {};
        if (start && now - start.at > limits.trialMs) {
          await this.failTrial(runId, {
            runId,
            trial: n,
            params,
            reason: 'timeout',
            error: { class: 'TrialTimeoutError', message: `attempt ${attempts} of trial ${n} on ${start.worker} ran past the trial deadline of ${limits.trialMinutes} min (timeoutMinutes.trial)` },
            attempts,
            worker: start.worker,
          }, meta);
        } else if (!start && !anyRunning) {
          const since = Math.max(this.queuedAt.get(`${runId}:${n}`) ?? now, lastActivity);
          if (now - since > limits.trialMs) {
            await this.failTrial(runId, {
              runId,
              trial: n,
              params,
              reason: 'timeout',
              error: { class: 'TrialTimeoutError', message: `no worker started trial ${n} within the trial deadline of ${limits.trialMinutes} min (timeoutMinutes.trial) while nothing else of the run was running` },
              attempts,
            }, meta);
          }
        }
      }
      await sleep(POLL_MS);
    }
  }

  /** The run deadline passed: fail the trials still open, then the run. */
  private async failRunAtDeadline(runId: string, open: number[], limits: Limits, meta: CommandMetadata): Promise<void> {
    const state = await this.state(runId);
    if (state.status !== 'Running') return;
    for (const n of open) {
      await this.failTrial(runId, {
        runId,
        trial: n,
        params: state.trials[n]?.params ?? this.queuedParams.get(`${runId}:${n}`) ?? {},
        reason: 'run_deadline',
        error: { class: 'RunDeadlineExceeded', message: `the run passed its deadline of ${limits.runMinutes} min (timeoutMinutes.run) before trial ${n} ended` },
        attempts: state.trials[n]?.attempts ?? 0,
      }, meta);
    }
    const error = `the run passed its deadline of ${limits.runMinutes} min (timeoutMinutes.run)${open.length ? `; trial${open.length === 1 ? '' : 's'} ${open.join(', ')} had not ended` : ''}`;
    this.logger.warn({ runId, open }, 'training run failed: run deadline exceeded');
    await this.command(runId, { type: 'FailRun', error, code: 'RUN_DEADLINE_EXCEEDED', reason: 'run_deadline_exceeded' }, meta);
  }

  /** Records a TrialFailed (once: the decider drops a second one); a run that has ended or is cancelling takes none. */
  private async failTrial(runId: string, data: EventInput<'TrialFailed'>, meta: CommandMetadata, err?: unknown): Promise<void> {
    this.logger.warn({ ...(err !== undefined ? { err } : {}), runId, trial: data.trial, reason: data.reason, attempts: data.attempts, worker: data.worker, error: data.error }, 'trial failed');
    try {
      await this.command(runId, { type: 'FailTrial', data }, meta);
    } catch (e) {
      if (!(e instanceof IllegalStateError)) throw e;
      this.logger.info({ runId, trial: data.trial, code: e.code }, 'trial failure not recorded: the run has ended or is being cancelled');
    }
  }

  private async finish(runId: string, ctx: RunContext, best: EventData<'TrialCompleted'>, limits: Limits, meta: CommandMetadata): Promise<void> {
    let pending: { epoch: number; metrics: Record<string, number> }[] = [];
    const trained = await fitFinalModel(ctx, best.params, async (e) => {
      pending.push(e);
      if (pending.length >= 10) {
        const epochs = pending;
        pending = [];
        await this.command(runId, { type: 'RecordEpochs', data: { runId, attempt: 1, epochs } }, meta);
      }
      if (this.cancelled.has(runId)) throw new IllegalStateError('cancelled', { code: 'RUN_CANCELLING' });
      if (Date.now() > limits.runEndsAt) {
        throw new IllegalStateError(`the run passed its deadline of ${limits.runMinutes} min (timeoutMinutes.run) while fitting the final model`, { code: 'RUN_DEADLINE_EXCEEDED' });
      }
    });
    try {
      if (pending.length) await this.command(runId, { type: 'RecordEpochs', data: { runId, attempt: 1, epochs: pending } }, meta);
      const evaluation = await evaluateFinalModel(ctx, trained, this.store, this.artifacts, this.logger);
      const { spec, prepared } = ctx;
      const stored = await storeModel(this.artifacts, trained, { task: spec.task, label: spec.data.label, inputColumns: Object.keys(prepared.features), classes: prepared.classes });
      const state = await this.state(runId);
      if (state.status !== 'Running' || !state.prepared || !state.split) throw new IllegalStateError(`run ${runId} ended while finishing`, { code: 'RUN_ENDED' });
      const reportBytes = Buffer.from(JSON.stringify({ ...evaluation.report, weightsSha256: stored.weightsSha256, params: best.params, bestTrial: best.trial }, null, 2));
      const report = await this.artifacts.put(reportBytes, { contentType: 'application/json', size: reportBytes.length });
      const card = Buffer.from(
        modelCard({
          request: state.request,
          prepared: state.prepared,
          split: state.split,
          trials: completedTrials(state),
          failedTrials: failedTrials(state),
          evaluation: evaluation.data,
          params: best.params,
          weightsSha256: stored.weightsSha256,
        }),
      );
      const cardKey = await this.artifacts.put(card, { contentType: 'text/markdown', size: card.length });
      const baseline = buildBaseline(prepared, trained, ctx.plan.holdout.train, spec.task, seeds.final(spec.seed));
      const sampleBytes = Buffer.from(JSON.stringify(baseline.sample));
      const sample = await this.artifacts.put(sampleBytes, { contentType: 'application/json', size: sampleBytes.length });
      await this.command(
        runId,
        {
          type: 'CompleteRun',
          evaluation: evaluation.data,
          baseline: { runId, experiment: ctx.request.experiment, ...baseline.stats, sampleArtifactKey: sample.key },
          completed: {
            runId,
            ...(ctx.spec.search ? { bestTrial: best.trial } : {}),
            params: best.params,
            metrics: evaluation.data.metrics,
            modelArtifactKey: stored.modelKey,
            weightsArtifactKey: stored.weightsKey,
            weightsSha256: stored.weightsSha256,
            preprocessingArtifactKey: stored.preprocessingKey,
            reportArtifactKey: report.key,
            modelCardArtifactKey: cardKey.key,
            blessed: evaluation.data.blessed,
          },
        },
        meta,
      );
    } finally {
      trained.model.dispose();
    }
  }

  // ------------------------------------------------------------ worker

  /**
   * One trial from the queue. It ends as TrialCompleted or TrialFailed
   * (an error of the trial itself, its deadline, or an infrastructure error
   * on its last delivery); it throws only for infrastructure failures that
   * the queue can still retry (or when this instance is stopping), and the
   * queue then delivers it again.
   */
  private async executeTrial(delivery: TrialDelivery): Promise<void> {
    const { runId, trial, params } = delivery.message;
    const worker = this.config.instance;
    const meta: CommandMetadata = { now: new Date().toISOString(), correlationId: runId, causationId: null, actor: worker };
    const state = await this.state(runId);
    if (state.status !== 'Running' || state.cancelRequested || trialEnded(state.trials[trial])) return; // nothing left to do: ack it
    try {
      await this.command(runId, { type: 'StartTrial', data: { runId, trial, params, attempt: delivery.attempt, worker } }, meta);
    } catch (err) {
      if (!(err instanceof IllegalStateError)) throw err;
      this.logger.debug({ runId, trial, code: err.code }, 'trial not started: the run ended, is cancelling, or the trial already ended');
      return;
    }
    const startedAt = Date.now();
    let timedOut = false;
    /** The coordinator ended the trial (its deadline) while this worker still ran it. */
    let abandoned = false;
    let result;
    let trialMinutes = 0;
    try {
      const ctx = await this.context(runId, state.request);
      const { spec } = ctx;
      trialMinutes = spec.timeoutMinutes.trial;
      const deadline = startedAt + trialMinutes * 60_000;
      const metric = primaryMetric(spec);
      const direction = lowerIsBetter.has(metric) ? 'minimize' : 'maximize';
      const pruning = spec.search?.pruning;
      const cumulative = (folds: readonly Record<string, number>[]) => folds.map((_, k) => folds.slice(0, k + 1).reduce((s, f) => s + (f[metric] ?? Number.NaN), 0) / (k + 1));
      result = await runTrial(ctx.prepared, spec, ctx.plan.folds, params, seeds.trial(spec.seed, trial), {
        shouldStop: () => {
          if (Date.now() > deadline) timedOut = true;
          return timedOut || abandoned || this.cancelled.has(runId) || this.stopping;
        },
        afterFold: async (fold, scores, epochs) => {
          delivery.heartbeat();
          if (epochs.length) await this.command(runId, { type: 'RecordEpochs', data: { runId, trial, fold, attempt: delivery.attempt, epochs } }, meta);
          const now = await this.state(runId);
          if (now.status !== 'Running' || now.cancelRequested) {
            this.cancelled.add(runId);
            return false;
          }
          if (trialEnded(now.trials[trial])) {
            abandoned = true;
            return false;
          }
          if (!pruning) return false;
          const others = completedTrials(now).filter((t) => t.trial !== trial && t.status === 'complete').map((t) => cumulative(t.folds));
          return new MedianPruner({ direction, nStartupTrials: pruning.startupTrials }).shouldPrune(cumulative(scores), others);
        },
      });
    } catch (err) {
      if (this.stopping) throw err; // leave it to the queue: another instance (or this one after a restart) runs it
      if (err instanceof IllegalStateError && (err.code === 'RUN_ENDED' || err.code === 'RUN_CANCELLING')) {
        this.logger.debug({ runId, trial, code: err.code }, 'trial stopped: the run ended or is cancelling');
        return;
      }
      const infrastructure = err instanceof InfrastructureError || !(err instanceof Error);
      // Infrastructure trouble with deliveries left: the queue delivers the trial again.
      if (infrastructure && delivery.attempt < delivery.maxAttempts) throw err;
      await this.failTrial(runId, { runId, trial, params, reason: infrastructure ? 'retries_exhausted' : 'error', error: errorOf(err), attempts: delivery.attempt, worker }, meta, err);
      return;
    }
    if (this.stopping) throw new InfrastructureError(`worker ${worker} stopped during trial ${trial} of run ${runId}`);
    if (this.cancelled.has(runId)) return;
    if (abandoned) {
      this.logger.info({ runId, trial }, 'trial result dropped: the coordinator ended the trial (deadline) while it ran');
      return;
    }
    if (timedOut) {
      const message = `attempt ${delivery.attempt} of trial ${trial} on ${worker} ran past the trial deadline of ${trialMinutes} min (timeoutMinutes.trial); stopped after ${result.folds.length} fold(s)`;
      await this.failTrial(runId, { runId, trial, params, reason: 'timeout', error: { class: 'TrialTimeoutError', message }, attempts: delivery.attempt, worker }, meta);
      return;
    }
    try {
      await this.command(
        runId,
        { type: 'CompleteTrial', data: { runId, trial, params, status: result.status, metrics: result.metrics, std: result.std, folds: result.folds, pruned: result.status === 'pruned', worker } },
        meta,
      );
    } catch (err) {
      if (!(err instanceof IllegalStateError)) throw err;
      this.logger.info({ runId, trial, code: err.code }, 'trial result dropped: the run ended or is being cancelled');
    }
  }
}

interface Limits {
  trialMinutes: number;
  runMinutes: number;
  trialMs: number;
  /** Epoch ms past which the run fails. */
  runEndsAt: number;
}

/** `{class, message, code?}` of anything thrown, for TrialFailed. */
function errorOf(err: unknown): EventInput<'TrialFailed'>['error'] {
  if (!(err instanceof Error)) return { class: typeof err, message: String(err) };
  return { class: err.name || err.constructor.name || 'Error', message: err.message, ...(err instanceof DomainError ? { code: err.code } : {}) };
}

/** Per trial: when its latest attempt started (recorded time) and on which worker. */
function latestStarts(events: readonly RecordedEvent[]): Map<number, { at: number; worker: string }> {
  const starts = new Map<number, { at: number; worker: string }>();
  for (const e of events) {
    if (e.type !== 'TrialStarted') continue;
    const d = e.data as EventData<'TrialStarted'>;
    starts.set(d.trial, { at: Date.parse(e.occurredAt), worker: d.worker });
  }
  return starts;
}

/** The latest start or end of any of `trials` (epoch ms; 0 when none). */
function latestActivity(events: readonly RecordedEvent[], trials: readonly number[]): number {
  let latest = 0;
  for (const e of events) {
    if (e.type !== 'TrialStarted' && e.type !== 'TrialCompleted' && e.type !== 'TrialFailed') continue;
    if (trials.includes((e.data as { trial: number }).trial)) latest = Math.max(latest, Date.parse(e.occurredAt));
  }
  return latest;
}
